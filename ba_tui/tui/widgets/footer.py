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

    async def recompose(self) -> None:
        await super().recompose()
        self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        """Hide the keys that run past the palette's key: a key is shown whole or not at
        all (a mode with more keys, message select's, would otherwise end in "^t Compar").
        The palette lists every key anyway."""
        keys = [child for child in self.children if hasattr(child, "action")]
        palette = next((key for key in keys if key.has_class("-command-palette")), None)
        edge = palette.region.x if palette is not None else self.region.right
        for key in keys:
            if key is not palette and key.region.right > edge:
                key.display = False

    def on_resize(self) -> None:
        # Again at the new width: the left-out keys may change, and the hidden ones fit.
        self.call_after_refresh(self.recompose)
