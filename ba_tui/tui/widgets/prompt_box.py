"""The multi-line prompt: Enter sends, Ctrl+J (or Shift+Enter where the terminal
reports it) starts a new line.

A big paste (a log, a file) is not put into the editor: wrapping and measuring a
megabyte of text takes TextArea seconds on the event loop. The box keeps the pasted
text whole and shows a one-line chip in its place, `[pasted 1.0 MB, 62,000 lines #1]`;
Enter sends the prompt with each chip replaced by exactly the text it stands for, and
Backspace or Delete next to a chip removes it whole (so does Ctrl+U, like any line).

Files are attached from here too, by the screen the box posts to: a paste that is only
paths of existing files (what a terminal's drag-and-drop sends) posts `FilesPasted`
instead of inserting them; `@` and a few letters of a path posts `PathTyped` so the screen
can offer matching files, and while it does (`suggesting`), ↑/↓/Tab/Enter/Esc go to those
suggestions; Backspace in an empty box posts `EmptyBackspace` (the last attachment goes).
"""

from __future__ import annotations

import re

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from ba_tui.tui.dropped import dropped_files
from ba_tui.tui.text import is_big, size_label

# Shift+Enter as Textual names it from the kitty protocol and from xterm's modifyOtherKeys
# (`CSI 27;2;13~`); see tui/keyboard.py for how the terminal is asked to report it.
NEWLINE_KEYS = ("ctrl+j", "shift+enter", "shift+\r")
# What the `@path` suggestions take while they are shown.
SUGGESTION_KEYS = ("up", "down", "tab", "enter", "escape")
# `@` and the path typed so far, at the cursor, starting a word (so `me@example.com` is not).
_AT_PATH = re.compile(r"(?:^|(?<=\s))@(\S*)$")


def chip_label(text: str, number: int) -> str:
    """What the box shows in place of a big paste (`is_big`): its size and a number."""
    return f"[pasted {size_label(text)} #{number}]"


PLACEHOLDER = "Ask anything — Enter sends, Ctrl+J adds a line"
SHORT_PLACEHOLDER = "Ask anything (Enter sends)"


class PromptBox(TextArea):
    """Where the user types. Posts `Submitted` on Enter; never sends empty text."""

    BINDINGS = [
        # Both are handled in `_on_key`, in order with the characters typed around them;
        # these entries name them in the footer.
        Binding("enter", "submit", "Send"),
        Binding("ctrl+j,shift+enter", "newline", "New line", key_display="^j"),
        # A prompt is rarely a page long: these page the conversation (or compare's
        # column) instead of moving the cursor by a page.
        Binding("pageup", "screen.scroll(-1)", "Page up", show=False),
        Binding("pagedown", "screen.scroll(1)", "Page down", show=False),
        # TextArea pastes ba-chat's own clipboard on Ctrl+V; the screen attaches an image
        # from the system clipboard first, and falls back to that (see its paste_image).
        Binding("ctrl+v", "screen.paste_image(True)", "Paste image", show=False),
    ]

    class Submitted(Message):
        def __init__(self, prompt_box: PromptBox, text: str) -> None:
            super().__init__()
            self.prompt_box = prompt_box
            self.text = text

        @property
        def control(self) -> PromptBox:
            return self.prompt_box

    class Empty(Message):
        """Enter in an empty box (nothing is sent; the screen may say why)."""

    class EmptyBackspace(Message):
        """Backspace with nothing to delete."""

    class FilesPasted(Message):
        """A paste that named only existing files (a drag-and-drop): attach them."""

        def __init__(self, paths: list[str]) -> None:
            super().__init__()
            self.paths = paths

    class PathTyped(Message):
        """`@` and part of a path at the cursor (`query`), or None once there is none."""

        def __init__(self, query: str | None) -> None:
            super().__init__()
            self.query = query

    class SuggestionKey(Message):
        """A key for the `@path` suggestions: up, down, tab, enter or escape."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:
        # Chip label -> the text it stands for. Kept until the box is cleared or loaded,
        # so undoing the removal of a chip brings its text back too.
        self.pastes: dict[str, str] = {}
        # Set by the screen while it shows `@path` suggestions: their keys go to it.
        self.suggesting = False
        self._path_query: str | None = None
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=True,
            placeholder=PLACEHOLDER,
        )

    def on_resize(self) -> None:
        """The whole placeholder, or the short one where the box is too narrow for it."""
        wide = self.content_size.width > len(PLACEHOLDER)
        self.placeholder = PLACEHOLDER if wide else SHORT_PLACEHOLDER

    @property
    def prompt(self) -> str:
        """What Enter sends: the text shown, each chip replaced by its pasted text."""
        text = self.text
        if not self.pastes:
            return text
        # One pass: a pasted text that happens to contain another chip's label stays as is.
        labels = re.compile("|".join(map(re.escape, self.pastes)))
        return labels.sub(lambda match: self.pastes[match.group()], text)

    def _chip(self, text: str) -> str:
        label = chip_label(text, len(self.pastes) + 1)
        self.pastes[label] = text
        return label

    def clear(self):
        self.pastes.clear()
        return super().clear()

    def load_text(self, text: str) -> None:
        """Replace the text (editing an earlier prompt, a prompt given back); a big one
        is shown as a chip."""
        self.pastes.clear()
        super().load_text(self._chip(text) if is_big(text) else text)

    def action_submit(self) -> None:
        text = self.prompt
        if text.strip():
            self.post_message(self.Submitted(self, text))
        else:
            self.post_message(self.Empty())

    def path_word(self) -> str | None:
        """What follows an `@` that starts the word at the cursor, or None."""
        if not self.selection.is_empty:
            return None
        row, column = self.cursor_location
        found = _AT_PATH.search(self.document[row][:column])
        return found.group(1) if found else None

    def replace_path_word(self, text: str) -> None:
        """Put `text` where the `@word` at the cursor is (`""` removes it)."""
        word = self.path_word()
        if word is None:
            return
        row, column = self.cursor_location
        start = (row, column - len(word) - 1)
        if result := self._replace_via_keyboard(text, start, (row, column)):
            self.move_cursor(result.end_location)

    def _path_moved(self) -> None:
        """Tell the screen when the `@word` at the cursor changes (or goes)."""
        query = self.path_word()
        if query != self._path_query:
            self._path_query = query
            self.post_message(self.PathTyped(query))

    def on_text_area_changed(self) -> None:
        self._path_moved()

    def on_text_area_selection_changed(self) -> None:
        self._path_moved()

    def action_newline(self) -> None:
        self.insert("\n")

    async def _on_paste(self, event: events.Paste) -> None:
        # Terminals send a pasted line break as CR; TextArea turns CR and CRLF into LF, and
        # so does a chip, so a big paste is sent with the same line breaks as a small one.
        text = event.text.replace("\r\n", "\n").replace("\r", "\n")
        if not self.read_only and (paths := dropped_files(text)):
            event.prevent_default()
            self.post_message(self.FilesPasted(paths))
            return
        if self.read_only or not is_big(text):
            return  # TextArea's own handler inserts it
        event.prevent_default()
        if result := self._replace_via_keyboard(self._chip(text), *self.selection):
            self.move_cursor(result.end_location)
            self.focus()

    def _chip_at_cursor(self, before: bool) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """The span of a chip that ends at (before=True) or starts at the cursor."""
        if not self.pastes or not self.selection.is_empty:
            return None
        row, column = self.cursor_location
        line = self.document[row]
        for label in self.pastes:
            if before and line.endswith(label, 0, column):
                return (row, column - len(label)), (row, column)
            if not before and line.startswith(label, column):
                return (row, column), (row, column + len(label))
        return None

    async def _on_key(self, event: events.Key) -> None:
        # Not a priority binding: those run when the app receives the key, before this
        # widget has inserted the characters typed just before it ("hello⏎" pasted in
        # one burst would send "hel").
        # Keys this widget does not consume bubble up to the app's bindings, and would be
        # acted on after later keys: the newline keys are handled here too.
        if self.suggesting and event.key in SUGGESTION_KEYS:
            event.stop()
            event.prevent_default()
            self.post_message(self.SuggestionKey(event.key))
            return
        if event.key == "backspace" and not self.text and self.selection.is_empty:
            event.stop()
            event.prevent_default()
            self.post_message(self.EmptyBackspace())
            return
        if event.key in ("enter", *NEWLINE_KEYS):
            event.stop()
            event.prevent_default()
            if event.key == "enter":
                self.action_submit()
            else:
                self.action_newline()
            return
        if event.key in ("backspace", "delete") and (
            span := self._chip_at_cursor(before=event.key == "backspace")
        ):
            event.stop()
            event.prevent_default()
            self._delete_via_keyboard(*span)
            return
        await super()._on_key(event)
