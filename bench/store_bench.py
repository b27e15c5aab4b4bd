"""Store benchmark: a generated history of 1,000,000 messages in 10,000 threads.

    python bench/store_bench.py                      # full size, in a temp dir
    python bench/store_bench.py --messages 100000 --threads 1000
    python bench/store_bench.py --db /tmp/big.db     # keep (and reuse) the database

Times the operations people wait on: the thread list, opening a 1,000-message thread,
a search for a word in ~1% of messages, exporting everything, and the cost of the
checkpoints written while a reply streams. Prints a table; not a pass/fail test.
Full size needs ~1.6 GB of disk and a couple of minutes to generate.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ba_tui.export import write_jsonl
from ba_tui.messages import Text, reply_parts
from ba_tui.store import Store, iso, new_id
from ba_tui.store.messages import STORED_COLUMNS, message_row, new_message

# What every generated reply carries besides its token counts.
REPLY_FIELDS = {
    "provider": "openai", "model": "gpt-4o", "cache_read_tokens": 1000, "cost": 0.0021,
    "ttft_ms": 420.0, "duration_ms": 3100.0, "finish_reason": "stop",
}  # fmt: skip

RARE_WORD = "quokka"  # put in ~1% of messages; never in the generated vocabulary
BIG_THREAD = 1000
SEED = 4


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(2, 10))) for _ in range(size)}
    words.discard(RARE_WORD)
    return sorted(words)


def bodies(rng: random.Random, words: list[str], count: int, low: int, high: int) -> list[str]:
    """A pool of texts with a Zipf-like word mix (common words much more common)."""
    weights = [1 / (rank + 1) for rank in range(len(words))]
    pool = []
    for _ in range(count):
        chosen = rng.choices(words, weights, k=rng.randint(low, high))
        pool.append(" ".join(chosen).capitalize() + ".")
    return pool


def generate(store: Store, messages: int, threads: int) -> None:
    """Threads whose messages interleave in time (as real use does), one of them 1,000
    long; every reply carries token counts. One transaction."""
    rng = random.Random(SEED)
    words = vocabulary(rng)
    user_pool = bodies(rng, words, 2000, 8, 60)
    reply_pool = bodies(rng, words, 2000, 60, 300)
    counts = [BIG_THREAD] + [0] * (threads - 1)
    rest = messages - BIG_THREAD
    for index in range(1, threads):
        counts[index] = rest // (threads - 1) + (1 if index <= rest % (threads - 1) else 0)
    order = [t for t, n in enumerate(counts) for _ in range(n)]
    rng.shuffle(order)
    start_ms = int(time.time() * 1000) - len(order) * 1000
    thread_ids = [new_id(start_ms + t) for t in range(threads)]
    last: list[str | None] = [None] * threads
    updated = [0] * threads
    created = [0] * threads
    rows = []
    for step, t in enumerate(order):
        ms = start_ms + step * 1000
        if created[t] == 0:
            created[t] = ms
        updated[t] = ms
        is_user = last[t] is None or rng.random() < 0.5
        text = rng.choice(user_pool if is_user else reply_pool)
        if rng.random() < 0.01:
            cut = rng.randint(0, len(text))
            text = f"{text[:cut]} {RARE_WORD} {text[cut:]}"
        message_id = new_id(ms)
        measured = {} if is_user else REPLY_FIELDS | {
            "input_tokens": 1200 + step % 800, "output_tokens": len(text) // 4
        }  # fmt: skip
        message = new_message(
            id=message_id, thread_id=thread_ids[t], parent_id=last[t],
            role="user" if is_user else "assistant", parts=(Text(text),),
            status="complete", created_at=iso(ms), **measured,
        )  # fmt: skip
        rows.append(message_row(message))
        last[t] = message_id
    conn = store._conn
    conn.execute("PRAGMA cache_size = -1000000")  # 1 GB while loading: index pages stay put
    conn.execute("BEGIN IMMEDIATE")
    thread_rows = []
    for t in range(threads):
        title = f"Thread {t} about {words[t % len(words)]}"
        first, latest = iso(created[t] or start_ms), iso(updated[t] or start_ms)
        thread_rows.append((thread_ids[t], title, "openai", "gpt-4o", None, None, first, latest))
    conn.executemany(
        "INSERT INTO threads (id, title, provider, model, system, persona, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        thread_rows,
    )
    columns = ", ".join(STORED_COLUMNS)
    marks = ", ".join("?" * len(STORED_COLUMNS))
    # Indexing text row by row through the trigger is twice as slow as one rebuild at the
    # end; the trigger is put back exactly as it was, in the same transaction.
    (trigger,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'messages_ai'"
    ).fetchone()
    conn.execute("DROP TRIGGER messages_ai")
    conn.executemany(f"INSERT INTO messages ({columns}) VALUES ({marks})", rows)
    conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
    conn.execute(trigger)
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA cache_size = -16384")


def timed(action: Callable[[], object], repeat: int = 20) -> tuple[float, float]:
    """(median ms, best ms) over `repeat` warm runs."""
    action()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def checkpoint_cost(store: Store, thread_id: str, size: int = 20_000) -> tuple[float, float, int]:
    """(median ms, worst ms, count) of the checkpoints of a reply growing to `size` chars.

    The runner checkpoints at most once per 250 ms, so the share of a stream spent
    checkpointing is about cost / 250 ms whatever the model's speed: a 5,000-token reply
    (~20 KB) at 60 tokens/s lasts ~80 s and takes ~330 checkpoints, each rewriting the text
    so far (and its search row).
    """
    parent = store.messages(thread_id)[-1].id
    reply = store.start_reply(thread_id, parent_id=parent, provider="openai", model="gpt-4o")
    chunk = ("lorem ipsum dolor sit amet " * 800)[:size]
    steps = 330
    times = []
    for step in range(1, steps + 1):
        start = time.perf_counter()
        store.checkpoint(reply.id, reply_parts(chunk[: size * step // steps], None, "openai"))
        times.append((time.perf_counter() - start) * 1000)
    store.finish_reply(replace(reply, status="complete", parts=reply_parts(chunk, None, "openai")))
    return statistics.median(times), max(times), steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--db", type=Path, help="database file to build (or reuse if it exists)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as temp:
        path = args.db or Path(temp) / "bench.db"
        fresh = not path.exists()
        store = Store.open(path)
        if fresh:
            start = time.perf_counter()
            generate(store, args.messages, args.threads)
            took = time.perf_counter() - start
            size = os.path.getsize(path) / 2**20
            print(f"generated {args.messages:,} messages, {args.threads:,} threads: {took:.1f} s")
            print(f"database file: {size:,.0f} MiB")
        (big_id,) = store._conn.execute(
            "SELECT thread_id FROM messages GROUP BY thread_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        big = store.get_thread(big_id)
        total = store._conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        hits = store._conn.execute(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?", (RARE_WORD,)
        ).fetchone()[0]

        rows = []
        median, best = timed(lambda: store.list_threads(limit=50))
        rows.append(("list threads (first 50)", median, best, "<= 20 ms"))

        def open_thread() -> None:
            store.get_thread(big.id)
            store.messages(big.id)
            store.history(big.id)

        median, best = timed(open_thread)
        rows.append((f"open a {big.message_count:,}-message thread", median, best, "<= 100 ms"))
        median, best = timed(lambda: store.search(RARE_WORD, limit=50))
        rows.append((f"search '{RARE_WORD}' ({hits:,} hits, top 50)", median, best, "<= 50 ms"))
        common = " ".join(vocabulary(random.Random(SEED))[:2])  # the two most frequent
        median, best = timed(lambda: store.search(common, limit=50), repeat=5)
        rows.append((f"search '{common}' (most messages match)", median, best, ""))

        ids = store.thread_ids()
        with open(os.devnull, "w", encoding="utf-8") as sink:
            start = time.perf_counter()
            written = write_jsonl(store, ids, sink, iso(0))
            seconds = time.perf_counter() - start
        checkpoint, worst, steps = checkpoint_cost(store, big.id)

        print(f"\n{total:,} messages, {len(ids):,} threads, sqlite {_sqlite_version()}\n")
        print(f"{'operation':44} {'median':>10} {'best':>10}  target")
        for name, median, best, target in rows:
            print(f"{name:44} {median:8.2f}ms {best:8.2f}ms  {target}")
        rate = f"{written / seconds:,.0f}/s"
        print(
            f"{'export all as JSONL (rate, total time)':44} {rate:>10} {seconds:9.1f}s  >= 100k/s"
        )
        share = f"{checkpoint / 250 * 100:.2f}% of a stream"
        name = f"checkpoint x{steps}, reply growing to 20 KB"
        print(f"{name:44} {checkpoint:8.2f}ms {worst:8.2f}ms  (worst) = {share} (<= 5%)")
        store.close()


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


if __name__ == "__main__":
    main()
