"""Ids and timestamps for stored rows: ids that sort by creation time, and a clock that
never gives two writes of one process the same millisecond."""

from __future__ import annotations

import os
import threading
import time

_id_lock = threading.Lock()
_last_id = (0, 0)
_clock_lock = threading.Lock()
_last_ms = 0


def now_ms() -> int:
    """Unix time in ms, strictly increasing within this process: two writes never share a
    timestamp, so "newest first" is never a coin toss. (Only a burst of over 1,000 writes a
    second runs ahead of the clock, and it catches up as soon as the burst ends.)"""
    global _last_ms
    with _clock_lock:
        _last_ms = max(time.time_ns() // 1_000_000, _last_ms + 1)
        return _last_ms


def iso(ms: int) -> str:
    """`2026-11-22T04:38:15.123Z`: UTC, millisecond precision, sorts as text."""
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def new_id(ms: int | None = None) -> str:
    """A 26-char id: 12 hex digits of Unix ms, then 14 random hex digits.

    Ids sort by creation time; within one process they are strictly increasing even in the
    same millisecond (the random part is bumped), so order never depends on the clock tick.
    """
    global _last_id
    ms = now_ms() if ms is None else ms
    rand = int.from_bytes(os.urandom(7), "big")
    with _id_lock:
        last_ms, last_rand = _last_id
        if ms <= last_ms:
            ms, rand = last_ms, last_rand + 1
        _last_id = (ms, rand)
    return f"{ms:012x}{rand & (2**56 - 1):014x}"


def stable_id(ms: int, seed: str) -> str:
    """An id in the same shape derived from `seed`, so importing the same data twice
    produces the same ids (and adds nothing the second time)."""
    import hashlib  # only imports need it: not loaded when the store opens

    return f"{max(ms, 0):012x}{hashlib.sha256(seed.encode()).hexdigest()[:14]}"
