"""Spend and tokens as bars, for `ba-chat usage --chart` and the TUI's usage screen alike.

Rich draws them (its Bar fills eighths of a cell); the CLI prints the tables, the TUI puts
the same tables in a scrolling dialog. Rows are the store's usage groups (see
store.spending.usage): a day or a provider with its requests, tokens and cost.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ba_tui.pricing import format_cost

if TYPE_CHECKING:
    from rich.table import Table

Rows = list[dict[str, Any]]


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


def every_day(rows: Rows) -> Rows:
    """The per-day rows from the first day with a reply to the last, a day without any
    included (as an empty row), so the bars keep the calendar's spacing."""
    if not rows:
        return []
    by_day = {row["key"]: row for row in rows}
    first, last = date.fromisoformat(rows[0]["key"]), date.fromisoformat(rows[-1]["key"])
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [by_day.get(day.isoformat()) or _empty(day.isoformat()) for day in days]


def _empty(key: str) -> dict[str, Any]:
    return {
        "key": key,
        "requests": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "cost": None,
        "priced": 0,
    }


def tokens(row: dict[str, Any]) -> int:
    """Tokens in and out: the table's IN plus OUT (cache reads are its CACHED column)."""
    return (row["input_tokens"] or 0) + (row["output_tokens"] or 0)


def cost_cell(row: dict[str, Any]) -> str:
    """The cost of a group: "unknown" when no reply in it had a price, and `+?` after the
    sum when only some had one, so a partial sum never passes for the whole."""
    if not row.get("priced"):
        return "unknown"
    cost = format_cost(row["cost"])
    return cost + "+?" if row["priced"] < row["requests"] else cost


def sections(store: Any, start: str) -> list[tuple[str, str, Rows]]:
    """(title, label, rows) per day and per provider since `start` (ISO); [] when no
    reply was made in that time."""
    days = store.usage(start, "day")
    if not days:
        return []
    return [
        (f"Per day since {start[:10]}" if start else "Per day", "DAY", every_day(days)),
        ("Per provider", "PROVIDER", store.usage(start, "provider")),
    ]


def table(title: str, label: str, rows: Rows, width: int, clean: Any = str) -> Table:
    """One section as a table of cost and token bars, scaled to its largest value, fitting
    `width` cells. `clean` makes a name safe to show (a provider's name is user text)."""
    from rich.bar import Bar
    from rich.table import Table
    from rich.text import Text

    name_width = max(len(label), *(len(str(row["key"])) for row in rows))
    bar = max(8, min(40, (width - name_width - 30) // 2))
    most_cost = max((row["cost"] or 0 for row in rows), default=0) or 1
    most_tokens = max((tokens(row) for row in rows), default=0) or 1
    out = Table(box=None, show_edge=False, pad_edge=False, title_justify="left")
    out.title = Text(title, style="bold")
    out.add_column(label)
    out.add_column("COST", width=bar)
    out.add_column("", justify="right")
    out.add_column("TOKENS IN+OUT", width=bar)
    out.add_column("", justify="right")
    for row in rows:
        out.add_row(
            Text(clean(str(row["key"]))),  # Text: a name is never markup
            Bar(most_cost, 0, row["cost"] or 0, width=bar, color="green"),
            cost_cell(row) if row["requests"] else "",
            Bar(most_tokens, 0, tokens(row), width=bar, color="blue"),
            f"{tokens(row):,}" if row["requests"] else "",
        )
    return out
