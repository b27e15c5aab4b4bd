"""Textual's Markdown, with blocks that cost fewer widgets and style look-ups to mount.

Mounting widgets is nearly all the cost of a stream (see answer.py), so every block here
looks exactly as Textual draws it but is cheaper to mount:
- Every Markdown block styles a virtual node for each of its four inline component
  classes (em, strong, s, code_inline) when mounted, uncached; here a block styles only
  those its text uses.
- A list whose items are each one line of text (nearly every list a model writes) is
  drawn by the list widget itself: each item's text wrapped beside its bullet, as Textual
  lays out a bullet widget beside a paragraph widget. One widget instead of three per item
  (four in Textual). Any other list keeps a row per item, without the Vertical Textual
  wraps around an item's blocks when the item is a single paragraph.
- A code block is highlighted again only when the theme changes, not on every style
  update.
Class names stay the same, so every CSS rule still applies.

Imported only when an answer is drawn: Markdown (and markdown-it) is not needed for the
first frame.
"""

from __future__ import annotations

from contextlib import suppress
from functools import cache
from typing import TYPE_CHECKING, Any

from rich._wrap import divide_line  # what Content itself wraps with
from rich.segment import Segment
from textual.containers import Horizontal, Vertical
from textual.content import Content, Span, _FormattedLine
from textual.strip import Strip
from textual.visual import Visual
from textual.widgets import Markdown
from textual.widgets import _markdown as md
from textual.widgets._markdown import (
    MarkdownBlock,
    MarkdownBullet,
    MarkdownListItem,
    MarkdownOrderedListItem,
    MarkdownParagraph,
)

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.selection import Selection
    from textual.style import Style
    from textual.visual import RenderOptions, RulesMap

BULLET = "markdown-bullet"  # the component class of a flat list's bullets


class InlineComponents:
    """Style only the component classes this block's text uses (Textual styles the
    class's COMPONENT_CLASSES for every block, used or not)."""

    _content: Content

    def _get_component_classes(self) -> frozenset[str]:  # called by the stylesheet
        return frozenset(
            span.style[1:]
            for span in self._content.spans
            if isinstance(span.style, str) and span.style.startswith(".")
        )

    def set_content(self, content: Content) -> None:
        before = self._get_component_classes()
        super().set_content(content)  # type: ignore[misc]
        if self.is_mounted and not self._get_component_classes() <= before:  # type: ignore[attr-defined]
            self.app.stylesheet.update_nodes([self], animate=False)  # type: ignore[attr-defined]


class FlatItems(Visual):
    """A list's items, each its text wrapped beside its bullet (a hanging indent).

    Lines break where Textual's Content breaks a paragraph of that width, so the list is
    drawn cell for cell as a bullet widget beside a paragraph widget would be. A line of
    the list's `Content` (bullet and text) is one item, which is how selections address
    it."""

    def __init__(self, items: list[tuple[Content, Content]]) -> None:
        self.items = items  # (bullet, text)

    def _lines(self, width: int) -> list[tuple[int, list[int]]]:
        """Each item's indent and where its text breaks at `width`."""
        lines = []
        for bullet, text in self.items:
            indent = bullet.cell_length
            lines.append((indent, divide_line(text.plain, max(1, width - indent), fold=True)))
        return lines

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        if not width:
            return []
        get_style = options.get_style
        blank = style.background_style.rich_style
        strips: list[Strip] = []
        for y, ((bullet, text), (indent, breaks)) in enumerate(
            zip(self.items, self._lines(width), strict=True)
        ):
            start = len(bullet.plain)
            line = bullet + text
            if options.post_style is not None:
                line = line.stylize(options.post_style)
            selected = options.selection.get_span(y) if options.selection else None
            if selected is not None and options.selection_style is not None:
                begin, end = selected
                line = line.stylize(options.selection_style, begin, len(line) if end == -1 else end)
            bullet, text = line[:start], line[start:]
            inner = max(1, width - indent)
            pieces = text.divide(breaks)
            for index, (piece, offset) in enumerate(zip(pieces, [0, *breaks], strict=True)):
                last = index == len(pieces) - 1
                piece = (piece if last else piece.rstrip()).truncate(inner).rstrip_end(inner)
                segments, length = _FormattedLine(
                    get_style, piece, inner, start + offset, y
                ).to_strip(style)
                if index == 0:
                    head, _ = _FormattedLine(get_style, bullet, indent, 0, y).to_strip(style)
                else:
                    head = [Segment(" " * indent, blank)]
                strips.append(Strip([*head, *segments], indent + length))
        return strips if height is None else strips[:height]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return max(
            (b.cell_length + t.get_optimal_width(rules, container_width) for b, t in self.items),
            default=0,
        )

    def get_height(self, rules: RulesMap, width: int) -> int:
        return sum(len(breaks) + 1 for _, breaks in self._lines(width))


class FlatList(InlineComponents):
    """A list that draws its items itself when each is one line of text (see FlatItems),
    and a row per item otherwise."""

    _blocks: list[MarkdownBlock]
    _flat: FlatItems | None

    def _symbols(self) -> list[tuple[str, MarkdownListItem]]:
        """Each item with its bullet."""
        raise NotImplementedError

    def _flatten(self) -> FlatItems | None:
        """The items as FlatItems, if each is a single line of text. Worked out from the
        parsed items the first time it is asked (by the stylesheet, before compose)."""
        with suppress(AttributeError):
            return self._flat
        items: list[tuple[Content, Content]] = []
        for symbol, item in self._symbols():
            blocks = item._blocks
            if not blocks:
                text = Content()  # an item still being written: "- "
            elif (
                len(blocks) == 1
                and isinstance(blocks[0], MarkdownParagraph)
                and "\n" not in blocks[0]._content.plain
            ):
                text = blocks[0]._content
            else:
                self._flat = None
                return None
            items.append((Content(symbol, spans=[Span(0, len(symbol), f".{BULLET}")]), text))
        self._flat = FlatItems(items) if items else None
        if items:
            self._content = Content("\n").join(bullet + text for bullet, text in items)
        return self._flat

    def _get_component_classes(self) -> frozenset[str]:
        self._flatten()
        return super()._get_component_classes()

    def compose(self) -> ComposeResult:
        if self._flatten() is None:
            for symbol, item in self._symbols():
                bullet = MarkdownBullet()
                bullet.symbol = symbol
                blocks = item._blocks
                if len(blocks) == 1 and isinstance(blocks[0], MarkdownParagraph):
                    yield Horizontal(bullet, blocks[0])
                else:
                    yield Horizontal(bullet, Vertical(*blocks))
        self._blocks.clear()

    def render(self) -> Any:
        flat = self._flatten()
        return flat if flat is not None else super().render()  # type: ignore[misc]

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        if self._flatten() is None:
            return super().get_selection(selection)  # type: ignore[misc]
        return selection.extract(self._content.plain), "\n"


class MarkdownFence(InlineComponents, md.MarkdownFence):  # type: ignore[misc]  # a per-instance _get_component_classes (see InlineComponents)
    """A code block highlighted once per theme. Textual's highlights the whole block again
    on every style update (when mounted, and when a cut restyles it), three times per
    block of a stream; only a change of theme changes the colours."""

    def __init__(self, markdown: Markdown, token: Any, code: str) -> None:
        super().__init__(markdown, token, code)
        self._highlighted_for = self._theme_key()

    def _theme_key(self) -> tuple[bool, bool]:
        return self.app.native_ansi_color, self.app.current_theme.dark

    def _copy_context(self, block: MarkdownBlock) -> None:
        super()._copy_context(block)
        if isinstance(block, MarkdownFence):
            self._highlighted_for = block._highlighted_for

    def notify_style_update(self) -> None:
        if self._theme_key() != self._highlighted_for:
            md.MarkdownFence.notify_style_update(self)  # highlights again
            self._highlighted_for = self._theme_key()
        else:
            super(md.MarkdownFence, self).notify_style_update()


# The bullets' colour, as Textual's MarkdownBullet has it.
_BULLET_CSS = f"""
& > .{BULLET} {{ color: $text-primary; }}
&:light > .{BULLET} {{ color: $text-secondary; }}
"""


# Named as Textual's classes (CSS scopes a class's DEFAULT_CSS by its name).
class MarkdownBulletList(FlatList, md.MarkdownBulletList):  # type: ignore[misc]  # a per-instance _get_component_classes (see InlineComponents)
    DEFAULT_CSS = f"MarkdownBulletList {{ {_BULLET_CSS} }}"

    def _symbols(self) -> list[tuple[str, MarkdownListItem]]:
        return [(b.bullet, b) for b in self._blocks if isinstance(b, MarkdownListItem)]


class MarkdownOrderedList(FlatList, md.MarkdownOrderedList):  # type: ignore[misc]  # a per-instance _get_component_classes (see InlineComponents)
    DEFAULT_CSS = f"MarkdownOrderedList {{ {_BULLET_CSS} }}"

    def _symbols(self) -> list[tuple[str, MarkdownListItem]]:
        suffix = ". "
        start = 1
        if self._blocks and isinstance(self._blocks[0], MarkdownOrderedListItem):
            with suppress(ValueError):
                start = int(self._blocks[0].bullet)
        numbered = [
            (n, b) for n, b in enumerate(self._blocks, start) if isinstance(b, MarkdownListItem)
        ]
        size = max((len(f"{n}{suffix}") for n, _ in numbered), default=0)
        return [(f"{n}{suffix}".rjust(size + 1), b) for n, b in numbered]


_LIGHTER: dict[type[MarkdownBlock], type[MarkdownBlock]] = {
    md.MarkdownBulletList: MarkdownBulletList,
    md.MarkdownOrderedList: MarkdownOrderedList,
    md.MarkdownFence: MarkdownFence,
}


@cache
def lighter(block: type[MarkdownBlock]) -> type[MarkdownBlock]:
    """The lighter version of a Markdown block class."""
    return _LIGHTER.get(block) or type(block.__name__, (InlineComponents, block), {})


class AnswerMarkdown(Markdown):
    def get_block_class(self, block_name: str) -> type[MarkdownBlock]:
        return lighter(super().get_block_class(block_name))


AnswerMarkdown.__name__ = AnswerMarkdown.__qualname__ = "Markdown"
