"""The streamed answer: cut into frozen widgets, it shows what one Markdown would."""

from __future__ import annotations

import random
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlock

from ba_tui.tui.widgets.answer import BLOCKS, FENCE_CUT, HOLD_SECONDS, LIST_CUT, Answer, find_cut
from tests.tui.conftest import wait_for

DOC = (
    "# Title\n\nIntro paragraph with **bold** and `code`.\n\n"
    + "".join(f"- item {i} with some words\n" for i in range(LIST_CUT * 2 + 3))
    + "\nMiddle paragraph.\n\n```python\n"
    + "".join(f"line_{i} = {i}\n" for i in range(FENCE_CUT * 2 + 5))
    + "```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> a quote\n\n"
    + "".join(f"Paragraph {i}.\n\n" for i in range(BLOCKS * 3))
    + "1. one\n2. two\n\nThe end."
)


def leaf_text(root) -> str:
    """The words of every leaf block, in order, without the seams between widgets."""
    parts = []
    for block in root.query(MarkdownBlock):
        if (flat := getattr(block, "_flat", None)) is not None:  # a list drawn as one widget
            parts += [" ".join(text.plain.split()) for _, text in flat.items]
        elif not block.query(MarkdownBlock):
            parts.append(" ".join(str(block._content.plain).split()))
    code = [" ".join(getattr(f, "code", "").split()) for f in root.query("MarkdownFence")]
    return " ".join(p for p in parts if p) + " | " + " ".join(code)


class Streamed(App):
    CSS_PATH = Path(__file__).parents[2] / "ba_tui" / "tui" / "app.tcss"  # the seams' rules

    def compose(self) -> ComposeResult:
        yield Answer(id="streamed")
        yield Markdown(DOC, id="whole")


async def test_streamed_answer_matches_one_markdown_document():
    rnd = random.Random(3)
    app = Streamed()
    async with app.run_test(size=(100, 60)) as pilot:
        answer = app.query_one(Answer)
        position = 0
        while position < len(DOC):
            size = rnd.randint(1, 40)
            await answer.append(DOC[position : position + size])
            position += size
        await pilot.pause()
        assert answer.text == DOC
        streamed, whole = leaf_text(answer), leaf_text(app.query_one("#whole"))
        assert streamed.replace(" ", "") == whole.replace(" ", "")
        # It was cut into several widgets, each holding about BLOCKS blocks (a widget
        # also keeps the blocks that began in the same piece of text as its last one).
        widgets = answer.query(Markdown)
        assert len(widgets) > 4
        assert all(len(w.children) <= BLOCKS + 2 for w in widgets)
        # Cut widgets restyle only what their classes style: restyling everything again
        # changes nothing.
        assert answer.query(".-list-cut") and answer.query(".-fence-cut")

        def styles() -> list[tuple]:
            nodes = answer.walk_children(with_self=True)
            return [(n, n.styles.margin, n.styles.padding, n.styles.height) for n in nodes]

        before = styles()
        app.update_styles(answer, animate=False)
        assert styles() == before


def test_cuts():
    assert find_cut("one paragraph") is None
    many = "".join(f"p{i}\n\n" for i in range(BLOCKS + 1)) + "next"
    cut = find_cut(many)
    assert cut is not None and many[cut.offset :] == "next"
    items = "".join(f"- {i}\n" for i in range(LIST_CUT + 1))
    cut = find_cut(items)
    assert cut is not None and cut.kind == "list" and items[cut.offset :] == f"- {LIST_CUT}\n"
    code = "```py\n" + "".join(f"x{i}\n" for i in range(FENCE_CUT + 1)) + "par"
    cut = find_cut(code)
    assert cut is not None and cut.kind == "fence" and code[cut.offset :] == "par"
    assert cut.fence == "```py\n"
    assert find_cut(code.replace("par", "```\n")) is None  # a closed block is just a block


class Scrolling(App):
    def compose(self) -> ComposeResult:
        from textual.containers import VerticalScroll

        with VerticalScroll(id="scroller"):
            yield Answer()


async def test_far_parts_of_a_long_answer_are_dropped_and_rebuilt():
    doc = "".join(f"## Part {i}\n\nParagraph number {i} of the long answer.\n\n" for i in range(80))
    app = Scrolling()
    async with app.run_test(size=(80, 20)) as pilot:
        scroller = app.query_one("#scroller")
        scroller.anchor()
        answer = app.query_one(Answer)
        for start in range(0, len(doc), 50):
            await answer.append(doc[start : start + 50])
            await pilot.pause()
        chunks = answer._chunks

        def mounted() -> str:
            return " ".join(str(b._content.plain) for b in answer.query(MarkdownBlock))

        # The top is far from the screen: its widgets are dropped.
        await wait_for(pilot, lambda: not chunks[0].shown and "Part 0" not in mounted())
        assert chunks[-1].shown and "Part 79" in mounted()
        scroller.scroll_home(animate=False)  # the answer sees its scroller move
        await wait_for(pilot, lambda: "Part 0" in mounted())
        assert answer.text == doc


async def test_chunks_built_in_one_flush_are_pinned_at_their_laid_out_height():
    # A fast stream flushes many blocks at once; their chunks are built inside one batch
    # of updates, before any layout. Each is pinned once laid out, at its full height.
    doc = "".join(f"Paragraph {i} of an answer that came in all at once.\n\n" for i in range(60))
    app = Scrolling()
    async with app.run_test(size=(80, 20)) as pilot:
        answer = app.query_one(Answer)
        await answer.append(doc)
        chunks = answer._chunks
        assert len(chunks) > 3
        await wait_for(pilot, lambda: all(c.pinned is not None for c in chunks[:-1]))
        await pilot.pause()
        for chunk in chunks[:-1]:
            answer.app.query_one("#scroller").scroll_to_widget(chunk, animate=False)
            await wait_for(pilot, lambda chunk=chunk: chunk.shown and chunk.children)
            await pilot.pause()
            laid_out = sum(child.outer_size.height for child in chunk.children)
            assert chunk.pinned == laid_out


async def test_a_very_long_paragraph_is_redrawn_less_often_and_shown_whole_at_the_end():
    words = "the reply goes on and on without a break "
    app = Streamed()
    async with app.run_test(size=(100, 60)) as pilot:
        answer = app.query_one(Answer)
        held = 0
        for _ in range(300):  # ~12 KB in one paragraph
            await answer.append(words)
            held = max(held, len(answer._held))
        assert held > 0  # small additions to a long block wait for more
        await answer.release(overdue_only=True)
        await pilot.pause(HOLD_SECONDS)
        await answer.release(overdue_only=True)  # a pause in the stream shows them
        assert answer._held == ""
        await answer.append("The end.")
        await answer.release()
        await pilot.pause()
        [paragraph] = answer.query("MarkdownParagraph")
        assert str(paragraph._content.plain) == (words * 300 + "The end.").strip()


VARIED = (
    "# Heading one\n\n## Heading two\n\nA long paragraph " + "with many words " * 30 + "\n\n"
    "- a bullet with **bold** and `code`\n- a bullet\n  - a nested bullet\n  - another\n"
    + "".join(f"- item {i}\n" for i in range(LIST_CUT * 2))
    + "\n1. first\n2. second\n\n```python\n"
    + "".join(f"x_{i} = {i}\n" for i in range(8))
    + "```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> a block quote\n> on two lines\n\n"
    + "".join(f"Paragraph {i} *em*.\n\n" for i in range(BLOCKS * 2))
    + "The end."
)


class Plain(App):
    CSS_PATH = Streamed.CSS_PATH

    def compose(self) -> ComposeResult:
        from textual.containers import Vertical

        with Vertical(classes="answer"):
            yield Markdown(VARIED, open_links=False)


async def test_streamed_in_big_pieces_shows_the_same_screen_as_textual_markdown():
    from tests.tui.conftest import screen_text

    class One(App):
        CSS = "Answer Markdown { padding: 0 2 0 2; }"  # as plain Markdown, for the compare
        CSS_PATH = Streamed.CSS_PATH

        def compose(self) -> ComposeResult:
            yield Answer()

    app = One()
    async with app.run_test(size=(90, 200)) as pilot:
        answer = app.query_one(Answer)
        for start in range(0, len(VARIED), 700):  # pieces of many blocks, as a fast stream
            await answer.append(VARIED[start : start + 700])
        await pilot.pause()
        assert answer.text == VARIED
        streamed = screen_text(app)
    plain = Plain()
    async with plain.run_test(size=(90, 200)) as pilot:
        await pilot.pause()
        whole = screen_text(plain)
    # Ours names the code block's language, once, above the code.
    shown = [line for line in streamed.splitlines() if line.strip()]
    assert [line.strip() for line in shown].count("python") == 1
    assert [line for line in shown if line.strip() != "python"] == [
        line for line in whole.splitlines() if line.strip()
    ]


async def test_a_long_code_block_cut_while_streaming_names_its_language_once():
    from tests.tui.conftest import screen_text

    class One(App):
        CSS_PATH = Streamed.CSS_PATH

        def compose(self) -> ComposeResult:
            yield Answer()

    code = "```python\n" + "".join(f"x_{i} = {i}\n" for i in range(FENCE_CUT * 2 + 5)) + "```\n"
    app = One()
    async with app.run_test(size=(60, FENCE_CUT * 2 + 20)) as pilot:
        answer = app.query_one(Answer)
        for line in code.splitlines(keepends=True):
            await answer.append(line)
        await pilot.pause()
        assert answer.query(".-fence-cut")  # it was cut
        shown = [line.strip() for line in screen_text(app).splitlines()]
    assert shown.count("python") == 1
    assert shown[shown.index("x_0 = 0") - 1] == "python"
