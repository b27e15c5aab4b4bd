"""The files waiting to go with the next prompt, as chips above the prompt box.

Each chip says what will be sent: `report.pdf · PDF · 1.2 MB · 12 pages ✕`. A file is
read, recognised, hashed and (a big image) downscaled by `attachments.load` in a thread,
while its chip says `loading…`, so attaching a 50 MB PDF never freezes the screen. A PDF
longer than `page_limit` is not loaded whole: the bar asks the screen for a range of its
pages first (`NeedsRange`). A click on a chip removes it; so do Backspace and Delete on
the chip chosen with ←/→ while the bar has focus (Shift+Tab from the prompt box).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import events
from textual.binding import Binding
from textual.containers import HorizontalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from ba_tui.errors import BaChatError
from ba_tui.tui.text import cut, inert

if TYPE_CHECKING:
    from ba_tui.attachments import Prepared
    from ba_tui.models import Capabilities

LOADING, PAGES, READY = "loading", "pages", "ready"
# "A PDF of hundreds of pages asks for a page range": past this many, whatever the model.
LONG_PDF = 300
NAME_WIDTH = 28


@dataclass(eq=False)  # two chips of the same file are two attachments until sent
class Pending:
    """One file on its way into the next prompt."""

    source: str  # a path (`report.pdf#p=3-9` once a range is chosen), or a pasted image's name
    name: str
    data: bytes | None = None  # a pasted image's bytes (no file behind it)
    mime: str | None = None
    state: str = LOADING
    prepared: Prepared | None = None
    pixels: tuple[int, int] | None = None  # an image's width and height, for its token cost
    refused: bool = False  # the current model cannot take it

    def label(self) -> Content:
        """`report.pdf · PDF · 1.2 MB · 12 pages ✕`, or `report.pdf · loading… ✕`."""
        from ba_tui.attachments import kinds
        from ba_tui.messages import size_label

        name = cut(inert(self.name), NAME_WIDTH)
        if self.prepared is None:
            doing = "loading…" if self.state == LOADING else "which pages?"
            return Content.assemble((name, "bold"), (f" · {doing}", "$text-muted"), " ✕")
        part = self.prepared.part
        details = [kinds.label(part.mime), size_label(part.size)]
        if part.page_range:
            details.append(f"pages {part.page_range}")
        elif part.pages is not None:
            details.append(f"{part.pages} page{'s' * (part.pages != 1)}")
        return Content.assemble((name, "bold"), f" · {' · '.join(details)}", " ✕")


class Chip(Static):
    """One attachment; a click removes it."""

    def __init__(self, item: Pending) -> None:
        super().__init__(item.label(), markup=False)
        self.item = item
        self.tooltip = "Click to remove"

    def show(self) -> None:
        self.update(self.item.label())
        self.set_class(self.item.prepared is None, "-loading")
        self.set_class(self.item.refused, "-refused")

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(AttachmentBar.RemoveChip(self.item))


class AttachmentBar(HorizontalScroll, can_focus=True):
    """The chips, and the files' loading. Posts `Changed` whenever what would be sent
    changes (a file added, loaded, removed), `NeedsRange` for a long PDF."""

    BINDINGS = [
        Binding("left", "choose(-1)", "‹ Attachment", show=False),
        Binding("right", "choose(1)", "Attachment ›", show=False),
        Binding("backspace,delete", "remove_chosen", "Remove"),
        Binding("escape,down,enter", "leave", "Back to prompt"),
    ]

    chosen: reactive[int] = reactive(0, init=False)

    class Changed(Message):
        """The attachments or their state changed."""

    class Leave(Message):
        """The user is done with the chips: back to the prompt box."""

    class RemoveChip(Message):
        def __init__(self, item: Pending) -> None:
            super().__init__()
            self.item = item

    class NeedsRange(Message):
        """A PDF too long to send whole: which pages? (`AttachmentBar.load_range`)."""

        def __init__(self, item: Pending, pages: int, limit: int | None) -> None:
            super().__init__()
            self.item = item
            self.pages = pages
            self.limit = limit

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: list[Pending] = []
        # The most pages of a PDF attached without asking which, and the most the current
        # model reads (None: it reads PDFs as text); the screen keeps them the model's.
        self.page_limit = LONG_PDF
        self.model_pages: int | None = None

    # --- what the screen asks ------------------------------------------------------------

    @property
    def ready(self) -> list[Prepared]:
        return [item.prepared for item in self.items if item.prepared is not None]

    @property
    def waiting(self) -> list[Pending]:
        """The attachments not ready to send (loading, or waiting for a page range)."""
        return [item for item in self.items if item.prepared is None]

    def add(self, path: str) -> Pending:
        """Attach the file at `path`; it loads in the background."""
        from pathlib import Path

        from ba_tui.attachments import split_range

        try:
            name = Path(split_range(path)[0]).name or path
        except BaChatError:
            name = Path(path).name or path
        return self._add(Pending(path, name))

    def add_bytes(self, name: str, data: bytes, mime: str | None = None) -> Pending:
        """Attach content that is no file (an image from the clipboard), named `name`."""
        return self._add(Pending(name, name, data=data, mime=mime))

    def discard(self, item: Pending) -> None:
        if item in self.items:
            index = self.items.index(item)
            self.items.remove(item)
            for chip in self.query(Chip):
                if chip.item is item:
                    chip.remove()
            self.chosen = max(0, min(index, len(self.items) - 1))
            self._changed()

    def remove_last(self) -> bool:
        """Remove the newest attachment (Backspace in an empty prompt); False if none."""
        if not self.items:
            return False
        self.discard(self.items[-1])
        return True

    def take(self) -> list[Pending]:
        """Every attachment, for the prompt being sent; the bar is empty after."""
        taken, self.items = self.items, []
        self.remove_children()
        self._changed()
        return taken

    def put_back(self, items: list[Pending]) -> None:
        """Attachments a prompt could not be sent with (refused) are pending again."""
        if not items:
            return
        for item in items:
            self.items.append(item)
            self.mount(Chip(item))
        self._changed()

    def load_range(self, item: Pending, pages: str) -> None:
        """Load a long PDF's `pages` (`3-9`) only: what `NeedsRange` asked for."""
        if item not in self.items:
            return
        item.source, item.state = f"{item.source}#p={pages}", LOADING
        self._show(item)
        self._load(item)

    def mark_refused(self, refused: set[int]) -> None:
        """Mark the chips (by position) the current model cannot take."""
        for index, item in enumerate(self.items):
            item.refused = index in refused
            self._show(item)

    def summary(self, caps: Capabilities) -> tuple[str, bool]:
        """`2 files · 1.3 MB · ~2.1k tokens` for the status line (tokens as `caps`' model
        would count them, see fit.estimated_tokens), and whether the model refuses one."""
        from ba_tui.attachments.fit import estimated_tokens
        from ba_tui.messages import size_label
        from ba_tui.models import tokens_label

        if not self.items:
            return "", False
        count = len(self.items)
        parts = [f"{count} file{'s' * (count != 1)}"]
        loaded = [item for item in self.items if item.prepared is not None]
        if loaded:
            size = sum(item.prepared.part.size for item in loaded if item.prepared)
            tokens = sum(
                estimated_tokens(item.prepared.part, item.prepared.blob, caps, item.pixels)
                for item in loaded
                if item.prepared
            )
            parts += [size_label(size), f"~{tokens_label(tokens)} tokens"]
        if waiting := len(self.items) - len(loaded):
            parts.append(f"{waiting} loading")
        refused = [item.name for item in self.items if item.refused]
        if refused:
            parts.append(f"model cannot take {', '.join(refused)}")
        return " · ".join(parts), bool(refused)

    # --- loading ---------------------------------------------------------------------------

    def _add(self, item: Pending) -> Pending:
        self.items.append(item)
        self.mount(Chip(item))
        self._changed()
        self._load(item)
        return item

    def _load(self, item: Pending) -> None:
        self.run_worker(self._loaded(item), group="attach", exit_on_error=False)

    async def _loaded(self, item: Pending) -> None:
        """Read the file off the UI thread; a long PDF asks for its pages first."""
        from ba_tui.attachments import from_bytes, load, pdf_pages, split_range

        try:
            if item.data is not None:
                prepared = await asyncio.to_thread(from_bytes, item.name, item.data, item.mime)
            else:
                path, pages = split_range(item.source)
                if pages is None:
                    count = await asyncio.to_thread(pdf_pages, path)
                    if count is not None and count > self.page_limit:
                        item.state = PAGES
                        self._show(item)
                        self.post_message(self.NeedsRange(item, count, self.model_pages))
                        return
                prepared = await asyncio.to_thread(load, item.source)
            pixels = await asyncio.to_thread(_pixels, prepared)
        except BaChatError as exc:
            self.discard(item)
            self.notify(exc.line("tui"), severity="error")
            return
        if item not in self.items:
            return  # removed while it loaded
        item.prepared, item.pixels, item.state, item.data = prepared, pixels, READY, None
        for note in prepared.notes:
            self.notify(note, timeout=4)
        self._show(item)
        self._changed()

    # --- showing -----------------------------------------------------------------------------

    def _show(self, item: Pending) -> None:
        for chip in self.query(Chip):
            if chip.item is item:
                chip.show()

    def _changed(self) -> None:
        self.set_class(bool(self.items), "-shown")
        if not self.items and self.has_focus:
            self.post_message(self.Leave())
        self._mark_chosen()
        self.post_message(self.Changed())

    def on_focus(self) -> None:
        self._mark_chosen()

    def on_blur(self) -> None:
        self._mark_chosen()

    def watch_chosen(self) -> None:
        self._mark_chosen()

    def _mark_chosen(self) -> None:
        for index, chip in enumerate(self.query(Chip)):
            chip.set_class(self.has_focus and index == self.chosen, "-chosen")
            if self.has_focus and index == self.chosen:
                self.scroll_to_widget(chip, animate=False)

    def action_choose(self, step: int) -> None:
        if self.items:
            self.chosen = max(0, min(len(self.items) - 1, self.chosen + step))

    def action_remove_chosen(self) -> None:
        if self.items:
            self.discard(self.items[min(self.chosen, len(self.items) - 1)])

    def action_leave(self) -> None:
        self.post_message(self.Leave())

    def on_attachment_bar_remove_chip(self, event: AttachmentBar.RemoveChip) -> None:
        event.stop()
        self.discard(event.item)


def _pixels(prepared: Prepared) -> tuple[int, int] | None:
    """An image's width and height from its header (what its token cost follows)."""
    from ba_tui.attachments import kinds

    if not kinds.is_image(prepared.part.mime):
        return None
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(prepared.blob.data)) as image:
            return image.size
    except (OSError, ValueError):
        return None
