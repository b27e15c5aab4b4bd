"""Pinning, archiving and filtering threads in the sidebar, and keeping `ask`'s threads
out of it, as a user does with the keys the footer shows."""

from __future__ import annotations

from ba_tui.store import Store
from tests.tui.conftest import screen_text, wait_for


async def _focus_list_on(pilot, thread_id: str) -> None:
    """Tab to the thread list and move the highlight to `thread_id`, as a user does."""
    app = pilot.app
    threads = app.main.query_one("#threads")
    while app.focused is not threads:
        await pilot.press("shift+tab")
    while threads.highlighted != threads.get_option_index(thread_id):
        await pilot.press("down")


def _listed(app) -> list[str]:
    threads = app.main.query_one("#threads")
    return [o.id for o in threads.options if o.id in threads.threads]


async def test_pin_puts_the_thread_first_with_a_mark_and_unpin_puts_it_back(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _focus_list_on(pilot, "t2")
        footer = screen_text(app).splitlines()[-1]
        assert "Pin" in footer and "Archive" in footer  # the list's keys, while it has focus
        await pilot.press("p")
        await wait_for(pilot, lambda: _listed(app) == ["t2", "t1"])
        assert "★ Haiku about SQLite" in screen_text(app)
        assert seeded.get_thread("t2").pinned
        await pilot.press("p")
        await wait_for(pilot, lambda: _listed(app) == ["t1", "t2"])
        assert "★" not in screen_text(app)
    assert not seeded.get_thread("t2").pinned


async def test_archive_hides_the_thread_and_the_archived_view_brings_it_back(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _focus_list_on(pilot, "t2")
        await pilot.press("a")
        await wait_for(pilot, lambda: _listed(app) == ["t1"])
        assert seeded.get_thread("t2").archived
        assert "Haiku about SQLite" not in screen_text(app)

        await pilot.press("v")  # the archived view
        await wait_for(pilot, lambda: _listed(app) == ["t2"])
        assert "Archived threads" in screen_text(app)
        await _focus_list_on(pilot, "t2")
        await pilot.press("a")  # unarchive
        await wait_for(pilot, lambda: _listed(app) == [])
        await pilot.press("v")
        await wait_for(pilot, lambda: _listed(app) == ["t1", "t2"])
    assert not seeded.get_thread("t2").archived


async def test_the_palette_pins_and_archives_the_open_thread(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.main.open_thread("t2")
        await pilot.press("ctrl+p", *"Pin or unpin")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: seeded.get_thread("t2").pinned)
        await pilot.press("ctrl+p", *"Archive or unarchive")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: seeded.get_thread("t2").archived)
        await wait_for(pilot, lambda: _listed(app) == ["t1"])


async def test_typing_in_the_filter_narrows_the_list_and_escape_clears_it(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        threads = app.main.query_one("#threads")
        threads.focus()
        await pilot.press("slash")
        assert app.focused is app.main.query_one("#thread-filter")
        await pilot.press(*"haiKU")
        await wait_for(pilot, lambda: _listed(app) == ["t2"])
        assert "Plan the data migration" not in screen_text(app).split("│")[0]
        await pilot.press("enter")  # to the list, on the first match
        assert app.focused is threads and threads.highlighted_thread.id == "t2"
        await pilot.press("slash", "escape")
        await wait_for(pilot, lambda: _listed(app) == ["t1", "t2"])
        assert app.main.query_one("#thread-filter").value == ""


async def test_ask_threads_can_be_kept_out_of_the_sidebar(make_app, seeded: Store, home):
    from ba_tui.config import set_value

    asked = seeded.create_thread(title="From the shell", provider="openai", model="m", origin="ask")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: asked.id in _listed(app))  # shown by default
        set_value("sidebar_ask_threads", "hide")
        app._settings_closed()  # what closing Settings does after its Save
        await wait_for(pilot, lambda: asked.id not in _listed(app))
        assert _listed(app) == ["t1", "t2"]
    hidden = make_app()
    async with hidden.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert asked.id not in _listed(hidden)
        assert hidden.main.thread is None or hidden.main.thread.id != asked.id


async def test_settings_screen_saves_the_ask_threads_choice(make_app, seeded, home):
    from ba_tui.config import load_config

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SettingsScreen")
        app.screen.query_one("#sidebar-ask-threads").value = "hide"
        app.screen.query_one("#save-defaults").press()
        await pilot.pause()
    assert load_config().data.get("sidebar_ask_threads") == "hide"
