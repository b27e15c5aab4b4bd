"""Marking a search hit's words in the message it opened, until the user's next action.

The conversation shows messages as Textual Markdown blocks (answers) and Statics (prompts);
each is a Static holding the Content it shows, so the words are marked by showing that
Content with a highlight over them, and unmarked by showing the original again.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.widget import Widget

# Reversed: visible in every theme, whatever the message's own colours.
FOUND_STYLE = "bold reverse"


def words_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """The words as whole words, any case; None when there are none."""
    alternatives = sorted({w for w in words if w.strip()}, key=len, reverse=True)
    if not alternatives:
        return None
    return re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(w) for w in alternatives) + r")(?!\w)", re.IGNORECASE
    )


class Found:
    """The statics showing marked words, with what they showed before."""

    def __init__(self) -> None:
        self.marked: list[tuple[Static, Content]] = []

    def mark(self, view: Widget, words: tuple[str, ...]) -> Static | None:
        """Mark `words` in the text `view` shows; the first static marked (to scroll to),
        or None when none of its text holds them."""
        from textual.widgets._markdown import MarkdownBlock

        self.clear()
        pattern = words_pattern(words)
        if pattern is None:
            return None
        for static in view.query(Static):
            if not (isinstance(static, MarkdownBlock) or static.has_class("message-body")):
                continue
            shown = static.content
            if isinstance(shown, Content) and pattern.search(shown.plain):
                self.marked.append((static, shown))
                static.update(shown.highlight_regex(pattern, style=FOUND_STYLE))
        return self.marked[0][0] if self.marked else None

    def clear(self) -> None:
        """Show the marked statics as they were (those still on screen)."""
        for static, shown in self.marked:
            if static.is_mounted:
                static.update(shown)
        self.marked = []
