"""Which pages of a long PDF to attach (`3-9`), asked before the file is loaded whole.

The range is read by the same code as `ba-chat ask -a 'report.pdf#p=3-9'`
(`attachments.split_range`), so it means the same in both front ends.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ba_tui.tui.text import inert


def page_range(text: str, pages: int, limit: int | None) -> tuple[str | None, str | None]:
    """(`first-last`, None) for a range of a `pages`-page PDF the model takes (`limit`
    pages at most, None: any), or (None, why not) as one line."""
    from ba_tui.attachments import AttachmentError, split_range

    text = "".join(text.split())
    try:
        _, chosen = split_range(f"file.pdf#p={text}")
    except AttachmentError:
        chosen = None
    if chosen is None:
        return None, f"“{inert(text)}” is not a range of pages: write it as 3-9, or 5 for one page"
    first, last = chosen[0], chosen[1] or chosen[0]
    if last > pages:
        return None, f"the PDF has {pages} pages: choose pages within 1-{pages}"
    if limit is not None and last - first + 1 > limit:
        return None, f"this model reads at most {limit} pages: choose fewer"
    return (f"{first}-{last}" if last != first else str(first)), None


class PageRangeScreen(ModalScreen[str | None]):
    """Dismissed with the range (`3-9`), or None: the PDF is not attached."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Don't attach")]

    def __init__(self, name: str, pages: int, limit: int | None) -> None:
        super().__init__()
        self.file_name = name
        self.pages = pages
        self.limit = limit

    def compose(self) -> ComposeResult:
        most = min(self.pages, self.limit) if self.limit else self.pages
        why = (
            f"the current model reads at most {self.limit} pages of a PDF"
            if self.limit and self.pages > self.limit
            else "sending all of them costs a lot of tokens"
        )
        with Vertical(classes="dialog page-range"):
            yield Static("Which pages?", classes="dialog-title")
            yield Static(
                Content(f"{inert(self.file_name)} has {self.pages} pages; {why}."),
                classes="dialog-text",
            )
            default = f"1-{min(most, 100)}"
            yield Input(default, placeholder="e.g. 3-9", id="pages", select_on_focus=True)
            yield Static(id="page-range-error", classes="dialog-hint")
            yield Static("Enter attaches these pages · Esc: don't attach", classes="dialog-hint")

    @on(Input.Submitted, "#pages")
    def _submitted(self, event: Input.Submitted) -> None:
        chosen, problem = page_range(event.value, self.pages, self.limit)
        if chosen is None:
            self.query_one("#page-range-error", Static).update(Content(problem or ""))
            return
        self.dismiss(chosen)
