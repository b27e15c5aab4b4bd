"""Answers for scripts, kept: the digest that says two requests are the same, and how
long a kept answer stays good.

Two requests are the same when everything the model is sent matches: provider, model,
system prompt, every message's parts (an attachment by its content digest, not its
path), the options that change the answer (max tokens, temperature, top-p, stop,
thinking budget) and the schema. Timeouts and retries do not change an answer, so they
are left out. Provider metadata (signatures) is left out too: it is not what was asked.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ba_tui.errors import UsageError
from ba_tui.messages import to_dict
from ba_tui.store.ids import iso

if TYPE_CHECKING:
    from ba_tui.providers.spec import ChatRequest

_TTL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def request_key(provider: str, request: ChatRequest) -> str:
    """The digest of what `request` asks `provider` (sha256, hex)."""
    messages = [
        [message.role, [_part(to_dict(part)) for part in message.parts]]
        for message in request.messages
    ]
    asked: dict[str, Any] = {
        "provider": provider,
        "model": request.model,
        "system": request.system,
        "messages": messages,
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stop": list(request.stop),
        "thinking_budget": request.thinking_budget,
        "schema": request.schema.wire() if request.schema else None,
    }
    if request.tools:  # (only then, so the keys of earlier answers stay as they were)
        asked["tools"] = [[t.name, t.description, dict(t.parameters)] for t in request.tools]
    text = json.dumps(asked, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _part(part: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in part.items() if name not in ("provider", "meta")}


def ttl_seconds(given: str) -> float:
    """`--cache-ttl` as seconds: `90s`, `30m`, `12h`, `7d`, `2w`."""
    match = _TTL.match(given)
    if not match or float(match[1]) <= 0:
        raise UsageError(
            f"cannot read the cache lifetime {given!r}",
            "write a number and a unit: 90s, 30m, 12h, 7d or 2w",
        )
    return float(match[1]) * _UNITS[match[2]]


def since(ttl: float | None, now: datetime | None = None) -> str:
    """The oldest `created_at` a kept answer may have (the store's own ISO form); "" when
    it never expires."""
    if ttl is None:
        return ""
    oldest = (now or datetime.now(UTC)) - timedelta(seconds=ttl)
    return iso(int(oldest.timestamp() * 1000))
