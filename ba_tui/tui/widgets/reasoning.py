"""A model's visible reasoning: a collapsible block above the answer."""

from __future__ import annotations

from textual import on
from textual.widgets import Collapsible

from ba_tui.tui.widgets.answer import Answer


class Reasoning(Collapsible):
    """Reasoning text (already inert) as Markdown, dimmed (app.tcss); `append` adds to it.

    Markdown because models write it so: Gemini's thought summaries open each step with a
    **bold** title. It streams like an answer (widgets/answer.py), so a long chain of
    thought costs no more per token than a long answer."""

    def __init__(self, text: str = "", *, collapsed: bool = True) -> None:
        self.body = Answer(text)
        # A fixed title: no markup to worry about in it.
        super().__init__(self.body, title="Reasoning", collapsed=collapsed)

    @property
    def text(self) -> str:
        return self.body.text

    def fold(self) -> None:
        """Collapse without scrolling to it (the reply below keeps the reader's eye)."""
        self.set_reactive(Collapsible.collapsed, True)
        self._update_collapsed(True)

    @on(Collapsible.Expanded)
    def _shown(self) -> None:
        # Parts of a long reasoning dropped while it was folded come back (see Answer).
        self.body.check_soon()

    async def append(self, text: str) -> None:
        await self.body.append(text)

    async def release(self, *, overdue_only: bool = False) -> None:
        """Show text held back for a long last block (see Answer.release)."""
        await self.body.release(overdue_only=overdue_only)
