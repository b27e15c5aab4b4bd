"""Usage you can see: spend and tokens per day and per provider, as bars (the same tables
`ba-chat usage --chart` prints), over the last 7 or 30 days or everything."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ba_tui.tui.text import inert

if TYPE_CHECKING:
    from ba_tui.store import Store

HINT = "7 · 3: last 7 / 30 days · a: all time · ↑↓ PgUp PgDn: scroll · Esc: close"
PERIODS = {"7": ("the last 7 days", "7d"), "3": ("the last 30 days", "30d"), "a": ("all time", "")}


class UsageScreen(ModalScreen[None]):
    """A scrolling dialog of bars; 7, 3 (30 days) and a switch the period."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("7", "period('7')", "7 days"),
        Binding("3", "period('3')", "30 days"),
        Binding("a", "period('a')", "All time"),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.period = "3"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog usage"):
            yield Static(classes="dialog-title", id="usage-title")
            with VerticalScroll(id="usage-scroll"):
                yield Static(id="usage-bars")
            yield Static(
                "7 · 3: last 7 / 30 days · a: all time · Esc: close", classes="dialog-hint"
            )

    def on_mount(self) -> None:
        self.action_period(self.period)
        self.query_one("#usage-scroll").focus()  # arrows and PgUp/PgDn scroll the bars

    def action_period(self, key: str) -> None:
        from ba_tui.usage_view import sections, since_iso, table

        self.period = key
        title, since = PERIODS[key]
        start = since_iso(since) if since else ""
        found = sections(self.store, start)
        self.query_one("#usage-title", Static).update(f"Usage over {title}")
        bars = self.query_one("#usage-bars", Static)
        if not found:
            bars.update(f"No replies over {title}.")
            return
        width = max(40, self.query_one("#usage-scroll").size.width or 76)
        bars.update(Group(*(table(t, label, rows, width, inert) for t, label, rows in found)))
