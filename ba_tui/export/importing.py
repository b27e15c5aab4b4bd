"""Checked rows into the store, in short transactions that other processes can wait out."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ba_tui.export.format import ExportError, ImportBatch, ImportResult
from ba_tui.export.reader import read_file

if TYPE_CHECKING:
    from ba_tui.store import Store

# Rows (threads + messages) per import transaction: about 30-80 ms of work (see
# bench/import_bench.py), so a concurrent ask never waits long for the write lock.
IMPORT_BATCH_ROWS = 500
# Attachments per transaction: up to a few hundred megabytes each at the size limit.
IMPORT_BATCH_BLOBS = 20
# After each import transaction the lock stays free for this fraction of its length.
IMPORT_PAUSE = 0.5


def import_file(store: Store, path: Path) -> ImportResult:
    """Read a ba-chat JSON/JSONL export or a ChatGPT conversations.json into the store."""
    return import_batch(store, read_file(path))


def import_batch(store: Store, batch: ImportBatch) -> ImportResult:
    """Write a checked file in short transactions (IMPORT_BATCH_ROWS rows each), so asks
    running alongside wait milliseconds for the write lock, never seconds.

    Each thread goes in with its messages (a very long thread is split). Rows whose id is
    already stored are left as they are, so if the import stops midway (the error says how
    far it got), running it again adds exactly what is missing.
    """
    from ba_tui.store import StoreError

    added_threads = added_messages = 0
    try:
        # Attachments' content first: a message is never stored before the blob it names.
        for start in range(0, len(batch.blobs), IMPORT_BATCH_BLOBS):
            store.import_blobs(batch.blobs[start : start + IMPORT_BATCH_BLOBS])
        for threads, messages in _batches(batch.threads, batch.messages, IMPORT_BATCH_ROWS):
            started = time.perf_counter()
            new_threads, new_messages = store.import_rows(threads, messages)
            added_threads += new_threads
            added_messages += new_messages
            # Leave the lock free for a while: a waiting process polls for it (up to every
            # 100 ms) and would starve if each commit were followed at once by the next.
            time.sleep(max(time.perf_counter() - started, 0.001) * IMPORT_PAUSE)
    except UnicodeEncodeError:
        raise ExportError(
            "cannot import: the file holds text that is not valid Unicode",
            _progress(added_threads, added_messages),
        ) from None
    except StoreError as exc:
        if not added_threads and not added_messages:
            raise
        raise StoreError(
            f"{exc.message}; {_progress(added_threads, added_messages)}",
            "run the same import again to finish: what is already here is skipped",
        ) from None
    return ImportResult(
        batch.source,
        len(batch.threads),
        len(batch.messages),
        added_threads,
        added_messages,
        batch.skipped,
    )


def _progress(threads: int, messages: int) -> str:
    if not threads and not messages:
        return "the store was not changed"
    return f"{threads} thread(s) and {messages:,} message(s) were imported before it stopped"


def _batches(
    threads: Sequence[dict[str, Any]], messages: Sequence[dict[str, Any]], size: int
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """(threads, messages) of about `size` rows each, every thread in the batch that holds
    its first messages (or before them, when a long thread is split)."""
    by_thread: dict[Any, list[dict[str, Any]]] = {}
    for message in messages:
        by_thread.setdefault(message.get("thread_id"), []).append(message)
    out_threads: list[dict[str, Any]] = []
    out_messages: list[dict[str, Any]] = []
    for thread in threads:
        out_threads.append(thread)
        rows = by_thread.pop(thread.get("id"), [])
        for start in range(0, max(len(rows), 1), size):
            out_messages += rows[start : start + size]
            if len(out_threads) + len(out_messages) >= size:
                yield out_threads, out_messages
                out_threads, out_messages = [], []
    # Messages naming a thread the file does not hold: the store decides about them.
    for rows in by_thread.values():
        out_messages += rows
    if out_threads or out_messages:
        yield out_threads, out_messages
