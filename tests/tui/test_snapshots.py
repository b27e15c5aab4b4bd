"""SVG snapshots of the main screen, the picker and the settings screen.

The store is seeded with fixed ids and times and the app's clock is fixed, so relative
times never drift. Update after a deliberate change: pytest tests/tui --snapshot-update.
"""

from __future__ import annotations

from tests.tui.conftest import wait_for

SIZE = (110, 32)


def test_main_screen(snap_compare, make_app, seeded):
    app = make_app()

    async def open_thread(pilot):
        await pilot.pause()
        # A blinking cursor is drawn or not depending on when the picture is taken.
        app.main.query_one("#prompt").cursor_blink = False
        await app.main.open_thread("t1")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_thread)


def test_model_picker(snap_compare, make_app, seeded):
    app = make_app()

    async def open_picker(pilot):
        await pilot.pause()
        await app.main.open_thread("t1")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: getattr(app.screen, "key_status", None))
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_picker)


def test_settings_screen(snap_compare, make_app, seeded):
    app = make_app()

    def keys_checked() -> bool:
        statuses = app.screen.query(".key-status")
        return bool(statuses) and all("checking" not in str(s.render()) for s in statuses)

    async def open_settings(pilot):
        await pilot.press("ctrl+s")
        await wait_for(pilot, keys_checked)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(110, 40), run_before=open_settings)
