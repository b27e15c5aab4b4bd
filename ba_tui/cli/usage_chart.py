"""`ba-chat usage --chart`: spend and tokens per day and per provider as bars, printed
(the tables themselves are ba_tui.usage_view's, which the TUI's usage screen shows too)."""

from __future__ import annotations

from typing import Any

from ba_tui.cli.app import terminal_safe


def draw(sections: list[tuple[str, str, list[dict[str, Any]]]]) -> None:
    """Print each (title, label, rows) as a table of cost and token bars on stdout."""
    from rich.console import Console

    from ba_tui.usage_view import table

    console = Console(highlight=False)
    for index, (title, label, rows) in enumerate(sections):
        if index:
            console.print()
        console.print(table(title, label, rows, console.width, terminal_safe))
