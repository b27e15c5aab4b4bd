"""Rename the current thread."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ba_tui.tui.text import inert


class RenameScreen(ModalScreen[str | None]):
    """Dismissed with the new title, or None (Escape)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.old_title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Rename thread", classes="dialog-title")
            yield Input(inert(self.old_title), id="title", select_on_focus=True)
            yield Static("Enter saves · Esc cancels", classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)
