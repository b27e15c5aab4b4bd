"""The usage screen: spend and tokens per day and per provider as bars, from the palette."""

from __future__ import annotations

from tests.tui.conftest import screen_text, wait_for


async def test_the_usage_screen_draws_spend_and_tokens_per_day_and_provider(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"Usage")
        await wait_for(pilot, lambda: "Spend and tokens" in screen_text(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "UsageScreen")
        await pilot.press("a")
        await wait_for(pilot, lambda: "Usage over all time" in screen_text(app))
        shown = screen_text(app)
        assert "Per day" in shown and "Per provider" in shown
        assert "Per day since" not in shown  # all time has no start to name
        assert "anthropic" in shown and "TOKENS IN+OUT" in shown
        await pilot.press("7")
        await wait_for(pilot, lambda: "the last 7 days" in screen_text(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MainScreen")
