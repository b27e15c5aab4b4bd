"""Asking the terminal to report Shift+Enter, so it can add a line in the prompt.

A terminal sends Enter and Shift+Enter as the same byte unless an application asks for
more. Textual 8.2 asks in the kitty keyboard protocol (`CSI > 9 u`), which kitty, WezTerm,
foot, Ghostty, Alacritty and iTerm2 answer with `CSI 13;2u` (Textual: "shift+enter").
xterm and tmux do not speak it; they report modified keys when asked with xterm's
modifyOtherKeys (`CSI > 4;1 m`): tmux (with `extended-keys on`) as `CSI 13;2u`, xterm as
`CSI 27;2;13~` (Textual: "shift+\\r"). The driver here asks both ways, and turns
modifyOtherKeys off again whenever it gives the terminal back (quitting, Ctrl+Z), as
Textual does for the kitty protocol. Terminals that know neither ignore the request.

Imported only on POSIX terminals (the driver it extends needs termios).
"""

from __future__ import annotations

from textual.drivers.linux_driver import LinuxDriver

MODIFY_OTHER_KEYS_ON = "\x1b[>4;1m"
MODIFY_OTHER_KEYS_OFF = "\x1b[>4;0m"


class KeyboardDriver(LinuxDriver):
    """Textual's terminal driver, also asking for xterm's modifyOtherKeys."""

    def start_application_mode(self) -> None:
        super().start_application_mode()
        self.write(MODIFY_OTHER_KEYS_ON)
        self.flush()

    def stop_application_mode(self) -> None:
        # Before Textual leaves the alternate screen, as it turns off the kitty protocol.
        self.write(MODIFY_OTHER_KEYS_OFF)
        super().stop_application_mode()
