"""What can go wrong with the database, as errors with one line for people: SQLite's
result codes mapped to what happened and what to do."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ba_tui.errors import BaChatError, UsageError


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


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether SQLite failed because another connection holds a lock."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(exc)


def store_error(path: Path, exc: sqlite3.Error) -> StoreError:
    """Our one line for a sqlite failure, by its result code."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if is_busy(exc):
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


def error_text(error: str | None) -> str | None:
    """A reply's error as stored: any key masked (errors quote what servers said)."""
    if error is None:
        return None
    from ba_tui.redact import redact

    return redact(error)
