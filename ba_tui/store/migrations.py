"""The schema's steps, in order: one small function per step, run by sqlite-utils'
`Migrations` and recorded in `_sqlite_migrations`. A step never loses data: a database
written by any earlier ba-chat opens with this one.

sqlite-utils (~50 ms to import) is imported only when a step is pending: opening an
up-to-date store reads `_sqlite_migrations` directly.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database, Migrations

MIGRATION_SET = "ba-chat"
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


def applied(conn: sqlite3.Connection) -> list[str]:
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


def known() -> set[str]:
    """Names of every step this ba-chat knows."""
    return {fn.__name__ for fn in MIGRATIONS}


def pending(conn: sqlite3.Connection) -> bool:
    return bool(known() - set(applied(conn)))


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


@_migration
def m003_search_word_forms(db: Database) -> None:
    """Search finds word forms: "risk" finds "risks", "running" finds "run". The search
    index is rebuilt with the Porter stemmer over the same unicode61 tokenizer; only the
    index changes (its triggers are made again as m001 made them), every message stays
    as it is. Plain statements, not sqlite-utils' enable_fts, whose executescript would
    commit half way through the step."""
    for trigger in ("messages_ai", "messages_ad", "messages_au"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute("DROP TABLE IF EXISTS messages_fts")
    db.execute(
        "CREATE VIRTUAL TABLE messages_fts USING FTS5"
        " (content, tokenize='porter unicode61', content=messages)"
    )
    db.execute("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")
    db.execute(
        """CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
          INSERT INTO messages_fts (rowid, content) VALUES (new.rowid, new.content);
        END"""
    )
    db.execute(
        """CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
          INSERT INTO messages_fts (messages_fts, rowid, content)
            VALUES ('delete', old.rowid, old.content);
        END"""
    )
    db.execute(
        """CREATE TRIGGER messages_au AFTER UPDATE ON messages BEGIN
          INSERT INTO messages_fts (messages_fts, rowid, content)
            VALUES ('delete', old.rowid, old.content);
          INSERT INTO messages_fts (rowid, content) VALUES (new.rowid, new.content);
        END"""
    )


@_migration
def m004_answer_schema_and_request_key(db: Database) -> None:
    """A reply may record the schema it was asked to fit (and whether it did), and the
    digest of the request it answered, which `ask --cache` looks up. Existing rows have
    neither: NULL."""
    db.execute("ALTER TABLE messages ADD COLUMN schema TEXT")
    db.execute("ALTER TABLE messages ADD COLUMN request_key TEXT")
    db.execute(
        "CREATE INDEX IF NOT EXISTS messages_request_key ON messages (request_key)"
        " WHERE request_key IS NOT NULL"
    )


@_migration
def m005_thread_pins_settings_origin(db: Database) -> None:
    """Threads can be pinned and archived, carry their own turn settings (JSON), and say
    where they were started (tui, ask, import). Existing threads: not pinned, not
    archived, no settings, origin unknown (NULL)."""
    db.execute("ALTER TABLE threads ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE threads ADD COLUMN archived INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE threads ADD COLUMN settings TEXT")
    db.execute("ALTER TABLE threads ADD COLUMN origin TEXT")


@_migration
def m006_attachment_blobs(db: Database) -> None:
    """Attachments' bytes, kept by content (sha256) so a file attached twice is stored
    once, with the text search finds in them (a document's); `message_blobs` says which
    messages use which blob, so deleting a thread deletes only blobs nothing else uses.
    Only new tables: every existing row stays as it is."""
    db.execute(
        """CREATE TABLE blobs (
            sha256 TEXT PRIMARY KEY,
            mime TEXT NOT NULL,
            size INTEGER NOT NULL,
            data BLOB NOT NULL,
            text TEXT,
            created_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE message_blobs (
            message_id TEXT NOT NULL REFERENCES messages(id),
            sha256 TEXT NOT NULL,
            PRIMARY KEY (message_id, sha256)
        )"""
    )
    db.execute("CREATE INDEX message_blobs_sha256 ON message_blobs(sha256)")
    db.table("blobs").enable_fts(["text"], create_triggers=True, tokenize="porter")


@_migration
def m007_always_allowed_tools(db: Database) -> None:
    """The tools a user allowed "always" in an approval: a later session runs them without
    asking until `ba-chat tools forget` takes them back. Named as the model sees them
    (`server.tool` for an MCP server's), with their source (`builtin`, `mcp:NAME`). Only a
    new table: every existing row stays as it is."""
    db.execute(
        """CREATE TABLE allowed_tools (
            tool TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            allowed_at TEXT NOT NULL
        )"""
    )


@_migration
def m008_side_requests(db: Database) -> None:
    """Requests ba-chat makes on its own behalf, not replies a user asked for (a thread's
    title from its first exchange): their tokens and cost count in `ba-chat usage` and the
    monthly budget like a reply's. Only a new table: every existing row stays as it is."""
    db.execute(
        """CREATE TABLE side_requests (
            id INTEGER PRIMARY KEY,
            thread_id TEXT,
            purpose TEXT NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            input_tokens INTEGER,
            output_tokens INTEGER,
            reasoning_tokens INTEGER,
            cache_read_tokens INTEGER,
            cache_write_tokens INTEGER,
            cost REAL,
            ttft_ms REAL,
            created_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX side_requests_thread ON side_requests(thread_id)")
