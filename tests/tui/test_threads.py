"""The thread list as a user drives it: acting on the highlighted thread, threads other
processes write, titles whatever their characters."""

from __future__ import annotations

import asyncio

import pytest

from ba_tui.store import Store
from tests.conftest import run_cli
from tests.servers import text_stream
from tests.tui.conftest import screen_text, wait_for


async def _highlight_second_thread(pilot) -> None:
    """Open thread A (t1), then Tab to the list and Down to thread B (t2), as a user does."""
    app = pilot.app
    await app.main.open_thread("t1")
    threads = app.main.query_one("#threads")
    while app.focused is not threads:
        await pilot.press("shift+tab")
    assert threads.highlighted == threads.get_option_index("t1")
    await pilot.press("down")
    assert threads.highlighted == threads.get_option_index("t2")


async def test_delete_in_the_list_asks_about_and_deletes_the_highlighted_thread(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _highlight_second_thread(pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
        shown = screen_text(app)
        assert "Delete the thread “Haiku about SQLite”" in shown
        assert "Plan the data migration” and" not in shown
        await pilot.press("enter")  # the default button is Cancel
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MainScreen")
        assert {t.id for t in seeded.list_threads()} == {"t1", "t2"}

        await pilot.press("d")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
        assert "Delete the thread “Haiku about SQLite”" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: "t2" not in app.main.query_one("#threads").threads)
        assert app.main.thread is not None and app.main.thread.id == "t1"  # still open
        assert "A plan" in screen_text(app)
    assert [t.id for t in seeded.list_threads()] == ["t1"]
    assert [m.id for m in seeded.messages("t1")] == ["m1", "m2"]


async def test_delete_with_the_key_deletes_the_highlighted_thread_too(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _highlight_second_thread(pilot)
        await pilot.press("delete")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
        assert "Delete the thread “Haiku about SQLite”" in screen_text(app)
        await pilot.press("tab", "enter")  # Tab back to the red button, then press it
        await wait_for(pilot, lambda: "t2" not in app.main.query_one("#threads").threads)
    assert [t.id for t in seeded.list_threads()] == ["t1"]


@pytest.mark.parametrize("key", ["f2", "R"])
async def test_rename_in_the_list_renames_the_highlighted_thread(make_app, seeded, key):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _highlight_second_thread(pilot)
        await pilot.press(key)
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RenameScreen")
        assert app.screen.query_one("#title").value == "Haiku about SQLite"
        await pilot.press("ctrl+a", "ctrl+k", *"Poems", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MainScreen")
        assert app.main.thread.id == "t1"  # the open thread stays open, with its title
        assert app.main.query_one("#status").title == "Plan the data migration"
    assert seeded.get_thread("t2").title == "Poems"
    assert seeded.get_thread("t1").title == "Plan the data migration"


async def test_keys_outside_the_list_still_act_on_the_open_thread(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _highlight_second_thread(pilot)
        await pilot.click("#prompt")  # the highlight stays on B, but the user left the list
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RenameScreen")
        assert app.screen.query_one("#title").value == "Plan the data migration"


async def test_threads_another_process_writes_appear_and_the_highlight_stays(
    make_app, seeded, home
):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _highlight_second_thread(pilot)
        threads = app.main.query_one("#threads")
        with Store.open(home / "ba-chat.db") as other:  # another process's connection
            made = other.create_thread(
                title="Written elsewhere", provider="openai", model="gpt-4.1"
            )
            other.add_message(made.id, role="user", content="hi from a script", parent_id=None)
            other.update_thread("t1", title="Renamed elsewhere")
        await wait_for(pilot, lambda: made.id in threads.threads)
        shown = screen_text(app)
        assert "Written elsewhere" in shown and "Renamed elsewhere" in shown
        order = [threads.get_option_at_index(i).id for i in range(1, threads.option_count)]
        assert order == ["t1", made.id, "t2"]  # newest first
        assert threads.highlighted_thread.id == "t2"  # the highlight did not move
        assert app.focused is threads
        await wait_for(pilot, lambda: app.main.query_one("#status").title == "Renamed elsewhere")

        with Store.open(home / "ba-chat.db") as other:
            other.delete_thread(made.id)
        await wait_for(pilot, lambda: made.id not in threads.threads)
        assert "Written elsewhere" not in screen_text(app)
        assert threads.highlighted_thread.id == "t2"


async def test_the_open_thread_shows_a_turn_another_process_added(
    make_app, seeded, server, tui_env
):
    server.queue(text_stream("anthropic", "An answer from the command line."))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.main.open_thread("t1")
        done = await asyncio.to_thread(
            run_cli, "ask", "--thread", "t1", "and from a script?", env=tui_env
        )
        assert done.returncode == 0, done.stderr
        await wait_for(pilot, lambda: "An answer from the command line." in screen_text(app))
        shown = screen_text(app)
        assert "and from a script?" in shown and "A plan" in shown
        assert app.main.thread.message_count == 4
