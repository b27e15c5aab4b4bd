"""Attachments' content: bytes by sha256 (stored once however often they are attached),
the text search finds in them, and which messages use them.

A message's Attachment parts name their blob by sha256; `link` records the use when the
message is written, whether the blob came with it (ask) or from a file (import).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from ba_tui.messages import Attachment, Blob, Part
from ba_tui.store.database import Database, guarded
from ba_tui.store.ids import iso, now_ms

_SAVE = (
    "INSERT OR IGNORE INTO blobs (sha256, mime, size, data, text, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_LINK = "INSERT OR IGNORE INTO message_blobs (message_id, sha256) VALUES (?, ?)"
# A thread's blobs, for export: each once, in the order first used.
_THREAD_BLOBS = """
SELECT b.sha256, b.mime, b.size, b.data, b.text FROM blobs AS b
WHERE b.sha256 IN (
    SELECT mb.sha256 FROM message_blobs AS mb JOIN messages AS m ON m.id = mb.message_id
    WHERE m.thread_id = ?
)
ORDER BY b.created_at, b.sha256
"""


def save(conn: sqlite3.Connection, blobs: Iterable[tuple[str, str, Blob]]) -> None:
    """Store each (sha256, mime, content) unless that sha256 is there already (inside the
    caller's transaction)."""
    created = iso(now_ms())
    conn.executemany(
        _SAVE,
        (
            (sha256, mime, len(blob.data), blob.data, blob.text, created)
            for sha256, mime, blob in blobs
        ),
    )


def link(conn: sqlite3.Connection, message_id: str, parts: Sequence[Part]) -> None:
    """Record that the message uses the blobs its attachment parts name."""
    conn.executemany(_LINK, ((message_id, p.sha256) for p in parts if isinstance(p, Attachment)))


def link_all(conn: sqlite3.Connection, messages: Iterable[tuple[str, Sequence[Part]]]) -> None:
    """`link` for many (message id, parts) at once (an import)."""
    conn.executemany(
        _LINK,
        (
            (message_id, part.sha256)
            for message_id, parts in messages
            for part in parts
            if isinstance(part, Attachment)
        ),
    )


def unused_after_delete(conn: sqlite3.Connection, thread_id: str) -> None:
    """Before a thread's messages are deleted: drop their links, then every blob that no
    other message uses."""
    rows = conn.execute(
        "SELECT DISTINCT mb.sha256 FROM message_blobs AS mb JOIN messages AS m"
        " ON m.id = mb.message_id WHERE m.thread_id = ?",
        (thread_id,),
    ).fetchall()
    conn.execute(
        "DELETE FROM message_blobs WHERE message_id IN"
        " (SELECT id FROM messages WHERE thread_id = ?)",
        (thread_id,),
    )
    conn.executemany(
        "DELETE FROM blobs WHERE sha256 = ?1 AND NOT EXISTS"
        " (SELECT 1 FROM message_blobs WHERE sha256 = ?1)",
        rows,
    )


class Blobs(Database):
    """Reading attachments' content back (replay, export) and writing it from a file."""

    @guarded
    def blobs(self, sha256s: Iterable[str]) -> dict[str, Blob]:
        """The stored content of these blobs, by sha256 (those not stored are left out)."""
        wanted = list(set(sha256s))
        found: dict[str, Blob] = {}
        for start in range(0, len(wanted), 500):  # SQLite's limit on parameters
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT sha256, data, text FROM blobs WHERE sha256 IN ({marks})", chunk
            )
            found.update({sha: Blob(bytes(data), text) for sha, data, text in rows})
        return found

    @guarded
    def stored_blobs(self, sha256s: Iterable[str]) -> set[str]:
        """Which of these blobs are stored (without reading their content)."""
        wanted = list(set(sha256s))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):  # SQLite's limit on parameters
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(f"SELECT sha256 FROM blobs WHERE sha256 IN ({marks})", chunk)
            found.update(sha for (sha,) in rows)
        return found

    @guarded
    def thread_blobs(self, thread_id: str) -> list[tuple[str, str, int, bytes, str | None]]:
        """(sha256, mime, size, data, text) of every blob the thread's messages use."""
        rows = self._conn.execute(_THREAD_BLOBS, (thread_id,)).fetchall()
        return [(sha, mime, size, bytes(data), text) for sha, mime, size, data, text in rows]

    @guarded
    def count_blobs(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM blobs").fetchone()[0])

    @guarded
    def import_blobs(self, blobs: Sequence[tuple[str, str, Blob]]) -> None:
        """Store blobs read from an export file (those already here are kept as they are)."""
        with self._write() as conn:
            save(conn, blobs)
