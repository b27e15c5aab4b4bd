"""Save an attachment of a message to a path the user types."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ba_tui.messages import Attachment
from ba_tui.tui.text import inert


def suggested_path(part: Attachment, home: Path | None = None) -> str:
    """Where it goes unless the user says otherwise: the Downloads folder when there is
    one, else the current folder, under the attachment's own name."""
    from ba_tui.tui.attached_files import safe_name

    downloads = (home or Path.home()) / "Downloads"
    folder = downloads if downloads.is_dir() else Path.cwd()
    return str(folder / safe_name(part.name))


class SaveAttachment(ModalScreen[str | None]):
    """Dismissed with the path to save to, or None (Escape)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, part: Attachment) -> None:
        super().__init__()
        self.part = part

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                Content.assemble(("Save ", "bold"), (inert(self.part.name), "bold")),
                classes="dialog-title",
            )
            yield Input(suggested_path(self.part), id="save-path")
            yield Static(
                "Enter saves (a folder: under its name) · Esc cancels", classes="dialog-hint"
            )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)
