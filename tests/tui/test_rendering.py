"""What the conversation shows of a reply (reasoning, code blocks) and the keys that act
on a selected reply, driven as a user drives the app."""

from __future__ import annotations

from tests.servers import fixture, text_stream
from tests.tui.conftest import reply_done, screen_text, send, wait_for


async def pick(pilot, provider: str, model: str) -> None:
    """Choose the model for the next turn in the picker, as a user does."""
    await pilot.press("ctrl+o")
    await pilot.press(*provider, "enter")
    await pilot.press(*model, "enter")
    await pilot.pause()


def row_of(shown: list[str], text: str) -> int:
    [row] = [i for i, line in enumerate(shown) if text in line]
    return row


async def test_gemini_reasoning_is_markdown_one_line_above_the_answer_and_folds_by_key(
    make_app, server, store
):
    server.queue(fixture("gemini_stream_thinking.sse"))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pick(pilot, "gemini", "gemini-2.5-flash")
        await send(pilot, "What is a risk register?")
        await reply_done(pilot)
        assert "▶ Reasoning" in screen_text(app)  # folded once the answer started
        await pilot.press("ctrl+up")  # select the reply
        assert " t " in screen_text(app).splitlines()[-1]  # the footer offers the key
        await pilot.press("t")
        await wait_for(pilot, lambda: "Defining the Risk Register" in screen_text(app))
        shown = screen_text(app).splitlines()
        # Thought summaries are Markdown: their **titles** are bold, not starred.
        assert "**" not in "\n".join(shown)
        assert row_of(shown, "Structuring the Answer") > row_of(shown, "Defining the Risk")
        # One blank line between the reasoning and the answer.
        last_thought = row_of(shown, "keeping it short.")
        assert row_of(shown, "A risk register is a living table") == last_thought + 2
        await pilot.press("t")
        await wait_for(pilot, lambda: "Defining the Risk Register" not in screen_text(app))
        assert "▶ Reasoning" in screen_text(app)


CODE_REPLY = (
    "Install it:\n\n```bash\npip install tidy\n```\n\n"
    "Then:\n\n1. Run it:\n\n   ```python\n   import tidy\n   tidy.run()\n   ```\n"
)


async def test_shift_c_copies_one_code_block_of_the_selected_reply_then_the_next(
    make_app, server, store
):
    server.queue(text_stream("anthropic", CODE_REPLY))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "How do I tidy?")
        await reply_done(pilot)
        assert "bash" in screen_text(app) and "python" in screen_text(app)  # the labels
        await pilot.press("ctrl+up")
        assert " C Copy code " in screen_text(app).splitlines()[-1]
        await pilot.press("C")
        assert app.clipboard == "pip install tidy"
        await pilot.press("C")
        assert app.clipboard == "import tidy\ntidy.run()"  # nested in a list item too
        await pilot.press("C")
        assert app.clipboard == "pip install tidy"  # round again
        await pilot.press("c")
        assert app.clipboard == CODE_REPLY  # c still copies the whole reply
        await pilot.press("up")  # the user's message: no code, no key
        await pilot.pause()
        assert " C Copy code " not in screen_text(app).splitlines()[-1]
        await pilot.press("C")
        assert app.clipboard == CODE_REPLY
