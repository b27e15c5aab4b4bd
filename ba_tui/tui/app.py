"""The full-screen app (`ba-chat` with no arguments): screens, key bindings, commands.

Start-up is kept to what the first frame needs (config, the store's first page of thread
metadata); provider SDKs are imported after it, in a background thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding

from ba_tui.tui.screens.main import MainScreen
from ba_tui.tui.text import utc_now

if TYPE_CHECKING:
    from textual.driver import Driver
    from textual.screen import Screen

    from ba_tui.config import Config
    from ba_tui.personas import Persona
    from ba_tui.providers import ProviderSpec
    from ba_tui.store import Store, Thread


# Workers whose cancel path saves a streaming reply: a single reply, a comparison.
STREAMING_WORKERS = ("reply", "compare")
# How long SIGTERM/SIGHUP waits for those saves before quitting regardless.
STOP_WAIT_SECONDS = 5.0


class ChatApp(App[int]):
    """ba-chat's TUI. `store`, `config` and `clock` can be given (tests, benchmarks)."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "ba-chat"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("ctrl+n", "new_thread", "New"),
        Binding("ctrl+o", "pick_model", "Model"),
        Binding("ctrl+t", "compare", "Compare"),
        Binding("ctrl+f", "search", "Search"),
        Binding("ctrl+s", "settings", "Settings"),
        Binding("ctrl+up", "select_messages", "Messages", key_display="^↑"),
        Binding("ctrl+b", "toggle_threads", "Threads", show=False),
        Binding("ctrl+r", "rename_thread", "Rename", show=False),
        Binding("escape", "escape", "Cancel reply", show=True),
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

        self.config = config if config is not None else load_config()
        if store is None:
            from ba_tui.store import Store

            store = Store.open()
        self.store = store
        self.clock = clock
        self._warm = warm_up
        self._first_run_check = first_run_check
        self._warmed: set[str] = set()
        self._frame_drawn = False
        self._signals: list[int] = []
        self._stopping = False
        if theme := self.config.data.get("theme"):
            self._apply_theme(str(theme))

    def _apply_theme(self, theme: str) -> None:
        if theme in self.available_themes:
            self.theme = theme

    def get_default_screen(self) -> Screen:
        return MainScreen()

    @property
    def main(self) -> MainScreen:
        """The chat screen (the bottom of the screen stack, under any modal)."""
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        raise LookupError("the main screen is not running")

    # --- defaults ---------------------------------------------------------------------------

    def defaults(self) -> tuple[str | None, str | None]:
        """The provider and model a new thread starts with, without asking the keyring
        (so the first frame never waits for it): config first, then a key in the
        environment, then the built-in offline model if it is installed, else None until
        the background key check has run."""
        from ba_tui.errors import BaChatError
        from ba_tui.providers import (
            BUILTIN,
            all_specs,
            get_spec,
            offline_available,
            starting_model,
        )

        config = self.config
        spec: ProviderSpec | None
        try:
            if config.default_provider:
                spec = get_spec(config.default_provider, config)
            else:
                spec = next(
                    (s for s in all_specs(config) if s.key_required and _env_key(s)),
                    None,
                )
                if spec is None and offline_available(config):
                    spec = BUILTIN["local"]
        except BaChatError:
            spec = None
        if spec is None:
            return None, None
        return spec.name, starting_model(spec, config)

    def default_persona(self) -> Persona | None:
        name = self.config.data.get("default_persona")
        if not name:
            return None
        try:
            from ba_tui.personas import get_persona

            return get_persona(str(name), self.config)
        except Exception:
            return None

    # --- while the app runs ----------------------------------------------------------------

    def on_mount(self) -> None:
        import asyncio

        from ba_tui import signals
        from ba_tui.session import keep_connections

        # Turn after turn, a provider's SDK client (and its open connection) is reused.
        keep_connections()
        self._signals = signals.install(asyncio.get_running_loop(), self._stop_signal)

    async def on_unmount(self) -> None:
        import asyncio

        from ba_tui import signals
        from ba_tui.session import close_connections

        signals.remove(asyncio.get_running_loop(), self._signals)
        await close_connections()

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
        import logging
        import os

        self.store.close()
        logging.shutdown()
        os._exit(code)

    # --- after the first frame --------------------------------------------------------------

    def on_ready(self) -> None:
        self._frame_drawn = True
        _tune_gc()
        self.warm_up(self.main.provider)
        if self._first_run_check:
            self.run_worker(self._check_keys, thread=True, exit_on_error=False, group="keys")

    def warm_up(self, provider: str | None) -> None:
        """Import `provider`'s SDK in a background thread, once, after the first frame."""
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

    def _check_keys(self) -> None:
        """First run: no key anywhere (environment, keyring, config) means the welcome
        screen; a key found only in the keyring sets the new thread's provider."""
        from ba_tui.keys import key_source
        from ba_tui.providers import all_specs

        config = self.config
        found = [
            spec
            for spec in all_specs(config)
            if spec.key_required and key_source(spec, config) != "not set"
        ]
        names = [spec.name for spec in found]
        # Textual types the callback as `T | Awaitable[T]`, which mypy cannot solve for a
        # coroutine that returns None.
        self.call_from_thread(self._keys_checked, names)  # type: ignore[arg-type]

    async def _keys_checked(self, providers: list[str]) -> None:
        main = self.main
        if not providers and not self.config.default_provider:
            from ba_tui.tui.screens.welcome import WelcomeScreen

            await self.push_screen(WelcomeScreen(offline=main.draft.provider == "local"))
        elif main.thread is None and main.draft.provider in (None, "local") and providers:
            from ba_tui.providers import get_spec, starting_model

            spec = get_spec(providers[0], self.config)
            await main.new_thread(spec.name, starting_model(spec, self.config))

    def reload_config(self) -> None:
        from ba_tui.config import load_config

        self.config = load_config(self.config.path)

    # --- actions ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in ("quit", "command_palette") and not _over_main(self.screen_stack):
            # A comparison (or another full screen) is on top: the chat screen's actions
            # would change a thread out of sight.
            return False
        if action == "escape":
            try:
                main = self.main
            except LookupError:
                return False
            if not isinstance(self.screen, MainScreen):
                return False
            return main.streaming or main.editing is not None
        return True

    def action_escape(self) -> None:
        main = self.main
        if not main.cancel_reply():
            main.stop_editing()

    async def action_new_thread(self) -> None:
        from ba_tui.tui.screens.new_thread import NewThreadScreen

        def chosen(result: dict[str, Any] | None) -> None:
            if result is not None:
                self.call_later(self.main.new_thread, **result)

        provider, model = self.main.provider, self.main.model
        if self.main.thread is not None:
            provider, model = self.defaults()
        await self.push_screen(NewThreadScreen(provider, model), chosen)

    async def action_pick_model(self) -> None:
        from ba_tui.tui.screens.picker import ModelPicker

        def chosen(result: tuple[str, str] | None) -> None:
            if result is not None:
                self.main.set_model(*result)

        await self.push_screen(ModelPicker(self.main.provider, self.main.model), chosen)

    async def action_compare(self) -> None:
        """The prompt in the box (if any) goes to several models side by side."""
        from ba_tui.tui.screens.compare import CompareScreen
        from ba_tui.tui.screens.compare_setup import LAST_CHOICE, CompareSetup, parse_targets
        from ba_tui.tui.widgets.prompt_box import PromptBox

        main = self.main
        if main.streaming:
            self.notify("A reply is still streaming: wait for it, or press Esc to cancel it.")
            return
        if main.editing is not None:
            self.notify("Send the edited prompt (Enter) or stop editing (Esc) first.")
            return
        box = main.query_one(PromptBox)
        current = (main.provider, main.model) if main.provider and main.model else None

        def chosen(targets: list[tuple[str, str]] | None) -> None:
            if not targets:
                return
            self.store.set_kv(LAST_CHOICE, "\n".join(f"{p}:{m}" for p, m in targets))
            prompt = box.prompt if box.text.strip() else None
            box.clear()
            self.push_screen(CompareScreen(targets, prompt))

        remembered = parse_targets(self.store.get_kv(LAST_CHOICE))
        await self.push_screen(CompareSetup(current, remembered), chosen)

    async def action_search(self) -> None:
        from ba_tui.tui.screens.search import SearchScreen

        def chosen(result: tuple[str, str] | None) -> None:
            if result is not None:
                self.call_later(self.main.open_thread, *result)

        await self.push_screen(SearchScreen(self.store), chosen)

    async def action_settings(self) -> None:
        from ba_tui.tui.screens.settings import SettingsScreen

        await self.push_screen(SettingsScreen(), lambda _: self._settings_closed())

    def _settings_closed(self) -> None:
        self.reload_config()
        main = self.main
        if main.thread is None and main.provider is None:
            provider, model = self.defaults()
            if provider:
                self.call_later(main.new_thread, provider, model)

    def acted_on(self) -> Thread | None:
        """The thread a delete or rename is for: the highlighted one while the thread list
        has focus (the user moved to it there), else the open one."""
        from ba_tui.tui.widgets.thread_list import ThreadList

        main = self.main
        threads = main.query_one(ThreadList)
        if self.focused is threads and (highlighted := threads.highlighted_thread) is not None:
            return highlighted
        return main.thread

    async def action_rename_thread(self) -> None:
        from ba_tui.tui.screens.rename import RenameScreen

        thread = self.acted_on()
        if thread is None:
            self.notify("This thread has no messages yet; it is named after its first prompt.")
            return

        def renamed(title: str | None) -> None:
            if title:
                self.main.rename_thread(thread.id, title)

        await self.push_screen(RenameScreen(thread.title), renamed)

    async def action_delete_thread(self) -> None:
        from ba_tui.tui.screens.confirm import ConfirmScreen
        from ba_tui.tui.text import unjoined

        thread = self.acted_on()
        if thread is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.call_later(self.main.delete_thread, thread.id)

        await self.push_screen(
            ConfirmScreen(f"Delete the thread “{unjoined(thread.title)}” and all its messages?"),
            confirmed,
        )

    def action_select_messages(self) -> None:
        self.main.select_messages()

    def action_toggle_threads(self) -> None:
        threads = self.main.query_one("#threads")
        threads.display = not threads.display

    def action_copy_last_reply(self) -> None:
        from ba_tui.tui.widgets.message import AssistantMessage

        view = self.main.last_view(AssistantMessage)
        if view is None or not view.text:
            self.notify("There is no reply to copy yet.")
            return
        self.copy_to_clipboard(view.text)
        self.notify("Copied the last reply to the clipboard", timeout=2)

    async def action_regenerate(self) -> None:
        await self.main.regenerate()

    def action_edit_last_prompt(self) -> None:
        from ba_tui.tui.widgets.message import UserMessage

        view = self.main.last_view(UserMessage)
        if isinstance(view, UserMessage):
            self.main.edit(view)

    async def action_variant(self, step: int) -> None:
        from ba_tui.tui.widgets.message import AssistantMessage

        view = self.main.last_view(AssistantMessage)
        if view is not None:
            await self.main.switch_variant(view, step)

    def action_cancel_reply(self) -> None:
        if not self.main.cancel_reply():
            self.notify("No reply is streaming.")

    # --- the command palette ----------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not isinstance(screen, MainScreen):
            return
        commands = (
            ("New thread", "Start a thread: provider, model and persona", self.action_new_thread),
            ("Choose provider and model", "For this thread's next turn", self.action_pick_model),
            (
                "Compare models",
                "Send the prompt to several models side by side; keep one answer",
                self.action_compare,
            ),
            ("Search messages", "Full-text search over every thread", self.action_search),
            ("Settings", "Default provider, model, persona; API keys; theme", self.action_settings),
            ("Rename thread", "Give the current thread a new title", self.action_rename_thread),
            ("Delete thread", "Delete the current thread (asks first)", self.action_delete_thread),
            (
                "Copy last reply",
                "Copy the newest reply to the clipboard",
                self.action_copy_last_reply,
            ),
            (
                "Regenerate last reply",
                "Ask again; the old reply is kept as a variant",
                self.action_regenerate,
            ),
            (
                "Edit last prompt",
                "Edit and resend it as a new branch",
                self.action_edit_last_prompt,
            ),
            (
                "Previous variant",
                "Show the previous variant of the last reply",
                partial(self.action_variant, -1),
            ),
            (
                "Next variant",
                "Show the next variant of the last reply",
                partial(self.action_variant, 1),
            ),
            (
                "Select messages",
                "Move between messages to copy, edit or regenerate",
                self.action_select_messages,
            ),
            (
                "Cancel reply",
                "Stop the streaming reply and keep what arrived",
                self.action_cancel_reply,
            ),
            ("Toggle thread list", "Show or hide the thread list", self.action_toggle_threads),
        )
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)


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


def _env_key(spec: Any) -> bool:
    import os

    return any(os.environ.get(var, "").strip() for var in spec.key_env)


def _import_adapter(provider: str, config: Config) -> None:
    from ba_tui.providers import adapter, get_spec

    adapter(get_spec(provider, config))


def run() -> int:
    """Open the TUI; returns the exit code. Start-up failures are one line on stderr."""
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
    if app._stopping:
        _drop_dead_terminal()
    return app.return_code or 0


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


def _drop_dead_terminal() -> None:
    """After a hang-up the terminal is gone, and Python's last flush of stdout or stderr
    would fail and replace the exit code (128 + SIGHUP) with 120: point them at
    /dev/null instead."""
    import os
    import sys

    for name in ("stdout", "stderr"):
        try:
            getattr(sys, name).flush()
        except (OSError, ValueError):
            setattr(sys, name, open(os.devnull, "w"))  # noqa: SIM115 (lives to the exit)
