"""Every thread and message in one SQLite file, written so that nothing on screen is lost.

One connection per `Store`, guarded by a lock so the TUI's workers can share it. Every
write is its own committed transaction, taken with `BEGIN IMMEDIATE` so a second ba-chat
process makes it wait (busy timeout) instead of failing half way. The journal is WAL with
`synchronous=NORMAL`: a commit survives a killed process (SIGKILL), and a power cut can
lose at most the last few commits, never corrupt the file; in exchange a checkpoint costs
no fsync. Rows come back as plain dataclasses, never sqlite rows.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from ba_tui import messages as parts_json
from ba_tui.errors import BaChatError, UsageError
from ba_tui.messages import MESSAGE_FIELDS, ROLES, STATUSES, Message, Part, Text, text_of

__all__ = ["ROLES", "STATUSES", "Message", "Store", "Thread"]

if TYPE_CHECKING:
    from sqlite_utils import Database, Migrations

BUSY_TIMEOUT = 5.0
# Closing a reply waits this many busy timeouts for the write lock: its text is already on
# the screen, and losing its final state to a long write elsewhere (an import) is worse
# than a late exit.
CLOSE_PATIENCE = 3
MIGRATION_SET = "ba-chat"
SHORT_ID = 8
SEARCH_WINDOW = 2000
INTERRUPTED_ERROR = "the ba-chat process writing this reply stopped before it finished"
_SQLITE_HEADER = b"SQLite format 3\x00"


class StoreError(BaChatError):
    """The database cannot be used: locked, corrupt, not ours, unwritable."""

    exit_code = 1


class StoreLocked(StoreError):
    """Another process held the write lock for longer than the busy timeout: unlike a
    full disk, trying again later can work."""


class ThreadNotFound(UsageError):
    exit_code = 2

    def __init__(self, thread_id: str, message: str | None = None) -> None:
        super().__init__(
            message or f"no thread {thread_id}", "list them with `ba-chat threads list`"
        )
        self.thread_id = thread_id


class MessageNotFound(UsageError):
    exit_code = 2


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
    message_count: int = 0
    total_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A message matching a search; `snippet` marks the matches with the chosen highlight."""

    message_id: str
    thread_id: str
    thread_title: str
    role: str
    created_at: str
    snippet: str


THREAD_FIELDS = tuple(f.name for f in fields(Thread))[:8]
_THREAD_UPDATABLE = frozenset({"title", "provider", "model", "system", "persona"})
# Beside the fields, each row keeps `content`, the text of its parts, which search indexes
# and listings read without parsing parts. Most messages are that text and nothing else:
# their `parts` column is NULL, so the text is stored once and read without JSON.
_STORED_COLUMNS = (*MESSAGE_FIELDS, "content")
_MESSAGE_COLUMNS = ", ".join(_STORED_COLUMNS)
_PARTS = MESSAGE_FIELDS.index("parts")
_THREAD_COLUMNS = ", ".join(f"t.{name}" for name in THREAD_FIELDS)
EXPORTED_MESSAGE_FIELDS = tuple(name for name in MESSAGE_FIELDS if name != "pid")


def _json_object(names: Sequence[str], **computed: str) -> str:
    """SQL building a row's JSON object: the named columns, then `computed` expressions."""
    pairs = [f"'{n}', {n}" for n in names]
    pairs += [f"'{name}', {sql}" for name, sql in computed.items()]
    return "json_object(" + ", ".join(pairs) + ")"


_THREAD_JSON = f"SELECT {_json_object(THREAD_FIELDS)} FROM threads WHERE id = ?"
# The same shape as messages.message_dict: the fields, the parts (NULL: one text part, or
# none), and the text and reasoning of the parts for scripts (`jq .content`).
_PARTS_JSON = """CASE WHEN parts IS NOT NULL THEN json(parts) WHEN content = '' THEN json_array()
    ELSE json_array(json_object('type', 'text', 'text', content)) END"""
_REASONING_OF_PARTS = """CASE WHEN parts IS NOT NULL THEN
    (SELECT group_concat(json_extract(value, '$.text'), '') FROM json_each(parts)
     WHERE json_extract(value, '$.type') = 'reasoning') END"""
_MESSAGE_JSON = _json_object(
    [name for name in EXPORTED_MESSAGE_FIELDS if name != "parts"],
    parts=_PARTS_JSON,
    content="content",
    reasoning=_REASONING_OF_PARTS,
)
_MESSAGES_JSON = f"SELECT {_MESSAGE_JSON} FROM messages WHERE thread_id = ? ORDER BY created_at, id"
_SEARCH_HIT = """
SELECT m.id, m.thread_id, t.title, m.role, m.created_at, snippet(messages_fts, 0, ?, ?, '…', 16)
FROM messages_fts
JOIN messages AS m ON m.rowid = messages_fts.rowid
JOIN threads AS t ON t.id = m.thread_id
WHERE messages_fts MATCH ? AND messages_fts.rowid = ?
"""
_INSERT_MESSAGE = (
    f"INSERT INTO messages ({_MESSAGE_COLUMNS}) VALUES ({', '.join('?' * len(_STORED_COLUMNS))})"
)
_CHECKPOINT = "UPDATE messages SET parts = ?, content = ? WHERE id = ? AND status = 'streaming'"
# Counts and token totals come from the covering index messages_thread: no message body
# is read to list threads.
_THREAD_QUERY = f"""
SELECT {_THREAD_COLUMNS},
  (SELECT count(*) FROM messages AS m WHERE m.thread_id = t.id),
  (SELECT CASE WHEN count(m.input_tokens) + count(m.output_tokens) > 0
     THEN ifnull(sum(m.input_tokens), 0) + ifnull(sum(m.output_tokens), 0) END
   FROM messages AS m WHERE m.thread_id = t.id)
FROM ({{page}}) AS t ORDER BY t.updated_at DESC, t.id DESC
"""


# --- ids and time -------------------------------------------------------------------------

_id_lock = threading.Lock()
_last_id = (0, 0)
_clock_lock = threading.Lock()
_last_ms = 0


def now_ms() -> int:
    """Unix time in ms, strictly increasing within this process: two writes never share a
    timestamp, so "newest first" is never a coin toss. (Only a burst of over 1,000 writes a
    second runs ahead of the clock, and it catches up as soon as the burst ends.)"""
    global _last_ms
    with _clock_lock:
        _last_ms = max(time.time_ns() // 1_000_000, _last_ms + 1)
        return _last_ms


def iso(ms: int) -> str:
    """`2026-11-22T04:38:15.123Z`: UTC, millisecond precision, sorts as text."""
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def new_id(ms: int | None = None) -> str:
    """A 26-char id: 12 hex digits of Unix ms, then 14 random hex digits.

    Ids sort by creation time; within one process they are strictly increasing even in the
    same millisecond (the random part is bumped), so order never depends on the clock tick.
    """
    global _last_id
    ms = now_ms() if ms is None else ms
    rand = int.from_bytes(os.urandom(7), "big")
    with _id_lock:
        last_ms, last_rand = _last_id
        if ms <= last_ms:
            ms, rand = last_ms, last_rand + 1
        _last_id = (ms, rand)
    return f"{ms:012x}{rand & (2**56 - 1):014x}"


def stable_id(ms: int, seed: str) -> str:
    """An id in the same shape derived from `seed`, so importing the same data twice
    produces the same ids (and adds nothing the second time)."""
    import hashlib

    return f"{max(ms, 0):012x}{hashlib.sha256(seed.encode()).hexdigest()[:14]}"


# --- errors -------------------------------------------------------------------------------


def _is_busy(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(exc)


def _store_error(path: Path, exc: sqlite3.Error) -> StoreError:
    """Our one line for a sqlite failure, by its result code."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if _is_busy(exc):
        return StoreLocked(
            f"database is locked by another ba-chat process: {path}", "close it and try again"
        )
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or "not a database" in text:
        return not_ours(path)
    if name.startswith("SQLITE_FULL"):
        return StoreError(f"the disk holding {path} is full", "free some space and try again")
    if name.startswith("SQLITE_READONLY"):
        return StoreError(f"{path} is read-only", "check its permissions")
    if name.startswith("SQLITE_CANTOPEN"):
        return StoreError(f"cannot open {path}", "check the folder exists and is writable")
    return StoreError(f"database error in {path}: {text}")


def not_ours(path: Path) -> StoreError:
    return StoreError(
        f"{path} is not a ba-chat database (corrupt or another file)",
        "move it away or set BA_CHAT_HOME",
    )


P = ParamSpec("P")
R = TypeVar("R")


def _guarded(method: Callable[Concatenate[Store, P], R]) -> Callable[Concatenate[Store, P], R]:
    """Serialise access to the one connection and turn sqlite failures into StoreError."""

    @functools.wraps(method)
    def wrapper(self: Store, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise _store_error(self.path, exc) from None

    return wrapper


# --- schema -------------------------------------------------------------------------------

# The schema's steps, in order. sqlite-utils (~50 ms to import) runs them, and is imported
# only when one is pending: opening an up-to-date store reads `_sqlite_migrations` directly.
MIGRATIONS: list[Callable[[Database], None]] = []


def _migration(fn: Callable[[Database], None]) -> Callable[[Database], None]:
    MIGRATIONS.append(fn)
    return fn


@functools.cache
def migrations() -> Migrations:
    """The migration set as sqlite-utils runs it; each step is named after its function."""
    from sqlite_utils import Migrations

    steps = Migrations(MIGRATION_SET)
    for fn in MIGRATIONS:
        steps()(fn)
    return steps


def _applied(conn: sqlite3.Connection) -> list[str]:
    """Names of the applied steps, in order, as sqlite-utils records them."""
    if not conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'"
    ).fetchone():
        return []
    rows = conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
        (MIGRATION_SET,),
    )
    return [row[0] for row in rows]


def _pending(conn: sqlite3.Connection) -> bool:
    applied = set(_applied(conn))
    return any(fn.__name__ not in applied for fn in MIGRATIONS)


@_migration
def m001_threads_messages_search(db: Database) -> None:
    db.table("threads").create(
        {
            "id": str,
            "title": str,
            "provider": str,
            "model": str,
            "system": str,
            "persona": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"title", "provider", "model", "created_at", "updated_at"},
    )
    db.table("messages").create(
        {
            "id": str,
            "thread_id": str,
            "parent_id": str,
            "role": str,
            "content": str,
            "reasoning": str,
            "reasoning_signature": str,
            "status": str,
            "provider": str,
            "model": str,
            "input_tokens": int,
            "output_tokens": int,
            "reasoning_tokens": int,
            "cache_read_tokens": int,
            "cache_write_tokens": int,
            "cost": float,
            "ttft_ms": float,
            "duration_ms": float,
            "finish_reason": str,
            "error": str,
            "pid": int,
            "created_at": str,
        },
        pk="id",
        not_null={"thread_id", "role", "content", "status", "created_at"},
        foreign_keys=[("thread_id", "threads", "id")],
    )
    db.table("threads").create_index(["updated_at"], index_name="threads_updated")
    # Opening a thread reads it in (created_at, id) order straight from this index, and
    # listing threads counts and sums tokens from the index alone, never reading a body.
    db.table("messages").create_index(
        ["thread_id", "created_at", "id", "input_tokens", "output_tokens"],
        index_name="messages_thread",
    )
    # Tiny: only rows being streamed right now, so recovery at open costs nothing.
    db.execute("CREATE INDEX messages_streaming ON messages(pid) WHERE status = 'streaming'")
    db.table("messages").enable_fts(["content"], create_triggers=True)
    # Small shared state for later (circuit breakers, last-used settings).
    db.table("kv").create({"key": str, "value": str, "updated_at": str}, pk="key")


@_migration
def m002_message_parts(db: Database) -> None:
    """Every message becomes an ordered list of parts (see messages.py): its reasoning
    (with Anthropic's signature as that provider's metadata), then its text. `content`
    stays, as the text of the parts, for search and listings; rowids do not move, so the
    search index stays valid. Nothing else changes."""
    db.execute("ALTER TABLE messages ADD COLUMN parts TEXT")  # NULL: just `content`
    reasoning = """json_object('type', 'reasoning', 'text', reasoning, 'provider', provider,
        'meta', json_object('signature', reasoning_signature))"""
    unsigned = "json_object('type', 'reasoning', 'text', reasoning, 'provider', provider)"
    text = "json_object('type', 'text', 'text', content)"
    db.execute(
        f"""UPDATE messages SET parts = CASE
          WHEN ifnull(reasoning, '') = '' AND reasoning_signature IS NULL THEN NULL
          ELSE json_array(
            CASE WHEN reasoning_signature IS NULL THEN {unsigned} ELSE {reasoning} END
          ) END"""
    )
    # Reasoning and text both: append the text part to the array built above.
    db.execute(
        f"""UPDATE messages SET parts = json_insert(parts, '$[#]', json({text}))
        WHERE (ifnull(reasoning, '') != '' OR reasoning_signature IS NOT NULL)
          AND content != ''"""
    )
    # json_object() wrote the provider even when it was NULL: drop those keys.
    db.execute(
        """UPDATE messages SET parts = json_remove(parts, '$[0].provider')
        WHERE json_type(parts, '$[0].provider') = 'null'"""
    )
    db.execute("ALTER TABLE messages DROP COLUMN reasoning")
    db.execute("ALTER TABLE messages DROP COLUMN reasoning_signature")


# --- the store ----------------------------------------------------------------------------


class Store:
    """The ba-chat database. Open with `Store.open()`; close when done."""

    def __init__(
        self, path: Path, conn: sqlite3.Connection, busy_timeout: float = BUSY_TIMEOUT
    ) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._conn = conn
        self._lock = threading.RLock()
        self._journal: tuple[int, int] | None = None  # the WAL file this connection uses

    @functools.cached_property
    def db(self) -> Database:
        """The connection as a sqlite-utils Database (imported on first use)."""
        from sqlite_utils import Database

        return Database(self._conn, execute_plugins=False)

    @classmethod
    def open(cls, path: Path | None = None, *, busy_timeout: float = BUSY_TIMEOUT) -> Store:
        """Open (creating if needed) the database, bring its schema up to date and mark
        replies left `streaming` by processes that no longer run as `interrupted`.

        A file that is not a SQLite database is reported and never touched.
        """
        if path is None:
            from ba_tui.paths import db_path

            path = db_path()
        path = Path(path)
        _check_header(path)
        from ba_tui.private import create_file, make_dir

        try:
            make_dir(path.parent)
        except OSError as exc:
            raise StoreError(f"cannot create {path.parent}: {exc.strerror}") from None
        try:
            # Made 0600 before SQLite opens it; its -wal and -shm files take its mode.
            create_file(path)
        except OSError as exc:
            raise StoreError(f"cannot create {path}: {exc.strerror}") from None
        try:
            conn = sqlite3.connect(path, timeout=busy_timeout, check_same_thread=False)
        except sqlite3.Error as exc:
            raise _store_error(path, exc) from None
        store = cls(path, conn, busy_timeout)
        try:
            store._prepare()
        except BaseException:
            conn.close()
            raise
        store._journal = _file_id(store.wal_path)
        return store

    @property
    def wal_path(self) -> Path:
        return self.path.with_name(self.path.name + "-wal")

    def _check_journal(self) -> None:
        """StoreError if the WAL file at our path is not the one this connection writes to.

        While any connection is open SQLite never removes its WAL, so a different file (or
        none) means something outside ba-chat deleted it: what we committed since went to
        a file no other process will read, and `integrity_check` cannot tell.
        """
        if self._journal is not None and _file_id(self.wal_path) != self._journal:
            raise StoreError(
                f"{self.wal_path} was deleted or replaced while ba-chat was writing,"
                " so this reply may not be saved",
                "find what removes files in that folder; the reply is still on screen",
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @_guarded
    def _prepare(self) -> None:
        conn = self._conn
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        applied = set(_applied(conn))
        if tables - {"_sqlite_migrations"} and not applied:
            raise not_ours(self.path)
        known = {fn.__name__ for fn in MIGRATIONS}
        if applied - known:
            raise StoreError(
                f"{self.path} was written by a newer ba-chat", "upgrade ba-chat to open it"
            )
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        # Reads through a memory map skip a system call per page: exporting or opening a
        # long thread touches pages all over the file. (SQLite caps this at its build's
        # maximum, 2 GB by default; writes still go through the WAL.)
        conn.execute("PRAGMA mmap_size = 2147483648")
        conn.execute("PRAGMA cache_size = -16384")
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        if known - applied:
            # Under the write lock, and checked again: two processes opening a new
            # database at once must not both create its tables.
            with self._write():
                if _pending(conn):
                    migrations().apply(self.db)
        self._recover()

    def _recover(self) -> None:
        """Rows left `streaming` by a process that is gone become `interrupted`."""
        rows = self._conn.execute(
            "SELECT id, pid FROM messages WHERE status = 'streaming'"
        ).fetchall()
        dead = [(INTERRUPTED_ERROR, mid) for mid, pid in rows if not _alive(pid)]
        if dead:
            with self._write() as conn:
                conn.executemany(
                    "UPDATE messages SET status = 'interrupted', pid = NULL,"
                    " error = ifnull(error, ?) WHERE id = ? AND status = 'streaming'",
                    dead,
                )

    def wait_writable(self) -> None:
        """Wait (up to the busy timeout) until no other process holds the write lock;
        StoreError if one still does.

        The TUI calls it from a worker thread before a turn, so a database locked by
        another process costs a wait the user can watch rather than a frozen screen. It
        uses its own connection: the shared one (and its lock) stays free for the UI.
        """
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.rollback()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise _store_error(self.path, exc) from None

    @contextmanager
    def _write(self, patience: int = 1) -> Iterator[sqlite3.Connection]:
        """One committed transaction. IMMEDIATE takes the write lock up front, so waiting
        for another process goes through the busy timeout (`patience` times over) rather
        than failing mid-way."""
        conn = self._conn
        for attempt in range(1, patience + 1):
            try:
                conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if attempt == patience or not _is_busy(exc):
                    raise
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    # --- threads ----------------------------------------------------------------------------

    @_guarded
    def create_thread(
        self,
        *,
        title: str,
        provider: str,
        model: str,
        system: str | None = None,
        persona: str | None = None,
    ) -> Thread:
        ms = now_ms()
        thread = Thread(new_id(ms), title, provider, model, system, persona, iso(ms), iso(ms))
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO threads ({', '.join(THREAD_FIELDS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                _thread_row(thread),
            )
        return thread

    @_guarded
    def get_thread(self, thread_id: str) -> Thread:
        """The thread with this id, or with this unique id prefix (people type short ids)."""
        return self._get_thread(self._resolve(thread_id))

    @_guarded
    def latest_thread(self) -> Thread | None:
        threads = self._threads("SELECT * FROM threads ORDER BY updated_at DESC, id DESC LIMIT 1")
        return threads[0] if threads else None

    @_guarded
    def list_threads(self, limit: int = 50, offset: int = 0) -> list[Thread]:
        """Newest updated first; metadata and counts only, never message bodies."""
        return self._threads(
            "SELECT * FROM threads ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )

    @_guarded
    def update_thread(self, thread_id: str, **changes: str | None) -> Thread:
        """Change title/provider/model/system/persona; bumps `updated_at`."""
        unknown = set(changes) - _THREAD_UPDATABLE
        if unknown:
            raise TypeError(f"cannot update thread fields: {', '.join(sorted(unknown))}")
        for name in ("title", "provider", "model"):
            if name in changes and not isinstance(changes[name], str):
                raise ValueError(f"thread {name} must be text")
        assignments = "".join(f"{name} = ?, " for name in changes)
        with self._write() as conn:
            cursor = conn.execute(
                f"UPDATE threads SET {assignments}updated_at = ? WHERE id = ?",
                (*changes.values(), iso(now_ms()), thread_id),
            )
            if cursor.rowcount == 0:
                raise ThreadNotFound(thread_id)
        return self._get_thread(thread_id)

    @_guarded
    def delete_thread(self, thread_id: str) -> None:
        """Delete the thread and its messages; triggers remove their search rows."""
        with self._write() as conn:
            conn.execute("DELETE FROM messages WHERE thread_id = ?", (thread_id,))
            if conn.execute("DELETE FROM threads WHERE id = ?", (thread_id,)).rowcount == 0:
                raise ThreadNotFound(thread_id)

    @_guarded
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
        return [Thread(*row) for row in rows]

    # --- messages ---------------------------------------------------------------------------

    @_guarded
    def messages(self, thread_id: str) -> list[Message]:
        """Every message of the thread, all branches, in the order they were created."""
        rows = self._conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE thread_id = ? ORDER BY created_at, id",
            (thread_id,),
        )
        return [_message(row) for row in rows]

    @_guarded
    def history(self, thread_id: str, leaf_id: str | None = None) -> list[Message]:
        """The branch from the root to `leaf_id` (default: the newest message), following
        parent_id: what is sent to the model."""
        everything = self.messages(thread_id)
        if not everything:
            return []
        by_id = {message.id: message for message in everything}
        if leaf_id is None:
            node: Message | None = everything[-1]
        elif leaf_id in by_id:
            node = by_id[leaf_id]
        else:
            raise MessageNotFound(f"no message {leaf_id} in thread {thread_id}")
        path: list[Message] = []
        seen: set[str] = set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            path.append(node)
            node = by_id.get(node.parent_id) if node.parent_id else None
        path.reverse()
        return path

    @_guarded
    def get_message(self, message_id: str) -> Message:
        row = self._conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)
        ).fetchone()
        if row is None:
            raise MessageNotFound(f"no message {message_id}")
        return _message(row)

    @_guarded
    def add_message(
        self,
        thread_id: str,
        *,
        role: str,
        content: str,
        parent_id: str | None,
        status: str = "complete",
        provider: str | None = None,
        model: str | None = None,
    ) -> Message:
        """Save a message now (committed before this returns); bumps the thread."""
        parts = (Text(content),) if content else ()
        return self._insert(thread_id, role, parts, parent_id, status, provider, model, None)

    @_guarded
    def start_reply(
        self, thread_id: str, *, parent_id: str | None, provider: str, model: str
    ) -> Message:
        """Open the assistant row (`streaming`, owned by this pid) before any byte is asked
        for, so a reply that never finishes is still found and closed later."""
        return self._insert(
            thread_id, "assistant", (), parent_id, "streaming", provider, model, os.getpid()
        )

    def _insert(
        self,
        thread_id: str,
        role: str,
        parts: tuple[Part, ...],
        parent_id: str | None,
        status: str,
        provider: str | None,
        model: str | None,
        pid: int | None,
    ) -> Message:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        ms = now_ms()
        message = _new_message(
            id=new_id(ms),
            thread_id=thread_id,
            parent_id=parent_id or None,
            role=role,
            parts=parts,
            status=status,
            provider=provider,
            model=model,
            pid=pid,
            created_at=iso(ms),
        )
        with self._write() as conn:
            bumped = conn.execute(
                "UPDATE threads SET updated_at = ? WHERE id = ?", (message.created_at, thread_id)
            )
            if bumped.rowcount == 0:
                raise ThreadNotFound(thread_id)
            conn.execute(_INSERT_MESSAGE, _message_row(message))
        return message

    @_guarded
    def checkpoint(self, message_id: str, parts: Sequence[Part]) -> None:
        """Save the parts streamed so far; a no-op once the reply is closed."""
        with self._write() as conn:
            conn.execute(_CHECKPOINT, (_parts_column(parts), text_of(parts), message_id))

    @_guarded
    def finish_reply(
        self,
        message_id: str,
        *,
        status: str,
        parts: Sequence[Part],
        provider: str | None = None,
        model: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        cache_read_tokens: int | None = None,
        cache_write_tokens: int | None = None,
        cost: float | None = None,
        ttft_ms: float | None = None,
        duration_ms: float | None = None,
        finish_reason: str | None = None,
        error: str | BaseException | None = None,
    ) -> Message:
        """Close the reply with everything known about it; clears its pid, bumps the thread.

        `error` may be an exception: its one-line text is stored, with any key masked.
        """
        if status not in STATUSES or status == "streaming":
            raise ValueError(f"a reply cannot finish as {status!r}")
        values = {
            "status": status,
            "parts": _parts_column(parts),
            "content": text_of(parts),
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "reasoning_tokens": reasoning_tokens,
            "cache_read_tokens": cache_read_tokens,
            "cache_write_tokens": cache_write_tokens,
            "cost": cost,
            "ttft_ms": ttft_ms,
            "duration_ms": duration_ms,
            "finish_reason": finish_reason,
            "error": _error_text(error),
        }
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self._write(patience=CLOSE_PATIENCE) as conn:
            row = conn.execute(
                "SELECT thread_id FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
            if row is None:
                raise MessageNotFound(f"no message {message_id}")
            conn.execute(
                f"UPDATE messages SET {assignments}, provider = ifnull(?, provider),"
                " model = ifnull(?, model), pid = NULL WHERE id = ?",
                (*values.values(), provider, model, message_id),
            )
            conn.execute("UPDATE threads SET updated_at = ? WHERE id = ?", (iso(now_ms()), row[0]))
        self._check_journal()
        return self.get_message(message_id)

    # --- search -----------------------------------------------------------------------------

    @_guarded
    def search(
        self, query: str, limit: int = 50, *, highlight: tuple[str, str] = ("[", "]")
    ) -> list[SearchHit]:
        """Messages containing every word of `query`, best match first.

        Any text is a valid query: each word is quoted, so FTS syntax (`"`, `*`, `NEAR(`,
        `AND`, `-`) is searched for literally, never parsed. Ranking covers the
        SEARCH_WINDOW most recent matches: ranking every message holding a common word
        takes seconds on a large history, and recent conversations are the likely target.
        """
        match = fts_query(query)
        if not match:
            return []
        conn = self._conn
        ranked = conn.execute(
            "SELECT rowid FROM (SELECT rowid, bm25(messages_fts) AS score FROM messages_fts"
            " WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?) ORDER BY score LIMIT ?",
            (match, SEARCH_WINDOW, limit),
        ).fetchall()
        # Snippets only for the rows shown, each found by rowid within the match.
        hits = []
        for (rowid,) in ranked:
            row = conn.execute(_SEARCH_HIT, (*highlight, match, rowid)).fetchone()
            if row is not None:
                hits.append(SearchHit(*row))
        return hits

    # --- export and import ------------------------------------------------------------------

    @_guarded
    def thread_ids(self) -> list[str]:
        """Every thread id, oldest first (the order exports use)."""
        return [row[0] for row in self._conn.execute("SELECT id FROM threads ORDER BY id")]

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
                    raise _store_error(self.path, exc) from None
            yield row[0], messages

    @_guarded
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
            f"INSERT OR IGNORE INTO messages ({_MESSAGE_COLUMNS})"
            f" VALUES ({_placeholders(_STORED_COLUMNS)})"
        )
        with self._write() as conn:
            added_threads = conn.executemany(
                thread_sql, ([t.get(name) for name in THREAD_FIELDS] for t in threads)
            ).rowcount
            rows = (_message_row(_new_message(**(m | {"pid": None}))) for m in messages)
            added_messages = conn.executemany(message_sql, rows).rowcount
        return max(added_threads, 0), max(added_messages, 0)

    # --- small shared state ----------------------------------------------------------------

    @_guarded
    def get_kv(self, key: str) -> str | None:
        """A value other ba-chat processes can see (circuit breakers and the like)."""
        row = self._conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @_guarded
    def set_kv(self, key: str, value: str | None) -> None:
        """Store `value` under `key`; None removes it."""
        with self._write() as conn:
            if value is None:
                conn.execute("DELETE FROM kv WHERE key = ?", (key,))
            else:
                conn.execute(
                    "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                    " updated_at = excluded.updated_at",
                    (key, value, iso(now_ms())),
                )

    # --- usage ------------------------------------------------------------------------------

    @_guarded
    def usage(self, since: str | None = None, by: str = "provider") -> list[dict[str, Any]]:
        """Replies since `since` (ISO time) grouped by provider, model or day: requests,
        tokens, cost (None when no reply in the group had a known price) and mean ttft."""
        group = {
            "provider": "provider",
            "model": "provider || ' · ' || model",
            "day": "substr(created_at, 1, 10)",
        }[by]
        rows = self._conn.execute(
            f"""SELECT {group} AS key, count(*), sum(input_tokens), sum(output_tokens),
                   sum(reasoning_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
                   sum(cost), count(cost), avg(ttft_ms)
                FROM messages
                WHERE role = 'assistant' AND status != 'streaming' AND provider IS NOT NULL
                  AND created_at >= ?
                GROUP BY key ORDER BY key""",
            (since or "",),
        )
        names = (
            "key", "requests", "input_tokens", "output_tokens", "reasoning_tokens",
            "cache_read_tokens", "cache_write_tokens", "cost", "priced", "mean_ttft_ms",
        )  # fmt: skip
        return [dict(zip(names, row, strict=True)) for row in rows]

    @_guarded
    def spend_since(self, since: str) -> float:
        """USD of every priced reply since `since` (the monthly budget)."""
        row = self._conn.execute(
            "SELECT sum(cost) FROM messages WHERE role = 'assistant' AND created_at >= ?",
            (since,),
        ).fetchone()
        return float(row[0] or 0.0)

    # --- health -----------------------------------------------------------------------------

    @_guarded
    def data_version(self) -> int:
        """A number that changes whenever another connection (another `ba-chat`) commits
        to the database, SQLite's `PRAGMA data_version`: a cheap poll for outside writes.
        This connection's own commits leave it as it is."""
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    @_guarded
    def schema_version(self) -> int:
        return len(_applied(self._conn))

    @_guarded
    def integrity_check(self) -> str:
        """'ok', or what SQLite found wrong (tables, indexes and the search index)."""
        problems = [row[0] for row in self._conn.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            return "; ".join(problems)
        try:
            self._conn.execute(
                "INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)"
            )
        except sqlite3.DatabaseError as exc:
            return f"search index: {exc}"
        finally:
            if self._conn.in_transaction:
                self._conn.rollback()
        return "ok"


def fts_query(text: str) -> str:
    """`text` as an FTS5 query matching all its words literally (empty if it has none)."""
    words = text.replace("\x00", " ").split()
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def _new_message(**known: Any) -> Message:
    """A Message with every field not given left None (nothing measured yet), no parts."""
    values: dict[str, Any] = dict.fromkeys(MESSAGE_FIELDS) | {"parts": ()} | known
    return Message(**values)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _placeholders(names: Sequence[str]) -> str:
    return ", ".join("?" for _ in names)


def _thread_row(thread: Thread) -> tuple[Any, ...]:
    return tuple(getattr(thread, name) for name in THREAD_FIELDS)


def _message_row(message: Message) -> tuple[Any, ...]:
    """The values of `_STORED_COLUMNS`: the fields, the parts column, then their text."""
    values = [getattr(message, name) for name in MESSAGE_FIELDS]
    values[_PARTS] = _parts_column(message.parts)
    return (*values, message.content)


def _parts_column(parts: Sequence[Part]) -> str | None:
    """The parts as stored: NULL when they are one plain text part (kept in `content`) or
    none, else their JSON."""
    if not parts:
        return None
    (first, *rest) = parts
    if not rest and isinstance(first, Text) and first == Text(first.text) and first.text:
        return None
    return parts_json.dumps(parts)


def _message(row: Sequence[Any]) -> Message:
    """A Message from a row of `_STORED_COLUMNS`."""
    *values, content = row
    stored = values[_PARTS]
    values[_PARTS] = parts_json.loads(stored) if stored else (Text(content),) if content else ()
    return Message(*values)


def _error_text(error: str | BaseException | None) -> str | None:
    if error is None:
        return None
    from ba_tui.redact import redact

    text = error.line() if isinstance(error, BaChatError) else str(error)
    return redact(text)


def _file_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of `path`, None if there is no such file."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _check_header(path: Path) -> None:
    """Refuse, without writing a byte, anything at `path` that is not a SQLite file."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise StoreError(f"{path} is a folder, not a ba-chat database", "move it away") from None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    if header and header != _SQLITE_HEADER:
        raise not_ours(path)


def _alive(pid: int | None) -> bool:
    """Whether a process with this pid is running (a zombie counts as gone)."""
    if not pid or pid <= 0:
        return False
    if sys.platform == "win32":
        return _alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rpartition(b")")[2].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def _alive_windows(pid: int) -> bool:
    # os.kill(pid, 0) on Windows would send CTRL_C_EVENT; ask the kernel instead.
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)
