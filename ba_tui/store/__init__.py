"""Every thread and message in one SQLite file, written so that nothing on screen is lost.

One connection per `Store`, guarded by a lock so the TUI's workers can share it. Every
write is its own committed transaction, taken with `BEGIN IMMEDIATE` so a second ba-chat
process makes it wait (busy timeout) instead of failing half way. The journal is WAL with
`synchronous=NORMAL`: a commit survives a killed process (SIGKILL), and a power cut can
lose at most the last few commits, never corrupt the file; in exchange a checkpoint costs
no fsync. Rows come back as plain dataclasses, never sqlite rows.

The package, by what each module holds: `database` (the connection, opening, schema,
transactions, health), `migrations` (the schema's steps), `threads`, `messages`, `search`,
`transfer` (rows in and out for export and import), `blobs` (attachments' content),
`spending` (usage totals), `allowed` (tools the user allowed "always"), `ids` (ids and
the clock), `errors`, `files` (the file on disk) and `liveness` (is a writer alive).
"""

from __future__ import annotations

from ba_tui.messages import ROLES, STATUSES, Message
from ba_tui.store.allowed import AllowedTool, AllowedTools
from ba_tui.store.blobs import Blobs
from ba_tui.store.database import BUSY_TIMEOUT, INTERRUPTED_ERROR
from ba_tui.store.errors import MessageNotFound, StoreError, StoreLocked, ThreadNotFound, not_ours
from ba_tui.store.ids import iso, new_id, now_ms, stable_id
from ba_tui.store.messages import Messages
from ba_tui.store.search import Search, SearchHit, fts_query
from ba_tui.store.spending import Spending
from ba_tui.store.threads import Thread, Threads
from ba_tui.store.transfer import Transfer

__all__ = [
    "BUSY_TIMEOUT",
    "INTERRUPTED_ERROR",
    "ROLES",
    "STATUSES",
    "AllowedTool",
    "Message",
    "MessageNotFound",
    "SearchHit",
    "Store",
    "StoreError",
    "StoreLocked",
    "Thread",
    "ThreadNotFound",
    "fts_query",
    "iso",
    "new_id",
    "not_ours",
    "now_ms",
    "stable_id",
]


class Store(Threads, Messages, Search, Transfer, Spending, Blobs, AllowedTools):
    """The ba-chat database. Open with `Store.open()`; close when done."""
