"""`ba-chat usage --chart`: spend and tokens per day and per provider as bars (Rich's Bar,
which draws in eighths of a cell; Rich is already installed with typer and Textual)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ba_tui.cli.app import terminal_safe


def every_day(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The per-day rows from the first day with a reply to the last, a day without any
    included (as an empty row), so the bars keep the calendar's spacing."""
    if not rows:
        return []
    by_day = {row["key"]: row for row in rows}
    first, last = date.fromisoformat(rows[0]["key"]), date.fromisoformat(rows[-1]["key"])
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [by_day.get(day.isoformat()) or _empty(day.isoformat()) for day in days]


def _empty(key: str) -> dict[str, Any]:
    return {"key": key, "requests": 0, "input_tokens": 0, "output_tokens": 0, "cost": None}


def tokens(row: dict[str, Any]) -> int:
    """Tokens in and out: the table's IN plus OUT (cache reads are its CACHED column)."""
    return (row["input_tokens"] or 0) + (row["output_tokens"] or 0)


def draw(sections: list[tuple[str, str, list[dict[str, Any]]]]) -> None:
    """Print each (title, label, rows) as a table of cost and token bars on stdout, bars
    scaled to the section's largest value."""
    from rich.bar import Bar
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ba_tui.cli.usage import cost_cell

    console = Console(highlight=False)
    for index, (title, label, rows) in enumerate(sections):
        width = max(len(label), *(len(str(row["key"])) for row in rows))
        bar = max(8, min(40, (console.width - width - 30) // 2))
        most_cost = max((row["cost"] or 0 for row in rows), default=0) or 1
        most_tokens = max((tokens(row) for row in rows), default=0) or 1
        table = Table(box=None, show_edge=False, pad_edge=False, title_justify="left")
        table.title = Text(title, style="bold")
        table.add_column(label)
        table.add_column("COST", width=bar)
        table.add_column("", justify="right")
        table.add_column("TOKENS IN+OUT", width=bar)
        table.add_column("", justify="right")
        for row in rows:
            table.add_row(
                Text(terminal_safe(str(row["key"]))),  # Text: a name is never markup
                Bar(most_cost, 0, row["cost"] or 0, width=bar, color="green"),
                cost_cell(row) if row["requests"] else "",
                Bar(most_tokens, 0, tokens(row), width=bar, color="blue"),
                f"{tokens(row):,}" if row["requests"] else "",
            )
        if index:
            console.print()
        console.print(table)
