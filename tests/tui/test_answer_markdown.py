"""The answer's lighter Markdown blocks draw exactly what Textual's own blocks draw, plus
what Textual leaves out (a code block's language, links' URLs, task boxes, alignment)."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.geometry import Offset
from textual.selection import Selection
from textual.widgets import Markdown

from ba_tui.tui.widgets.answer import _new_markdown
from ba_tui.tui.widgets.answer_markdown import FlatItems

DOC = """Intro with **bold**.

- first item with **bold**, `code` and a link <https://example.com> that goes on long \
enough to wrap around the line twice at the narrower width
- second
- fourth item *em* ~~struck~~

1. one
2. two has a longer text that needs to wrap at least once here
3. three
4. four
5. five
6. six
7. seven
8. eight
9. nine
10. ten wraps as well because it is a long item of text, yes

- outer item
  - inner item one
  - inner item two that is long and wraps at the narrow width we use here
- outer two

- para item

  second para in item
- next

> - quoted list item
> - another

7. starts at seven
8. eight

- a loose list

- its second item

- a hard\\
  break in an item
- and a ```fence``` less item

```python
def total(rows):  # a code block, highlighted
    return sum(row.amount for row in rows if row.amount > 0)
```
"""


class One(App):
    def __init__(self, widget: Markdown) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


async def _screen(
    widget: Markdown, width: int, themes: tuple[str, ...] = ()
) -> list[list[tuple[str, object]]]:
    app = One(widget)
    async with app.run_test(size=(width, 70)) as pilot:
        await pilot.pause()
        for theme in themes:  # switched while the widget is up
            app.theme = theme
            await pilot.pause()
        strips = app.screen._compositor.render_strips()
        # What shows: styles without their meta (the offsets that selections use count
        # from each widget's own text, and a flat list is one widget where Textual has
        # three), and no text colour on blank cells (under a bullet widget they have it).
        lines = []
        for strip in strips:
            shown = [Segment(s.text, _shown(s.text, s.style)) for s in strip]
            lines.append([(s.text, s.style) for s in Segment.simplify(shown)])
        return lines


def _shown(text: str, style: Style | None) -> Style | None:
    if style is None:
        return None
    if text.strip():
        return style.clear_meta_and_links()
    return Style(bgcolor=style.bgcolor, underline=style.underline, strike=style.strike)


def _text(line: list[tuple[str, object]]) -> str:
    return "".join(text for text, _ in line)


def _without_language(ours: list, textuals: list) -> tuple[list, list]:
    """Both screens without the line where ours names the code block's language (in
    Textual's, the blank line above the code)."""
    [row] = [i for i, line in enumerate(ours) if _text(line).strip() == "python"]
    assert not _text(textuals[row]).strip()
    return ours[:row] + ours[row + 1 :], textuals[:row] + textuals[row + 1 :]


async def test_lists_and_code_are_drawn_cell_for_cell_as_textual_draws_them():
    for width in (70, 41):
        ours = await _screen(_new_markdown(DOC), width)
        textuals = await _screen(Markdown(DOC), width)
        assert _text(ours[2]).strip().startswith("• first item")  # not blank
        ours, textuals = _without_language(ours, textuals)
        assert ours == textuals, width


async def test_code_takes_the_colours_of_a_new_theme():
    # Our code blocks are highlighted once per theme, not on every style update. In
    # ANSI themes the highlighting itself differs between dark and light.
    ours = await _screen(_new_markdown(DOC), 70, ("ansi-dark", "ansi-light"))
    textuals = await _screen(Markdown(DOC), 70, ("ansi-dark", "ansi-light"))
    assert _without_language(ours, textuals)[0] == _without_language(ours, textuals)[1]
    assert ours != await _screen(_new_markdown(DOC), 70, ("ansi-dark",))


async def test_a_list_of_one_line_items_is_one_widget_that_selects_by_item():
    app = One(_new_markdown("- alpha **beta**\n- gamma\n"))
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        [bullets] = app.query("MarkdownBulletList")
        assert isinstance(bullets._flat, FlatItems) and not bullets.children
        text, _ = bullets.get_selection(Selection.from_offsets(Offset(2, 0), Offset(3, 1)))
        assert text == "alpha beta\n• g"


async def test_a_list_with_a_nested_list_keeps_a_row_per_item():
    app = One(_new_markdown("- outer\n  - inner\n- two\n"))
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        outer = app.query("MarkdownBulletList").first()
        assert outer._flat is None and len(outer.children) == 2


async def _lines(markdown: str, width: int = 70) -> tuple[list[str], dict[str, str]]:
    """The screen's lines for `markdown` as the answer draws it, and each terminal
    hyperlink (OSC 8) on it with the text it covers."""
    app = One(_new_markdown(markdown))
    async with app.run_test(size=(width, 30)) as pilot:
        await pilot.pause()
        strips = app.screen._compositor.render_strips()
        links: dict[str, str] = {}
        for strip in strips:
            for segment in strip:
                if segment.style is not None and segment.style.link:
                    links[segment.style.link] = links.get(segment.style.link, "") + segment.text
        # Without the Markdown widget's own padding (two cells each side).
        return ["".join(s.text for s in strip)[2:].rstrip() for strip in strips], links


async def test_a_links_url_is_shown_and_web_links_are_terminal_hyperlinks():
    lines, links = await _lines(
        "See [the docs](https://example.com/guide?page=2), <https://example.org>,"
        " [example.net](https://example.net/) and"
        " [the server](ssh://host.example) and [odd](<https://example.net/a b\x1b]8;;x\x07>).\n"
    )
    text = " ".join(lines)
    assert "the docs (https://example.com/guide?page=2)" in text
    assert "https://example.org, example.net and" in text  # the text is the URL: once
    assert "the server (ssh://host.example)" in text
    # Clickable where the terminal supports it: web links only, and no control character
    # or space inside the hyperlink (it would end the escape sequence or start another).
    assert "ssh://host.example" not in links
    assert links["https://example.com/guide?page=2"].startswith("the docs")
    assert "https://example.org" in links
    assert all("\x1b" not in url and "\x07" not in url and " " not in url for url in links)


async def test_task_list_items_show_boxes():
    lines, _ = await _lines(
        "- [ ] write the brief\n- [x] book the room\n- plain item\n\n"
        "1. [ ] first step\n2. [X] second step\n\n"
        "- [ ] a task with\n\n  a second paragraph\n"
    )
    assert "☐ write the brief" in lines
    assert "☑ book the room" in lines
    assert "• plain item" in lines
    assert " 1. ☐ first step" in lines and " 2. ☑ second step" in lines
    assert "☐ a task with" in lines  # an item of more than one paragraph too
    assert not any("[ ]" in line or "[x]" in line for line in lines)


async def test_table_columns_are_aligned_as_the_table_says():
    lines, _ = await _lines(
        "| item | amount | note |\n|:-----|-------:|:----:|\n"
        "| rent | 1,200.00 | due |\n| food | 35.5 | x |\n",
        width=60,
    )
    row = next(line for line in lines if "food" in line)
    cells = row.split("│")[1:-1]
    assert cells[0].startswith(" food ")
    assert cells[1].endswith(" 35.5 ") and cells[1].startswith("    ")  # right
    assert cells[2].strip() == "x" and abs(cells[2].index("x") - len(cells[2]) // 2) <= 1
    header = next(line for line in lines if "amount" in line).split("│")[1:-1]
    assert header[1].endswith(" amount ")


async def test_a_code_block_names_its_language_above_the_code():
    lines, _ = await _lines("```python\nprint(1)\n```\n\n```\nplain\n```\n")
    code = lines.index("  print(1)")  # inside the block's padding
    assert lines[code - 1] == "  python"
    plain = lines.index("  plain")
    assert not lines[plain - 1].strip()  # no language: the blank line stays


async def test_a_table_streamed_row_by_row_stays_aligned():
    from ba_tui.tui.widgets.answer import Answer

    class Streaming(App):
        def compose(self) -> ComposeResult:
            yield Answer()

    app = Streaming()
    async with app.run_test(size=(60, 20)) as pilot:
        answer = app.query_one(Answer)
        for piece in ("| item | amount |\n", "|---|---:|\n", "| rent | 1,200 |\n", "| tea | 3 |\n"):
            await answer.append(piece)
            await pilot.pause()
        await pilot.pause()
        strips = app.screen._compositor.render_strips()
        lines = ["".join(s.text for s in strip) for strip in strips]
    for word, amount in (("rent", "1,200"), ("tea", "3")):
        row = next(line for line in lines if word in line).split("│")[1:-1]
        assert row[1].endswith(f" {amount} ") and row[1].startswith("    ")


async def test_a_streamed_code_block_names_the_whole_language_when_its_line_arrives_in_parts():
    from ba_tui.tui.widgets.answer import Answer

    class Streaming(App):
        def compose(self) -> ComposeResult:
            yield Answer()

    app = Streaming()
    async with app.run_test(size=(60, 12)) as pilot:
        answer = app.query_one(Answer)
        for piece in ("Code:\n\n```pyt", "hon\nprint(1)\n", "print(2)\n```\n"):
            await answer.append(piece)
            await pilot.pause()
        strips = app.screen._compositor.render_strips()
        lines = ["".join(s.text for s in strip).strip() for strip in strips]
    assert lines[lines.index("print(1)") - 1] == "python"
