"""Files matching the `@path` being typed in the prompt box, just above it.

The prompt box keeps the focus while they show (typing goes on narrowing them); the
screen moves the highlight on ↑/↓ and takes the highlighted one on Tab or Enter. A click
takes one too.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ba_tui.tui.text import inert


class PathSuggestions(OptionList, can_focus=False):
    """Paths to choose from; hidden when there are none."""

    def show(self, paths: list[str]) -> None:
        """List `paths` (folders end in `/`), the first highlighted; none hides the list."""
        self.set_options([Option(Content(inert(path)), id=path) for path in paths])
        self.highlighted = 0 if paths else None
        self.set_class(bool(paths), "-shown")

    def hide(self) -> None:
        self.show([])

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")

    @property
    def chosen(self) -> str | None:
        """The highlighted path, or None."""
        if not self.shown or self.highlighted is None:
            return None
        return self.options[self.highlighted].id

    def move(self, step: int) -> None:
        if step > 0:
            self.action_cursor_down()
        else:
            self.action_cursor_up()
