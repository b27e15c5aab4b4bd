"""Faults a provider throws at `ask`, and what the user sees and what is stored."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from tests.conftest import KEYS, run_cli
from tests.servers import fixture, status
from tests.wire import expected


def _store(home):
    from ba_tui.store import Store

    return Store.open(home / "ba-chat.db")


def _last_reply(home):
    store = _store(home)
    try:
        thread = store.latest_thread()
        return store.messages(thread.id)[-1]
    finally:
        store.close()


def test_server_error_then_success(server, env, home):
    server.queue(status(500, {"error": {"message": "boom"}}), fixture("openai_stream_usage.sse"))
    done = run_cli("ask", "-p", "openai", "hi", env=env)
    assert done.returncode == 0, done.stderr
    assert "retrying in" in done.stderr
    assert _last_reply(home).status == "complete"


def test_overloaded_every_try_falls_back_to_second_provider(server, env, home):
    overloaded = [fixture("anthropic_error_529_overloaded.json") for _ in range(3)]
    server.queue(*overloaded, fixture("openai_stream_usage.sse"))
    done = run_cli("ask", "-p", "anthropic", "--fallback", "openai:gpt-4o-mini", "hi", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected("openai_stream_usage.sse").text
    assert "falling back to openai · gpt-4o-mini" in done.stderr
    assert [r.path for r in server.requests] == ["/v1/messages"] * 3 + ["/v1/chat/completions"]
    reply = _last_reply(home)
    assert (reply.provider, reply.model, reply.status) == ("openai", "gpt-4o-mini", "complete")


def test_fallback_chain_from_config(server, env, home):
    (home / "config.toml").write_text('fallback = ["gemini:gemini-2.5-flash"]\nretries = 0\n')
    server.queue(fixture("openai_error_429_rate_limit.json"), fixture("gemini_stream_text.sse"))
    done = run_cli("ask", "-p", "openai", "--json", "hi", env=env)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["provider"], out["model"]) == ("gemini", "gemini-2.5-flash")


def test_circuit_breaker_skips_a_failing_provider_across_runs(server, env, home):
    for _ in range(3):
        server.queue(fixture("anthropic_error_529_overloaded.json"))
        done = run_cli("ask", "--retries", "0", "-p", "anthropic", "hi", env=env)
        assert done.returncode == 4
    sent = len(server.requests)
    done = run_cli("ask", "--retries", "0", "-p", "anthropic", "hi", env=env)
    assert done.returncode == 4
    assert "failed 3 times in a row; skipping it" in done.stderr
    assert len(server.requests) == sent  # nothing was sent to the resting provider
    doctor = run_cli("doctor", "-p", "openai", env=env)
    assert doctor.returncode == 1
    assert "anthropic  circuit open after 3 failures in a row" in doctor.stdout
    # With a fallback, the resting provider is skipped straight away.
    server.queue(fixture("openai_stream_usage.sse"))
    done = run_cli("ask", "-p", "anthropic", "--fallback", "openai", "hi", env=env)
    assert done.returncode == 0, done.stderr
    assert server.requests[-1].path == "/v1/chat/completions"


def test_stalled_stream_is_cut_and_the_partial_kept(server, env, home):
    (home / "config.toml").write_text("stall_timeout = 1\n")
    server.queue(fixture("openai_stream_usage.sse", stall_after=6, stall_seconds=20))
    done = run_cli("ask", "-p", "openai", "hi", env=env)
    assert done.returncode == 5
    assert "stopped sending" in done.stderr
    reply = _last_reply(home)
    assert reply.status == "partial" and reply.content == done.stdout and reply.content
    assert len(server.requests) == 1


def test_mid_stream_error_is_stored_partial_with_the_error(server, env, home):
    server.queue(fixture("anthropic_stream_error_overloaded.sse"))
    done = run_cli("ask", "-p", "anthropic", "hi", env=env)
    assert done.returncode == 5
    reply = _last_reply(home)
    assert reply.status == "partial"
    assert reply.content == expected("anthropic_stream_error_overloaded.sse").text
    assert "overloaded" in reply.error.lower()


def test_one_megabyte_prompt_works(server, env):
    big = "requirement line\n" * 62_000  # ~1 MB
    server.queue(fixture("openai_stream_usage.sse"))
    done = run_cli("ask", "-p", "openai", "summarise", env=env, input=big)
    assert done.returncode == 0, done.stderr
    assert len(server.requests[-1].json["messages"][-1]["content"]) > 1_000_000


def test_logs_are_json_lines_without_keys(server, env, home):
    server.queue(
        status(401, {"error": {"message": f"bad key {KEYS['OPENAI_API_KEY']}"}}),
        fixture("gemini_stream_text.sse"),
    )
    run_cli("ask", "-p", "openai", "hi", env=env)
    run_cli("ask", "-p", "gemini", "hi", env=env)
    lines = [json.loads(line) for line in (home / "ba-chat.log").read_text().splitlines()]
    turns = [line for line in lines if line["event"] == "turn"]
    assert [(t["provider"], t["status"]) for t in turns] == [
        ("openai", "error"),
        ("gemini", "complete"),
    ]
    assert turns[1]["input_tokens"] > 0 and turns[1]["ttft_ms"] > 0
    text = (home / "ba-chat.log").read_text()
    for key in KEYS.values():
        assert key not in text


def test_sigkill_mid_stream_keeps_checkpointed_text_as_interrupted(server, env, home):
    import signal
    import subprocess
    import sys
    import time

    from tests.servers import text_stream

    answer = "".join(f"token{i} " for i in range(300))
    # 100 chunks, then silence until the test is done: the kill always lands mid-stream.
    reply = text_stream("openai", answer, chunk_size=7, delay=0.02)
    server.queue(replace(reply, stall_after=100, stall_seconds=60))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ba_tui", "ask", "-p", "openai", "go"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.read(200)  # well into the answer
    deadline = time.monotonic() + 30
    while len(_last_reply(home).content) < 200:  # a checkpoint has it (every 250 ms)
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    reply = _last_reply(home)  # opening the store recovers the orphaned row
    assert reply.status == "interrupted"
    assert len(reply.content) >= 200 and answer.startswith(reply.content)
    assert len(reply.content) < len(answer)


def test_locked_database_fails_with_a_clear_line_after_waiting(server, env, home):
    import sqlite3
    import time

    _store(home).close()  # create it
    holder = sqlite3.connect(home / "ba-chat.db")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        done = run_cli("ask", "-p", "openai", "hi", env=env)
        waited = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert done.returncode == 1
    assert "locked" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert waited >= 4  # it waited for the busy timeout before giving up
    assert server.requests == []  # nothing was sent that could not be saved


def test_corrupt_database_is_reported_and_never_overwritten(server, env, home):
    junk = b"this is not a database\n" * 100
    (home / "ba-chat.db").write_bytes(junk)
    done = run_cli("ask", "-p", "openai", "hi", env=env)
    assert done.returncode == 1
    assert "ba-chat.db" in done.stderr and "Traceback" not in done.stderr
    assert (home / "ba-chat.db").read_bytes() == junk
    assert server.requests == []


@pytest.mark.parametrize("render", [False, True], ids=["raw", "markdown"])
def test_hostile_model_output_is_neutralised_only_on_a_terminal(server, env, render):
    import os
    import pty
    import subprocess
    import sys

    from tests.servers import text_stream

    hostile = "ok \x1b[31mred\x1b[0m \x1b]52;c;SGVsbG8=\x07 [bold]x[/bold] \x1b[2J end"
    server.queue(text_stream("openai", hostile))
    piped = run_cli("ask", "--no-save", "-p", "openai", "x", env=env)
    assert piped.stdout == hostile  # piped: byte for byte
    server.queue(text_stream("openai", hostile))
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ba_tui", "ask", "--no-save", "-p", "openai", "x"]
        + ([] if render else ["--raw"]),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.PIPE,
    )
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=30)
    os.close(leader)
    text = out.decode()
    if render:
        # Rendered Markdown brings the terminal codes of Rich's own styling and redrawing;
        # none of the model's sequences gets through.
        for sequence in ("\x1b[31m", "\x1b]52", "\x1b[2J", "\x07"):
            assert sequence not in text
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    assert "\x1b" not in text and "\x07" not in text
    assert "ok red" in text and "[bold]x[/bold]" in text and "end" in text


def _ask_in_background(env, *args):
    import subprocess
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "ba_tui", "ask", "-p", "openai", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(condition, timeout=20.0):
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def _reply_text(db):
    """The streaming reply's saved text, read the way another process would."""
    import sqlite3

    conn = sqlite3.connect(db, timeout=5)
    try:
        row = conn.execute("SELECT content FROM messages WHERE role = 'assistant'").fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def test_a_lock_held_after_the_stream_does_not_relabel_a_complete_reply(server, env, home):
    """Another process takes the write lock once the answer is saved and holds it past
    the busy timeout while the stream ends: the reply still closes `complete`."""
    import sqlite3
    import time

    from tests.servers import text_stream

    answer = "The whole answer."
    server.queue(text_stream("openai", answer, chunk_size=100, delay=0.5))
    _store(home).close()
    proc = _ask_in_background(env, "hi")
    _wait_for(lambda: _reply_text(home / "ba-chat.db") == answer)  # checkpointed
    holder = sqlite3.connect(home / "ba-chat.db")
    holder.execute("BEGIN IMMEDIATE")
    try:
        time.sleep(7)  # the stream ends ~1.5 s in; 5 s is the CLI's busy timeout
    finally:
        holder.rollback()
        holder.close()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out == answer and "error" not in err
    reply = _last_reply(home)
    assert (reply.status, reply.content, reply.error) == ("complete", answer, None)


def test_a_deleted_wal_while_a_turn_streams_is_reported(server, env, home):
    """The issue's scenario: one process has the store open (a TUI), a second streams a
    reply, and the WAL file is deleted under them. The second must say so, not exit 0."""
    import os

    from tests.servers import text_stream

    server.queue(text_stream("openai", "one two three four five six", chunk_size=4, delay=0.2))
    first = _store(home)  # like an open TUI
    try:
        proc = _ask_in_background(env, "hi")
        _wait_for(lambda: bool(_reply_text(home / "ba-chat.db")))
        os.unlink(home / "ba-chat.db-wal")
        out, err = proc.communicate(timeout=30)
    finally:
        first.close()
    assert proc.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ba-chat: error: "), err
    assert "ba-chat.db-wal was deleted or replaced" in lines[0]
    assert out == "one two three four five six"  # the answer reached the user


def test_a_disk_that_fills_mid_stream_stops_the_reply_in_one_line(server, env, home, small_disk):
    """A real full disk: BA_CHAT_HOME on a 1 MB tmpfs and a 2 MB reply. The stream stops at
    the failed checkpoint with one line and exit 1; what was saved before stays; the log
    never calls the turn complete."""
    from tests.servers import text_stream

    small_disk("1m")
    _store(home).close()
    answer = "".join(f"word{i:06d} " for i in range(180_000))  # 2 MB
    server.queue(text_stream("openai", answer, chunk_size=4000, delay=0.004))
    done = run_cli("ask", "-p", "openai", "hi", env=env)
    small_disk("64m")  # room to open the store and read what was saved
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"ba-chat: error: the disk holding {home / 'ba-chat.db'} is full;"
        " free some space and try again"
    ]
    assert len(done.stdout) < len(answer)  # it stopped reading
    reply = _last_reply(home)
    assert reply.status in ("partial", "interrupted")
    assert reply.content and answer.startswith(reply.content)
    log = home / "ba-chat.log"
    turns = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    assert all(t.get("status") != "complete" for t in turns if t["event"] == "turn")


def test_a_failed_bookkeeping_write_after_the_reply_is_one_warning(server, env, home):
    """The breaker must be reset after a success, and that write fails (a trigger in the
    database refuses it): the reply stays `complete`, exit 0, one warning line."""
    import sqlite3

    for _ in range(2):  # two outages: the breaker counts them (still closed)
        server.queue(fixture("openai_error_429_rate_limit.json"))
        assert run_cli("ask", "--retries", "0", "-p", "openai", "hi", env=env).returncode == 4
    db = sqlite3.connect(home / "ba-chat.db")
    db.execute(
        "CREATE TRIGGER refuse BEFORE DELETE ON kv BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    db.commit()
    db.close()
    server.queue(fixture("openai_stream_usage.sse"))
    done = run_cli("ask", "-p", "openai", "hi", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected("openai_stream_usage.sse").text
    assert done.stderr.strip().splitlines() == [
        "ba-chat: could not save the provider's health:"
        f" database error in {home / 'ba-chat.db'}: refused"
    ]
    reply = _last_reply(home)
    assert (reply.status, reply.error) == ("complete", None)


def test_a_lock_held_mid_stream_delays_checkpoints_but_keeps_the_reply(server, env, home):
    """Another process holds the write lock past the busy timeout while the reply streams:
    a checkpoint waits and gives up, the stream goes on, and the reply closes complete."""
    import sqlite3
    import time

    from tests.servers import text_stream

    answer = "".join(f"w{i} " for i in range(40))
    server.queue(text_stream("openai", answer, chunk_size=4, delay=0.2))
    _store(home).close()
    proc = _ask_in_background(env, "hi")
    _wait_for(lambda: bool(_reply_text(home / "ba-chat.db")))  # a checkpoint is in
    holder = sqlite3.connect(home / "ba-chat.db")
    holder.execute("BEGIN IMMEDIATE")
    try:
        time.sleep(6)  # past the CLI's 5 s busy timeout, while it still streams
    finally:
        holder.rollback()
        holder.close()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert (out, err) == (answer, "")
    reply = _last_reply(home)
    assert (reply.status, reply.content) == ("complete", answer)
