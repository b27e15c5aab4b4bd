"""Rows in and out in bulk, for export and import (ba_tui.export writes and reads files)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from ba_tui.messages import MESSAGE_FIELDS, OBJECT_FIELDS
from ba_tui.store.blobs import link_all
from ba_tui.store.database import Database, guarded
from ba_tui.store.errors import ThreadNotFound, store_error
from ba_tui.store.messages import MESSAGE_COLUMNS, STORED_COLUMNS, message_row, new_message
from ba_tui.store.threads import THREAD_FIELDS, new_thread, thread_row

EXPORTED_MESSAGE_FIELDS = tuple(name for name in MESSAGE_FIELDS if name != "pid")


def _json_object(names: Sequence[str], **computed: str) -> str:
    """SQL building a row's JSON object: the named columns, then `computed` expressions."""
    pairs = [f"'{n}', {n}" for n in names]
    pairs += [f"'{name}', {sql}" for name, sql in computed.items()]
    return "json_object(" + ", ".join(pairs) + ")"


_THREAD_OBJECT = _json_object(
    [name for name in THREAD_FIELDS if name not in ("pinned", "archived", "settings")],
    pinned="json(CASE WHEN pinned THEN 'true' ELSE 'false' END)",
    archived="json(CASE WHEN archived THEN 'true' ELSE 'false' END)",
    settings="json(settings)",
)
_THREAD_JSON = f"SELECT {_THREAD_OBJECT} FROM threads WHERE id = ?"
# The same shape as messages.message_dict: the fields, the parts (NULL: one text part, or
# none), and the text and reasoning of the parts for scripts (`jq .content`).
_PARTS_JSON = """CASE WHEN parts IS NOT NULL THEN json(parts) WHEN content = '' THEN json_array()
    ELSE json_array(json_object('type', 'text', 'text', content)) END"""
_REASONING_OF_PARTS = """CASE WHEN parts IS NOT NULL THEN
    (SELECT group_concat(json_extract(value, '$.text'), '') FROM json_each(parts)
     WHERE json_extract(value, '$.type') = 'reasoning') END"""
_MESSAGE_JSON = _json_object(
    [name for name in EXPORTED_MESSAGE_FIELDS if name != "parts" and name not in OBJECT_FIELDS],
    parts=_PARTS_JSON,
    **{name: f"json({name})" for name in OBJECT_FIELDS},
    content="content",
    reasoning=_REASONING_OF_PARTS,
)
_MESSAGES_JSON = f"SELECT {_MESSAGE_JSON} FROM messages WHERE thread_id = ? ORDER BY created_at, id"


class Transfer(Database):
    """Threads and their messages as JSON rows out, and rows from a file in."""

    def export_json(self, thread_ids: Sequence[str]) -> Iterator[tuple[str, list[str]]]:
        """Each thread as a JSON object and its messages (every stored field but `pid`) as
        JSON objects, one thread at a time. SQLite writes the JSON: exports turn a million
        rows into text, and json_object() does it several times faster than Python can."""
        for thread_id in thread_ids:
            with self._lock:
                try:
                    row = self._conn.execute(_THREAD_JSON, (thread_id,)).fetchone()
                    if row is None:
                        raise ThreadNotFound(thread_id)
                    messages = [m for (m,) in self._conn.execute(_MESSAGES_JSON, (thread_id,))]
                except sqlite3.Error as exc:
                    raise store_error(self.path, exc) from None
            yield row[0], messages

    @guarded
    def import_rows(
        self, threads: Sequence[dict[str, Any]], messages: Sequence[dict[str, Any]]
    ) -> tuple[int, int]:
        """Insert threads and messages that are not there yet, in one transaction (so callers
        pass a few hundred rows at a time, see export.import_batch); returns (threads added,
        messages added). Rows whose id exists are left as they are. A message row has the
        Message fields, `parts` a sequence of parts."""
        thread_sql = (
            f"INSERT OR IGNORE INTO threads ({', '.join(THREAD_FIELDS)})"
            f" VALUES ({_placeholders(THREAD_FIELDS)})"
        )
        message_sql = (
            f"INSERT OR IGNORE INTO messages ({MESSAGE_COLUMNS})"
            f" VALUES ({_placeholders(STORED_COLUMNS)})"
        )
        with self._write() as conn:
            added_threads = conn.executemany(
                thread_sql, (thread_row(new_thread(**t)) for t in threads)
            ).rowcount
            rows = (message_row(new_message(**(m | {"pid": None}))) for m in messages)
            added_messages = conn.executemany(message_sql, rows).rowcount
            link_all(conn, ((m["id"], m.get("parts") or ()) for m in messages))
        return max(added_threads, 0), max(added_messages, 0)


def _placeholders(names: Sequence[str]) -> str:
    return ", ".join("?" for _ in names)
