"""What the replies cost: requests, tokens and USD by provider, model or day."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ba_tui.store.database import Database, guarded
from ba_tui.store.ids import iso, now_ms

if TYPE_CHECKING:
    from ba_tui.events import Usage

# What a usage row is made of, in messages and side_requests alike.
_COLUMNS = (
    "provider, model, created_at, input_tokens, output_tokens, reasoning_tokens,"
    " cache_read_tokens, cache_write_tokens, cost, ttft_ms"
)


class Spending(Database):
    """Usage totals over the stored replies."""

    @guarded
    def usage(self, since: str | None = None, by: str = "provider") -> list[dict[str, Any]]:
        """Replies since `since` (ISO time), and the requests ba-chat made for itself (a
        title), grouped by provider, model or day: requests (`side_requests` of them
        ba-chat's own), tokens, cost (None when no request in the group had a known price)
        and mean ttft."""
        group = {
            "provider": "provider",
            "model": "provider || ' · ' || model",
            "day": "substr(created_at, 1, 10)",
        }[by]
        rows = self._conn.execute(
            f"""SELECT {group} AS key, count(*), sum(input_tokens), sum(output_tokens),
                   sum(reasoning_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
                   sum(cost), count(cost), avg(ttft_ms), sum(side)
                FROM (SELECT {_COLUMNS}, 0 AS side FROM messages
                      WHERE role = 'assistant' AND status != 'streaming'
                        AND provider IS NOT NULL AND created_at >= ?
                      UNION ALL
                      SELECT {_COLUMNS}, 1 AS side FROM side_requests WHERE created_at >= ?)
                GROUP BY key ORDER BY key""",
            (since or "", since or ""),
        )
        names = (
            "key", "requests", "input_tokens", "output_tokens", "reasoning_tokens",
            "cache_read_tokens", "cache_write_tokens", "cost", "priced", "mean_ttft_ms",
            "side_requests",
        )  # fmt: skip
        return [dict(zip(names, row, strict=True)) for row in rows]

    @guarded
    def spend_since(self, since: str) -> float:
        """USD of every priced reply and side request since `since` (the monthly budget)."""
        row = self._conn.execute(
            """SELECT (SELECT ifnull(sum(cost), 0) FROM messages
                       WHERE role = 'assistant' AND created_at >= ?)
                    + (SELECT ifnull(sum(cost), 0) FROM side_requests WHERE created_at >= ?)""",
            (since, since),
        ).fetchone()
        return float(row[0] or 0.0)

    @guarded
    def side_cost(self, thread_id: str) -> float | None:
        """USD of the priced requests ba-chat made for this thread (its title), or None."""
        row = self._conn.execute(
            "SELECT sum(cost) FROM side_requests WHERE thread_id = ?", (thread_id,)
        ).fetchone()
        return None if row[0] is None else float(row[0])

    @guarded
    def record_side_request(
        self,
        purpose: str,
        provider: str,
        model: str,
        usage: Usage,
        *,
        thread_id: str | None = None,
        cost: float | None = None,
        ttft_ms: float | None = None,
    ) -> None:
        """A request ba-chat made on its own behalf (`purpose`: "title"), so what it cost
        is counted with the replies. Deleting the thread deletes it, as it does replies."""
        with self._write() as conn:
            conn.execute(
                f"""INSERT INTO side_requests (thread_id, purpose, {_COLUMNS})
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    thread_id,
                    purpose,
                    provider,
                    model,
                    iso(now_ms()),
                    usage.input_tokens,
                    usage.output_tokens,
                    usage.reasoning_tokens,
                    usage.cache_read_tokens,
                    usage.cache_write_tokens,
                    cost,
                    ttft_ms,
                ),
            )
