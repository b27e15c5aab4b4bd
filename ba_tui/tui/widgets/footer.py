"""The key footer, which leaves out the least needed keys when the screen is narrow."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer

# Keys the prompt's placeholder tells about: below FULL_WIDTH they give their room to the
# others. Narrower still (app.py's `-narrow`, below 100, which also folds the thread list)
# the message-select key, which the palette lists, goes too, and the keys sit closer.
TOLD_BY_THE_PROMPT = frozenset({"submit", "newline"})
LESS_NEEDED = TOLD_BY_THE_PROMPT | {"select_messages"}
# Every key of the chat screen and the palette take about 119 columns.
FULL_WIDTH = 120


class ChatFooter(Footer):
    """Textual's Footer without the keys a narrower screen has no room for."""

    def __init__(self) -> None:
        super().__init__()
        self._left_out: frozenset[str] | None = None

    def _to_leave_out(self) -> frozenset[str]:
        if self.screen.has_class("-narrow"):
            return LESS_NEEDED
        return TOLD_BY_THE_PROMPT if self.app.size.width < FULL_WIDTH else frozenset()

    def compose(self) -> ComposeResult:
        self._left_out = left_out = self._to_leave_out()
        narrow = left_out == LESS_NEEDED
        # Narrow, the keys also sit closer together: at 80 columns that is room for one
        # more key (Ctrl+L, attach) before the palette.
        self.set_reactive(Footer.compact, narrow)
        self.set_class(narrow, "-compact")
        for widget in super().compose():
            # A FooterKey (not public in textual.widgets) carries its binding's action.
            if getattr(widget, "action", None) in left_out:
                continue
            yield widget

    def on_resize(self) -> None:
        if self._left_out is not None and self._to_leave_out() != self._left_out:
            self.call_after_refresh(self.recompose)
