"""The command palette (Ctrl+P): each entry with its key, and only what can run now.

A screen lists its entries in `PALETTE` as actions (the same strings its bindings use);
the app's entries come from `App.get_system_commands` (Textual's Theme, Keys, Quit and
ba-chat's Settings, Screenshot). An entry whose action the screen's `check_action` turns
down (Cancel reply while nothing streams) is left out, and the key shown is the one the
screen's bindings give the action, so the palette teaches the shortcut.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from textual.actions import parse
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

if TYPE_CHECKING:
    from textual.dom import DOMNode


class PaletteEntry(NamedTuple):
    """One palette line: its title, a line of help, and the action it runs."""

    title: str
    help: str
    action: str  # e.g. "new_thread", "variant(-1)", "app.settings"


# How keys read in the palette: "Ctrl+N", "Ctrl+↑", "Esc".
KEY_NAMES = {
    "ctrl": "Ctrl",
    "shift": "Shift",
    "alt": "Alt",
    "escape": "Esc",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "enter": "Enter",
}


def key_label(key: str) -> str:
    """`ctrl+n` -> `Ctrl+N`, `ctrl+up` -> `Ctrl+↑`."""
    return "+".join(KEY_NAMES.get(part, part.upper()) for part in key.split("+"))


class Command(NamedTuple):
    title: str
    help: str
    run: Callable[[], Any]
    key: str | None


class KeyedCommands(Provider):
    """The calling screen's `PALETTE`, then the app's system commands."""

    def _keys(self) -> dict[str, str]:
        """Action (without `app.` / `screen.`) -> the key bound to it on this screen now."""
        keys: dict[str, str] = {}
        for key, active in self.screen.active_bindings.items():
            action = active.binding.action.removeprefix("app.").removeprefix("screen.")
            keys.setdefault(action, key)
        return keys

    def commands(self) -> Iterator[Command]:
        screen, app = self.screen, self.app
        keys = self._keys()
        for entry in getattr(screen, "PALETTE", ()):
            target: DOMNode = screen
            action = entry.action
            if action.startswith("app."):
                target, action = app, action.removeprefix("app.")
            _, name, params = parse(action)
            if not target.check_action(name, params):
                continue  # cannot run now: Cancel reply with nothing streaming
            run = partial(app.run_action, action, target)
            yield Command(entry.title, entry.help, run, keys.get(action) or keys.get(name))
        for title, help_text, callback, _discover in app.get_system_commands(screen):
            name = getattr(callback, "__name__", "").removeprefix("action_")
            yield Command(title, help_text, callback, keys.get(name))

    @staticmethod
    def _display(title: Content | str, key: str | None) -> Content:
        title = title if isinstance(title, Content) else Content(title)
        if key is None:
            return title
        return Content.assemble(title, ("  " + key_label(key), "$text-muted"))

    async def discover(self) -> Hits:
        for command in self.commands():
            yield DiscoveryHit(
                self._display(command.title, command.key),
                command.run,
                text=command.title,
                help=command.help,
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self.commands():
            if (score := matcher.match(command.title)) > 0:
                yield Hit(
                    score,
                    self._display(matcher.highlight(command.title), command.key),
                    command.run,
                    text=command.title,
                    help=command.help,
                )
