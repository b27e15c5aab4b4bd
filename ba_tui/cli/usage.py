"""`ba-chat usage`: requests, tokens, cost and time to first token over a period."""

from __future__ import annotations

import json
from typing import Any

import typer

from ba_tui.cli import complete
from ba_tui.cli.app import app, terminal_safe


@app.command()
def usage(
    since: str = typer.Option(
        "30d", "--since", help="7d, 30d, 12h or YYYY-MM-DD.", metavar="AGE|DATE"
    ),
    by: str = typer.Option(
        "provider",
        "--by",
        help="provider, model or day.",
        autocompletion=complete.usage_groups,
        metavar="GROUP",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    chart: bool = typer.Option(
        False, "--chart", help="Draw spend and tokens per day and per provider."
    ),
) -> None:
    """Requests, tokens, cost and time to first token, per group.

    Cached tokens are counted too; group --by provider, model or day.
    """
    from ba_tui.errors import UsageError
    from ba_tui.store import Store
    from ba_tui.usage_view import since_iso

    if by not in ("provider", "model", "day"):
        raise UsageError(f"cannot group by {by!r}", "use --by provider, model or day")
    if chart and json_out:
        raise UsageError("--chart draws; --json prints data", "use one of them")
    start = since_iso(since)
    if chart:
        _chart(start)
        return
    from ba_tui.usage_view import cost_cell

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
    total = total_row(rows)
    for row in [*rows, total]:
        ttft = f"{row['mean_ttft_ms']:.0f} ms" if row["mean_ttft_ms"] is not None else "—"
        print(
            f"{terminal_safe(str(row['key']))[:40]:<40} {row['requests']:>5} "
            f"{row['input_tokens'] or 0:>9,} {row['output_tokens'] or 0:>9,} "
            f"{row['cache_read_tokens'] or 0:>9,} {cost_cell(row):>12} {ttft:>8}"
        )
    if side := total["side_requests"]:
        print(f"(REQ counts {side} request{'s' * (side != 1)} ba-chat made to title threads)")


def _chart(start: str) -> None:
    from ba_tui.cli.usage_chart import draw
    from ba_tui.store import Store
    from ba_tui.usage_view import sections

    with Store.open() as store:
        found = sections(store, start)
    if not found:
        print(f"no replies since {start}")
        return
    draw(found)


def total_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The groups summed: requests, tokens, cost and priced replies; the mean time to
    first token is left blank (a mean of means would mislead)."""
    total: dict[str, Any] = {"key": "total", "mean_ttft_ms": None}
    for name in (
        "requests", "input_tokens", "output_tokens", "reasoning_tokens",
        "cache_read_tokens", "cache_write_tokens", "cost", "priced", "side_requests",
    ):  # fmt: skip
        total[name] = sum(row[name] or 0 for row in rows)
    return total
