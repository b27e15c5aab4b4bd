"""Choose a file to attach: the files under the current folder, narrowed as you type.

The folder is walked in a thread, nearest files first, and the list fills while it goes
(a home folder takes seconds; the first files show at once); narrowing runs in a thread
too, so typing never waits for a list of 200,000 paths. A filter that starts with `/` or
`~` is a path of the user's own, completed one folder at a time as a shell does.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ba_tui.tui.files import is_typed_path, matches, typed_path, walk
from ba_tui.tui.text import cut_middle, inert

FILTER_DELAY = 0.1  # narrow once typing pauses, not on every key of a burst
REFRESH_DELAY = 0.2  # while the walk goes on, the list follows it this often


class FilePicker(ModalScreen[str | None]):
    """Dismissed with the chosen file's absolute path, or None (Esc)."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("down", "cursor(1)", "Down", show=False, priority=True),
        Binding("up", "cursor(-1)", "Up", show=False, priority=True),
    ]

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.files: list[str] = []
        self.walking = True
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog file-picker"):
            yield Static("Attach a file", classes="dialog-title")
            yield Input(placeholder="Type to filter, or a path (/… or ~/…)", id="filter")
            yield OptionList(id="files")
            yield Static(id="picker-count", classes="dialog-hint")
            yield Static(
                "Enter attaches · ↑/↓ choose · Esc closes", classes="dialog-hint", id="picker-hint"
            )

    def on_mount(self) -> None:
        self._count()
        self.walk_files()

    @work(thread=True, exclusive=True, group="walk", exit_on_error=False)
    def walk_files(self) -> None:
        """List the files under the root, handing each batch to the screen."""
        from textual.worker import get_current_worker

        worker = get_current_worker()
        for batch in walk(self.root, lambda: worker.is_cancelled):
            self.app.call_from_thread(self._found, batch)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._walked)

    def _found(self, batch: list[str]) -> None:
        self.files.extend(batch)
        self._count()
        if self._timer is None:
            self._timer = self.set_timer(REFRESH_DELAY, self._refilter)

    def _walked(self) -> None:
        self.walking = False
        self._count()
        self._refilter()

    def _count(self) -> None:
        where = cut_middle(inert(_shown(self.root)), 40)
        count = f"{len(self.files):,} file{'s' * (len(self.files) != 1)} under {where}"
        self.query_one("#picker-count", Static).update(
            Content(count + (" · still looking…" if self.walking else ""))
        )

    @on(Input.Changed, "#filter")
    def _typed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(FILTER_DELAY, self._refilter)

    def _refilter(self) -> None:
        self._timer = None
        self.narrow(self.query_one("#filter", Input).value, self.files[:])

    @work(thread=True, exclusive=True, group="filter", exit_on_error=False)
    def narrow(self, query: str, files: list[str]) -> None:
        """The matches for `query`, found in a thread and then shown."""
        query = query.strip()
        found = typed_path(query) if is_typed_path(query) else matches(query, files)
        self.app.call_from_thread(self._show, query, found)

    def _show(self, query: str, found: list[str]) -> None:
        if query != self.query_one("#filter", Input).value.strip():
            return  # typed on meanwhile: a newer list is on its way
        options = self.query_one("#files", OptionList)
        before = options.highlighted_option.id if options.highlighted_option else None
        options.set_options([Option(Content(inert(path)), id=path) for path in found])
        if found:
            options.highlighted = found.index(before) if before in found else 0

    def action_cursor(self, step: int) -> None:
        options = self.query_one("#files", OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    @on(Input.Submitted, "#filter")
    def _submitted(self) -> None:
        options = self.query_one("#files", OptionList)
        if options.highlighted_option is not None and options.highlighted_option.id:
            self.choose(options.highlighted_option.id)
            return
        typed = self.query_one("#filter", Input).value.strip()
        if typed:
            self.choose(typed)

    @on(OptionList.OptionSelected, "#files")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.choose(event.option.id)

    def choose(self, path: str) -> None:
        """Attach `path` (a file), or go into it (a folder, typed or listed)."""
        full = os.path.expanduser(path) if is_typed_path(path) else str(self.root / path)
        if os.path.isdir(full):
            typed = path if is_typed_path(path) else full
            filter_input = self.query_one("#filter", Input)
            filter_input.value = typed.rstrip("/") + "/"
            filter_input.cursor_position = len(filter_input.value)
            return
        if not os.path.isfile(full):
            self.notify(f"No file at {inert(path)}: choose one from the list", severity="warning")
            return
        self.dismiss(full)


def _shown(folder: Path) -> str:
    """A folder as people write it: `~/work/project` for one in their home."""
    home = Path.home()
    return f"~/{folder.relative_to(home)}" if folder.is_relative_to(home) else str(folder)
