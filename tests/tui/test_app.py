"""The TUI as a user drives it (Textual pilot) against the fake provider server."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ba_tui.tui.widgets.message import AssistantMessage
from ba_tui.tui.widgets.thread_list import PAGE
from tests.servers import fixture, text_stream
from tests.tui.conftest import rendered_segments, reply_done, screen_text, send, wait_for

ROOT = Path(__file__).resolve().parents[2]
ANSWER = "Hello **there**.\n\n- first point\n- second point\n\n```python\nprint('hi')\n```\n"


async def test_send_streams_the_answer_with_its_footer_and_saves_it(make_app, server, store):
    server.queue(text_stream("anthropic", ANSWER, reasoning="Let me think about it."))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await send(pilot, "Say hello")
        await reply_done(pilot)
        shown = screen_text(app)
        assert "Hello there." in shown and "• first point" in shown and "print('hi')" in shown
        assert "anthropic · claude-sonnet-5-5 · 12 in / " in shown
        assert "ttft " in shown
        assert "▶ Reasoning" in shown  # folded once the answer started
        assert "Say hello" in app.main.query_one("#threads").get_option_at_index(1).prompt.plain

    request = server.requests[-1]
    assert request.path == "/v1/messages" and request.json["model"] == "claude-sonnet-5-5"
    [thread] = store.list_threads()
    assert (thread.title, thread.provider, thread.model) == (
        "Say hello",
        "anthropic",
        "claude-sonnet-5-5",
    )
    user, reply = store.messages(thread.id)
    assert (user.role, user.content) == ("user", "Say hello")
    assert (reply.role, reply.status, reply.content) == ("assistant", "complete", ANSWER)
    assert reply.parent_id == user.id and reply.reasoning == "Let me think about it."


async def test_second_turn_sends_the_history(make_app, server, store):
    server.queue(text_stream("anthropic", "First answer."), text_stream("anthropic", "Second."))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "one")
        await reply_done(pilot)
        await send(pilot, "two")
        await reply_done(pilot)
    messages = server.requests[-1].json["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    [thread] = store.list_threads()
    assert [m.content for m in store.history(thread.id)] == [
        "one",
        "First answer.",
        "two",
        "Second.",
    ]


async def test_turns_reuse_one_connection_and_quitting_closes_it(make_app, server, store):
    from ba_tui.providers import clients

    server.queue(text_stream("anthropic", "First answer."), text_stream("anthropic", "Second."))
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "one")
        await reply_done(pilot)
        await send(pilot, "two")
        await reply_done(pilot)
        assert clients.kept_count() == 1
        assert server.open_connections == 1
    first, second = server.requests
    assert first.peer == second.peer  # the second turn came over the first one's connection
    assert clients.kept_count() == 0
    deadline = time.monotonic() + 5
    while server.open_connections:  # the server sees the client hang up
        assert time.monotonic() < deadline, "the app left its connection open"
        await asyncio.sleep(0.05)


async def test_page_keys_scroll_the_conversation_and_paging_up_stops_following(
    make_app, server, store
):
    from ba_tui.tui.widgets.conversation_view import ConversationView
    from ba_tui.tui.widgets.prompt_box import PromptBox

    answer = "".join(f"Line {i} of a long answer.\n\n" for i in range(400))
    # ~5 s of stream, most of it after the view fills: still streaming when the test
    # pages up, even on a loaded machine.
    server.queue(text_stream("anthropic", answer, chunk_size=40, delay=0.02))
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "go")
        scroller = app.main.query_one(ConversationView).scroller
        await wait_for(pilot, lambda: scroller.max_scroll_y > 2 * scroller.size.height)
        assert app.main.reply is not None  # still streaming
        assert isinstance(app.focused, PromptBox)
        await pilot.press("pageup")  # from the prompt box
        await pilot.pause()
        held = scroller.scroll_y
        assert held < scroller.max_scroll_y
        await reply_done(pilot)
        assert scroller.scroll_y == held  # the rest of the reply did not pull the view down
        assert "Line 399" not in screen_text(app)
        while scroller.scroll_y < scroller.max_scroll_y:
            await pilot.press("pagedown")
            await pilot.pause()
        assert "Line 399" in screen_text(app)


async def test_switching_threads_shows_their_messages_and_model(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        threads = app.main.query_one("#threads")
        threads.focus()
        threads.highlighted = threads.get_option_index("t2")
        await pilot.press("enter")
        await pilot.pause()
        shown = screen_text(app)
        assert "openai · gpt-5.4-mini-2026-03-17" in shown  # the model indicator
        assert "rows wait quietly on disk" in shown
        assert "⊘ cancelled" in shown
        assert app.focused is app.main.query_one("#prompt")  # ready to type
        threads.focus()
        threads.highlighted = threads.get_option_index("t1")
        await pilot.press("enter")
        await pilot.pause()
        shown = screen_text(app)
        assert "anthropic · claude-sonnet-5-5" in shown and "A plan" in shown
        assert "rows wait quietly" not in shown


async def test_the_picker_sends_the_next_turn_to_another_provider(make_app, server, store):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+o")
        await pilot.press(*"openai", "enter")  # providers, filtered
        await pilot.press(*"gpt-4.1", "enter")  # that provider's models, filtered
        await pilot.pause()
        assert "openai · gpt-4.1-2025-04-14" in screen_text(app)
        await send(pilot, "hi")
        await reply_done(pilot)
    request = server.requests[-1]
    assert request.path == "/v1/chat/completions"
    assert request.json["model"] == "gpt-4.1-2025-04-14"
    [thread] = store.list_threads()
    assert (thread.provider, thread.model) == ("openai", "gpt-4.1-2025-04-14")
    assert store.messages(thread.id)[-1].provider == "openai"


async def test_the_provider_list_keeps_its_columns_apart(make_app, server, store):
    """Each row: the name, the label, then whether a key is there, with space between even
    for the longest label ("Built-in offline model")."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: "key: env" in screen_text(app))
        rows = {
            line.split()[1]: line
            for line in screen_text(app).splitlines()
            if "key" in line and len(line.split()) > 2
        }
    assert re.search(r"local +Built-in offline model +no key needed", rows["local"])
    assert re.search(r"anthropic +Anthropic +key: env ANTHROPIC_API_KEY", rows["anthropic"])


async def test_the_pickers_live_list_offers_only_chat_models(make_app, server, store):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+o")
        await pilot.press(*"openai", "enter")
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: "models from openai" in screen_text(app))
        choices = app.screen.query_one("#choices")
        shown = [choices.get_option_at_index(i).id for i in range(choices.option_count)]
    assert "gpt-4o-mini" in shown and "gpt-5-mini" in shown  # live ones the catalogue lacks
    assert "text-embedding-3-small" not in shown
    assert server.requests[-1].path == "/v1/models"


async def test_escape_cancels_the_reply_and_keeps_what_arrived(make_app, server, store):
    text = "word " * 400
    server.queue(text_stream("anthropic", text, chunk_size=5, delay=0.05))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "talk slowly")
        await wait_for(pilot, lambda: "word word word" in screen_text(app))
        await pilot.press("escape")
        await reply_done(pilot)
        assert "⊘ cancelled" in screen_text(app)
    [thread] = store.list_threads()
    reply = store.messages(thread.id)[-1]
    assert reply.status == "cancelled"
    assert reply.content and text.startswith(reply.content) and reply.content != text


async def test_a_midstream_error_is_one_line_and_the_partial_is_kept(make_app, server, store):
    server.queue(fixture("anthropic_stream_error_overloaded.sse"))
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await send(pilot, "hi")
        await reply_done(pilot)
        [reply_view] = app.main.query(AssistantMessage)
        error = str(reply_view.query_one(".message-error").render())
        assert error.startswith("✗ ") and "overloaded" in error.lower()
        assert "\n" not in error.strip()
        assert reply_view.answer.text  # the partial text is still on screen
        assert "◐ partial" in screen_text(app)
        assert app.is_running
    [thread] = store.list_threads()
    reply = store.messages(thread.id)[-1]
    assert reply.status == "partial" and reply.content == reply_view.answer.text
    assert reply.error and "overloaded" in reply.error.lower()


HOSTILE = (
    "[@click=app.quit]x[/] and [bold red]hi and [link=http://x]l[/link]\n\n"
    "\x1b[31mred\x1b[0m \x1b]52;c;SGVsbG8=\x07 \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ "
    "\x1b[2J\x1b[5;1Hmoved \x9b31mC1\n\n"
    "As a <role>, I want <goal> <script>alert(1)</script>\n"
)


async def test_model_output_is_inert(make_app, server, store):
    server.queue(text_stream("anthropic", HOSTILE, chunk_size=3))
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await send(pilot, "be hostile")
        await reply_done(pilot)
        shown = screen_text(app)
        assert "[@click=app.quit]x[/] and [bold red]hi and [link=http://x]l[/link]" in shown
        assert "red link moved C1" in shown  # the sequences are gone, their text stays
        assert "As a <role>, I want <goal> <script>alert(1)</script>" in shown  # tags are text
        segments = "".join(rendered_segments(app))
        assert not set(segments) & {"\x1b", "\x07", "\x9b"}
        assert app.clipboard == ""  # the OSC 52 write never reached the terminal
        await pilot.click("Answer")  # clicking the literal markup does nothing
        await pilot.pause()
        assert app.is_running
    [thread] = store.list_threads()
    assert store.messages(thread.id)[-1].content == HOSTILE  # stored exactly as written


async def test_hostile_thread_titles_are_inert(make_app, store):
    thread = store.create_thread(
        title="[@click=app.quit]t[/] \x1b[31mred\x1b]0;title\x07", provider="anthropic", model="m"
    )
    store.add_message(thread.id, role="user", content="[b]not bold[/b]", parent_id=None)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        threads = app.main.query_one("#threads")
        threads.focus()
        threads.highlighted = threads.get_option_index(thread.id)
        await pilot.press("enter")
        await pilot.pause()
        shown = screen_text(app)
        assert "[@click=app.quit]t[/] red" in shown
        assert "[b]not bold[/b]" in shown
        assert "\x1b" not in "".join(rendered_segments(app))


async def test_regenerate_keeps_the_old_reply_as_a_variant(make_app, server, store):
    server.queue(text_stream("anthropic", "Answer one."), text_stream("anthropic", "Answer two."))
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await send(pilot, "q")
        await reply_done(pilot)
        await pilot.press("ctrl+up", "r")  # select the last message, regenerate
        await reply_done(pilot)
        shown = screen_text(app)
        assert "Answer two." in shown and "Answer one." not in shown
        assert "‹ 2/2 ›" in shown
        await pilot.press("ctrl+up", "left")  # the previous variant
        await pilot.pause()
        shown = screen_text(app)
        assert "Answer one." in shown and "‹ 1/2 ›" in shown
    [thread] = store.list_threads()
    user, first, second = store.messages(thread.id)
    assert first.parent_id == second.parent_id == user.id
    assert [first.content, second.content] == ["Answer one.", "Answer two."]


async def test_edit_and_resend_makes_a_new_branch(make_app, server, store):
    server.queue(text_stream("anthropic", "About cats."), text_stream("anthropic", "About dogs."))
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await send(pilot, "cats")
        await reply_done(pilot)
        await pilot.press("ctrl+up", "up", "e")  # select the prompt, edit it
        await pilot.pause()
        assert app.main.query_one("#prompt").text == "cats"
        await pilot.press("ctrl+a", "ctrl+k", *"dogs", "enter")
        await reply_done(pilot)
        shown = screen_text(app)
        assert "About dogs." in shown and "About cats." not in shown and "‹ 2/2 ›" in shown
    [thread] = store.list_threads()
    roots = [m for m in store.messages(thread.id) if m.parent_id is None]
    assert [m.content for m in roots] == ["cats", "dogs"]
    [sent] = server.requests[-1].json["messages"]  # the new branch has no earlier turns
    assert "dogs" in json.dumps(sent) and "cats" not in json.dumps(sent)


async def test_copy_puts_the_reply_on_the_clipboard(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.main.open_thread("t1")
        await pilot.press("ctrl+up", "c")
        assert app.clipboard.startswith("## A plan")


async def test_the_command_palette_lists_the_actions(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+p", *"choose provider", "enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "ModelPicker"


async def test_search_jumps_to_the_message(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+f", *"quietly")
        await wait_for(
            pilot, lambda: app.screen.query("#hits") and app.screen.query_one("#hits").option_count
        )
        await pilot.press("enter")
        await pilot.pause()
        assert app.main.thread is not None and app.main.thread.id == "t2"
        assert "rows wait quietly" in screen_text(app)


async def test_search_answers_while_the_apps_connection_is_busy(make_app, seeded):
    """A search over a big history takes up to a second: it reads on its own connection
    in a thread, so it neither waits for nor holds up the app's own (here held by a
    writer for the whole search)."""
    import threading

    app = make_app()
    release = threading.Event()
    held = threading.Event()

    def writer() -> None:
        with seeded._lock:  # what a streaming reply's write holds
            held.set()
            release.wait(15)

    thread = threading.Thread(target=writer)
    async with app.run_test(size=(120, 36)) as pilot:
        thread.start()
        assert held.wait(5)
        try:
            await pilot.press("ctrl+f", *"quietly")
            await wait_for(
                pilot,
                lambda: app.screen.query("#hits") and app.screen.query_one("#hits").option_count,
            )
            assert "rows wait quietly" in screen_text(app)
            assert thread.is_alive(), "the hits came only after the writer let go"
        finally:
            release.set()
            thread.join()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.main.thread is not None and app.main.thread.id == "t2")


async def test_rename_and_delete_a_thread(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.main.open_thread("t2")
        await pilot.press("ctrl+r", "ctrl+a", "ctrl+k", *"Poems", "enter")
        await pilot.pause()
        assert seeded.get_thread("t2").title == "Poems"
        await pilot.press("ctrl+p", *"delete thread", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
        assert "Delete the thread “Poems”" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: app.main.thread is None)
        assert "t2" not in app.main.query_one("#threads").threads
    assert [t.id for t in seeded.list_threads()] == ["t1"]


async def test_a_missing_key_is_one_line_and_the_app_stays_up(make_app, server, store, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        app.main.set_model("anthropic", "claude-sonnet-5-5")
        await send(pilot, "hello?")
        await reply_done(pilot)
        [reply_view] = app.main.query(AssistantMessage)
        assert "no API key for anthropic" in str(reply_view.query_one(".message-error").render())
        assert app.main.query_one("#prompt").text == "hello?"  # given back, nothing was sent
        assert app.is_running
    assert server.requests == []
    assert store.list_threads() == []  # no empty thread left behind


@pytest.mark.parametrize("offline", [False, True])
async def test_first_run_shows_the_welcome_screen(store, monkeypatch, offline):
    from ba_tui.config import load_config
    from ba_tui.providers import local
    from ba_tui.tui.app import ChatApp

    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "DEEPSEEK_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(local, "available", lambda config=None: offline)
    app = ChatApp(store=store, config=load_config(), warm_up=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "WelcomeScreen")
        await pilot.pause()
        shown = screen_text(app)
        assert "Welcome to ba-chat" in shown and "ANTHROPIC_API_KEY" in shown and "Ollama" in shown
        assert ("built-in offline model" in shown) is offline
        await pilot.press("escape")
        await pilot.pause()
        shown = screen_text(app)
        if offline:  # the app is usable at once, with the small local model
            assert "local · SmolLM2-135M-Instruct" in shown
        else:
            assert "No provider has an API key yet" in shown


async def test_thread_list_pages_in(make_app, store):
    store.import_rows(
        [
            {
                "id": f"t{i:05d}",
                "title": f"thread {i}",
                "provider": "anthropic",
                "model": "m",
                "created_at": f"2026-01-01T00:00:{i % 60:02d}.{i:03d}Z",
                "updated_at": f"2026-01-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000Z",
            }
            for i in range(250)
        ],
        [],
    )
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        threads = app.main.query_one("#threads")
        assert threads.option_count == 1 + PAGE  # "+ New thread" and the first page
        threads.focus()
        await pilot.press("end")
        await pilot.pause()
        assert threads.option_count > 1 + PAGE


def test_no_sdk_is_imported_before_the_first_frame(tui_env):
    probe = """
import asyncio, json, sys
from ba_tui.tui.app import ChatApp
SDKS = ("anthropic", "openai", "google")
loaded = lambda: sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in SDKS})
seen = {}
class Probe(ChatApp):
    def on_ready(self):
        seen["first_frame"] = loaded()
        super().on_ready()
async def main():
    app = Probe(first_run_check=False)
    async with app.run_test() as pilot:
        await app.workers.wait_for_complete()
        seen["after"] = loaded()
asyncio.run(main())
print(json.dumps(seen))
"""
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=tui_env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["first_frame"] == []
    assert seen["after"] == ["anthropic"]  # the current thread's SDK, warmed up in the background


async def test_keys_typed_in_one_burst_are_sent_in_order(make_app, server, store):
    """Enter and Ctrl+J act after the characters typed before them, however fast."""
    from textual import events

    server.queue(text_stream("anthropic", "ok"))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.click("#prompt")
        keys = [*"line one", "ctrl+j", *"line two", "enter"]
        for key in keys:  # posted at once, as a terminal delivers a paste or fast typing
            character = {"ctrl+j": "\n", "enter": "\r"}.get(key, key)
            app.post_message(events.Key(key, character))
        await wait_for(pilot, lambda: store.list_threads())
        await reply_done(pilot)
        assert app.main.query_one("#prompt").text == ""
    [thread] = store.list_threads()
    assert store.messages(thread.id)[0].content == "line one\nline two"


async def test_leaving_and_reopening_a_thread_while_it_streams(make_app, server, seeded):
    text = "alpha beta gamma delta " * 30
    # ~6 s of stream: still going after the switches below, even on a loaded machine.
    server.queue(text_stream("anthropic", text, chunk_size=6, delay=0.05))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.main.new_thread()  # the app opened on t1: stream into a thread of its own
        await send(pilot, "stream while I look elsewhere")
        await wait_for(pilot, lambda: "alpha beta" in screen_text(app))
        streaming = app.main.thread
        await app.main.open_thread("t2")
        await pilot.pause()
        assert "rows wait quietly" in screen_text(app)
        assert "streaming in another thread" in screen_text(app)
        await app.main.open_thread(streaming.id)
        await reply_done(pilot)
        [reply_view] = [
            v for v in app.main.query(AssistantMessage) if v.message and v.message.content
        ]
        assert reply_view.answer.text == text  # nothing lost while it was off screen
        assert "ttft" in str(reply_view.query_one(".message-footer").render())
    assert seeded.messages(streaming.id)[-1].status == "complete"


async def test_a_new_thread_with_a_persona_sends_its_system_prompt(make_app, server, store):
    server.queue(text_stream("anthropic", "As your analyst: ..."))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "NewThreadScreen")
        await pilot.press("down", "enter")  # the first persona after "no persona"
        await pilot.pause()
        assert "persona business-analyst" in screen_text(app)
        await send(pilot, "We need a login page")
        await reply_done(pilot)
    assert "business analyst" in json.dumps(server.requests[-1].json["system"])
    [thread] = store.list_threads()
    assert thread.persona == "business-analyst" and "business analyst" in thread.system


async def test_the_picker_shows_each_models_context_and_price(make_app, server, store):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+o")
        await pilot.press(*"openai", "enter")
        await wait_for(pilot, lambda: "$2/$8" in screen_text(app), timeout=20)
        rows = [line for line in screen_text(app).splitlines() if "gpt-4.1-2025-04-14" in line]
        assert rows and "1M" in rows[0] and "$2/$8" in rows[0]
        await pilot.press("down", "down")
        where = app.screen.query_one("#choices").highlighted
        await pilot.pause()
        assert app.screen.query_one("#choices").highlighted == where  # prices kept the place


async def test_the_status_line_shows_how_full_the_context_window_is(make_app, server, store):
    app = make_app()
    async with app.run_test(size=(160, 36)) as pilot:
        await pilot.press("ctrl+o")
        await pilot.press(*"openai", "enter", *"gpt-4.1", "enter")
        await send(pilot, "hi")
        await reply_done(pilot)
        [thread] = store.list_threads()
        reply = store.messages(thread.id)[-1]
        used = reply.input_tokens + reply.output_tokens
        assert f"ctx {used}/1M" in screen_text(app)


async def test_a_configured_offline_default_is_kept_when_keys_are_found(store, home, tui_env):
    """`default_provider = "local"` is a choice: finding API keys after the first frame
    must not switch the new thread to another provider (only an unconfigured offline
    fallback gives way to a key)."""
    from textual.worker import WorkerState

    from ba_tui.config import load_config
    from ba_tui.tui.app import ChatApp
    from tests.tui.conftest import clock

    (home / "config.toml").write_text('default_provider = "local"\n')
    app = ChatApp(store=store, config=load_config(), clock=clock, warm_up=False)
    async with app.run_test(size=(120, 30)) as pilot:
        assert app.main.provider == "local"

        def key_check_done() -> bool:
            return not any(
                w.group == "keys" and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                for w in app.workers
            )

        await wait_for(pilot, key_check_done)
        await pilot.pause()
        await pilot.pause()
        assert app.main.provider == "local"
        assert "local · " in str(app.main.query_one("#status").render())
