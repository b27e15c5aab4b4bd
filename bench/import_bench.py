"""Import benchmark: how long `ba-chat import` holds the write lock, and what that costs an
ask running alongside.

    python bench/import_bench.py                     # 100,000 threads of 2 messages
    python bench/import_bench.py --threads 20000 --messages 4

Generates a ba-chat JSONL export, reads it once, then imports it into two fresh databases:
"one transaction" (every row in one `Store.import_rows` call, as `import` did before it was
batched) and "batched" (`export.import_batch`, what `ba-chat import` runs now). For each it
prints the total time, the number of write transactions and the longest one, and the
longest wait of a small write (one `set_kv`, like an ask's bookkeeping) made every 50 ms from
a second connection while the import runs. Prints numbers; not a pass/fail test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ba_tui import export
from ba_tui.store import Store, iso, stable_id


def write_file(path: Path, threads: int, messages: int) -> None:
    """A JSONL export with `threads` threads of `messages` messages each."""
    with path.open("w", encoding="utf-8") as out:
        out.write(export.encode({"format": "ba-chat", "version": 2, "exported_at": iso(0)}))
        out.write("\n")
        for number in range(threads):
            ms = 1_700_000_000_000 + number * 1000
            thread_id = stable_id(ms, f"bench:{number}")
            thread = {"type": "thread", "id": thread_id, "title": f"Thread {number}"}
            thread |= {"provider": "openai", "model": "gpt-4o", "created_at": iso(ms)}
            out.write(export.encode(thread) + "\n")
            parent = None
            for index in range(messages):
                message_id = stable_id(ms + index, f"bench:{number}:{index}")
                role = "user" if index % 2 == 0 else "assistant"
                text = f"Message {index} of thread {number}: some words to index, bread {number}"
                row = {"type": "message", "id": message_id, "thread_id": thread_id}
                row |= {"parent_id": parent, "role": role}
                row |= {"parts": [{"type": "text", "text": text}]}
                row |= {"created_at": iso(ms + index)}
                out.write(export.encode(row) + "\n")
                parent = message_id


class Timed:
    """Wraps Store.import_rows to time each call (each is one write transaction)."""

    def __init__(self, store: Store) -> None:
        self.store, self.durations = store, []
        self.inner = store.import_rows

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.inner(*args, **kwargs)
        finally:
            self.durations.append(time.perf_counter() - started)


def probe(path: Path, stop: threading.Event, waits: list[float], failures: list[str]) -> None:
    """Small writes from another connection every 50 ms; records how long each waited."""
    with Store.open(path) as other:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                other.set_kv("bench", str(started))
            except Exception as exc:  # a bench: report, do not stop
                failures.append(str(exc))
            waits.append(time.perf_counter() - started)
            stop.wait(0.05)


def run(label: str, folder: Path, batch: export.ImportBatch, batched: bool) -> None:
    path = folder / f"{label.replace(' ', '-')}.db"
    with Store.open(path) as store:
        timed = Timed(store)
        store.import_rows = timed  # type: ignore[method-assign]
        stop, waits, failures = threading.Event(), [], []
        watcher = threading.Thread(target=probe, args=(path, stop, waits, failures))
        watcher.start()
        started = time.perf_counter()
        if batched:
            export.import_batch(store, batch)
        else:
            timed(batch.threads, batch.messages)
        total = time.perf_counter() - started
        stop.set()
        watcher.join()
    longest = max(timed.durations)
    print(
        f"{label:<16} {total:8.2f} s total  {len(timed.durations):6,} transactions"
        f"  longest {longest * 1000:9.1f} ms  concurrent write: longest wait"
        f" {max(waits, default=0) * 1000:7.1f} ms over {len(waits):,} writes,"
        f" {len(failures)} failed"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=2, help="messages per thread")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "import.jsonl"
        write_file(source, args.threads, args.messages)
        batch = export.read_file(source)
        print(
            f"{args.threads:,} threads, {len(batch.messages):,} messages,"
            f" {source.stat().st_size / 1e6:.1f} MB; batch size {export.IMPORT_BATCH_ROWS} rows"
        )
        run("one transaction", folder, batch, batched=False)
        run("batched", folder, batch, batched=True)


if __name__ == "__main__":
    main()
