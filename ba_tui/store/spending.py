"""What the replies cost: requests, tokens and USD by provider, model or day."""

from __future__ import annotations

from typing import Any

from ba_tui.store.database import Database, guarded


class Spending(Database):
    """Usage totals over the stored replies."""

    @guarded
    def usage(self, since: str | None = None, by: str = "provider") -> list[dict[str, Any]]:
        """Replies since `since` (ISO time) grouped by provider, model or day: requests,
        tokens, cost (None when no reply in the group had a known price) and mean ttft."""
        group = {
            "provider": "provider",
            "model": "provider || ' · ' || model",
            "day": "substr(created_at, 1, 10)",
        }[by]
        rows = self._conn.execute(
            f"""SELECT {group} AS key, count(*), sum(input_tokens), sum(output_tokens),
                   sum(reasoning_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
                   sum(cost), count(cost), avg(ttft_ms)
                FROM messages
                WHERE role = 'assistant' AND status != 'streaming' AND provider IS NOT NULL
                  AND created_at >= ?
                GROUP BY key ORDER BY key""",
            (since or "",),
        )
        names = (
            "key", "requests", "input_tokens", "output_tokens", "reasoning_tokens",
            "cache_read_tokens", "cache_write_tokens", "cost", "priced", "mean_ttft_ms",
        )  # fmt: skip
        return [dict(zip(names, row, strict=True)) for row in rows]

    @guarded
    def spend_since(self, since: str) -> float:
        """USD of every priced reply since `since` (the monthly budget)."""
        row = self._conn.execute(
            "SELECT sum(cost) FROM messages WHERE role = 'assistant' AND created_at >= ?",
            (since,),
        ).fetchone()
        return float(row[0] or 0.0)
