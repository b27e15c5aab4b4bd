"""One message of a conversation: the user's prompt, or an assistant's reply.

A reply streams in through `feed` (called for every event, so it only queues text) and a
timer that moves the queued text into the Markdown about 16 times a second: however fast
tokens arrive, the screen is updated at a steady pace, never once per token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message as TextualMessage
from textual.widgets import Static

from ba_tui.events import (
    Event,
    FallingBack,
    ReasoningDelta,
    Retrying,
    TextDelta,
    ToolCallDelta,
    ToolCallDone,
    ToolCallRan,
    ToolCallStarted,
)
from ba_tui.messages import Attachment, ToolCall, ToolResult, attachments_of
from ba_tui.pricing import format_cost
from ba_tui.schemas import stored_data
from ba_tui.tui.text import InertStream, head, inert, is_big, seconds, size_label, tokens
from ba_tui.tui.widgets.answer import Answer, CodeBlock, code_blocks
from ba_tui.tui.widgets.reasoning import Reasoning
from ba_tui.tui.widgets.tool_call import ToolCallRow

if TYPE_CHECKING:
    from textual.timer import Timer
    from textual.widget import Widget

    from ba_tui.store import Message
    from ba_tui.tui.widgets.approval_card import ApprovalCard, Asking

ToolEvent = ToolCallStarted | ToolCallDelta | ToolCallDone | ToolCallRan

FLUSH_SECONDS = 1 / 16

MARKS = {
    "partial": "◐ partial",
    "cancelled": "⊘ cancelled",
    "interrupted": "⚠ interrupted",
    "error": "✗ error",
    "streaming": "… streaming",
    "not_asked": "⊘ not asked",  # compare: the model cannot take the prompt's attachments
}


def footer_line(message: Message) -> Content:
    """A status mark (if not complete), then provider · model · tokens in/out · cost ·
    ttft · duration."""
    parts: list[str] = [inert(message.provider or "?"), inert(message.model or "?")]
    counted = message.input_tokens is not None or message.output_tokens is not None
    if counted or message.ttft_ms is not None or message.status not in ("error", "cancelled"):
        if counted:
            parts.append(f"{tokens(message.input_tokens)} in / {tokens(message.output_tokens)} out")
        else:
            parts.append("tokens —")
        parts.append(format_cost(message.cost))
        parts.append(f"ttft {seconds(message.ttft_ms)}")
    # else: it failed or was cancelled before any reply, with no usage: no cost to claim.
    parts.append(seconds(message.duration_ms))
    # Non-breaking spaces inside each part: a narrow footer wraps only between parts.
    line = Content(" · ".join(part.replace(" ", "\u00a0") for part in parts))
    mark = MARKS.get(message.status)
    if mark:
        line = Content.assemble((mark, f"$text-{_tone(message.status)}"), " · ", line)
    return line


def _tone(status: str) -> str:
    return {"error": "error", "interrupted": "warning", "partial": "warning"}.get(
        status, "secondary"
    )


def variant_label(variant: tuple[int, int] | None) -> str:
    return f"‹ {variant[0] + 1}/{variant[1]} ›" if variant and variant[1] > 1 else ""


def set_own_class(widget: Widget, name: str, on: bool) -> None:
    """Toggle a class restyling only `widget` itself.

    Textual restyles a node's whole subtree on a class change; a long reply holds
    hundreds of Markdown widgets, so selecting it would stall. Rules keyed on these
    classes must style the widget itself, never its descendants.
    """
    if widget.has_class(name) == on:
        return
    widget.set_class(on, name, update=False)
    if widget.is_mounted:
        widget.app.stylesheet.update_nodes([widget], animate=False)
        widget.refresh()


class MessageView(Vertical):
    """A message in the conversation. The conversation selects it (to copy it, edit it,
    switch between its variants); selection changes only this widget's own style."""

    def __init__(
        self,
        message: Message | None,
        *,
        variant: tuple[int, int] | None = None,
        text: str = "",
    ) -> None:
        super().__init__()
        self.message = message
        self.variant = variant
        self._unsaved_text = text

    @property
    def message_id(self) -> str | None:
        return self.message.id if self.message else None

    @property
    def text(self) -> str:
        return self.message.content if self.message else self._unsaved_text

    def update_message(self, message: Message, variant: tuple[int, int] | None) -> None:
        """The stored message (and its place among its siblings) after a turn."""
        self.message = message
        self.variant = variant
        self.refresh_label()

    def refresh_label(self) -> None:
        """Redraw whatever shows the variant."""

    @property
    def has_variants(self) -> bool:
        return bool(self.variant and self.variant[1] > 1)

    def select(self, on: bool) -> None:
        set_own_class(self, "-selected", on)

    def on_click(self) -> None:
        self.post_message(self.Clicked(self))

    class Clicked(TextualMessage):
        def __init__(self, view: MessageView) -> None:
            super().__init__()
            self.view = view


class UserMessage(MessageView):
    """What the user sent: its text, and its attachments as chips (images as pictures
    too). `attached` are the attachments of a prompt not stored yet; `sent_to` is the
    (provider, model) of the reply shown below it, which says how a document reached
    the model."""

    def __init__(
        self,
        message: Message | None,
        *,
        variant: tuple[int, int] | None = None,
        text: str = "",
        attached: Sequence[Attachment] = (),
        sent_to: tuple[str, str] | None = None,
        pictures: bool = True,
    ) -> None:
        super().__init__(message, variant=variant, text=text)
        self._attached = tuple(attached)
        self.sent_to = sent_to
        self.pictures = pictures  # False: chips only (compare's few lines for the prompt)
        self._shown_chips = False
        self._shown_pictures = False

    @property
    def attachments(self) -> tuple[Attachment, ...]:
        return attachments_of(self.message.parts) if self.message else self._attached

    def compose(self) -> ComposeResult:
        yield Static(self._label(), classes="message-label")
        yield from self._attachment_views()
        text = self.text
        if is_big(text):
            # Shown whole, a 1 MB prompt would take Textual seconds to wrap and draw.
            body = Content.assemble(
                inert(head(text)), ("\n… " + size_label(text) + " in all", "$text-muted")
            )
        else:
            body = Content(inert(text))
        yield Static(body, classes="message-body")

    def _label(self) -> Content:
        variant = variant_label(self.variant)
        return Content.assemble(("You", "bold"), ("  " + variant if variant else "", "dim"))

    def refresh_label(self) -> None:
        if self.is_mounted:
            self.query_one(".message-label", Static).update(self._label())

    def _attachment_views(self) -> list[Widget]:
        """The chips, and a picture per image once the message is stored (a picture reads
        its bytes from the store); only what is not shown yet."""
        from ba_tui.attachments.kinds import is_image

        attached = self.attachments
        if not attached:
            return []
        # Only a message with attachments pays for their module (and PIL, later).
        from ba_tui.tui.widgets.attachments import AttachmentChips, Picture

        views: list[Widget] = []
        if not self._shown_chips:
            self._shown_chips = True
            views.append(AttachmentChips(attached, self.sent_to))
        if self.pictures and self.message is not None and not self._shown_pictures:
            self._shown_pictures = True
            views += [Picture(part) for part in attached if is_image(part.mime)]
        return views

    def answered_by(self, provider: str | None, model: str | None) -> None:
        """The reply below came from `model` (a fallback's, maybe): the chips say how each
        file reached it, as they do when the thread is opened again."""
        sent_to = (provider, model) if provider and model else None
        if sent_to == self.sent_to:
            return
        self.sent_to = sent_to
        if self.is_mounted and self._shown_chips:
            from ba_tui.tui.widgets.attachments import AttachmentChips

            for chips in self.query(AttachmentChips):
                chips.sent_to(sent_to)

    def update_message(self, message: Message, variant: tuple[int, int] | None) -> None:
        """Stored now: its attachments show if they did not already."""
        super().update_message(message, variant)
        if self.is_mounted and (views := self._attachment_views()):
            # After the chips if they are there, else after the label.
            shown = self.query(".attachment-chips")
            self.mount_all(views, after=shown.last() if shown else self.query_one(".message-label"))


class AssistantMessage(MessageView):
    """A reply: reasoning (folded), the answer as Markdown, the tool calls it made (a row
    each, and the approval card while one waits), an error line, a footer."""

    def __init__(
        self,
        message: Message | None,
        *,
        variant: tuple[int, int] | None = None,
        streaming: bool = False,
        can_regenerate: bool = False,
        label: str = "",
    ) -> None:
        super().__init__(message, variant=variant)
        self.streaming = streaming
        self.final_status = "streaming"
        self.label = label
        self.can_regenerate = can_regenerate
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._clean_text = InertStream()
        self._clean_reasoning = InertStream()
        self._answer_started = False
        self._notice: str | None = None
        self._timer: Timer | None = None
        self._lock = asyncio.Lock()
        self._code: tuple[str, list[CodeBlock]] | None = None
        self._tool_events: list[ToolEvent] = []
        self.calls = Vertical(*_stored_calls(message), classes="tool-calls")
        shown = "" if streaming or not message else self._shown(message)
        self.answer = Answer(shown)
        self.reasoning: Reasoning | None = None
        if message and message.reasoning and not streaming:
            self.reasoning = Reasoning(inert(message.reasoning), collapsed=True)

    @staticmethod
    def _shown(message: Message) -> str:
        """What the answer pane shows for a stored reply: an answer asked for as data
        (a thread with a schema) as a table, anything else as the model wrote it."""
        from ba_tui.tabular import to_markdown

        data = structured(message)
        return inert(to_markdown(data) if data is not None else message.content)

    @property
    def data(self) -> object | None:
        """The reply's data when it was asked for a shape and fit it, else None."""
        if self.streaming or self.message is None:
            return None
        return structured(self.message)

    @property
    def text(self) -> str:
        """The reply as the model wrote it (stored), or as shown so far while streaming."""
        if self.message is not None and not self.streaming:
            return self.message.content
        return self.answer.text

    def compose(self) -> ComposeResult:
        if self.reasoning is not None:
            yield self.reasoning
        yield self.answer
        yield self.calls
        notice = Static(classes="message-notice")
        notice.display = False
        yield notice
        yield Static(classes="message-error")
        yield Static(self._footer(), classes="message-footer")

    def on_mount(self) -> None:
        self._show_error(self.message.error if self.message else None)
        if self.streaming:
            self._timer = self.set_interval(FLUSH_SECONDS, self.flush)

    # --- streaming --------------------------------------------------------------------------

    def feed(self, event: Event) -> None:
        """Take one stream event; cheap, so it can be called for every token."""
        if isinstance(event, TextDelta):
            self._text.append(event.text)
        elif isinstance(event, ReasoningDelta):
            if event.text:
                self._reasoning.append(event.text)
        elif isinstance(event, Retrying | FallingBack):
            self._notice = event.notice
        elif isinstance(event, ToolEvent):
            self._tool_events.append(event)

    async def flush(self) -> None:
        """Move the queued text into the widgets (the timer calls this).

        One flush at a time (the lock), and a flush is never cancelled half way: the
        timer is only stopped by `finish`, after the last flush, while holding the lock.
        """
        if not self.streaming:
            return
        async with self._lock:
            if not self.streaming:
                return
            try:
                await self._flush()
            except Exception as exc:  # a rendering bug must not end the app mid-reply
                self.log.error(f"flush failed: {exc!r}")

    async def _flush(self, final: bool = False) -> None:
        if self._notice is not None:
            self._set_notice(self._notice)
            self._notice = None
        if self._reasoning:
            chunk, self._reasoning = "".join(self._reasoning), []
            text = self._clean_reasoning.feed(chunk)
            if self.reasoning is None:
                self.reasoning = Reasoning(collapsed=False)
                await self.mount(self.reasoning, before=self.answer)
            await self.reasoning.append(text)
        if self._text:
            chunk, self._text = "".join(self._text), []
            text = self._clean_text.feed(chunk)
            if not self._answer_started and chunk:
                self._answer_started = True
                self._set_notice("")
                if self.reasoning is not None:
                    self.reasoning.fold()
            await self.answer.append(text)
        if self._tool_events:
            events, self._tool_events = self._tool_events, []
            await self._show_calls(events)
        # Text held back for a very long last block shows after a pause, or at the end.
        await self.answer.release(overdue_only=not final)
        if self.reasoning is not None:
            await self.reasoning.release(overdue_only=not final)
        if final:
            await self.answer.append(self._clean_text.close())
            await self.answer.release()
            if self.reasoning is not None:
                await self.reasoning.append(self._clean_reasoning.close())
                await self.reasoning.release()

    async def finish(
        self, message: Message | None, error: str | None = None, status: str = "error"
    ) -> None:
        """The reply ended (any way): show the rest of the text, the footer and any error.
        `status` is the mark shown when nothing was stored (`message` is None)."""
        async with self._lock:
            self.streaming = False
            try:
                await self._flush(final=True)
            except Exception as exc:
                self.log.error(f"flush failed: {exc!r}")
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
        self.final_status = status
        self._set_notice("")
        if message is not None:
            self.message = message
            await self._settle_calls(message)
            if structured(message) is not None:  # the JSON that streamed, now as a table
                table = Answer(self._shown(message))
                await self.mount(table, after=self.answer)
                await self.answer.remove()
                self.answer = table
        self._show_error(error or (message.error if message else None))
        self.query_one(".message-footer", Static).update(self._footer())

    async def _show_calls(self, events: list[ToolEvent]) -> None:
        """Each call a row: open as it starts, its arguments growing as they arrive,
        folded to its line once whole (the card shows it then), its result once it ran."""
        rows = {row.call_id: row for row in self.calls.query_children(ToolCallRow)}
        for event in events:
            if isinstance(event, ToolCallDelta):
                if (growing := rows.get(event.id)) is not None:
                    growing.grow(event.text)
                continue
            call_id = event.id if isinstance(event, ToolCallStarted) else event.call.id
            row = rows.get(call_id)
            if row is None:  # (a dialect may send a whole call without a start)
                name = event.name if isinstance(event, ToolCallStarted) else event.call.name
                rows[call_id] = row = ToolCallRow(call_id, name)
                await self.calls.mount(row, before=self.approval_card)
            if isinstance(event, ToolCallDone):
                row.complete(event.call)
            elif isinstance(event, ToolCallRan):
                row.ran(event.call, event.result)

    async def _settle_calls(self, message: Message) -> None:
        """The stored reply's calls: those a cancel answered after the stream ended (no
        event says so) show how they ended, as a stored thread shows them."""
        rows = {row.call_id: row for row in self.tool_rows}
        stored = _stored_calls(message)
        for fresh in stored:
            row = rows.get(fresh.call_id)
            if row is None:
                await self.calls.mount(fresh)
            elif row.result is None and fresh.call is not None and fresh.result is not None:
                row.ran(fresh.call, fresh.result)

    @property
    def approval_card(self) -> ApprovalCard | None:
        from ba_tui.tui.widgets.approval_card import ApprovalCard

        return next(iter(self.calls.query_children(ApprovalCard)), None)

    async def ask(self, asking: Asking) -> ApprovalCard:
        """Show the approval card for `asking` under the calls streamed so far."""
        from ba_tui.tui.widgets.approval_card import ApprovalCard

        async with self._lock:
            if self._tool_events:  # the call's own row first, then the card under it
                events, self._tool_events = self._tool_events, []
                await self._show_calls(events)
        for row in self.tool_rows:
            row.wait(row.call_id == asking.call.id)
        card = ApprovalCard(asking)
        await self.calls.mount(card)
        return card

    @property
    def tool_rows(self) -> list[ToolCallRow]:
        return list(self.calls.query_children(ToolCallRow))

    def toggle_calls(self) -> None:
        """Open every tool call of the reply, or fold them all if all are open."""
        rows = self.tool_rows
        opening = any(row.collapsed for row in rows)
        for row in rows:
            row.toggle(opening)

    @property
    def code_blocks(self) -> list[CodeBlock]:
        """The reply's code blocks (parsed once per text: the footer asks on every
        refresh whether there are any)."""
        text = self.text
        if self._code is None or self._code[0] != text:
            self._code = (text, code_blocks(text))
        return self._code[1]

    @property
    def has_reasoning(self) -> bool:
        return self.reasoning is not None

    def toggle_reasoning(self) -> None:
        """Fold or unfold the reasoning above the answer."""
        if self.reasoning is not None:
            self.reasoning.collapsed = not self.reasoning.collapsed

    def _set_notice(self, text: str) -> None:
        notice = self.query_one(".message-notice", Static)
        notice.update(Content(inert(text)))
        notice.display = bool(text)

    def refresh_label(self) -> None:
        if self.is_mounted and not self.streaming:
            self.query_one(".message-footer", Static).update(self._footer())

    def _show_error(self, error: str | None) -> None:
        line = self.query_one(".message-error", Static)
        line.update(Content("✗ " + inert(error)) if error else "")
        line.display = bool(error)

    def _footer(self) -> Content:
        if self.streaming or self.message is None:
            mark = MARKS.get("streaming" if self.streaming else self.final_status, "")
            line = Content(" · ".join(filter(None, (mark, inert(self.label)))))
        else:
            line = footer_line(self.message)
        variant = variant_label(self.variant)
        return Content.assemble((variant, "bold"), " · ", line) if variant else line


def _stored_calls(message: Message | None) -> list[ToolCallRow]:
    """A stored reply's calls, a folded row each, with their results."""
    if message is None:
        return []
    results = {p.call_id: p for p in message.parts if isinstance(p, ToolResult)}
    return [
        ToolCallRow(part.id, part.name, call=part, result=results.get(part.id), stored=True)
        for part in message.parts
        if isinstance(part, ToolCall)
    ]


def structured(message: Message) -> object | None:
    """The data of a reply that fit the shape it was asked for (None otherwise)."""
    if message.role != "assistant" or not message.schema:
        return None
    return stored_data(message.schema, message.content)
