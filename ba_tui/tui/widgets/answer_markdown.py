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

And they show what Textual's leave out: a link's URL after its text (and as a terminal
hyperlink, OSC 8, for web and mail links: see sanitize.hyperlink), task list items as
☐ / ☑, table columns aligned as the table says, a code block's language above it.

Imported only when an answer is drawn: Markdown (and markdown-it) is not needed for the
first frame.
"""

from __future__ import annotations

import re
from contextlib import suppress
from functools import cache
from typing import TYPE_CHECKING, Any

from rich._wrap import divide_line  # what Content itself wraps with
from rich.segment import Segment
from textual.containers import Horizontal, Vertical
from textual.content import Content, Span, _FormattedLine
from textual.strip import Strip
from textual.style import Style
from textual.visual import Visual
from textual.widgets import Markdown, Static
from textual.widgets import _markdown as md
from textual.widgets._markdown import (
    MarkdownBlock,
    MarkdownBullet,
    MarkdownListItem,
    MarkdownOrderedListItem,
    MarkdownParagraph,
    MarkdownTableCellContents,
)

from ba_tui.sanitize import hyperlink, printable_url

if TYPE_CHECKING:
    from markdown_it.token import Token
    from textual.app import ComposeResult
    from textual.selection import Selection
    from textual.visual import RenderOptions, RulesMap

BULLET = "markdown-bullet"  # the component class of a flat list's bullets
# A task list item's box, for how its text starts (GitHub's task lists).
TASK_BOXES = {"[ ] ": "☐ ", "[x] ": "☑ ", "[X] ": "☑ "}
# A shown URL: dim beside the link's text, which keeps Textual's link style.
URL_STYLE = Style(dim=True)
# Link schemes not worth repeating when the link's text is its URL without them.
_SCHEME = re.compile(r"^(?:https?://|mailto:)", re.IGNORECASE)


# A mixin's contract for the type checker: it is always mixed in before a Markdown block
# class, so `super()` is that block. At run time it is a plain mixin (a MarkdownBlock base
# would bring that class's CSS in again, after the block's own).
if TYPE_CHECKING:
    _MixedIntoBlock = md.MarkdownBlock
else:
    _MixedIntoBlock = object


class InlineComponents(_MixedIntoBlock):
    """Style only the component classes this block's text uses (Textual styles the
    class's COMPONENT_CLASSES for every block, used or not). Mixed in before the block
    class it changes, so `super()` is that class."""

    _content: Content

    # Textual caches this per class (a cached classmethod); a block needs it per instance,
    # which no type can say of an override: the one ignore, and its twin in FlatList.
    def _get_component_classes(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset(
            span.style[1:]
            for span in self._content.spans
            if isinstance(span.style, str) and span.style.startswith(".")
        )

    def set_content(self, content: Content) -> None:
        before = self._get_component_classes()
        super().set_content(content)
        if self.is_mounted and not self._get_component_classes() <= before:
            self.app.stylesheet.update_nodes([self], animate=False)

    def _token_to_content(self, token: Token) -> Content:
        """Textual's inline Markdown to Content (same text, same spans), except that a
        link's URL is shown after its text unless the text already is the URL, and web
        and mail links are terminal hyperlinks: Textual drops the URL, so a reader could
        not tell where `[the docs](…)` goes."""
        if token.children is None:
            return Content("")
        line = _Inline()
        links: list[tuple[str, int]] = []  # open links: URL, where their text starts
        for child in token.children:
            kind = child.type
            if kind == "text":
                line.add(re.sub(r"\s+", " ", child.content))
            elif kind == "hardbreak":
                line.add("\n")
            elif kind == "softbreak":
                line.add(" ")
            elif kind == "code_inline":
                line.open(".code_inline")
                line.add(child.content)
                line.close()
            elif kind in ("em_open", "strong_open", "s_open"):
                line.open(f".{kind.removesuffix('_open')}")
            elif kind == "link_open":
                href = str(child.attrs.get("href", ""))
                links.append((href, line.position))
                line.open(_link_style(href))
            elif kind == "image":
                href = str(child.attrs.get("src", ""))
                line.open(_link_style(href))
                line.add("🖼  ")
                if alt := str(child.attrs.get("alt", "")):
                    line.add(f"({alt})")
                for grandchild in child.children or ():
                    line.add(grandchild.content)
                line.close()
                line.add_url(href, "")
            elif kind.endswith("_close"):
                line.close()
                if kind == "link_close" and links:
                    href, start = links.pop()
                    line.add_url(href, line.text_since(start))
        return line.content()


class _Inline:
    """A line of inline Markdown being built: text, and styles opened and closed on it."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.spans: list[Span] = []
        self.stack: list[tuple[Style | str, int]] = []
        self.position = 0

    def add(self, text: str) -> None:
        self.pieces.append(text)
        self.position += len(text)

    def open(self, style: Style | str) -> None:
        self.stack.append((style, self.position))

    def close(self) -> None:
        style, start = self.stack.pop()
        self.spans.append(Span(start, self.position, style))

    def text_since(self, start: int) -> str:
        return "".join(self.pieces)[start:]

    def add_url(self, href: str, shown: str) -> None:
        """Show ` (URL)` after a link whose text `shown` is not already its URL."""
        url = printable_url(href.strip())
        if not url or _bare(printable_url(shown.strip())) == _bare(url):
            return
        target = hyperlink(href)
        self.open(URL_STYLE + Style(link=target) if target else URL_STYLE)
        self.add(f" ({url})")
        self.close()

    def content(self) -> Content:
        return Content("".join(self.pieces), spans=self.spans)


def _bare(url: str) -> str:
    """A URL as people write it in text: no scheme, no trailing slash."""
    return _SCHEME.sub("", url).rstrip("/")


def _link_style(href: str) -> Style:
    """A link's text: clickable in the app (as Textual has it) and, for a web or mail
    link, a terminal hyperlink."""
    style = Style.from_meta({"@click": f"link({href!r})"})
    target = hyperlink(href)
    return style + Style(link=target) if target else style


def task_box(content: Content) -> tuple[str, Content] | None:
    """For an item whose text starts `[ ] ` or `[x] `, its box and the text after it."""
    box = TASK_BOXES.get(content.plain[:4])
    return (box, content[4:]) if box else None


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

    def _boxed(self, symbol: str, text: Content) -> tuple[str, Content]:
        """A task item's box in place of its bullet (as GitHub draws a task list), and
        its text without the `[ ] `; any other item as it is."""
        task = task_box(text)
        return task if task is not None else (symbol, text)

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
                symbol, text = self._boxed(symbol, blocks[0]._content)
            else:
                self._flat = None
                return None
            items.append((Content(symbol, spans=[Span(0, len(symbol), f".{BULLET}")]), text))
        self._flat = FlatItems(items) if items else None
        if items:
            self._content = Content("\n").join(bullet + text for bullet, text in items)
        return self._flat

    def _get_component_classes(self) -> frozenset[str]:  # type: ignore[override]
        self._flatten()
        return super()._get_component_classes()

    def compose(self) -> ComposeResult:
        if self._flatten() is None:
            for symbol, item in self._symbols():
                blocks = item._blocks
                if blocks and isinstance(blocks[0], MarkdownParagraph):
                    symbol, text = self._boxed(symbol, blocks[0]._content)
                    if text is not blocks[0]._content:
                        blocks[0].set_content(text)
                bullet = MarkdownBullet()
                bullet.symbol = symbol
                if len(blocks) == 1 and isinstance(blocks[0], MarkdownParagraph):
                    yield Horizontal(bullet, blocks[0])
                else:
                    yield Horizontal(bullet, Vertical(*blocks))
        self._blocks.clear()

    def render(self) -> Any:
        flat = self._flatten()
        return flat if flat is not None else super().render()

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        if self._flatten() is None:
            return super().get_selection(selection)
        return selection.extract(self._content.plain), "\n"


class MarkdownFence(InlineComponents, md.MarkdownFence):
    """A code block highlighted once per theme, with its language above it.

    Textual's highlights the whole block again on every style update (when mounted, and
    when a cut restyles it), three times per block of a stream; only a change of theme
    changes the colours. The language takes the blank line Textual pads the code with."""

    DEFAULT_CSS = """
    MarkdownFence {
        & > .code-language {
            display: none;
            height: 1;
            padding: 0 2;
            color: $text-muted;
            text-overflow: ellipsis;
        }
        &.-labelled > .code-language { display: block; }
        &.-labelled > Label { padding: 0 2 1 2; }
    }
    MarkdownFence:ansi {
        & > .code-language { padding: 0; }
        &.-labelled > Label { padding: 0 0 1 0; }
    }
    """

    def __init__(self, markdown: Markdown, token: Any, code: str) -> None:
        super().__init__(markdown, token, code)
        self._highlighted_for = self._theme_key()
        self._labelled = self.language
        self._label = Static(Content(self._labelled), classes="code-language")
        # Not yet mounted: styled when it is (an update now restyles the screen, and
        # Textual builds a new block on every append to a streaming code block).
        self.set_class(bool(self._labelled), "-labelled", update=False)

    @property
    def language(self) -> str:
        """The language the block names (the first word after its opening fence)."""
        words = str(self.lexer or "").split()
        return words[0] if words else ""

    def compose(self) -> ComposeResult:
        # The later parts of a long block cut while streaming (answer.py) repeat its
        # opening line, not its label: the first part shows it.
        if not self._markdown.has_class("-fence-continued"):
            yield self._label
        yield from super().compose()

    async def _update_from_block(self, block: MarkdownBlock) -> None:
        await super()._update_from_block(block)
        # A stream can end a batch inside the opening fence line ("```pyt"). Compared
        # first: this runs on every append to a code block.
        if self.language != self._labelled and self.is_mounted:
            self._labelled = self.language
            self._label.update(Content(self._labelled))
            self.set_class(bool(self._labelled), "-labelled")

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
class MarkdownBulletList(FlatList, md.MarkdownBulletList):
    DEFAULT_CSS = f"MarkdownBulletList {{ {_BULLET_CSS} }}"

    def _symbols(self) -> list[tuple[str, MarkdownListItem]]:
        return [(b.bullet, b) for b in self._blocks if isinstance(b, MarkdownListItem)]


class MarkdownOrderedList(FlatList, md.MarkdownOrderedList):
    DEFAULT_CSS = f"MarkdownOrderedList {{ {_BULLET_CSS} }}"

    def _boxed(self, symbol: str, text: Content) -> tuple[str, Content]:
        """A numbered task keeps its number: the box goes before its text."""
        task = task_box(text)
        return (symbol, Content(task[0]) + task[1]) if task is not None else (symbol, text)

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


def _alignment(block: MarkdownBlock) -> str:
    """How a table cell's column is aligned: left, right or center."""
    style = str(block._token.attrs.get("style") or "")
    return style.removeprefix("text-align:") if style.startswith("text-align:") else "left"


class MarkdownTableContent(md.MarkdownTableContent):
    """Textual's table, each cell aligned as its column says (`--:` right, `:-:` centre);
    Textual draws every column left-aligned, so a column of amounts loses its meaning."""

    DEFAULT_CSS = """
    MarkdownTableContent {
        & > .-align-right { text-align: right; }
        & > .-align-center { text-align: center; }
    }
    """

    def __init__(self, headers: list[Content], rows: list[list[Content]], aligns: list[str]):
        super().__init__(headers, rows)
        self.aligns = aligns

    def _aligned(self, cell: Static, column: int) -> Static:
        align = self.aligns[column] if column < len(self.aligns) else "left"
        if align != "left":
            cell.add_class(f"-align-{align}")
        return cell

    def compose(self) -> ComposeResult:
        columns = max(1, len(self.headers))
        for index, cell in enumerate(super().compose()):
            yield self._aligned(cell, index % columns) if isinstance(cell, Static) else cell

    async def _update_rows(self, updated_rows: list[list[Content]]) -> None:
        """Rows that arrived while streaming: as Textual adds them, aligned."""
        self.styles.grid_size_columns = len(self.headers)
        await self.query_children(f".cell.row{self.last_row}").remove()
        cells: list[Static] = []
        for row_index, row in enumerate(updated_rows, self.last_row):
            for column, cell in enumerate(row):
                widget = MarkdownTableCellContents(cell, classes=f"row{row_index} cell")
                cells.append(self._aligned(widget.with_tooltip(cell), column))
            self.last_row = row_index
        await self.mount_all(cells)


class MarkdownTable(InlineComponents, md.MarkdownTable):
    def compose(self) -> ComposeResult:
        self._headers, self._rows = self._get_headers_and_rows()
        yield MarkdownTableContent(self._headers, self._rows, self._aligns())

    def _aligns(self) -> list[str]:
        """Each column's alignment, from the header cells."""

        def cells(block: MarkdownBlock) -> list[MarkdownBlock]:
            found: list[MarkdownBlock] = []
            for child in block._blocks:
                if isinstance(child, md.MarkdownTH):
                    found.append(child)
                found += cells(child)
            return found

        return [_alignment(cell) for cell in cells(self)]


_LIGHTER: dict[type[MarkdownBlock], type[MarkdownBlock]] = {
    md.MarkdownBulletList: MarkdownBulletList,
    md.MarkdownOrderedList: MarkdownOrderedList,
    md.MarkdownFence: MarkdownFence,
    md.MarkdownTable: MarkdownTable,
}


@cache
def lighter(block: type[MarkdownBlock]) -> type[MarkdownBlock]:
    """The lighter version of a Markdown block class."""
    return _LIGHTER.get(block) or type(block.__name__, (InlineComponents, block), {})


class AnswerMarkdown(Markdown):
    def get_block_class(self, block_name: str) -> type[MarkdownBlock]:
        return lighter(super().get_block_class(block_name))


AnswerMarkdown.__name__ = AnswerMarkdown.__qualname__ = "Markdown"
