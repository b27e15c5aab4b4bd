"""The key footer, which leaves out the least needed keys on a narrow screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer

# Keys the prompt's placeholder or the palette already tell about: on a narrow screen
# (the `-narrow` class, app.py's breakpoints) they give their room to Settings and Search.
LESS_NEEDED = frozenset({"submit", "newline", "select_messages"})


class ChatFooter(Footer):
    """Textual's Footer without the LESS_NEEDED keys below the narrow breakpoint."""

    def __init__(self) -> None:
        super().__init__()
        self._narrow: bool | None = None

    def compose(self) -> ComposeResult:
        self._narrow = self.screen.has_class("-narrow")
        # Narrow, the keys also sit closer together: at 80 columns that is room for one
        # more key (Ctrl+L, attach) before the palette.
        self.set_reactive(Footer.compact, self._narrow)
        self.set_class(self._narrow, "-compact")
        for widget in super().compose():
            # A FooterKey (not public in textual.widgets) carries its binding's action.
            if self._narrow and getattr(widget, "action", None) in LESS_NEEDED:
                continue
            yield widget

    def on_resize(self) -> None:
        if self._narrow is not None and self.screen.has_class("-narrow") != self._narrow:
            self.call_after_refresh(self.recompose)
