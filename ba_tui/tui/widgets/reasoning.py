"""A model's visible reasoning: a collapsible block above the answer."""

from __future__ import annotations

from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Static

# Past this size the text written so far is frozen in its own Static, so each update
# re-wraps only the latest part.
_FREEZE_AT = 800


class Reasoning(Collapsible):
    """Reasoning text (already inert), shown plainly; `append` adds to it."""

    def __init__(self, text: str = "", *, collapsed: bool = True) -> None:
        self._live = Static(Content(text), classes="reasoning-text")
        self._column = Vertical(self._live, classes="reasoning-column")
        # A str title would be parsed as markup; Content is shown as written.
        super().__init__(self._column, title=Content("Reasoning"), collapsed=collapsed)  # type: ignore[arg-type]
        self.text = text
        self._live_text = text

    def fold(self) -> None:
        """Collapse without scrolling to it (the reply below keeps the reader's eye)."""
        self.set_reactive(Collapsible.collapsed, True)
        self._update_collapsed(True)

    async def append(self, text: str) -> None:
        if not text:
            return
        self.text += text
        self._live_text += text
        cut = self._live_text.rfind("\n\n")
        if len(self._live_text) > _FREEZE_AT and cut > 0:
            head, tail = self._live_text[:cut], self._live_text[cut + 2 :]
            self._live.update(Content(head))
            self._live = Static(Content(tail), classes="reasoning-text")
            self._live_text = tail
            if self._column.is_mounted:
                await self._column.mount(self._live)
        else:
            self._live.update(Content(self._live_text))
