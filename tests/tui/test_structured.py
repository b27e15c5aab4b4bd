"""A thread given a schema: its answers are asked for as data, shown as a table once they
fit, and copied as CSV with one key in message-select mode."""

from __future__ import annotations

import json

from tests.servers import text_stream
from tests.tui.conftest import reply_done, screen_text, send, wait_for


async def test_a_thread_with_a_schema_shows_answers_as_a_table(make_app, server, store):
    thread = store.create_thread(
        title="Stories",
        provider="openai",
        model="gpt-4o-mini",
        settings={"schema": "user_stories"},
    )
    story = {
        "title": "Reset password",
        "as_a": "customer",
        "i_want": "a reset link",
        "so_that": "I can sign in",
        "priority": "must",
        "acceptance_criteria": ["link sent", "expires in 30 minutes"],
    }
    server.queue(text_stream("openai", json.dumps(story)))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.main.open_thread(thread.id)
        await send(pilot, "One story for password reset")
        await reply_done(pilot)
        await wait_for(pilot, lambda: "acceptance_criteria" in screen_text(app))
        shown = screen_text(app)
        assert '{"title"' not in shown  # a table, not the JSON that streamed
        assert "link sent; expires in 30 minutes" in shown
        sent = server.requests[-1].json["response_format"]["json_schema"]
        assert sent["name"] == "user_stories"
        await pilot.press("ctrl+up", "v")
        await wait_for(pilot, lambda: app.clipboard.startswith("title,"))
        assert "Reset password" in app.clipboard.splitlines()[1]
    [reply] = [m for m in store.messages(thread.id) if m.role == "assistant"]
    assert reply.schema["valid"] and reply.schema["name"] == "user_stories"
