"""ChatSession: where a turn goes and what it is sent with, for the CLI and the TUI alike.
Real adapters talk to the fake server; what is asserted is what was sent and stored."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ba_tui.attachments import load
from ba_tui.config import load_config
from ba_tui.events import Saved
from ba_tui.session import ChatSession, NewThread, title_for
from tests import attachfiles
from tests.conftest import make_env, run_cli
from tests.servers import text_stream
from tests.wire import expected


def sent_messages(server) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in server.requests[-1].json["messages"]]


async def test_a_new_conversation_is_stored_with_its_first_prompt(setup):
    server, store, config = setup
    server.queue(text_stream("openai", "Hello there."))
    new = NewThread(system="Be terse.", persona="analyst")
    threads: list = []
    session = ChatSession(config, store, new=new, on_thread=threads.append)
    events: list = []
    target = session.target("openai", "gpt-4o-mini")
    assert store.list_threads() == []  # choosing a target stores nothing
    turn = await session.send("Plan the\nmigration", target, on_event=events.append)
    [thread] = store.list_threads()
    assert (thread.title, thread.system, thread.persona) == ("Plan the", "Be terse.", "analyst")
    assert (thread.provider, thread.model) == ("openai", "gpt-4o-mini")
    assert threads == [session.thread] and session.thread.id == thread.id
    [saved] = [e for e in events if isinstance(e, Saved)]
    user, reply = store.messages(thread.id)
    assert (saved.thread_id, saved.user_id, saved.reply_id) == (thread.id, user.id, reply.id)
    assert (turn.status, reply.content, reply.parent_id) == ("complete", "Hello there.", user.id)
    assert sent_messages(server) == [("system", "Be terse."), ("user", "Plan the\nmigration")]


async def test_continuing_sends_the_history_and_follows_a_new_model(setup):
    server, store, config = setup
    server.queue(text_stream("openai", "One."), text_stream("anthropic", "Two."))
    first = ChatSession(config, store)
    await first.send("Count", first.target("openai", "gpt-4o-mini"))
    later = ChatSession(config, store, store.latest_thread())  # `ask -c` in a new process
    target = later.target("anthropic", "claude-sonnet-4-6")
    await later.send("Again", target)
    body = server.requests[-1].json
    texts = [m["content"] if isinstance(m["content"], str) else m["content"][0]["text"]
             for m in body["messages"]]  # fmt: skip
    assert texts == ["Count", "One.", "Again"]
    thread = store.latest_thread()
    assert (thread.provider, thread.model) == ("anthropic", "claude-sonnet-4-6")
    assert later.target().provider == "anthropic"  # the next turn stays there


async def test_regenerating_answers_the_same_prompt_beside_the_first_reply(setup):
    server, store, config = setup
    server.queue(text_stream("openai", "First."), text_stream("openai", "Second."))
    session = ChatSession(config, store)
    target = session.target("openai", "gpt-4o-mini")
    await session.send("Name a colour", target)
    user, _ = store.messages(session.thread.id)
    await session.send(None, target, parent_id=user.id)
    replies = [m for m in store.messages(session.thread.id) if m.role == "assistant"]
    assert [r.content for r in replies] == ["First.", "Second."]
    assert {r.parent_id for r in replies} == {user.id}
    assert sent_messages(server) == [("user", "Name a colour")]


async def test_a_comparison_keeps_the_threads_model_until_one_answer_is_kept(setup):
    server, store, config = setup
    server.queue(text_stream("openai", "Start."))
    session = ChatSession(config, store)
    await session.send("Hi", session.target("openai", "gpt-4o-mini"))
    # Both run at once, so each gets its provider's recorded reply, not a queued one.
    targets = [session.target("anthropic", "claude-sonnet-4-6"), session.target("gemini", None)]
    turns = await session.compare("Which?", targets)
    assert [(t.provider, t.status) for t in turns] == [
        ("anthropic", "complete"),
        ("gemini", "complete"),
    ]
    assert turns[0].text == expected("anthropic_stream_text.sse").text and turns[1].text
    thread = store.get_thread(session.thread.id)
    assert (thread.provider, thread.model) == ("openai", "gpt-4o-mini")
    prompt = [m for m in store.messages(thread.id) if m.content == "Which?"]
    siblings = [m for m in store.messages(thread.id) if m.parent_id == prompt[0].id]
    assert len(siblings) == 2


async def test_without_a_store_nothing_is_written(setup, home: Path):
    server, store, config = setup
    server.queue(text_stream("openai", "Ok."))
    session = ChatSession(config, None, new=NewThread(system="S"))
    turn = await session.send("x", session.target("openai", "gpt-4o-mini"))
    assert (turn.text, turn.thread_id, turn.message_id) == ("Ok.", None, None)
    assert store.list_threads() == []
    assert sent_messages(server) == [("system", "S"), ("user", "x")]


def test_a_title_is_the_first_line_that_says_something():
    assert title_for("\n\n  Meeting notes:  \nmore") == "Meeting notes:"
    assert title_for("   ") == "untitled"
    long = "word " * 30
    assert len(title_for(long)) == 60 and title_for(long).endswith("…")


def test_a_models_title_is_cleaned_and_a_sentence_is_not_taken_for_one():
    from ba_tui.session import clean_title

    assert clean_title('**Title:** "Password reset flow".') == "Password reset flow"
    assert clean_title("Sure! Here is a title:\n\nQuarterly budget review") == (
        "Quarterly budget review"
    )
    answered = "A user story is a short description of a feature told from the user's view."
    assert clean_title(answered) is None  # the model answered instead: keep the prompt
    assert clean_title("Sure, I can help with that.") is None
    assert clean_title("  \n ") is None


async def test_a_thread_is_retitled_from_its_first_exchange(setup):
    server, store, config = setup
    server.queue(
        text_stream("openai", "Use a reset link that expires."),
        text_stream("openai", '**Title: "Password reset flow".**'),
    )
    renamed: list = []
    session = ChatSession(config, store, on_thread=renamed.append)
    await session.send("hi, so, about the login page", session.target("openai", "gpt-4o-mini"))
    thread = await session.retitle()
    assert thread is not None and thread.title == "Password reset flow"
    assert store.get_thread(thread.id).title == "Password reset flow"
    assert renamed[-1] == thread
    asked = server.requests[-1].json["messages"]
    assert [m["role"] for m in asked] == ["user", "assistant", "user"]
    assert "title" in asked[-1]["content"].lower()
    assert len(store.messages(thread.id)) == 2  # the title request is not stored
    # Only after the first exchange: later turns keep the title.
    server.queue(text_stream("openai", "More."))
    await session.send("and the rest?", session.target())
    before = len(server.requests)
    assert await session.retitle() is None and len(server.requests) == before


async def test_what_a_title_costs_counts_in_usage_and_the_monthly_spend(setup):
    """The title request is billed like any other: `ba-chat usage` and the budget see it
    (as a request of its own, not a message), and deleting the thread takes it away too."""
    server, store, config = setup
    server.queue(
        text_stream("openai", "Use a reset link that expires."),
        text_stream("openai", "Password reset flow"),
    )
    session = ChatSession(config, store)
    await session.send("hi, so, about the login page", session.target("openai", "gpt-4o"))
    [reply] = store.usage()
    spent = store.spend_since("")
    assert reply["requests"] == 1 and spent > 0
    assert (await session.retitle()).title == "Password reset flow"
    [both] = store.usage(by="model")
    assert both["key"] == "openai · gpt-4o" and both["requests"] == 2
    # The fake server counts 12 prompt tokens a request, and a token an output chunk.
    assert both["input_tokens"] == reply["input_tokens"] + 12
    assert both["output_tokens"] > reply["output_tokens"]
    assert store.spend_since("") > spent and both["cost"] == pytest.approx(store.spend_since(""))
    assert (reply["side_requests"], both["side_requests"]) == (0, 1)
    # `ba-chat usage` says which of its requests were ba-chat's own.
    shown = run_cli("usage", env=make_env(server.url, store.path.parent))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[1].startswith("openai") and lines[1].split()[1] == "2"
    assert lines[-1] == "(REQ counts 1 request ba-chat made to title threads)"
    store.delete_thread(session.thread.id)
    assert store.usage() == [] and store.spend_since("") == 0


async def test_auto_title_off_sends_nothing(setup, home):
    server, store, _ = setup
    (home / "config.toml").write_text('auto_title = "off"\n')
    config = load_config()
    server.queue(text_stream("openai", "Answer."))
    session = ChatSession(config, store)
    await session.send("first line as title", session.target("openai", "gpt-4o-mini"))
    assert await session.retitle() is None
    assert len(server.requests) == 1 and store.latest_thread().title == "first line as title"


def _awaiting(task: asyncio.Task) -> list[str]:
    """The coroutines `task` is suspended in, outermost first."""
    names, coro = [], task.get_coro()
    while coro is not None and hasattr(coro, "cr_code"):
        names.append(coro.cr_code.co_name)
        coro = coro.cr_await
    return names


async def test_a_stop_while_the_files_are_stored_keeps_the_prompt_and_closes_the_reply(
    setup, tmp_path: Path
):
    """A prompt's files are stored from a thread (not to freeze the TUI); a stop meanwhile
    waits for that write to end, then closes the reply as cancelled: nothing is left
    `streaming`, and nothing is sent."""
    server, store, config = setup
    attachfiles.png(tmp_path / "form.png")
    item = load(str(tmp_path / "form.png"))
    session = ChatSession(config, store)
    target = session.target("anthropic", "claude-sonnet-5-5")
    with store._lock:  # a write under way: the thread waits for it (this thread need not)
        task = asyncio.create_task(session.send("What is it?", target, attached=[item]))
        for _ in range(1000):
            await asyncio.sleep(0.01)
            if "written" in _awaiting(task):
                break
        assert "written" in _awaiting(task)
        task.cancel()
        await asyncio.sleep(0.05)
        assert not task.done()  # the stop waits for the write
    with pytest.raises(asyncio.CancelledError):
        await task
    user, reply = store.messages(store.list_threads()[0].id)
    assert [p.type for p in user.parts] == ["attachment", "text"]
    assert (reply.status, reply.parent_id, reply.content) == ("cancelled", user.id, "")
    assert server.requests == []
