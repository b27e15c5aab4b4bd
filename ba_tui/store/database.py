"""The one connection to the database file: opening it safely, bringing its schema up to
date, transactions that wait for other processes, and its health.

The repository parts (threads, messages, search, transfer, spending) are subclasses that
add their queries; `Store` joins them. Every public method goes through `guarded`: one
caller at a time on the connection, and a sqlite failure comes out as a StoreError.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Concatenate, ParamSpec, Self, TypeVar

from ba_tui.store import migrations as schema
from ba_tui.store.errors import StoreError, is_busy, not_ours, store_error
from ba_tui.store.files import check_header, file_id
from ba_tui.store.ids import iso, now_ms
from ba_tui.store.liveness import alive

if TYPE_CHECKING:
    import sqlite_utils

BUSY_TIMEOUT = 5.0
# Closing a reply waits this many busy timeouts for the write lock: its text is already on
# the screen, and losing its final state to a long write elsewhere (an import) is worse
# than a late exit.
CLOSE_PATIENCE = 3
INTERRUPTED_ERROR = "the ba-chat process writing this reply stopped before it finished"

D = TypeVar("D", bound="Database")
P = ParamSpec("P")
R = TypeVar("R")


def guarded(method: Callable[Concatenate[D, P], R]) -> Callable[Concatenate[D, P], R]:
    """Serialise access to the one connection and turn sqlite failures into StoreError."""

    @functools.wraps(method)
    def wrapper(self: D, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise store_error(self.path, exc) from None

    return wrapper


# Steps that rewrite something per message (the search index): on a large history they
# take minutes, and a user looking at a silent terminal thinks it hangs.
SLOW_STEPS = frozenset({"m003_search_word_forms"})
SLOW_FROM = 20_000  # messages


def _announce_slow_steps(conn: sqlite3.Connection, steps: set[str]) -> None:
    """Say on stderr, before a slow upgrade of a large database, what it is doing. (Both
    front ends open the store before any screen is drawn, so the line is seen.)"""
    if not steps & SLOW_STEPS:
        return
    count = conn.execute("SELECT max(rowid) FROM messages").fetchone()[0] or 0
    if count >= SLOW_FROM:
        import sys

        sys.stderr.write(
            f"ba-chat: updating the search index of {count:,} messages for this version"
            " (once; about a minute per 300,000 messages)…\n"
        )
        sys.stderr.flush()


class Database:
    """One connection to a ba-chat database file. Open with `open()`; close when done."""

    def __init__(
        self, path: Path, conn: sqlite3.Connection, busy_timeout: float = BUSY_TIMEOUT
    ) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._conn = conn
        self._lock = threading.RLock()
        self._journal: tuple[int, int] | None = None  # the WAL file this connection uses

    @functools.cached_property
    def db(self) -> sqlite_utils.Database:
        """The connection as a sqlite-utils Database (imported on first use)."""
        from sqlite_utils import Database

        return Database(self._conn, execute_plugins=False)

    @classmethod
    def open(cls, path: Path | None = None, *, busy_timeout: float = BUSY_TIMEOUT) -> Self:
        """Open (creating if needed) the database, bring its schema up to date and mark
        replies left `streaming` by processes that no longer run as `interrupted`.

        A file that is not a SQLite database is reported and never touched.
        """
        if path is None:
            from ba_tui.paths import db_path

            path = db_path()
        path = Path(path)
        check_header(path)
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
            raise store_error(path, exc) from None
        store = cls(path, conn, busy_timeout)
        try:
            store._prepare()
        except BaseException:
            conn.close()
            raise
        store._journal = file_id(store.wal_path)
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
        if self._journal is not None and file_id(self.wal_path) != self._journal:
            raise StoreError(
                f"{self.wal_path} was deleted or replaced while ba-chat was writing,"
                " so this reply may not be saved",
                "find what removes files in that folder; the reply is still on screen",
            )

    def reader(self) -> Self:
        """A second connection to the same file, read-only, for a slow read off the UI
        thread (a search over a large history) that must not hold this connection's lock
        while the UI writes a streaming reply. Close it when done."""
        try:
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=self.busy_timeout,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise store_error(self.path, exc) from None
        return type(self)(self.path, conn, self.busy_timeout)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @guarded
    def _prepare(self) -> None:
        conn = self._conn
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        applied = set(schema.applied(conn))
        if tables - {"_sqlite_migrations"} and not applied:
            raise not_ours(self.path)
        known = schema.known()
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
            if "messages" in tables:  # (a new database has nothing to update)
                _announce_slow_steps(conn, known - applied)
            # Under the write lock, and checked again: two processes opening a new
            # database at once must not both create its tables.
            with self._write():
                if schema.pending(conn):
                    schema.migrations().apply(self.db)
        self._recover()

    def _recover(self) -> None:
        """Rows left `streaming` by a process that is gone become `interrupted`."""
        rows = self._conn.execute(
            "SELECT id, pid FROM messages WHERE status = 'streaming'"
        ).fetchall()
        dead = [(INTERRUPTED_ERROR, mid) for mid, pid in rows if not alive(pid)]
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
            raise store_error(self.path, exc) from None

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
                if attempt == patience or not is_busy(exc):
                    raise
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    # --- small shared state ----------------------------------------------------------------

    @guarded
    def get_kv(self, key: str) -> str | None:
        """A value other ba-chat processes can see (circuit breakers and the like)."""
        row = self._conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @guarded
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

    # --- health -----------------------------------------------------------------------------

    def data_version(self, *, wait: bool = True) -> int | None:
        """A number that changes whenever another connection (another `ba-chat`) commits
        to the database, SQLite's `PRAGMA data_version`: a cheap poll for outside writes.
        This connection's own commits leave it as it is. With `wait=False`, None while a
        thread is using the connection: a poll on the UI thread skips a tick rather than
        freeze the screen behind a long write."""
        if not self._lock.acquire(blocking=wait):
            return None
        try:
            return int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error as exc:
            raise store_error(self.path, exc) from None
        finally:
            self._lock.release()

    @guarded
    def schema_version(self) -> int:
        return len(schema.applied(self._conn))

    @guarded
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
