"""The fault matrix, in the TUI: what the user sees and what is stored when a provider or
the database fails. The same faults through `ask` are in tests/test_resilience.py."""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from dataclasses import replace

import pytest

from ba_tui.tui.widgets.message import AssistantMessage
from tests.servers import fixture, text_stream
from tests.tui.conftest import reply_done, screen_text, send, wait_for


def error_line(app) -> str:
    [reply_view] = app.main.query(AssistantMessage)
    return str(reply_view.query_one(".message-error").render())


def last_reply(store):
    [thread] = store.list_threads()
    return store.messages(thread.id)[-1]


async def test_rate_limit_is_shown_in_the_status_line_while_waiting(make_app, server, store):
    server.queue(fixture("openai_error_429_rate_limit.json"), fixture("openai_stream_usage.sse"))
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        app.main.set_model("openai", "gpt-4o-mini")
        await send(pilot, "hi")
        status = app.main.query_one("#status")
        await wait_for(pilot, lambda: "rate limited" in status.state)
        assert status.state == "rate limited by openai, retrying in 1 s (1/2) · Esc cancels"
        assert "rate limited by openai, retrying in 1 s (1/2)" in screen_text(app)
        await reply_done(pilot)
        assert "rate limited" not in screen_text(app)  # gone once the answer came
    reply = last_reply(store)
    assert (reply.status, reply.provider) == ("complete", "openai")
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("model", "says", "stored"),
    [
        # The app names its own keys; the stored line (read by `ba-chat show`) the CLI's.
        ("not-found", "choose another with Ctrl+O", "ba-chat models -p openai --refresh"),
        ("unreachable", "could not reach openai", "could not reach openai"),
        ("bad-key", "add a key in Settings (Ctrl+S)", "ba-chat keys set openai"),
    ],
    ids=["404-model", "unreachable-host", "401-key"],
)
async def test_a_failed_request_is_one_line_and_stored_as_error(
    make_app, server, store, home, monkeypatch, model, says, stored
):
    if model == "bad-key":
        server.queue(fixture("openai_error_401_invalid_api_key.json"))
    if model == "unreachable":
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    (home / "config.toml").write_text("retries = 0\n")
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        app.main.set_model("openai", model)
        await send(pilot, "hi")
        await reply_done(pilot)
        line = error_line(app)
        assert line.startswith("✗ ") and says in line and "\n" not in line.strip()
        assert "ba-chat " not in line  # no CLI command in the app
        assert "✗ error" in screen_text(app)
        assert app.is_running
    reply = last_reply(store)
    assert reply.status == "error" and stored in reply.error


async def test_a_stalled_stream_is_cut_and_the_partial_kept(make_app, server, store, home):
    (home / "config.toml").write_text("stall_timeout = 1\n")
    server.queue(fixture("openai_stream_usage.sse", stall_after=6, stall_seconds=20))
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        app.main.set_model("openai", "gpt-4o-mini")
        started = time.monotonic()
        await send(pilot, "hi")
        await reply_done(pilot)
        assert time.monotonic() - started < 10  # cut after ~1 s, not the server's 20 s
        assert "◐ partial" in screen_text(app)
        assert "stopped sending" in error_line(app)
    reply = last_reply(store)
    assert reply.status == "partial" and reply.content


async def test_a_provider_failing_three_times_is_skipped(make_app, server, store, home):
    (home / "config.toml").write_text("retries = 0\n")
    server.queue(*[fixture("anthropic_error_529_overloaded.json") for _ in range(3)])
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        for attempt in range(3):
            await send(pilot, f"try {attempt}")
            await reply_done(pilot)
        sent = len(server.requests)
        await send(pilot, "once more")
        await reply_done(pilot)
        views = app.main.query(AssistantMessage)
        last = str(views.last().query_one(".message-error").render())
        assert "failed 3 times in a row; skipping it" in last
    assert len(server.requests) == sent == 3  # nothing went to the resting provider


async def test_a_locked_database_is_one_line_and_nothing_is_sent(make_app, server, store, home):
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        holder = sqlite3.connect(home / "ba-chat.db")
        holder.execute("BEGIN EXCLUSIVE")
        try:
            await send(pilot, "keep this prompt")
            await wait_for(pilot, lambda: app.main.reply is not None)
            await pilot.press("ctrl+b")  # the app still answers keys while it waits
            await pilot.pause()
            assert not app.main.query_one("#sidebar").display
            assert app.main.reply is not None  # ...and it is still waiting
            await reply_done(pilot)
        finally:
            holder.rollback()
            holder.close()
        line = error_line(app)
        assert "locked" in line and "\n" not in line.strip()
        assert app.main.query_one("#prompt").text == "keep this prompt"  # given back
        assert app.is_running
    assert server.requests == []
    assert store.list_threads() == []


def test_a_corrupt_database_stops_the_app_with_one_line(home, tui_env, capsys):
    from ba_tui.tui.app import run

    junk = b"this is not a database\n" * 100
    (home / "ba-chat.db").write_bytes(junk)
    assert run() == 1
    err = capsys.readouterr().err
    assert "ba-chat.db" in err and len(err.strip().splitlines()) == 1
    assert (home / "ba-chat.db").read_bytes() == junk


def test_sigkill_of_the_tui_mid_stream_keeps_the_text_as_interrupted(server, home, tui_env):
    """The real app in a pseudo-terminal, killed while a reply streams."""
    import fcntl
    import pty
    import signal
    import struct
    import sys
    import termios

    from ba_tui.store import Store

    answer = "".join(f"token{i} " for i in range(400))
    # 100 chunks, then silence until the test is done: the kill always lands mid-stream.
    reply = text_stream("anthropic", answer, chunk_size=7, delay=0.02)
    server.queue(replace(reply, stall_after=100, stall_seconds=60))
    pid, fd = pty.fork()
    if pid == 0:  # the child: the TUI, as `ba-chat` would start it on a terminal
        os.execve(sys.executable, [sys.executable, "-m", "ba_tui"], dict(os.environ, TERM="xterm"))
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        output = bytearray()

        def read_until(marker: bytes, timeout: float = 30) -> None:
            deadline = time.monotonic() + timeout
            while marker not in output:
                assert time.monotonic() < deadline, f"no {marker!r} in {bytes(output[-500:])!r}"
                try:
                    output.extend(os.read(fd, 65536))
                except OSError:
                    break

        read_until(b"Ask anything")  # the first frame is up
        os.write(fd, b"go\r")
        read_until(b"token20 ")  # well into the answer
        deadline = time.monotonic() + 30
        while True:  # until a checkpoint (every 250 ms) has it
            with Store.open(home / "ba-chat.db") as store:
                if "token20 " in store.messages(store.latest_thread().id)[-1].content:
                    break
            assert time.monotonic() < deadline, "no checkpoint with the text on screen"
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
    finally:
        os.waitpid(pid, 0)
        os.close(fd)
    with Store.open(home / "ba-chat.db") as store:  # opening it recovers the orphaned row
        reply = store.messages(store.latest_thread().id)[-1]
    assert reply.status == "interrupted"
    assert len(reply.content) >= len("token0 token20 ") and answer.startswith(reply.content)
    assert len(reply.content) < len(answer)


async def test_a_missing_key_points_to_settings_in_the_app(make_app, server, store, monkeypatch):
    monkeypatch.delenv("DEEPSEEK_API_KEY")
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        app.main.set_model("deepseek", "deepseek-chat")
        await send(pilot, "hi")
        await reply_done(pilot)
        line = error_line(app)
        assert "no API key for deepseek" in line and "Settings (Ctrl+S)" in line
        assert "ba-chat keys set" not in line
    assert server.requests == []


async def test_a_request_that_failed_before_any_reply_claims_no_cost(make_app, server, store):
    server.queue(fixture("openai_error_401_invalid_api_key.json"))
    app = make_app()
    async with app.run_test(size=(140, 30)) as pilot:
        app.main.set_model("openai", "gpt-4o-mini")
        await send(pilot, "hi")
        await reply_done(pilot)
        shown = screen_text(app)
        assert "✗ error · openai · gpt-4o-mini" in shown
        assert "cost unknown" not in shown and "tokens —" not in shown
