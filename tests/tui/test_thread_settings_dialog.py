"""The open thread's settings, edited in the TUI (Ctrl+G or the palette) at 80×24: bad
values get one line and nothing is saved; saved ones go with the thread's next turn."""

from __future__ import annotations

from ba_tui.store import Store
from tests.servers import text_stream
from tests.tui.conftest import reply_done, screen_text, send, wait_for


async def _fill(pilot, field: str, text: str) -> None:
    """Move to the field with Tab, as a user does, and type over what it holds."""
    app = pilot.app
    target = app.screen.query_one(f"#{field}")
    for _ in range(20):
        if app.focused is target:
            break
        await pilot.press("tab")
    assert app.focused is target
    await pilot.press("ctrl+a", "ctrl+k", *text)


async def test_thread_settings_are_checked_saved_and_sent(make_app, server, seeded: Store):
    server.queue(text_stream("anthropic", "Short answer."))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.main.open_thread("t1")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ThreadSettingsScreen")
        assert "Thread settings: Plan the data migration" in screen_text(app)
        await _fill(pilot, "temperature", "0.3")
        await _fill(pilot, "max_tokens", "lots")
        await _fill(pilot, "schema", "title, priority:int")
        assert app.screen.query_one("#schema").region.bottom <= 24  # scrolled to, on screen
        await pilot.press("ctrl+s")
        await pilot.pause()
        shown = screen_text(app)
        assert "Max tokens must be a whole number, not “lots”." in shown
        assert "Save" in shown and "Cancel" in shown
        assert seeded.get_thread("t1").settings is None  # nothing saved
        await _fill(pilot, "max_tokens", "500")
        app.screen.query_one("#system").text = "Answer in one line."
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MainScreen")
        thread = seeded.get_thread("t1")
        assert thread.settings == {
            "temperature": 0.3,
            "max_tokens": 500,
            "schema": "title, priority:int",
        }
        assert thread.system == "Answer in one line."
        await pilot.press("ctrl+g")  # opened again: it shows what was saved
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ThreadSettingsScreen")
        assert app.screen.query_one("#temperature").value == "0.3"
        await _fill(pilot, "schema", "")
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MainScreen")
        assert seeded.get_thread("t1").settings["schema"] == "title, priority:int"  # Esc: kept

        # Without the schema (its answers are data, not this reply's plain text).
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ThreadSettingsScreen")
        await _fill(pilot, "schema", "")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MainScreen")
        assert seeded.get_thread("t1").settings == {"temperature": 0.3, "max_tokens": 500}
        await send(pilot, "Next step?")
        await reply_done(pilot)
    sent = server.requests[-1].json
    assert sent["temperature"] == 0.3 and sent["max_tokens"] == 500
    assert "Answer in one line." in str(sent["system"])


async def test_a_bad_schema_is_one_line_and_the_palette_opens_the_dialog(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.main.open_thread("t2")
        await pilot.press("ctrl+p", *"thread settings")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ThreadSettingsScreen")
        await _fill(pilot, "schema", "{not json")
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = str(app.screen.query_one("#error").render())
        assert error.startswith("Schema: ") and "\n" not in error.strip()
        assert type(app.screen).__name__ == "ThreadSettingsScreen"
    assert seeded.get_thread("t2").settings is None


async def test_a_new_thread_has_no_settings_to_edit_yet(make_app, store):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert type(app.screen).__name__ == "MainScreen"
        assert any("send a first prompt" in n.message for n in app._notifications)


async def test_a_saved_schema_is_chosen_from_a_list(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.main.open_thread("t2")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ThreadSettingsScreen")
        saved = app.screen.query_one("#schema-saved")
        saved.scroll_visible(animate=False)
        await pilot.pause()
        assert "Saved schema " in screen_text(app)  # the label is not run into its field
        options = [saved._options[i][1] for i in range(len(saved._options))]
        assert {"user_stories", "acceptance_criteria", "risks"} <= set(options)
        saved.value = "risks"
        await pilot.pause()
        assert app.screen.query_one("#schema").value == "risks"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MainScreen")
        await pilot.press("ctrl+g")  # again: the saved schema is shown chosen
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ThreadSettingsScreen")
        assert app.screen.query_one("#schema-saved").value == "risks"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MainScreen")
    assert seeded.get_thread("t2").settings == {"schema": "risks"}
