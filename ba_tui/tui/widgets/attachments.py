"""A message's attachments in the conversation: a line of chips (name, type, size, pages,
how the model got it) and, for an image, the picture itself.

A picture reads its bytes from the store and decodes them in a worker thread once it is
mounted (only the newest messages of a long thread are), and textual-image is imported
then, on the first picture of the session (see tui/pictures.py): opening a thread never
waits for an image.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from ba_tui.messages import Attachment, size_label
from ba_tui.tui.text import inert

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage
    from textual.widget import Widget

    from ba_tui.tui.pictures import Drawing

CHIP_STYLE = "$text-accent on $boost"
# One picture decodes at a time: decoding holds the GIL in stretches, and twenty of them
# at once (a thread of screenshots) would starve the UI thread; one after another they
# appear in turn while the conversation stays responsive.
_DECODING = threading.Semaphore(1)


def sent_as(part: Attachment, sent_to: tuple[str, str] | None) -> str | None:
    """How the model that answered got the attachment, when it matters: a PDF read as
    a PDF or as its extracted text, an office file as text, an image left out."""
    from ba_tui.attachments import fit, kinds
    from ba_tui.models import capabilities

    if part.mime in (kinds.DOCX, kinds.XLSX):
        return "sent as text"
    if sent_to is None:
        return None
    provider, model = sent_to
    native = fit.native(part, capabilities(provider, model))
    if part.mime == kinds.PDF:
        return f"PDF to {model}" if native else f"as extracted text to {model}"
    if kinds.is_image(part.mime) and not native:
        return f"left out: {model} cannot see images"
    return None


def chip(part: Attachment, sent_to: tuple[str, str] | None = None) -> str:
    """`📎 report.pdf · PDF · 48 KB · pages 3-9 · PDF to claude-sonnet-5-5`."""
    from ba_tui.attachments import kinds

    facts = [inert(part.name), kinds.label(part.mime), size_label(part.size)]
    if part.page_range:
        facts.append(f"pages {part.page_range}")
    elif part.pages:
        facts.append(f"{part.pages} page{'s' * (part.pages != 1)}")
    if how := sent_as(part, sent_to):
        facts.append(inert(how))
    return "📎 " + " · ".join(facts)


class AttachmentChips(Static):
    """The message's attachments, one chip a line (a chip is read whole: one line each
    wraps no chip in the middle while another still fits beside it)."""

    def __init__(self, parts: Sequence[Attachment], sent_to: tuple[str, str] | None = None) -> None:
        self.parts = tuple(parts)
        super().__init__(self._chips(sent_to), classes="attachment-chips")

    def _chips(self, sent_to: tuple[str, str] | None) -> Content:
        spans: list[tuple[str, str] | str] = []
        for index, part in enumerate(self.parts):
            if index:
                spans.append("\n")
            spans.append((f" {chip(part, sent_to)} ", CHIP_STYLE))
        return Content.assemble(*spans)

    def sent_to(self, sent_to: tuple[str, str] | None) -> None:
        """The reply came from this model: say how it got each file."""
        self.update(self._chips(sent_to))


class Picture(Vertical):
    """An attached image: a line saying it is loading, then the picture (at most
    pictures.MAX_ROWS rows, its shape kept), or a line saying why it cannot be shown."""

    def __init__(self, part: Attachment) -> None:
        super().__init__(classes="attachment-picture")
        self.part = part
        self.image: Widget | None = None  # the textual-image widget, once drawn
        self._started = False

    def compose(self) -> ComposeResult:
        yield Static(
            Content.assemble((f"loading {inert(self.part.name)}…", "$text-muted")),
            classes="picture-note",
        )

    def on_resize(self, event: events.Resize) -> None:
        """Laid out (or laid out again): the first time, the picture is made to fit the
        width the message has."""
        from ba_tui.tui.pictures import MAX_COLUMNS, renderer

        if self._started or not event.size.width:
            return
        self._started = True
        kind = renderer(os.environ, headless=self.app.is_headless)
        self._load(kind, min(MAX_COLUMNS, event.size.width))

    @work(thread=True, exit_on_error=False, group="picture")
    def _load(self, kind: str, width: int) -> None:
        """Read, decode and scale the image off the UI thread, then show it."""
        with _DECODING:
            if self.is_attached:
                self._load_now(kind, width)

    def _load_now(self, kind: str, width: int) -> None:
        from ba_tui.tui import pictures

        try:
            data = self._blob()
            if data is None:
                self.app.call_from_thread(self._failed, "is missing from ba-chat's store")
                return
            drawing = pictures.drawing(kind)
            from PIL import Image

            with Image.open(io.BytesIO(data)) as header:
                size = header.size
            columns, rows = pictures.cells(size, drawing.cell, width)
            image = pictures.prepared(data, columns, rows, drawing.cell)
        except Exception as exc:  # a damaged file is a line, never a crash
            self.app.call_from_thread(self._failed, f"cannot be drawn ({type(exc).__name__})")
            return
        self.app.call_from_thread(self._show, drawing, image, columns, rows)

    def _blob(self) -> bytes | None:
        store = getattr(self.app, "store", None)
        if store is None:
            return None
        found = store.blobs([self.part.sha256]).get(self.part.sha256)
        return found.data if found is not None else None

    def _show(self, drawing: Drawing, image: PILImage, columns: int, rows: int) -> None:
        if not self.is_attached:
            return
        widget = drawing.widget(image, classes="picture")
        widget.styles.width = columns
        widget.styles.height = rows
        self.image = widget
        self.query_one(".picture-note", Static).remove()
        self.mount(widget)

    def _failed(self, why: str) -> None:
        if self.is_attached:
            self.query_one(".picture-note", Static).update(
                Content.assemble((f"{inert(self.part.name)} {why}", "$text-warning"))
            )
