"""A thread named after its first exchange, in the background, and the app opening on
the last conversation."""

from __future__ import annotations

from ba_tui.pricing import format_cost
from ba_tui.store import Store
from tests.servers import text_stream
from tests.tui.conftest import reply_done, screen_text, send, wait_for


async def test_the_first_answer_renames_the_thread_in_the_list_and_status_line(
    make_app, server, store: Store
):
    server.queue(
        text_stream("anthropic", "Send a reset link that expires in an hour."),
        text_stream("anthropic", '"Password reset flow"'),
    )
    app = make_app(auto_title="model")
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.main.thread is None  # an empty store: a new thread
        await send(pilot, "hi, so, about the login page")
        await reply_done(pilot)
        assert "reset link that expires" in screen_text(app)  # the answer is not held back
        status = app.main.query_one("#status")
        await wait_for(pilot, lambda: status.title == "Password reset flow")
        await wait_for(pilot, lambda: "Password reset flow" in screen_text(app).split("│")[0])
        [thread] = store.list_threads()
        # The thread's spend counts the title request too, as `ba-chat usage` does.
        reply_cost = store.messages(thread.id)[-1].cost
        title_cost = store.side_cost(thread.id)
        assert reply_cost and title_cost
        assert status.spend == f"thread {format_cost(reply_cost + title_cost)}"
    assert thread.title == "Password reset flow"
    assert len(store.messages(thread.id)) == 2  # the title request is not stored
    assert "title" in server.requests[-1].json["messages"][-1]["content"][0]["text"].lower()


async def test_a_title_that_cannot_be_made_keeps_the_prompt_as_title(
    make_app, server, store: Store
):
    server.queue(text_stream("anthropic", "An answer."), text_stream("anthropic", ""))
    app = make_app(auto_title="model")
    async with app.run_test(size=(120, 36)) as pilot:
        await send(pilot, "the prompt as title")
        await reply_done(pilot)
        await wait_for(pilot, lambda: len(server.requests) == 2)
        await pilot.pause(0.2)
        assert app.main.query_one("#status").title == "the prompt as title"
        assert "error" not in screen_text(app).lower()
    assert store.list_threads()[0].title == "the prompt as title"


async def test_the_app_opens_on_the_newest_thread_not_archived(make_app, seeded: Store):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert app.main.thread is not None and app.main.thread.id == "t1"
        assert "A plan" in screen_text(app)
    seeded.update_thread("t1", archived=True)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert app.main.thread is not None and app.main.thread.id == "t2"
        assert "Haiku about SQLite" in app.main.query_one("#status").title
