"""A circuit breaker per provider, kept in the store so separate `ask` runs share it.

After THRESHOLD consecutive outages (rate limits, overloads, unreachable, stalls: not a bad
key or an unknown model) a provider is skipped for COOLDOWN seconds; then one turn may try
it again (half-open), and a success closes the breaker.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Protocol

THRESHOLD = 3
COOLDOWN = 60.0


class _KV(Protocol):
    def get_kv(self, key: str) -> str | None: ...
    def set_kv(self, key: str, value: str | None) -> None: ...


@dataclass(frozen=True)
class Breaker:
    provider: str
    failures: int = 0
    open_until: float = 0.0

    def is_open(self, now: float | None = None) -> bool:
        return self.open_until > (time.time() if now is None else now)

    def seconds_left(self) -> float:
        return max(0.0, self.open_until - time.time())


def _key(provider: str) -> str:
    return f"breaker:{provider}"


def load(store: _KV, provider: str) -> Breaker:
    raw = store.get_kv(_key(provider))
    try:
        data = json.loads(raw) if raw else {}
        return Breaker(provider, int(data.get("failures", 0)), float(data.get("open_until", 0)))
    except (ValueError, TypeError, AttributeError):
        return Breaker(provider)


def record(
    store: _KV, provider: str, *, ok: bool, threshold: int = THRESHOLD, cooldown: float = COOLDOWN
) -> Breaker:
    """Note one outcome; returns the new state. A success on a closed breaker writes
    nothing: most turns then take no write lock for it at all."""
    if ok:
        if store.get_kv(_key(provider)) is not None:
            store.set_kv(_key(provider), None)
        return Breaker(provider)
    failures = load(store, provider).failures + 1
    open_until = time.time() + cooldown if failures >= threshold else 0.0
    state = Breaker(provider, failures, open_until)
    store.set_kv(_key(provider), json.dumps({"failures": failures, "open_until": open_until}))
    return state
