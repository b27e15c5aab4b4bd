"""What a reply cost, in USD, from genai-prices' bundled price snapshot (no network).

genai-prices takes ~0.35 s to import and load on this class of machine, so `warm_up()`
starts that work on a background thread while the reply streams, and `cost()` only waits
for it if it is not finished yet. A model the library does not know costs `None`
("unknown"), never 0; local inference (Ollama, the built-in model) is free: 0.
"""

from __future__ import annotations

import threading
import warnings
from datetime import UTC, datetime
from typing import Any

from ba_tui.events import Usage
from ba_tui.providers.spec import BUILTIN

_ready = threading.Event()
_started = False
_lock = threading.Lock()
_module: Any = None


def _load() -> None:
    global _module
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import genai_prices

            # The first lookup parses the price tables; do it here, off the hot path.
            genai_prices.calc_price(
                genai_prices.Usage(input_tokens=1, output_tokens=1),
                "gpt-4o-mini",
                provider_id="openai",
            )
        _module = genai_prices
    except Exception:
        _module = None
    finally:
        _ready.set()


def warm_up() -> None:
    """Start loading the price tables in the background (idempotent)."""
    global _started
    with _lock:
        if _started:
            return
        _started = True
    threading.Thread(target=_load, name="ba-chat-prices", daemon=True).start()


def cost(
    provider: str, model: str, usage: Usage | None, *, base_url: str | None = None
) -> float | None:
    """USD for one reply, or None when the price is unknown. A built-in provider is priced
    by its spec's genai-prices id (or is free); a custom endpoint by its base URL."""
    spec = BUILTIN.get(provider)
    if spec is not None and spec.free:
        return 0.0
    if usage is None or usage.input_tokens is None or usage.output_tokens is None:
        return None
    warm_up()
    _ready.wait()
    if _module is None:
        return None
    where: dict[str, str] = {}
    if spec is not None and spec.price_id:
        where["provider_id"] = spec.price_id
    elif base_url:
        where["provider_api_url"] = base_url
    else:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            price = _module.calc_price(
                _module.Usage(
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
                    cache_read_tokens=usage.cache_read_tokens or 0,
                    cache_write_tokens=usage.cache_write_tokens or 0,
                ),
                model,
                **where,
            )
    except (LookupError, ValueError, TypeError):
        return None
    return float(price.total_price)


def rates(provider: str, model: str, *, base_url: str | None = None) -> tuple[float, float] | None:
    """USD per million input and output tokens, for listings; None when unknown."""
    one = cost(provider, model, Usage(input_tokens=1_000_000, output_tokens=0), base_url=base_url)
    out = cost(provider, model, Usage(input_tokens=0, output_tokens=1_000_000), base_url=base_url)
    return None if one is None or out is None else (one, out)


def format_rates(prices: tuple[float, float] | None) -> str:
    """`$3/$15` per million tokens in and out; `free`; `?` when unknown."""
    if prices is None:
        return "?"
    if prices == (0.0, 0.0):
        return "free"
    return "/".join(f"${price:g}" if price >= 0.01 else "<$0.01" for price in prices)


def monthly_budget(config: Any) -> float | None:
    """`monthly_budget_usd` from config when it is a positive number, else None."""
    budget = config.data.get("monthly_budget_usd")
    if isinstance(budget, bool) or not isinstance(budget, int | float) or budget <= 0:
        return None
    return float(budget)


def month_start(now: datetime | None = None) -> str:
    """The first day of this month (UTC) as the store's timestamps begin."""
    return (now or datetime.now(UTC)).strftime("%Y-%m-01")


def format_cost(cost: float | None) -> str:
    """Dollars for people: "unknown" is not "$0", and tiny amounts are not "$0.0000"."""
    if cost is None:
        return "cost unknown"
    if cost == 0:
        return "free"
    return f"${cost:.4f}" if cost >= 0.0001 else "<$0.0001"
