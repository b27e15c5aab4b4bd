"""An assistant's answer as Markdown that can grow while it streams, at a flat cost.

Textual's `Markdown.append` re-parses from the document's last top-level block, remounts
lists and tables whole, and lays out every block of the document again, so appending to
one ever-growing document gets slower with every token. Here the answer is a column of
Markdown widgets. Writing goes to the last (live) one; once it holds BLOCKS finished
blocks, the next block to begin goes to a fresh widget, and the old one is never touched
again. Blocks that can grow without end are cut as well: a list after LIST_CUT items, a
code block after FENCE_CUT lines (the old part is closed, the new one reopened with the
same fence line), joined without a seam by CSS. A cut is made only where the new text
itself starts a block, so no block is ever built twice.

Frozen widgets are grouped in chunks of CHUNK. A full chunk's height is worked out and
pinned (Textual re-measures every auto-height container whose parent grew), and a pinned
chunk more than a screen away from the visible part drops its widgets, to rebuild them
from its text when it comes back near (Textual maps every widget of the screen after each
layout change, so the work per update would otherwise grow with the reply). Updating the
answer then costs the same at the first token and the ten-thousandth.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import ComposeResult
from textual.containers import ScrollableContainer, Vertical
from textual.geometry import Size
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.widgets import Markdown

_LISTS = ("bullet_list_open", "ordered_list_open")
# Finished top-level blocks a live widget holds before the next block starts a new one.
BLOCKS = 4
# A list in progress continues in a new widget after this many items (Textual remounts a
# whole list on every append).
LIST_CUT = 8
# A code block in progress continues in a new widget after this many lines (Textual
# highlights a whole code block again on every append).
FENCE_CUT = 24
# Frozen Markdown widgets per chunk.
CHUNK = 4
# Text for a last block longer than HOLD_FROM characters is held back until it is
# 1/HOLD_SHARE of the block, or for HOLD_SECONDS at most (the block is then redrawn at
# least 4 times a second, and its cost per token stays flat).
HOLD_FROM = 2000
HOLD_SHARE = 16
HOLD_SECONDS = 0.25
# Seconds before trying again to pin a chunk of an answer not yet laid out.
PIN_RETRY = 0.05


@cache
def _parser() -> Any:  # markdown_it comes with Textual
    from markdown_it import MarkdownIt

    # html off: a model's `<role>` or `<div>` is text to show, not a tag to drop.
    return MarkdownIt("gfm-like", {"html": False})


def _new_markdown(text: str | None = None, classes: str = "") -> Markdown:
    return _markdown_class()(
        text, open_links=False, classes=classes or None, parser_factory=_parser
    )


def _markdown_class() -> type[Markdown]:
    # Imported here: Markdown (and markdown-it) is not needed for the first frame.
    from ba_tui.tui.widgets.answer_markdown import AnswerMarkdown

    return AnswerMarkdown


@dataclass(frozen=True)
class Cut:
    """Text before `offset` is finished; the rest starts a new widget.

    kind: "block" (a new top-level block), "list" (a new item of a long list) or "fence"
    (a new line of a long code block; `fence` is the block's opening line)."""

    offset: int
    kind: str = "block"
    fence: str = ""
    # A long list or code block that shares its widget with earlier blocks is moved to a
    # widget of its own first (it is rebuilt once), so the CSS joining its parts only
    # ever styles that list or block. `line` is where it starts.
    move_line: int | None = None


def find_cut(source: str, *, move: bool = True) -> Cut | None:
    """Where `source` could be cut, or None while it should stay in one widget."""
    blocks, start, last, item, items = 0, 0, None, 0, 0
    for token in _parser().parse(source):
        if token.map is None:
            continue
        if token.level == 0 and token.nesting >= 0:
            blocks += 1
            start, last, item, items = token.map[0], token, 0, 0
        elif token.level == 1 and token.type == "list_item_open":
            # (Items at level 1 exist only inside a top-level list.)
            item, items = token.map[0], items + 1
    if last is None:
        return None
    lines = source.splitlines(keepends=True)
    long_list = last.type in _LISTS and items >= LIST_CUT and item > start
    body = lines[start:]
    long_fence = (
        last.type == "fence"
        and len(body) > FENCE_CUT
        and not (len(body) > 1 and body[-1].strip() == last.markup)
    )
    if (long_list or long_fence) and blocks > 1 and move:
        return Cut(_offset(lines, start), move_line=start)
    if long_list:
        return Cut(_offset(lines, item), "list")
    if long_fence:
        # The last line (maybe partial) goes on; the lines before it are finished.
        cut = len(lines) if source.endswith("\n") else len(lines) - 1
        return Cut(_offset(lines, cut), "fence", body[0])
    if blocks > BLOCKS:
        return Cut(_offset(lines, start))
    return None


def _groups(done: str, text: str) -> list[tuple[str, bool]]:
    """`text` (which ends where a block or list item starts) split where its top-level
    blocks and list items start: the part that goes on from `done`, then groups of at
    most BLOCKS blocks or LIST_CUT items. Each with whether it ends inside a list."""
    source = done + text
    lines = source.splitlines(keepends=True)
    starts: list[tuple[int, bool]] = []  # (line, is a list item after a list's first)
    for token in _parser().parse(source):
        if token.map is None:
            continue
        if token.level == 0 and token.nesting >= 0:
            starts.append((token.map[0], False))
        elif (
            token.level == 1
            and token.type == "list_item_open"
            and starts
            and token.map[0] > starts[-1][0]  # not a list's first item
        ):
            starts.append((token.map[0], True))
    groups: list[tuple[str, bool]] = []
    begin, blocks, items = 0, 0, 0
    for line, item in starts:
        offset = _offset(lines, line) - len(done)
        if offset < 0:
            continue
        if not groups or blocks >= BLOCKS or items >= LIST_CUT:
            groups.append((text[begin:offset], item))
            begin, blocks, items = offset, 0, 0
        if item:
            items += 1
        else:
            blocks, items = blocks + 1, 0
    if not groups:
        return [(text, False)]
    groups.append((text[begin:], False))
    return groups


@dataclass(frozen=True)
class CodeBlock:
    """A code block of an answer: the language it names ("" if none) and its code."""

    language: str
    code: str


def code_blocks(markdown: str) -> list[CodeBlock]:
    """The code blocks of `markdown` (fenced or indented, nested in lists and quotes too),
    in order, each as written; parsed from the text, so a block cut across widgets while
    it streamed is still one block."""
    blocks = []
    for token in _parser().parse(markdown):
        if token.type in ("fence", "code_block"):
            words = token.info.split()
            blocks.append(CodeBlock(words[0] if words else "", token.content))
    return blocks


def _offset(lines: list[str], line: int) -> int:
    return sum(len(text) for text in lines[:line])


def _closing(opening: str) -> str:
    """The fence line that closes a code block opened by `opening` (``` or ~~~)."""
    stripped = opening.strip()
    marker = stripped[0] if stripped else "`"
    return marker * (len(stripped) - len(stripped.lstrip(marker)))


def _mark_cut(widget: Markdown, kind: str) -> None:
    """Give `widget` the `-list-cut` or `-fence-cut` class. `add_class` would restyle its
    whole subtree (a list of a hundred items is over 500 widgets); the rules keyed on
    these classes (app.tcss) style only its children and a code block's label."""
    widget.set_class(True, f"-{kind}-cut", update=False)
    nodes = [widget, *widget.children]
    if kind == "fence":
        nodes += [label for child in widget.children for label in child.children]
    widget.app.stylesheet.update_nodes(nodes, animate=False)
    widget.refresh(layout=True)


@dataclass
class Part:
    """The text of one Markdown widget of the answer, and its CSS classes."""

    text: str = ""
    classes: str = ""


class Chunk(Vertical):
    """Up to CHUNK Markdown widgets. Once full it is pinned at its measured height; when
    far from the screen its widgets are dropped and rebuilt from `parts` on return."""

    # Part of how the widget works (it must size to its content), so not in app.tcss.
    DEFAULT_CSS = "Chunk { height: auto; }"

    def __init__(self, *children: Markdown, parts: list[Part]) -> None:
        super().__init__(*children, classes="answer-chunk")
        self.parts = parts
        self.pinned: int | None = None
        self.shown = True

    def pin(self) -> bool:
        """Fix the chunk at the height its content takes at the answer's width.

        Worked out from the content (as the compositor would), not read from the last
        layout: a fast flush builds several chunks in one batch of updates, and Textual
        runs after-refresh callbacks during a batch, so a laid-out height can be stale
        (clipping the chunk) or 0."""
        container = self.parent
        if not self.is_mounted or not isinstance(container, Widget):
            return False
        # From outer_size, not size: size asks the compositor for the widget's region,
        # which for an off-screen widget means mapping every widget on the screen.
        outer, gutter = container.outer_size, container.styles.gutter
        size = Size(outer.width - gutter.width, outer.height - gutter.height)
        if size.width <= 0:
            return False  # not laid out yet
        height = self.get_content_height(size, self.screen.size, size.width)
        if not height:
            return False
        self.pinned = height
        self.styles.height = height  # layout, not styling: undone on a new width
        return True

    def unpin(self) -> None:
        self.pinned = None
        self.styles.height = "auto"

    async def show(self) -> None:
        if not self.shown:
            self.shown = True
            await self.mount_all([_new_markdown(p.text, p.classes) for p in self.parts])

    async def hide(self) -> None:
        if self.shown and self.pinned is not None:
            self.shown = False
            await self.remove_children()


class Answer(Vertical):
    """Markdown text; `append` adds to it. Give it text that is already inert."""

    DEFAULT_CSS = "Answer { height: auto; }"

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = text
        self._live: Markdown | None = None
        self._live_text = ""
        self._part = Part(text)
        self._chunks = [Chunk(parts=[self._part])]
        self._width = 0
        self._checking = False
        self._held = ""
        self._held_since = 0.0

    def compose(self) -> ComposeResult:
        # Textual's Markdown mis-appends to a document it was constructed with (it
        # re-parses from the wrong line), so a live widget always starts empty.
        chunk = self._chunks[0]
        if self.text:
            chunk.compose_add_child(_new_markdown(self.text))
        else:
            self._live = _new_markdown()
            chunk.compose_add_child(self._live)
        yield chunk

    async def append(self, text: str) -> None:
        """Add `text` (already inert) to the end of the answer. A little text for a very
        long last block may be held back for up to HOLD_SECONDS (see `_hold`); `release`
        shows it at once."""
        if not text:
            return
        self.text += text
        if not self.is_mounted:
            return
        if self._hold(text):
            return
        text, self._held = self._held + text, ""
        await self._append(text)

    async def release(self, *, overdue_only: bool = False) -> None:
        """Show the text held back: all of it (the stream ended), or only if it has been
        held for HOLD_SECONDS (the stream paused)."""
        overdue = time.monotonic() - self._held_since >= HOLD_SECONDS
        if self._held and self.is_mounted and (overdue or not overdue_only):
            text, self._held = self._held, ""
            await self._append(text)

    def _hold(self, text: str) -> bool:
        """Keep `text` back while it is small beside the last block it grows.

        Textual re-parses and re-wraps the whole last block on every append, so a block
        that never ends (a paragraph of 40 KB) costs more per token the longer it gets.
        Updating it once it has grown by 1/HOLD_SHARE (or HOLD_SECONDS have passed) makes
        that cost flat; a new line is never held, so cuts happen as they would."""
        held = self._held + text
        if "\n" in held:
            return False
        tail = len(self._live_text) - self._live_text.rfind("\n\n")
        now = time.monotonic()
        if not self._held:
            self._held_since = now
        if (
            tail > HOLD_FROM
            and len(held) * HOLD_SHARE < tail
            and now - self._held_since < HOLD_SECONDS
        ):
            self._held = held
            return True
        return False

    async def _append(self, text: str) -> None:
        live = self._live
        if live is None:
            live = await self._start(Part())
        before = len(self._live_text)
        combined = self._live_text + text
        cut = find_cut(combined) if "\n" in text else None
        if cut is not None and cut.move_line is not None and cut.offset >= before:
            cut = Cut(cut.offset)  # it starts in this text: a plain cut moves it
        if cut is not None and cut.move_line is not None:
            if await self._move(live, combined, text, cut):
                return
            cut = find_cut(combined, move=False)
        if cut is None or cut.offset < before:
            # Nothing new to cut at: the unfinished part began before this text.
            self._set_live_text(combined)
            await live.append(text)
            return
        head, tail = text[: cut.offset - before], text[cut.offset - before :]
        classes = ""
        with self.app.batch_update():
            if cut.kind == "fence":
                head += _closing(cut.fence) + "\n"
                tail = cut.fence + tail
            (first, in_list), *groups = _groups(self._live_text, head)
            if first:
                self._set_live_text(self._live_text + first)
                await live.append(first)
            for group, ends_in_list in groups:
                # Finished blocks beyond what the live widget takes go to widgets of
                # BLOCKS blocks (or LIST_CUT items), each built in one go, so a long
                # flush fills chunks that are pinned and dropped like any others.
                if in_list:
                    self._cut_live(live, "list")
                live = await self._start(Part(classes="-list-continued" if in_list else ""))
                self._set_live_text(group)
                await live.append(group)
                in_list = ends_in_list
            if cut.kind != "block":
                # The two parts are drawn as one (see app.tcss). The live widget holds at
                # most BLOCKS blocks, so restyling it is cheap.
                self._cut_live(live, cut.kind)
                classes = f"-{cut.kind}-continued"
            fresh = await self._start(Part(classes=classes))
            self._set_live_text(tail)
            await fresh.append(tail)
        self.check_soon()

    def _cut_live(self, live: Markdown, kind: str) -> None:
        """The live widget's list or code block goes on in the next widget; its part
        keeps the class, so a dropped chunk is rebuilt the same."""
        _mark_cut(live, kind)
        self._part.classes = " ".join(live.classes)

    def _set_live_text(self, text: str) -> None:
        self._live_text = self._part.text = text

    async def _move(self, live: Markdown, combined: str, text: str, cut: Cut) -> bool:
        """Give the last block of `live` (with `text`) a widget of its own; False if it
        has one already (nothing was done)."""
        stale = _blocks_from(live, cut.move_line or 0)
        if len(stale) == len(live.children):
            return False
        await live.append(text)
        stale = _blocks_from(live, cut.move_line or 0)
        with self.app.batch_update():
            await live.remove_children(stale)
            self._set_live_text(combined[: cut.offset])
            fresh = await self._start(Part())
            self._set_live_text(combined[cut.offset :])
            await fresh.append(self._live_text)
        self.check_soon()
        return True

    async def _start(self, part: Part) -> Markdown:
        """A new live Markdown widget for `part`, in the last chunk or a new one."""
        widget = self._live = _new_markdown(classes=part.classes)
        self._part = part
        chunk = self._chunks[-1]
        if len(chunk.parts) >= CHUNK:
            fresh = Chunk(widget, parts=[part])
            self._chunks.append(fresh)
            await self.mount(fresh)
            self.call_after_refresh(self._pin, chunk)
        else:
            chunk.parts.append(part)
            await chunk.mount(widget)
        return widget

    def _pin(self, chunk: Chunk) -> None:
        if chunk.pinned is not None:
            return
        if chunk.pin():
            self.check_soon()
        elif chunk.is_mounted:  # the answer has not been laid out yet
            self.set_timer(PIN_RETRY, lambda: self.call_after_refresh(self._pin, chunk))

    # --- chunks far from the screen are dropped, and rebuilt when they come back --------

    def check_soon(self) -> None:
        if not self._checking and len(self._chunks) > 1:
            self._checking = True
            self.call_after_refresh(self.check_visibility)

    async def check_visibility(self) -> None:
        """Drop the widgets of pinned chunks more than a screen away from the visible
        part of the conversation; rebuild those that came near it."""
        self._checking = False
        if not self.is_mounted:
            return
        # The compositor's map of visible widgets (a private Textual API) is cheap to
        # consult; asking a hidden widget for its region would map the whole screen.
        visible = getattr(self.screen._compositor, "visible_widgets", {})
        geometry = visible.get(self)
        top = bottom = None
        if geometry is not None:
            region, clip = geometry
            margin = self.screen.size.height
            top, bottom = clip.y - margin - region.y, clip.bottom + margin - region.y
        offset = 0
        for chunk in self._chunks[:-1]:
            if chunk.pinned is None:
                return  # heights unknown: wait for the pin
            near = (
                top is not None
                and bottom is not None
                and offset < bottom
                and offset + chunk.pinned > top
            )
            offset += chunk.pinned
            if near:
                await chunk.show()
            else:
                await chunk.hide()

    def on_mount(self) -> None:
        # Whatever scrolls this answer (the conversation, a compare column) brings back
        # the dropped parts that scroll near the screen.
        scroller = next((a for a in self.ancestors if isinstance(a, ScrollableContainer)), None)
        if scroller is not None:
            self.watch(scroller, "scroll_y", self.check_soon, init=False)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._width:
            self._width = event.size.width
            self._remeasure()

    # A worker (the decorator hands Textual the function, not a coroutine, so one
    # cancelled before it starts leaves nothing never awaited); a newer one replaces it.
    @work(exclusive=True, group="remeasure", exit_on_error=False)
    async def _remeasure(self) -> None:
        """A new width: every chunk is laid out again, then pinned again."""
        chunks = [chunk for chunk in self._chunks[:-1] if chunk.pinned is not None]
        for chunk in chunks:
            chunk.unpin()
            await chunk.show()
        for chunk in chunks:
            self.call_after_refresh(self._pin, chunk)


def _blocks_from(live: Markdown, line: int) -> list[Widget]:
    """The blocks of `live` that start at or after source line `line`."""
    from textual.widgets.markdown import MarkdownBlock

    return [c for c in live.children if isinstance(c, MarkdownBlock) and c.source_range[0] >= line]
