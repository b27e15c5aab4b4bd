"""The answer's lighter Markdown blocks draw exactly what Textual's own blocks draw."""

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

- first item with **bold**, `code` and a [link](https://example.com) that goes on long \
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


async def test_lists_and_code_are_drawn_cell_for_cell_as_textual_draws_them():
    for width in (70, 41):
        ours = await _screen(_new_markdown(DOC), width)
        textuals = await _screen(Markdown(DOC), width)
        assert "".join(t for t, _ in ours[2]).strip().startswith("• first item")  # not blank
        assert ours == textuals, width


async def test_code_takes_the_colours_of_a_new_theme():
    # Our code blocks are highlighted once per theme, not on every style update. In
    # ANSI themes the highlighting itself differs between dark and light.
    ours = await _screen(_new_markdown(DOC), 70, ("ansi-dark", "ansi-light"))
    assert ours == await _screen(Markdown(DOC), 70, ("ansi-dark", "ansi-light"))
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
