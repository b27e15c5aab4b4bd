"""The full-screen app (`ba-chat` with no arguments): screens, key bindings, commands.

Start-up is kept to what the first frame needs (config, the store's first page of thread
metadata); provider SDKs are imported after it, in a background thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding

from ba_tui.tui.commands import KeyedCommands
from ba_tui.tui.context import AppContext
from ba_tui.tui.screens.main import MainScreen
from ba_tui.tui.text import utc_now

if TYPE_CHECKING:
    from textual.driver import Driver
    from textual.screen import Screen

    from ba_tui.config import Config
    from ba_tui.messages import ToolCall
    from ba_tui.store import Store
    from ba_tui.tools import Decision, Tool


# Workers whose cancel path saves a streaming reply: a single reply, a comparison.
STREAMING_WORKERS = ("reply", "compare")
# How long SIGTERM/SIGHUP waits for those saves before quitting regardless.
STOP_WAIT_SECONDS = 5.0


class DetachedExecutor(ThreadPoolExecutor):
    """The event loop's executor for blocking work (SDK imports, the keyring, waiting
    for a locked database). Quitting does not wait for it: asyncio would otherwise join
    a thread still importing an SDK (1-3 s) or stuck on a keyring that never answers
    (for good) after the screen is already gone."""

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=False, cancel_futures=True)


class ChatApp(App[int]):
    """ba-chat's TUI. `store`, `config` and `clock` can be given (tests, benchmarks).

    The app holds what is app-wide: quitting, Settings, the theme, signals, SDK warm-up.
    The chat screen owns the chat's actions and keys (`screens/main.py`)."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    # Every screen gets a class for the terminal's size; app.tcss lays out for it (an
    # 80×24 terminal collapses the thread list and shortens the dialogs' lists).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    TITLE = "ba-chat"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = {KeyedCommands}  # Textual's system commands, with their keys (commands.py)

    BINDINGS = [
        Binding("ctrl+s", "settings", "Settings", show=False),  # the chat screen shows it
        Binding("escape", "hide_help_panel", "Close keys", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver; on a POSIX terminal one that also asks for Shift+Enter."""
        driver = super().get_driver_class()
        if driver.__name__ == "LinuxDriver":
            from ba_tui.tui.keyboard import KeyboardDriver

            return KeyboardDriver
        return driver

    def __init__(
        self,
        *,
        store: Store | None = None,
        config: Config | None = None,
        clock: Callable[[], datetime] = utc_now,
        warm_up: bool = True,
        first_run_check: bool = True,
    ) -> None:
        super().__init__()
        from ba_tui.config import load_config

        if config is None:
            config = load_config()
        if store is None:
            from ba_tui.store import Store

            store = Store.open()
        self.context = AppContext(store, config, clock, self.warm_up)
        self.context.approve = self._approve
        self._warm = warm_up
        self._first_run_check = first_run_check
        self._warmed: set[str] = set()
        self._frame_drawn = False
        self._signals: list[int] = []
        self._stopping = False
        self._main = MainScreen(self.context)
        if theme := config.data.get("theme"):
            self._apply_theme(str(theme))

    @property
    def store(self) -> Store:
        return self.context.store

    @property
    def config(self) -> Config:
        return self.context.config

    def _apply_theme(self, theme: str) -> None:
        if theme in self.available_themes:
            self.theme = theme

    def get_default_screen(self) -> Screen:
        return self._main

    @property
    def main(self) -> MainScreen:
        """The chat screen (the bottom of the screen stack, under any modal)."""
        return self._main

    # --- while the app runs ----------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        # A key or a click is the user's next action after opening a search hit: the
        # marked words go (whichever widget takes the key, and whether it binds it).
        if isinstance(event, events.Key | events.MouseDown) and self._main.found.marked:
            self._main.found.clear()
        await super().on_event(event)

    def on_mount(self) -> None:
        import asyncio

        from ba_tui import signals
        from ba_tui.session import keep_connections

        # Turn after turn, a provider's SDK client (and its open connection) is reused.
        keep_connections()
        loop = asyncio.get_running_loop()
        loop.set_default_executor(DetachedExecutor(thread_name_prefix="ba-chat"))
        self._signals = signals.install(loop, self._stop_signal)

    async def on_unmount(self) -> None:
        import asyncio

        from ba_tui import signals
        from ba_tui.session import close_connections

        signals.remove(asyncio.get_running_loop(), self._signals)
        await asyncio.gather(close_connections(), self.context.close_tools())

    async def _approve(self, call: ToolCall, tool: Tool) -> Decision:
        """A tool call the approval policy does not allow by itself: the chat screen
        asks with its card."""
        return await self.main.approve(call, tool)

    def _stop_signal(self, signum: int) -> None:
        """SIGTERM or SIGHUP: quit as Ctrl+Q does (Textual restores the terminal), once
        streaming replies are saved as `cancelled`; the process exits 128 + `signum`."""
        if self._stopping:
            return
        self._stopping = True
        self.run_worker(self._stop(signum), group="stop", exit_on_error=False)

    async def _stop(self, signum: int) -> None:
        import asyncio
        from contextlib import suppress

        from textual.worker import WorkerState

        streaming = [
            worker
            for worker in self.workers
            if worker.group in STREAMING_WORKERS
            and worker.state in (WorkerState.RUNNING, WorkerState.PENDING)
        ]
        for worker in streaming:
            worker.cancel()  # the turn runner saves what arrived, as Escape would
        started = [w for w in streaming if w.state != WorkerState.PENDING]
        with suppress(TimeoutError):
            # A store write stuck behind another process's lock must not keep us up.
            await asyncio.wait_for(
                asyncio.gather(*(w.wait() for w in started), return_exceptions=True),
                STOP_WAIT_SECONDS,
            )
        if _terminal_gone():
            self._exit_now(128 + signum)
        self.exit(return_code=128 + signum)

    def _exit_now(self, code: int) -> None:
        """Exit without Textual's shutdown: the terminal hung up, so there is nothing to
        restore, and the shutdown would block for good once Textual's output thread has
        died on a write to it. Replies are saved by now; the log is flushed here."""
        self.store.close()
        quit_now(code)

    # --- after the first frame --------------------------------------------------------------

    def on_ready(self) -> None:
        self._frame_drawn = True
        _tune_gc()
        self.warm_up(self.main.provider)
        if self._first_run_check:
            self.main.check_keys()

    def warm_up(self, provider: str | None) -> None:
        """Get `provider` ready in a background thread, once, after the first frame: its
        SDK imported, and the offline model loaded when it is the one in use."""
        if not (self._warm and self._frame_drawn and provider) or provider in self._warmed:
            return
        self._warmed.add(provider)
        self.run_worker(
            partial(_import_adapter, provider, self.config),
            thread=True,
            exit_on_error=False,
            group="warm-up",
            description=f"import the {provider} SDK",
        )

    # --- app-wide actions -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "settings":
            # Not under a comparison (or another full screen): closing Settings may start
            # a thread on the chat screen, out of sight.
            return _over_main(self.screen_stack)
        if action == "hide_help_panel":
            return bool(self.screen.query("HelpPanel"))
        return True

    async def action_settings(self) -> None:
        from ba_tui.tui.screens.settings import SettingsScreen

        await self.push_screen(SettingsScreen(self.context), lambda _: self._settings_closed())

    async def action_usage(self) -> None:
        from ba_tui.tui.screens.usage import UsageScreen

        await self.push_screen(UsageScreen(self.context.store))

    def _settings_closed(self) -> None:
        self.context.reload_config()
        self.main.settings_changed()

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save an SVG picture of the screen in `path` (default: the data folder's
        `screenshots`) and say where it went, or in one line why it could not be saved.
        (Textual's own saves to a Downloads folder that may not exist, and says nothing.)"""
        from ba_tui.paths import data_dir
        from ba_tui.private import FILE_MODE, make_dir

        folder = Path(path).expanduser() if path else data_dir() / "screenshots"
        try:
            make_dir(folder)
            saved = self.save_screenshot(filename, str(folder))
            os.chmod(saved, FILE_MODE)  # a picture of a conversation is as private as it
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            self.notify(
                f"Could not save a screenshot in {folder}: {reason}. "
                "Check that the folder can be written to.",
                severity="error",
            )
            return
        self.notify(f"Screenshot saved to {saved}")

    # --- the command palette ----------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":
                yield command
        yield SystemCommand(
            "Screenshot",
            "Save an SVG picture of the screen in ba-chat's screenshots folder",
            # Once the palette has closed, so it is not in the picture.
            lambda: self.set_timer(0.1, self.action_screenshot),
        )
        if self.check_action("settings", ()):
            help_text = "Default provider, model, persona; API keys; theme"
            yield SystemCommand("Settings", help_text, self.action_settings)
            help_text = "Spend and tokens per day and per provider, as bars"
            yield SystemCommand("Usage", help_text, self.action_usage)


def _over_main(stack: list[Screen]) -> bool:
    """Whether the chat screen is showing, or only dialogs are over it."""
    from textual.screen import ModalScreen

    return all(isinstance(s, MainScreen | ModalScreen) for s in stack[1:])


def _tune_gc() -> None:
    """Keep Python's cycle collector from slowing a long reply down.

    A full collection walks every live object, and a streamed reply adds thousands of
    widgets, so with the default thresholds each token costs more than the one before it
    (bench/tui_bench.py measured twice the cost at token 5,000). Objects alive after
    start-up (modules, classes, the first screen) are frozen out of collections, and the
    youngest generation is collected less often.
    """
    import gc

    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def _import_adapter(provider: str, config: Config) -> None:
    from ba_tui.providers import get_spec, warm_up

    warm_up(get_spec(provider, config), config)


def run() -> int:
    """Open the TUI. A start-up failure is one line on stderr and its exit code is
    returned; once the app has run, the process ends here (`quit_now`)."""
    import sys

    from ba_tui.errors import BaChatError

    try:
        app = ChatApp()
    except BaChatError as exc:
        print(f"ba-chat: error: {exc.line()}", file=sys.stderr)
        return exc.exit_code
    try:
        app.run()
    finally:
        app.store.close()
    quit_now(app.return_code or 0)


def quit_now(code: int) -> NoReturn:
    """End the process now that the terminal is restored, replies are saved and the
    store is closed: without waiting for background threads (an SDK still importing, a
    keyring that does not answer) or for the interpreter to tear down every SDK module
    (0.4-1.2 s measured). The offline model's server stops by itself when its stdin
    closes with this process; SDK clients were closed when the app unmounted."""
    import logging
    import os
    import sys
    from contextlib import suppress

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a terminal that hung up takes nothing more
            stream.flush()
    os._exit(code)


def _terminal_gone() -> bool:
    """Whether the terminal hung up (closed window, dropped ssh): it answers EIO."""
    import errno
    import termios

    try:
        termios.tcgetattr(2)  # stderr's descriptor, where Textual writes
    except termios.error as exc:
        return exc.args[0] in (errno.EIO, errno.ENXIO)
    except (OSError, ValueError, AttributeError):
        return False
    return False
