"""The line above the conversation: the current thread's provider and exact model id,
what is happening (streaming, retrying), the attachments waiting for the next prompt, its
persona and its title."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from ba_tui.tui.text import inert, unjoined


class StatusLine(Widget):
    """`anthropic · claude-sonnet-5-5` (the model indicator), then state, persona, title."""

    provider: reactive[str] = reactive("")
    model: reactive[str] = reactive("")
    persona: reactive[str] = reactive("")
    title: reactive[str] = reactive("")
    state: reactive[str] = reactive("")
    spend: reactive[str] = reactive("")  # thread total, and month-to-date against the budget
    # How full the model's context window is after the last reply: `ctx 12k/200k`.
    context: reactive[str] = reactive("")
    context_full: reactive[bool] = reactive(False)  # 80% or more: shown as a warning
    # The next prompt's attachments: `2 files · 1.3 MB · ~2.1k tokens`; a warning when the
    # model cannot take one.
    attached: reactive[str] = reactive("")
    attached_warning: reactive[bool] = reactive(False)

    def render(self) -> Content:
        model = f"{inert(self.provider)} · {inert(self.model)}" if self.provider else "no provider"
        parts: list[str | Content | tuple[str, str]] = [(model, "bold $text-accent")]
        if self.state:
            parts += ["  ", (inert(self.state), "$text-warning")]
        if self.attached:
            style = "$text-error" if self.attached_warning else "$text-secondary"
            parts += ["  ", (inert(self.attached), style)]
        if self.persona:
            parts += ["  ", (f"persona {inert(self.persona)}", "$text-secondary")]
        after: list[str | Content | tuple[str, str]] = []
        if self.spend:
            after += ["  ", (self.spend, "$text-muted")]
        if self.context:
            after += ["  ", (self.context, "$text-warning" if self.context_full else "$text-muted")]
        if self.title:
            # One row: a character the terminal measures otherwise would push the rest out.
            title = Content.styled(unjoined(inert(self.title)), "$text-muted")
            # The title gives way (shortened with "…") so what follows it, the spending
            # and the context window, stays whole on a narrow terminal.
            room = self.size.width - Content.assemble(*parts, "  ", *after).cell_length
            if self.size.width and title.cell_length > room:
                title = title.truncate(room, ellipsis=True) if room > 8 else Content("")
            if title:
                parts += ["  ", title]
        return Content.assemble(*parts, *after)
