"""SIGTERM and SIGHUP while the real TUI streams a reply, in a pseudo-terminal: the reply
is saved as `cancelled`, the terminal is restored, the exit code is 128+n."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import sys
import termios
import time

from ba_tui.store import Store
from tests.servers import text_stream

ANSWER = "".join(f"token{i} " for i in range(600))


class _Terminal:
    """The real `ba-chat` (no arguments: the TUI) on a 100x30 pseudo-terminal."""

    def __init__(self) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the TUI, as `ba-chat` starts it on a terminal
            os.execve(
                sys.executable, [sys.executable, "-m", "ba_tui"], dict(os.environ, TERM="xterm")
            )
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.output = bytearray()

    def read_until(self, marker: bytes, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.output:
            assert time.monotonic() < deadline, f"no {marker!r} in {bytes(self.output[-500:])!r}"
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # the child is gone
                return
            if not chunk:
                return
            self.output.extend(chunk)

    def exit_code(self, timeout: float = 30) -> int:
        """Read to the end and wait for the child; its exit code."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.read_until(b"\x00never\x00", timeout=timeout)  # returns at end of output
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError("the TUI did not exit")


def _start_streaming(server) -> _Terminal:
    server.queue(text_stream("anthropic", ANSWER, chunk_size=7, delay=0.01))
    terminal = _Terminal()
    terminal.read_until(b"Ask anything")  # the first frame is up
    os.write(terminal.fd, b"go\r")
    terminal.read_until(b"token20 ")  # well into the answer
    return terminal


def _saved_reply(home):
    with Store.open(home / "ba-chat.db") as store:
        return store.messages(store.latest_thread().id)[-1]


def test_sigterm_mid_stream_saves_the_reply_restores_the_terminal_and_exits_143(
    server, home, tui_env
):
    terminal = _start_streaming(server)
    try:
        os.kill(terminal.pid, signal.SIGTERM)
        code = terminal.exit_code()
    finally:
        os.close(terminal.fd)
    assert code == 143
    output = bytes(terminal.output)
    # The terminal is given back: the alternate screen left, mouse tracking and the
    # other modes Textual turned on turned off, the cursor shown again, in that order
    # after the last time they were turned on.
    for on, off in [
        (b"\x1b[?1049h", b"\x1b[?1049l"),  # alternate screen
        (b"\x1b[?1000h", b"\x1b[?1000l"),  # mouse clicks
        (b"\x1b[?1003h", b"\x1b[?1003l"),  # mouse movement
        (b"\x1b[?1006h", b"\x1b[?1006l"),  # SGR mouse reports
        (b"\x1b[?2004h", b"\x1b[?2004l"),  # bracketed paste
        (b"\x1b[?25l", b"\x1b[?25h"),  # the cursor
    ]:
        assert output.rfind(off) > output.rfind(on) >= 0, (on, off)
    reply = _saved_reply(home)
    assert reply.status == "cancelled"
    assert "token20 " in reply.content and ANSWER.startswith(reply.content)
    assert len(reply.content) < len(ANSWER)


def test_closing_the_terminal_mid_stream_saves_the_reply_and_exits_129(server, home, tui_env):
    """The window closed: the kernel sends SIGHUP, and the terminal can no longer be
    written to."""
    terminal = _start_streaming(server)
    os.close(terminal.fd)  # hang up
    deadline = time.monotonic() + 30
    while not (done := os.waitpid(terminal.pid, os.WNOHANG))[0]:
        if time.monotonic() > deadline:
            os.kill(terminal.pid, signal.SIGKILL)
            os.waitpid(terminal.pid, 0)
            raise AssertionError("the TUI did not exit after the hang-up")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(done[1]) == 129
    reply = _saved_reply(home)
    assert reply.status == "cancelled"
    assert "token20 " in reply.content and ANSWER.startswith(reply.content)


def test_sighup_mid_stream_saves_the_reply_and_exits_129(server, home, tui_env):
    terminal = _start_streaming(server)
    try:
        os.kill(terminal.pid, signal.SIGHUP)
        code = terminal.exit_code()
    finally:
        os.close(terminal.fd)
    assert code == 129
    assert bytes(terminal.output).rfind(b"\x1b[?1049l") > bytes(terminal.output).rfind(
        b"\x1b[?1049h"
    )
    assert _saved_reply(home).status == "cancelled"


def test_ctrl_q_quits_without_waiting_for_a_keyring_that_never_answers(
    server, home, tui_env, monkeypatch
):
    """The first-run key check asks the keyring in a background thread; a keyring that
    never answers must not keep the app from quitting once the screen is gone."""
    asked = home / "keyring-asked"
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyring_backend.StuckKeyring")
    monkeypatch.setenv("BA_CHAT_TEST_KEYRING", str(asked))
    monkeypatch.delenv("DEEPSEEK_API_KEY")  # its key is looked for in the keyring
    terminal = _Terminal()
    try:
        terminal.read_until(b"Ask anything")  # the first frame
        deadline = time.monotonic() + 30
        while not asked.exists():  # the key check is stuck in the keyring
            assert time.monotonic() < deadline, "the keyring was never asked"
            time.sleep(0.05)
        os.write(terminal.fd, b"\x11")  # Ctrl+Q
        code = _exit_code_while_draining(terminal)
    finally:
        os.close(terminal.fd)
    assert code == 0
    output = bytes(terminal.output)
    assert output.rfind(b"\x1b[?1049l") > output.rfind(b"\x1b[?1049h")  # screen restored


def _exit_code_while_draining(terminal: _Terminal, timeout: float = 30) -> int:
    """Wait for the child without ever blocking on a read (it may go quiet and stay up)."""
    import select
    from contextlib import suppress

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([terminal.fd], [], [], 0.05)[0]:
            with suppress(OSError):  # the child closed the terminal
                terminal.output.extend(os.read(terminal.fd, 65536))
        pid, status = os.waitpid(terminal.pid, os.WNOHANG)
        if pid:
            return os.waitstatus_to_exitcode(status)
    os.kill(terminal.pid, signal.SIGKILL)
    os.waitpid(terminal.pid, 0)
    raise AssertionError("the TUI did not exit")


def test_ctrl_q_mid_stream_saves_the_reply_and_exits_0(server, home, tui_env):
    terminal = _start_streaming(server)
    try:
        os.write(terminal.fd, b"\x11")  # Ctrl+Q
        code = _exit_code_while_draining(terminal)
    finally:
        os.close(terminal.fd)
    assert code == 0
    reply = _saved_reply(home)
    assert reply.status == "cancelled"
    assert "token20 " in reply.content and ANSWER.startswith(reply.content)
