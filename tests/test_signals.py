"""SIGTERM and SIGHUP during `ba-chat ask`: handled like Ctrl+C, in a real subprocess
against the fake server: what arrived is saved as `cancelled`, the exit code is 128+n."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from ba_tui.store import Store
from tests.servers import Reply, text_stream

ANSWER = "".join(f"token{i} " for i in range(600))


@pytest.fixture(autouse=True)
def _patient(home):
    """ba-chat waits for a silent stream far longer than these tests take, however slow."""
    (home / "config.toml").write_text("stall_timeout = 600\n")


def _slow(dialect: str) -> Reply:
    """ANSWER's first 60 chunks (past "token20 "), then silence until the test is done:
    however slowly a loaded machine starts ba-chat or polls the store, the signal always
    arrives mid-stream (`_patient` puts ba-chat's stall timeout far off)."""
    return replace(
        text_stream(dialect, ANSWER, chunk_size=7, delay=0.01), stall_after=60, stall_seconds=120
    )


def _read_until(stream: int, output: bytearray, marker: bytes, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while marker not in output:
        assert time.monotonic() < deadline, f"no {marker!r} in {bytes(output[-300:])!r}"
        chunk = os.read(stream, 65536)
        assert chunk, f"the output ended before {marker!r}: {bytes(output[-300:])!r}"
        output.extend(chunk)


def _ask_then_signal(env, signum: int, *args: str) -> tuple[int, str, str]:
    """Start an ask, send `signum` once text is streaming; (exit code, stdout, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ba_tui", "ask", *args, "talk slowly"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    output = bytearray()
    try:
        _read_until(proc.stdout.fileno(), output, b"token20 ")
        proc.send_signal(signum)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, (bytes(output) + rest).decode(), err.decode()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_mid_stream_saves_the_partial_reply_as_cancelled(server, env, home, signum):
    server.queue(_slow("anthropic"))
    code, out, err = _ask_then_signal(env, signum, "-p", "anthropic")
    assert code == 128 + signum
    assert err.strip().splitlines()[-1] == (
        f"ba-chat: stopped by {signal.Signals(signum).name}; the partial reply is kept"
    )
    assert "Traceback" not in err
    with Store.open(home / "ba-chat.db") as store:
        reply = store.messages(store.latest_thread().id)[-1]
    assert reply.status == "cancelled"
    # Everything printed is saved (and more may have arrived after the last print).
    assert reply.content.startswith(out.rstrip("\n")) and ANSWER.startswith(reply.content)
    assert len(reply.content) < len(ANSWER)


def test_a_signal_mid_comparison_saves_each_partial_as_cancelled(server, env, home):
    server.queue(_slow("anthropic"))
    server.queue(_slow("openai"))
    pair = ["--compare", "anthropic:claude-sonnet-5-5", "--compare", "openai:gpt-4.1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "ba_tui", "ask", *pair, "talk slowly"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60  # (a loaded machine starts three SDKs slowly)
        while True:  # piped, a comparison prints at the end: wait for text to be saved
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
            if not (home / "ba-chat.db").exists():
                continue
            with Store.open(home / "ba-chat.db") as store:
                thread = store.latest_thread()
                replies = store.messages(thread.id) if thread else []
                if sum(1 for m in replies if "token20 " in m.content) == 2:
                    break
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143
    assert err.decode().strip().splitlines()[-1] == (
        "ba-chat: stopped by SIGTERM; the partial replies are kept"
    )
    with Store.open(home / "ba-chat.db") as store:
        replies = [m for m in store.messages(store.latest_thread().id) if m.role == "assistant"]
    assert [m.status for m in replies] == ["cancelled", "cancelled"]
    for reply in replies:
        assert "token20 " in reply.content and ANSWER.startswith(reply.content)
        assert len(reply.content) < len(ANSWER)


def test_closing_the_terminal_mid_ask_saves_the_reply_and_says_so(server, env, home):
    """`ask` on a terminal that goes away (window closed, ssh dropped): the kernel sends
    SIGHUP and writes to the terminal fail from then on."""
    import pty

    server.queue(_slow("anthropic"))
    err_read, err_write = os.pipe()
    pid, fd = pty.fork()
    if pid == 0:  # the child: `ba-chat ask` on the terminal, its stderr to a pipe
        os.dup2(err_write, 2)
        os.execve(
            sys.executable, [sys.executable, "-m", "ba_tui", "ask", "-p", "anthropic", "x"], env
        )
    os.close(err_write)
    output = bytearray()
    try:
        _read_until(fd, output, b"token20 ")
    finally:
        os.close(fd)  # hang up
    deadline = time.monotonic() + 30
    while not (done := os.waitpid(pid, os.WNOHANG))[0]:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError("ask did not exit after the hang-up")
        time.sleep(0.05)
    with os.fdopen(err_read, "rb") as pipe:
        err = pipe.read().decode()
    assert os.waitstatus_to_exitcode(done[1]) == 129
    last = err.strip().splitlines()[-1:]
    assert last == ["ba-chat: stopped by SIGHUP; the partial reply is kept"], err
    with Store.open(home / "ba-chat.db") as store:
        reply = store.messages(store.latest_thread().id)[-1]
    assert reply.status == "cancelled" and reply.error is None
    assert "token20 " in reply.content and ANSWER.startswith(reply.content)
