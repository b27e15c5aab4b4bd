"""Shift+Enter adds a line in the prompt of the real TUI on a pseudo-terminal, in each
form a terminal reports it; the terminal is asked to report it, and given back after."""

from __future__ import annotations

import os

import pytest

from ba_tui.store import Store
from ba_tui.tui.keyboard import MODIFY_OTHER_KEYS_OFF, MODIFY_OTHER_KEYS_ON
from tests.servers import text_stream
from tests.tui.test_signals import _Terminal


@pytest.mark.parametrize(
    "shift_enter",
    [b"\x1b[13;2u", b"\x1b[27;2;13~"],
    ids=["kitty protocol or tmux extended keys", "xterm modifyOtherKeys"],
)
def test_shift_enter_adds_a_line(server, home, tui_env, shift_enter):
    server.queue(text_stream("anthropic", "Noted, both lines."))
    terminal = _Terminal()
    try:
        terminal.read_until(b"Ask anything")  # the first frame is up
        os.write(terminal.fd, b"first line" + shift_enter + b"second line\r")
        terminal.read_until(b"both lines.")
        os.write(terminal.fd, b"\x11")  # Ctrl+Q
        assert terminal.exit_code() == 0
    finally:
        os.close(terminal.fd)
    with Store.open(home / "ba-chat.db") as store:
        user = store.messages(store.latest_thread().id)[0]
    assert user.content == "first line\nsecond line"
    output = bytes(terminal.output)
    on, off = MODIFY_OTHER_KEYS_ON.encode(), MODIFY_OTHER_KEYS_OFF.encode()
    assert output.rfind(off) > output.rfind(on) >= 0  # asked for, then turned off
