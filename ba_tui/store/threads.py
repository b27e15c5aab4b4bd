"""Threads: creating, finding (by id or a short prefix), listing (pinned first, then newest,
archived ones only when asked), renaming, settings and deleting conversations."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from ba_tui.store.database import Database, guarded
from ba_tui.store.errors import ThreadNotFound
from ba_tui.store.ids import iso, new_id, now_ms

SHORT_ID = 8


@dataclass(frozen=True, slots=True)
class Thread:
    """A conversation. `message_count` and `total_tokens` (input + output over its replies,
    None when no provider reported any) are computed when read, never stored."""

    id: str
    title: str
    provider: str
    model: str
    system: str | None
    persona: str | None
    created_at: str
    updated_at: str
    pinned: bool = False  # listed first
    archived: bool = False  # listed only when asked for
    # What the thread's turns are sent with unless told otherwise: temperature, top_p,
    # max_tokens, thinking_budget, schema (a name or a field list). None: nothing set.
    settings: Mapping[str, Any] | None = None
    origin: str | None = None  # "tui", "ask" or "import"; None for older threads
    message_count: int = 0
    total_tokens: int | None = None


_COMPUTED = ("message_count", "total_tokens")
THREAD_FIELDS = tuple(f.name for f in fields(Thread) if f.name not in _COMPUTED)
# Thread settings a user may set, and what each must be.
SETTINGS: dict[str, type | tuple[type, ...]] = {
    "temperature": (int, float),
    "top_p": (int, float),
    "max_tokens": int,
    "thinking_budget": int,
    "schema": str,
}
_THREAD_UPDATABLE = frozenset(
    {"title", "provider", "model", "system", "persona", "pinned", "archived", "settings"}
)
_THREAD_COLUMNS = ", ".join(f"t.{name}" for name in THREAD_FIELDS)
# Counts and token totals come from the covering index messages_thread: no message body
# is read to list threads.
_THREAD_QUERY = f"""
SELECT {_THREAD_COLUMNS},
  (SELECT count(*) FROM messages AS m WHERE m.thread_id = t.id),
  (SELECT CASE WHEN count(m.input_tokens) + count(m.output_tokens) > 0
     THEN ifnull(sum(m.input_tokens), 0) + ifnull(sum(m.output_tokens), 0) END
   FROM messages AS m WHERE m.thread_id = t.id)
FROM ({{page}}) AS t ORDER BY t.pinned DESC, t.updated_at DESC, t.id DESC
"""


class Threads(Database):
    """The threads of the database."""

    @guarded
    def create_thread(
        self,
        *,
        title: str,
        provider: str,
        model: str,
        system: str | None = None,
        persona: str | None = None,
        origin: str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Thread:
        ms = now_ms()
        thread = Thread(
            new_id(ms),
            title,
            provider,
            model,
            system,
            persona,
            iso(ms),
            iso(ms),
            settings=checked_settings(settings),
            origin=origin,
        )
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO threads ({', '.join(THREAD_FIELDS)})"
                f" VALUES ({', '.join('?' * len(THREAD_FIELDS))})",
                thread_row(thread),
            )
        return thread

    @guarded
    def get_thread(self, thread_id: str) -> Thread:
        """The thread with this id, or with this unique id prefix (people type short ids)."""
        return self._get_thread(self._resolve(thread_id))

    @guarded
    def latest_thread(
        self, *, archived: bool | None = None, hide_origin: str | None = None
    ) -> Thread | None:
        """The thread updated last; `archived` and `hide_origin` as in `list_threads`
        (the TUI opens on the newest thread its sidebar lists)."""
        clauses = [] if archived is None else [f"archived = {int(archived)}"]
        params: list[Any] = []
        if hide_origin is not None:
            clauses.append("(origin IS NULL OR origin != ?)")
            params.append(hide_origin)
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        threads = self._threads(
            f"SELECT * FROM threads {where}ORDER BY updated_at DESC, id DESC LIMIT 1", params
        )
        return threads[0] if threads else None

    @guarded
    def list_threads(
        self,
        limit: int = 50,
        offset: int = 0,
        *,
        archived: bool | None = False,
        title: str | None = None,
        hide_origin: str | None = None,
    ) -> list[Thread]:
        """Pinned first, then newest updated; metadata and counts only, never message
        bodies. `archived`: False leaves archived threads out, True lists only them,
        None lists every thread. `title`: only threads whose title holds it (any case);
        `hide_origin`: leave out threads started there (the sidebar hiding `ask`'s)."""
        clauses: list[str] = []
        params: list[Any] = []
        if archived is not None:
            clauses.append(f"archived = {int(archived)}")
        if title:
            escaped = title.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clauses.append("title LIKE ? ESCAPE '\\'")
            params.append(f"%{escaped}%")
        if hide_origin is not None:
            clauses.append("(origin IS NULL OR origin != ?)")
            params.append(hide_origin)
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        return self._threads(
            f"SELECT * FROM threads {where}"
            "ORDER BY pinned DESC, updated_at DESC, id DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )

    @guarded
    def update_thread(self, thread_id: str, **changes: Any) -> Thread:
        """Change title/provider/model/system/persona, pin or archive it, or replace its
        settings; bumps `updated_at` unless only pinning or archiving changed (which says
        nothing new happened in the conversation)."""
        unknown = set(changes) - _THREAD_UPDATABLE
        if unknown:
            raise TypeError(f"cannot update thread fields: {', '.join(sorted(unknown))}")
        for name in ("title", "provider", "model"):
            if name in changes and not isinstance(changes[name], str):
                raise ValueError(f"thread {name} must be text")
        values = dict(changes)
        for name in ("pinned", "archived"):
            if name in values:
                values[name] = int(bool(values[name]))
        if "settings" in values:
            checked = checked_settings(values["settings"])
            values["settings"] = json.dumps(checked, sort_keys=True) if checked else None
        assignments = ", ".join(f"{name} = ?" for name in values)
        touch = not set(values) <= {"pinned", "archived"}
        if touch:
            assignments += ", updated_at = ?"
        with self._write() as conn:
            cursor = conn.execute(
                f"UPDATE threads SET {assignments} WHERE id = ?",
                (*values.values(), *([iso(now_ms())] if touch else []), thread_id),
            )
            if cursor.rowcount == 0:
                raise ThreadNotFound(thread_id)
        return self._get_thread(thread_id)

    @guarded
    def delete_thread(self, thread_id: str) -> None:
        """Delete the thread and its messages, and the attachments no other thread uses;
        triggers remove their search rows."""
        from ba_tui.store.blobs import unused_after_delete

        with self._write() as conn:
            unused_after_delete(conn, thread_id)
            conn.execute("DELETE FROM messages WHERE thread_id = ?", (thread_id,))
            conn.execute("DELETE FROM side_requests WHERE thread_id = ?", (thread_id,))
            if conn.execute("DELETE FROM threads WHERE id = ?", (thread_id,)).rowcount == 0:
                raise ThreadNotFound(thread_id)

    @guarded
    def thread_ids(self) -> list[str]:
        """Every thread id, oldest first (the order exports use)."""
        return [row[0] for row in self._conn.execute("SELECT id FROM threads ORDER BY id")]

    @guarded
    def short_ids(self, thread_ids: Iterable[str]) -> dict[str, str]:
        """The shortest prefix (at least SHORT_ID chars) naming each thread uniquely."""
        result = {}
        conn = self._conn
        for thread_id in thread_ids:
            longest = 0
            for sql in (
                "SELECT max(id) FROM threads WHERE id < ?",
                "SELECT min(id) FROM threads WHERE id > ?",
            ):
                other = conn.execute(sql, (thread_id,)).fetchone()[0]
                if other:
                    longest = max(longest, _common_prefix(thread_id, other))
            result[thread_id] = thread_id[: max(SHORT_ID, longest + 1)]
        return result

    def _resolve(self, thread_id: str) -> str:
        conn = self._conn
        if conn.execute("SELECT 1 FROM threads WHERE id = ?", (thread_id,)).fetchone():
            return thread_id
        for prefix in dict.fromkeys((thread_id, thread_id.lower())):
            if not prefix:
                continue
            found = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM threads WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
                    (prefix, prefix + "\U0010ffff"),
                )
            ]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise ThreadNotFound(
                    thread_id,
                    f"more than one thread starts with {thread_id}; type more of its id",
                )
        raise ThreadNotFound(thread_id)

    def _get_thread(self, thread_id: str) -> Thread:
        threads = self._threads("SELECT * FROM threads WHERE id = ?", (thread_id,))
        if not threads:
            raise ThreadNotFound(thread_id)
        return threads[0]

    def _threads(self, page: str, args: Sequence[Any] = ()) -> list[Thread]:
        rows = self._conn.execute(_THREAD_QUERY.format(page=page), args)
        return [thread_of_row(row) for row in rows]


def _common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


_PINNED, _ARCHIVED, _SETTINGS = (
    THREAD_FIELDS.index(name) for name in ("pinned", "archived", "settings")
)


def new_thread(**known: Any) -> Thread:
    """A Thread from the fields a row gives; the optional ones missing take their
    "nothing set" value (an import of an older file has no pins or settings)."""
    empty = {"system": None, "persona": None, "pinned": False, "archived": False}
    given = {name: value for name, value in known.items() if value is not None}
    return Thread(**(empty | given))


def thread_row(thread: Thread) -> tuple[Any, ...]:
    """The values of THREAD_FIELDS as stored: flags as 0/1, settings as JSON text."""
    values = [getattr(thread, name) for name in THREAD_FIELDS]
    values[_PINNED], values[_ARCHIVED] = int(thread.pinned), int(thread.archived)
    values[_SETTINGS] = json.dumps(thread.settings, sort_keys=True) if thread.settings else None
    return tuple(values)


def thread_of_row(row: Sequence[Any]) -> Thread:
    """A Thread from THREAD_FIELDS and the computed counts."""
    values = list(row)
    values[_PINNED], values[_ARCHIVED] = bool(values[_PINNED]), bool(values[_ARCHIVED])
    values[_SETTINGS] = json.loads(values[_SETTINGS]) if values[_SETTINGS] else None
    return Thread(*values)


def checked_settings(settings: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The settings with None values dropped; ValueError for an unknown one or a wrong
    type, so nothing a turn cannot use is stored."""
    out = {name: value for name, value in (settings or {}).items() if value is not None}
    for name, value in out.items():
        kind = SETTINGS.get(name)
        if kind is None:
            raise ValueError(f"unknown thread setting {name!r}; known: {', '.join(SETTINGS)}")
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"thread setting {name} has the wrong type")
    return out or None
