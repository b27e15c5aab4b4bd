"""The multi-line prompt: Enter sends, Ctrl+J (or Shift+Enter where the terminal
reports it) starts a new line."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = ("ctrl+j", "shift+enter")


class PromptBox(TextArea):
    """Where the user types. Posts `Submitted` on Enter; never sends empty text."""

    BINDINGS = [
        # Both are handled in `_on_key`, in order with the characters typed around them;
        # these entries name them in the footer.
        Binding("enter", "submit", "Send"),
        Binding(",".join(NEWLINE_KEYS), "newline", "New line", key_display="^j"),
    ]

    class Submitted(Message):
        def __init__(self, prompt_box: PromptBox, text: str) -> None:
            super().__init__()
            self.prompt_box = prompt_box
            self.text = text

        @property
        def control(self) -> PromptBox:
            return self.prompt_box

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=True,
            placeholder="Ask anything — Enter sends, Ctrl+J adds a line",
        )

    def action_submit(self) -> None:
        text = self.text
        if text.strip():
            self.post_message(self.Submitted(self, text))

    def action_newline(self) -> None:
        self.insert("\n")

    async def _on_key(self, event: events.Key) -> None:
        # Not a priority binding: those run when the app receives the key, before this
        # widget has inserted the characters typed just before it ("hello⏎" pasted in
        # one burst would send "hel").
        # Keys this widget does not consume bubble up to the app's bindings, and would be
        # acted on after later keys: the newline keys are handled here too.
        if event.key in ("enter", *NEWLINE_KEYS):
            event.stop()
            event.prevent_default()
            if event.key == "enter":
                self.action_submit()
            else:
                self.action_newline()
            return
        await super()._on_key(event)
