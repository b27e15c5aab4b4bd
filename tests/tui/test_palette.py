"""The command palette (Ctrl+P) as a user reads it: each entry with its key, and only the
entries that can run now."""

from __future__ import annotations

from tests.servers import text_stream
from tests.tui.conftest import reply_done, screen_text, send, wait_for


async def palette(pilot, query: str, shown: str) -> str:
    """Open the palette, type `query`, wait for `shown` to be listed; the screen's text."""
    await pilot.press("ctrl+p", *query)
    await wait_for(pilot, lambda: shown in screen_text(pilot.app))
    return screen_text(pilot.app)


async def test_the_palette_shows_each_commands_key(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        text = await palette(pilot, "new thread", "New thread")
        assert "New thread  Ctrl+N" in text
        await pilot.press("escape")
        text = await palette(pilot, "settings", "Settings")
        assert "Settings  Ctrl+S" in text
        await pilot.press("escape")
        text = await palette(pilot, "quit", "Quit")
        assert "Quit  Ctrl+Q" in text


async def test_cancel_reply_is_offered_only_while_a_reply_streams(make_app, server, store):
    server.queue(text_stream("anthropic", "word " * 400, chunk_size=5, delay=0.02))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        text = await palette(pilot, "reply", "Copy last reply")
        assert "Cancel reply" not in text  # nothing streams
        await pilot.press("escape")
        await send(pilot, "go on")
        await wait_for(pilot, lambda: app.main.reply is not None)
        text = await palette(pilot, "cancel", "Cancel reply")
        assert "Cancel reply  Esc" in text
        await pilot.press("enter")  # run it
        await reply_done(pilot)
    [thread] = store.list_threads()
    assert store.messages(thread.id)[-1].status == "cancelled"


async def test_escape_while_editing_says_and_does_stop_editing(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(160, 36)) as pilot:  # the whole footer
        await app.main.open_thread("t1")
        await pilot.press("ctrl+up", "up", "e")  # select the prompt, edit it
        await wait_for(pilot, lambda: "esc Stop editing" in screen_text(app))
        assert "Cancel reply" not in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.main.editing is None)
        assert app.main.query_one("#prompt").text == ""
