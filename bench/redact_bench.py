"""How long `redact` takes on the lines it masks: log lines, error lines, a long message.

    python bench/redact_bench.py [--keys 4] [--runs 2000]

Remembers N random keys of real lengths (Anthropic 108, OpenAI 164, Google 39, DeepSeek
35 characters), then times `redact` on a typical JSON log line (~400 characters), a 300-
character error line echoing a key without its prefix, and a 20 KB reply of prose. For
comparison it times the whole-key replace that redaction used before (which missed
partial echoes), the key-shape regex both run, and a naive check of every 8-character
window of every key with `in`.
Prints microseconds per call (median of 5 rounds); not a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import string
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ba_tui import redact as redaction

LENGTHS = (108, 164, 39, 35, 51, 56)
ALPHABET = string.ascii_letters + string.digits + "-_"


def make_keys(count: int, rng: random.Random) -> list[str]:
    return [
        "".join(rng.choice(ALPHABET) for _ in range(LENGTHS[i % len(LENGTHS)]))
        for i in range(count)
    ]


def samples(keys: list[str], rng: random.Random) -> dict[str, str]:
    log = json.dumps(
        {
            "ts": "2026-12-07T18:15:57.030+00:00",
            "event": "turn",
            "request_id": "01a251b83160036a455544aabd",
            "thread_id": "01a251b8315e64b1eac2b2bfc3",
            "provider": "anthropic",
            "model": "claude-sonnet-4-5-20250929",
            "status": "complete",
            "attempts": 1,
            "duration_ms": 1390.3,
            "ttft_ms": 412.0,
            "input_tokens": 1843,
            "output_tokens": 212,
        }
    )
    error = (
        "openai rejected the API key (openai said: Incorrect API key provided: "
        f"token={keys[0][3:40]}**. You can find your API key at https://platform.openai.com"
        "/account/api-keys.); check OPENAI_API_KEY, or unset it and run `ba-chat keys set`"
    )
    words = ["the", "of", "and", "a", "to", "in", "is", "you", "that", "it", "for", "on", "with"]
    words += ["migration", "Postgres", "snapshot", "replication", "consistency", "throughput"]
    prose = " ".join(rng.choice(words) for _ in range(4000))[:20_000]
    return {"log line (400 B)": log, "error echo (300 B)": error, "reply prose (20 KB)": prose}


def whole_key(keys: list[str]) -> Callable[[str], str]:
    """`redact` as it was: each whole key replaced, then the key shapes."""
    ordered = sorted(keys, key=len, reverse=True)

    def run(text: str) -> str:
        for key in ordered:
            text = text.replace(key, "[redacted]")
        return redaction._SHAPES.sub("[redacted]", text)

    return run


def naive_windows(keys: list[str]) -> Callable[[str], str]:
    windows = sorted({key[i : i + 8] for key in keys for i in range(len(key) - 7)})

    def run(text: str) -> str:
        for window in windows:
            if window in text:
                text = text.replace(window, "[redacted]")
        return text

    return run


def timed(fn: Callable[[str], str], text: str, runs: int) -> float:
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(runs):
            fn(text)
        rounds.append((time.perf_counter() - started) / runs * 1e6)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=4)
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(15)
    keys = make_keys(args.keys, rng)
    started = time.perf_counter()
    for key in keys:
        redaction.remember(key)
    remembered = (time.perf_counter() - started) * 1e3
    print(f"{args.keys} keys remembered in {remembered:.2f} ms (total, once per process)")
    ways = {
        "redact (now)": redaction.redact,
        "before: whole keys + shapes": whole_key(keys),
        "the key shapes alone": lambda text: redaction._SHAPES.sub("[redacted]", text),
        "naive 8-char windows": naive_windows(keys),
    }
    print(f"{'text':<22}" + "".join(f"{name:>30}" for name in ways))
    for label, text in samples(keys, rng).items():
        runs = max(args.runs // (len(text) // 400 + 1), 20)
        cells = "".join(f"{timed(fn, text, runs):>27.1f} µs" for fn in ways.values())
        print(f"{label:<22}{cells}")
    masked = redaction.redact(samples(keys, rng)["error echo (300 B)"])
    assert keys[0][3:40] not in masked and "[redacted]" in masked


if __name__ == "__main__":
    main()
