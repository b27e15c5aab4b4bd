"""Messages: saving a prompt, opening a reply before its first byte, checkpointing it as it
streams and closing it with everything known; reading a thread and one branch of it.

A row keeps the Message fields (see ba_tui.messages) and `content`, the text of its parts
(and of its tool calls and results, `messages.searchable`), which search indexes and
listings read without parsing parts. Most messages are that text
and nothing else: their `parts` column is NULL, so the text is stored once and read
without JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from ba_tui import messages as parts_json
from ba_tui.messages import (
    MESSAGE_FIELDS,
    OBJECT_FIELDS,
    ROLES,
    STATUSES,
    Attachment,
    Blob,
    Message,
    Part,
    Text,
    searchable,
)
from ba_tui.store.blobs import link, save
from ba_tui.store.database import CLOSE_PATIENCE, Database, guarded
from ba_tui.store.errors import MessageNotFound, ThreadNotFound, error_text
from ba_tui.store.ids import iso, new_id, now_ms

STORED_COLUMNS = (*MESSAGE_FIELDS, "content")
MESSAGE_COLUMNS = ", ".join(STORED_COLUMNS)
_PARTS = MESSAGE_FIELDS.index("parts")
_OBJECTS = [MESSAGE_FIELDS.index(name) for name in OBJECT_FIELDS]
_INSERT_MESSAGE = (
    f"INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES ({', '.join('?' * len(STORED_COLUMNS))})"
)
# What closing a reply writes: every column but the row's identity, which is fixed when the
# row is opened, and `pid`, cleared (no process writes the row any more).
_IDENTITY = ("id", "thread_id", "parent_id", "role", "created_at", "pid")
_CLOSING_COLUMNS = tuple(name for name in STORED_COLUMNS if name not in _IDENTITY)
_CLOSE = (
    "UPDATE messages SET "
    + "".join(f"{name} = ?, " for name in _CLOSING_COLUMNS)
    + "pid = NULL WHERE id = ?"
)
_CHECKPOINT = "UPDATE messages SET parts = ?, content = ? WHERE id = ? AND status = 'streaming'"


class Messages(Database):
    """The messages of the database's threads."""

    @guarded
    def messages(self, thread_id: str) -> list[Message]:
        """Every message of the thread, all branches, in the order they were created."""
        rows = self._conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE thread_id = ? ORDER BY created_at, id",
            (thread_id,),
        )
        return [message_of_row(row) for row in rows]

    @guarded
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

    @guarded
    def get_message(self, message_id: str) -> Message:
        row = self._conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)
        ).fetchone()
        if row is None:
            raise MessageNotFound(f"no message {message_id}")
        return message_of_row(row)

    @guarded
    def add_message(
        self,
        thread_id: str,
        *,
        role: str,
        content: str = "",
        parent_id: str | None,
        status: str = "complete",
        provider: str | None = None,
        model: str | None = None,
        parts: Sequence[Part] | None = None,
        blobs: Sequence[tuple[Attachment, Blob]] = (),
    ) -> Message:
        """Save a message now (committed before this returns); bumps the thread. It is
        `content` as one text part, or `parts`; `blobs` are the content of its attachments,
        stored in the same transaction (each once, however often it is attached)."""
        chosen = tuple(parts) if parts is not None else (Text(content),) if content else ()
        return self._insert(
            thread_id, role, chosen, parent_id, status, provider, model, None, blobs
        )

    @guarded
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
        blobs: Sequence[tuple[Attachment, Blob]] = (),
    ) -> Message:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        ms = now_ms()
        message = new_message(
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
            conn.execute(_INSERT_MESSAGE, message_row(message))
            if blobs:
                save(conn, ((part.sha256, part.mime, blob) for part, blob in blobs))
            link(conn, message.id, parts)
        return message

    @guarded
    def checkpoint(self, message_id: str, parts: Sequence[Part]) -> None:
        """Save the parts streamed so far; a no-op once the reply is closed."""
        with self._write() as conn:
            conn.execute(_CHECKPOINT, (parts_column(parts), searchable(parts), message_id))

    @guarded
    def kept_answer(self, request_key: str, since: str = "") -> Message | None:
        """The newest complete answer to the request with this digest, created at or after
        `since`; one that failed its schema is never reused."""
        row = self._conn.execute(
            f"""SELECT {MESSAGE_COLUMNS} FROM messages
            WHERE request_key = ? AND role = 'assistant' AND status = 'complete'
              AND content != '' AND created_at >= ?
              AND (schema IS NULL OR json_extract(schema, '$.valid') = 1)
            ORDER BY created_at DESC LIMIT 1""",
            (request_key, since),
        ).fetchone()
        return message_of_row(row) if row else None

    @guarded
    def finish_reply(self, reply: Message) -> Message:
        """Close the reply with everything known about it: `reply` is the row `start_reply`
        opened with its end filled in (`dataclasses.replace`). Every field is written but
        the row's identity (id, thread, parent, role, time); the pid is cleared and the
        thread bumped. The error text is stored with any key masked.
        """
        if reply.status not in STATUSES or reply.status == "streaming":
            raise ValueError(f"a reply cannot finish as {reply.status!r}")
        row = dict(zip(STORED_COLUMNS, message_row(reply), strict=True))
        row["error"] = error_text(reply.error)
        with self._write(patience=CLOSE_PATIENCE) as conn:
            found = conn.execute(
                "SELECT thread_id FROM messages WHERE id = ?", (reply.id,)
            ).fetchone()
            if found is None:
                raise MessageNotFound(f"no message {reply.id}")
            conn.execute(_CLOSE, (*(row[name] for name in _CLOSING_COLUMNS), reply.id))
            conn.execute(
                "UPDATE threads SET updated_at = ? WHERE id = ?", (iso(now_ms()), found[0])
            )
        self._check_journal()
        return self.get_message(reply.id)


def new_message(**known: Any) -> Message:
    """A Message with every field not given left None (nothing measured yet), no parts."""
    values: dict[str, Any] = dict.fromkeys(MESSAGE_FIELDS) | {"parts": ()} | known
    return Message(**values)


def message_row(message: Message) -> tuple[Any, ...]:
    """The values of `STORED_COLUMNS`: the fields, the parts column, then their text."""
    values = [getattr(message, name) for name in MESSAGE_FIELDS]
    values[_PARTS] = parts_column(message.parts)
    for index in _OBJECTS:
        if values[index] is not None:
            values[index] = json.dumps(values[index], ensure_ascii=False, separators=(",", ":"))
    return (*values, searchable(message.parts))


def parts_column(parts: Sequence[Part]) -> str | None:
    """The parts as stored: NULL when they are one plain text part (kept in `content`) or
    none, else their JSON."""
    if not parts:
        return None
    (first, *rest) = parts
    if not rest and isinstance(first, Text) and first == Text(first.text) and first.text:
        return None
    return parts_json.dumps(parts)


def message_of_row(row: Sequence[Any]) -> Message:
    """A Message from a row of `STORED_COLUMNS`."""
    *values, content = row
    stored = values[_PARTS]
    values[_PARTS] = parts_json.loads(stored) if stored else (Text(content),) if content else ()
    for index in _OBJECTS:
        if values[index] is not None:
            values[index] = json.loads(values[index])
    return Message(*values)
