"""Compare in the TUI: one prompt streams into a column per model, the user keeps one
answer and the thread goes on from it. Real SDKs against the fake provider server."""

from __future__ import annotations

import json

from ba_tui.tui.screens.compare import CompareScreen
from ba_tui.tui.screens.compare_setup import LAST_CHOICE, CompareSetup
from ba_tui.tui.screens.main import MainScreen
from tests.tui.conftest import screen_text, send, wait_for

ANTHROPIC = "claude-sonnet-5-5"
OPENAI = "gpt-5.4-mini-2026-03-17"
# The fake server's default answers (fixtures) for each provider.
ANTHROPIC_SAYS = "A user story is a short, plain-language"
OPENAI_SAYS = "A user story describes a feature"


async def open_setup(pilot, prompt: str) -> CompareSetup:
    """Type `prompt`, press Ctrl+T; returns the setup once its models are listed."""
    app = pilot.app
    await pilot.click("#prompt")
    await pilot.press(*prompt, "ctrl+t")
    await wait_for(pilot, lambda: isinstance(app.screen, CompareSetup) and app.screen.available)
    return app.screen


async def compare_done(pilot) -> CompareScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CompareScreen))
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.state == "done", timeout=30)
    await pilot.pause()
    return screen


def asked_with(server, prompt: str) -> list[str]:
    """The model of every request whose body carries `prompt`."""
    return [r.json.get("model") or r.path for r in server.requests if prompt in json.dumps(r.json)]


async def test_compare_two_models_keep_the_second_and_continue(make_app, server, store):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        setup = await open_setup(pilot, "Define a user story")
        assert setup.chosen == [("anthropic", ANTHROPIC)]  # the thread's model, preselected
        await pilot.press("enter")  # one model is not a comparison
        assert isinstance(app.screen, CompareSetup)
        assert "at least two" in str(setup.query_one("#compare-hint").render())
        await pilot.press(*"mini")  # typing filters, even with the list focused
        await pilot.press("down", "space", "enter")

        await compare_done(pilot)
        shown = screen_text(app)
        assert "1 anthropic · claude-sonnet-5-5" in shown and f"2 openai · {OPENAI}" in shown
        assert ANTHROPIC_SAYS in shown and OPENAI_SAYS in shown
        assert "ttft " in shown and "Keep one answer to go on" in shown
        await pilot.press("2")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.pause()
        main = app.main
        assert (main.provider, main.model) == ("openai", OPENAI)
        shown = screen_text(app)
        assert OPENAI_SAYS in shown and ANTHROPIC_SAYS not in shown
        assert "‹ 2/2 ›" in shown  # the other answer is a variant of it

        await send(pilot, "and an epic?")
        await wait_for(pilot, lambda: main.reply is None and main.leaf_id is not None)
        await wait_for(pilot, lambda: len(store.messages(main.thread.id)) == 5)

    # Each model once for the comparison, then the kept one again with the history.
    assert sorted(asked_with(server, "Define a user story")) == sorted([ANTHROPIC, OPENAI, OPENAI])
    [thread] = store.list_threads()
    assert (thread.title, thread.provider, thread.model) == (
        "Define a user story",
        "openai",
        OPENAI,
    )
    user, *replies, _, _ = store.messages(thread.id)
    first, second = sorted(replies, key=lambda m: m.provider or "")
    assert first.parent_id == second.parent_id == user.id  # siblings under one prompt
    assert (first.provider, second.provider) == ("anthropic", "openai")
    assert first.status == second.status == "complete" and first.cost and second.cost
    # The next turn went to the kept model, with the kept answer as history.
    last = server.requests[-1]
    assert last.json["model"] == OPENAI
    sent = [m["content"] for m in last.json["messages"]]
    assert sent[0] == "Define a user story" and sent[1].startswith(OPENAI_SAYS)
    assert sent[-1] == "and an epic?" and not any(ANTHROPIC_SAYS in s for s in sent)
    assert store.get_kv(LAST_CHOICE) == f"anthropic:{ANTHROPIC}\nopenai:{OPENAI}"


async def test_a_failing_model_does_not_stop_the_others(make_app, server, store):
    store.set_kv(LAST_CHOICE, f"anthropic:{ANTHROPIC}\nopenai:{OPENAI}\ngemini:overloaded-model")
    app = make_app()
    async with app.run_test(size=(150, 40)) as pilot:
        setup = await open_setup(pilot, "three ways")
        assert len(setup.chosen) == 3  # the last choice is remembered
        await pilot.press("enter")
        screen = await compare_done(pilot)
        shown = screen_text(app)
        assert ANTHROPIC_SAYS in shown and OPENAI_SAYS in shown
        assert "✗ gemini is overloaded" in shown and "✗ error" in shown
        await pilot.press("3")  # nothing to continue from
        await pilot.pause()
        assert app.screen is screen
        assert any("Answer 3 has nothing" in n.message for n in app._notifications)
        await pilot.press("escape")  # back: every answer stays a variant
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.pause()
        assert ANTHROPIC_SAYS in screen_text(app)  # the first answer that can go on

    [thread] = store.list_threads()
    user, *replies = store.messages(thread.id)
    assert sorted((m.provider, m.status) for m in replies) == [
        ("anthropic", "complete"),
        ("gemini", "error"),
        ("openai", "complete"),
    ]
    assert {m.parent_id for m in replies} == {user.id}
    assert thread.provider == "anthropic"  # nothing kept: the thread's model is unchanged


async def test_escape_cancels_every_column_and_keeps_what_arrived(make_app, server, store):
    server.delay = 0.15  # every event of the default streams is 0.15 s apart
    store.set_kv(LAST_CHOICE, f"anthropic:{ANTHROPIC}\nopenai:{OPENAI}")
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await open_setup(pilot, "slowly")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        screen = app.screen
        await wait_for(
            pilot,
            lambda: all(c.reply.answer.text for c in screen.columns),
            timeout=30,
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.state == "done")
        await pilot.pause()
        assert screen_text(app).count("⊘ cancelled") == 2
        await pilot.press("1")  # a cut answer can still be kept
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    [thread] = store.list_threads()
    replies = [m for m in store.messages(thread.id) if m.role == "assistant"]
    assert [m.status for m in replies] == ["cancelled", "cancelled"]
    assert all(m.content for m in replies)  # what arrived is kept


async def test_compare_in_an_existing_thread_sends_its_history(make_app, server, seeded):
    seeded.set_kv(LAST_CHOICE, f"anthropic:{ANTHROPIC}\nopenai:{OPENAI}")
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await app.main.open_thread("t1")
        await open_setup(pilot, "and the rollback?")
        await pilot.press("enter")
        await compare_done(pilot)
        await pilot.press("1")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    bodies = [r.json for r in server.requests if "and the rollback?" in json.dumps(r.json)]
    assert len(bodies) == 2
    for body in bodies:
        contents = json.dumps(body["messages"])
        assert "How do I migrate 2 TB" in contents and "Snapshot" in contents
    added = [m for m in seeded.messages("t1") if m.parent_id == "m2"]
    assert [m.content for m in added] == ["and the rollback?"]


async def test_a_model_without_a_key_is_one_line_in_its_column(
    make_app, server, store, monkeypatch
):
    monkeypatch.delenv("GEMINI_API_KEY")
    store.set_kv(LAST_CHOICE, f"gemini:gemini-3.5-flash\nopenai:{OPENAI}")
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        setup = await open_setup(pilot, "keyless")
        assert len(setup.chosen) == 2  # remembered, though gemini has no key now
        await pilot.press("enter")
        screen = await compare_done(pilot)
        assert "✗ no API key for gemini" in screen_text(app)
        assert OPENAI_SAYS in screen_text(app)
        assert screen.selected == 1  # the answer that can be kept is selected
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
    assert [r.json["model"] for r in server.requests] == [OPENAI]  # nothing without a key
    [thread] = store.list_threads()
    assert (thread.provider, thread.model) == ("openai", OPENAI)


async def test_a_long_answer_can_be_scrolled_back_to_its_start(make_app, server, store):
    from tests.servers import text_stream

    long = "".join(
        f"Paragraph {i}: the quick brown fox jumps over the dog.\n\n" for i in range(150)
    )
    # Slow enough for many flushes: the answer is built in chunks, and the chunks far
    # from the screen drop their widgets.
    server.queue(*(text_stream("anthropic", long, chunk_size=40, delay=0.01) for _ in range(2)))
    store.set_kv(LAST_CHOICE, f"anthropic:{ANTHROPIC}\nanthropic:claude-opus-5-5")
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await open_setup(pilot, "go long")
        await pilot.press("enter")
        screen = await compare_done(pilot)
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert shown.count("Paragraph 149:") == 2  # both columns show their end...
        assert shown.count("ttft ") == 2  # ...and their footers
        # Far chunks are dropped once their heights are measured (after the last resize).
        chunks = screen.columns[0].reply.answer._chunks
        await wait_for(pilot, lambda: not all(chunk.shown for chunk in chunks))
        body = screen.columns[0].body

        def left_shows_text() -> bool:
            left = [line[:70] for line in screen_text(app).splitlines()[5:-1]]
            return any("Paragraph" in line for line in left)

        while body.scroll_y > 0:  # page up the first column: every page fills with text
            await pilot.press("pageup")
            await wait_for(pilot, left_shows_text, timeout=5)
        assert "Paragraph 0:" in screen_text(app)


async def test_a_big_pasted_prompt_is_compared_whole(make_app, server, store):
    from textual.events import Paste

    store.set_kv(LAST_CHOICE, f"anthropic:{ANTHROPIC}\nopenai:{OPENAI}")
    big = "log line\n" * 5_000
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.click("#prompt")
        await pilot.press(*"why? ")
        app.post_message(Paste(big))
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareSetup) and app.screen.chosen)
        await pilot.press("enter")
        await compare_done(pilot)
        assert "[pasted" not in screen_text(app)  # the prompt is shown, shortened
    prompts = [r.json["messages"][-1]["content"] for r in server.requests]
    texts = [p if isinstance(p, str) else p[-1]["text"] for p in prompts]
    assert texts == [f"why? {big}"] * 2
    [thread] = store.list_threads()
    assert store.messages(thread.id)[0].content == f"why? {big}"


async def test_escape_after_a_comparison_shows_the_model_the_thread_goes_on_with(
    make_app, server, seeded
):
    seeded.set_kv(LAST_CHOICE, f"openai:{OPENAI}\ngemini:gemini-3.5-flash")
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await app.main.open_thread("t1")  # on anthropic
        await open_setup(pilot, "and the rollback?")
        await pilot.press("enter")
        await compare_done(pilot)
        await pilot.press("escape")  # back: every answer stays a variant
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.pause()
        shown = screen_text(app)
        status = app.main.query_one("#status")
        assert OPENAI_SAYS in shown  # the thread goes on from the first answer...
        assert (status.provider, status.model) == ("openai", OPENAI)  # ...with its model
        assert (app.main.provider, app.main.model) == ("openai", OPENAI)
        await send(pilot, "next")
        await wait_for(pilot, lambda: app.main.reply is None and "next" in asked_text(server))
    assert server.requests[-1].json["model"] == OPENAI  # where the top bar said it goes


def asked_text(server) -> str:
    return json.dumps(server.requests[-1].json) if server.requests else ""
