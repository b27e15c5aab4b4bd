"""`ba-chat usage`: requests, tokens, cost and time to first token over a period."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import typer

from ba_tui.cli.app import app, terminal_safe


def since_iso(value: str, now: datetime | None = None) -> str:
    """`7d`, `30d`, `12h` or a date (YYYY-MM-DD) as an ISO time the store can compare."""
    from ba_tui.errors import UsageError

    now = now or datetime.now(UTC)
    if match := re.fullmatch(r"(\d+)([dh])", value.strip()):
        amount = int(match[1])
        delta = timedelta(days=amount) if match[2] == "d" else timedelta(hours=amount)
        return (now - delta).strftime("%Y-%m-%dT%H:%M:%S")
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").strftime("%Y-%m-%d")
    except ValueError:
        raise UsageError(
            f"cannot read --since {value!r}", "use e.g. 7d, 30d, 12h or 2026-11-01"
        ) from None


@app.command()
def usage(
    since: str = typer.Option("30d", "--since", help="7d, 30d, 12h or YYYY-MM-DD."),
    by: str = typer.Option("provider", "--by", help="provider, model or day."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Requests, tokens (cached too), cost and mean time to first token."""
    from ba_tui.errors import UsageError
    from ba_tui.pricing import format_cost
    from ba_tui.store import Store

    if by not in ("provider", "model", "day"):
        raise UsageError(f"cannot group by {by!r}", "use --by provider, model or day")
    start = since_iso(since)
    with Store.open() as store:
        rows = store.usage(start, by)
    if json_out:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        print(f"no replies since {start}")
        return
    header = (
        f"{by.upper():<40} {'REQ':>5} {'IN':>9} {'OUT':>9} {'CACHED':>9} {'COST':>12} {'TTFT':>8}"
    )
    print(header)
    total_cost = 0.0
    for row in rows:
        cost = format_cost(row["cost"]) if row["priced"] else "unknown"
        if row["priced"] and row["priced"] < row["requests"]:
            cost += "+?"  # some replies in the group have no known price
        total_cost += row["cost"] or 0.0
        ttft = f"{row['mean_ttft_ms']:.0f} ms" if row["mean_ttft_ms"] is not None else "—"
        print(
            f"{terminal_safe(str(row['key']))[:40]:<40} {row['requests']:>5} "
            f"{row['input_tokens'] or 0:>9,} {row['output_tokens'] or 0:>9,} "
            f"{row['cache_read_tokens'] or 0:>9,} {cost:>12} {ttft:>8}"
        )
    requests = sum(row["requests"] for row in rows)
    print(f"{'total':<40} {requests:>5} {'':>9} {'':>9} {'':>9} {format_cost(total_cost):>12}")
