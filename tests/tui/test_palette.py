"""The command palette (Ctrl+P) as a user reads it: each entry with its key, and only the
entries that can run now."""

from __future__ import annotations

import os
import stat
from dataclasses import replace

from tests.servers import text_stream
from tests.tui.conftest import reply_done, screen_text, send, wait_for


async def palette(pilot, query: str, shown: str) -> str:
    """Open the palette, type `query`, wait for `shown` to be listed; the screen's text."""
    await pilot.press("ctrl+p", *query)
    await wait_for(pilot, lambda: shown in screen_text(pilot.app))
    return screen_text(pilot.app)


def toast_text(app) -> str:
    """The notification's words, rejoined: what follows the toast's left edge per row."""
    rows = [line.split("▌", 1)[1] for line in screen_text(app).splitlines() if "▌" in line]
    return "".join(row.rstrip(" ╮│╯").strip() for row in rows)


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
    # 40 chunks, then silence until the test is done: however slowly a loaded machine
    # types into the palette, the reply is still streaming when it is cancelled.
    reply = text_stream("anthropic", "word " * 400, chunk_size=5, delay=0.02)
    server.queue(replace(reply, stall_after=40, stall_seconds=120))
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


async def test_a_screenshot_is_saved_in_the_data_folder_and_says_where(make_app, home):
    app = make_app()
    umask = os.umask(0o022)  # the usual one: a picture of a conversation stays private
    try:
        async with app.run_test(size=(120, 36), notifications=True) as pilot:
            await palette(pilot, "screenshot", "Screenshot")
            await pilot.press("enter")
            folder = home / "screenshots"
            await wait_for(pilot, lambda: "Screenshot saved to" in screen_text(app))
            [saved] = folder.glob("*.svg")
            assert "<svg" in saved.read_text()
            assert f"Screenshot saved to{saved}" in toast_text(app)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600


async def test_a_screenshot_that_cannot_be_saved_says_why(make_app, home):
    (home / "screenshots").write_text("a file where the folder would be")
    app = make_app()
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await palette(pilot, "screenshot", "Screenshot")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Could not save a screenshot" in screen_text(app))
        assert app.is_running


async def test_the_keys_panel_closes_on_escape(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await palette(pilot, "keys", "Keys")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.query("HelpPanel"))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.screen.query("HelpPanel"))
        assert app.focused is app.main.query_one("#prompt")  # typing goes on where it was


async def test_editing_keeps_the_title_in_the_status_line_and_says_what_keys_do(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.main.open_thread("t1")
        await pilot.press("ctrl+up", "up", "e")
        await wait_for(pilot, lambda: app.main.editing is not None)
        await pilot.pause()
        [status] = [row for row in screen_text(app).splitlines() if "claude-sonnet-5-5  " in row]
        assert "Plan the data migration" in status
        assert "Enter sends it as a new branch · Esc stops editing" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: "Esc stops editing" not in screen_text(app))
