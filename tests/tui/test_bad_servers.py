"""Servers that break the protocol or never stop, in the TUI: what the user sees and what
is stored. The same servers through `ask` are in tests/test_bad_servers.py."""

from __future__ import annotations

from ba_tui.tui.widgets.message import AssistantMessage
from tests.servers import drip, fixture, html_page
from tests.tui.conftest import reply_done, screen_text, send, wait_for


def last_reply(store):
    [thread] = store.list_threads()
    return store.messages(thread.id)[-1]


async def test_a_502_page_is_retried_and_the_notice_says_server_error(make_app, server, store):
    server.queue(html_page(502), fixture("openai_stream_usage.sse"))
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        app.main.set_model("openai", "gpt-4o-mini")
        await send(pilot, "hi")
        status = app.main.query_one("#status")
        await wait_for(pilot, lambda: "retrying" in status.state)
        assert status.state.startswith("openai server error 502, retrying in")
        assert status.state in screen_text(app)
        await reply_done(pilot)
    assert last_reply(store).status == "complete"
    assert len(server.requests) == 2


async def test_a_dripping_reply_stops_at_max_reply_seconds(make_app, server, store, home):
    (home / "config.toml").write_text("max_reply_seconds = 2\n")
    server.queue(drip("anthropic", every=0.2))
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        app.main.set_model("anthropic", "claude-sonnet-4-5")
        await send(pilot, "hi")
        await wait_for(pilot, lambda: app.main.query(AssistantMessage), timeout=10)
        await reply_done(pilot)
        [view] = app.main.query(AssistantMessage)
        line = str(view.query_one(".message-error").render())
        assert "took longer than max_reply_seconds (2 s)" in line
        assert "◐ partial" in screen_text(app)
        assert app.is_running
    reply = last_reply(store)
    assert reply.status == "partial" and reply.content.startswith("drip")
    assert "max_reply_seconds" in reply.error
