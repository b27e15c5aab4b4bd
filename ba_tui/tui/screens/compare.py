"""Compare: one prompt streams into side-by-side columns, one per model, and the user
keeps one answer to continue the thread with.

The prompt and every answer are stored as they would be by `ba-chat ask --compare`
(`compare.run_compare`: one user message, the answers as its siblings), so the answers
not kept stay in the thread as variants of the prompt.

The screen is given what it compares in (the chat screen's session and the message the
prompt follows) and hands the thread and the answer to go on with back by `dismiss`.

Attachments go to each model as it can take them: a column whose model cannot (an image
to a model that cannot see) is marked with the reason and left out, and the others are
still asked; a column whose model reads a document as text says so under its title.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from ba_tui.errors import BaChatError
from ba_tui.tui.ready import ready_target
from ba_tui.tui.text import cut_middle, inert
from ba_tui.tui.widgets.footer import ChatFooter
from ba_tui.tui.widgets.message import AssistantMessage, UserMessage, set_own_class
from ba_tui.tui.widgets.prompt_box import PromptBox

if TYPE_CHECKING:
    from textual.timer import Timer
    from textual.worker import Worker

    from ba_tui.attachments import Prepared
    from ba_tui.conversation import Turn
    from ba_tui.events import Event
    from ba_tui.providers import Target
    from ba_tui.session import ChatSession
    from ba_tui.store import Store


@dataclass(frozen=True)
class Continue:
    """What a comparison ends with: the thread to show, through `message_id` (the kept
    answer, or the first one), and a line telling the user what was kept."""

    thread_id: str
    message_id: str | None
    notice: str


class CompareColumn(Vertical):
    """One model's answer: a title line, then the reply (scrolls on its own)."""

    def __init__(self, index: int, provider: str, model: str) -> None:
        super().__init__(classes="compare-column")
        self.index = index
        self.provider = provider
        self.model = model
        self.reply = AssistantMessage(None, streaming=True, label=f"{provider} · {model}")
        self.turn: Turn | None = None
        self.refused: str | None = None  # why its model cannot take the attachments

    def compose(self) -> ComposeResult:
        yield Static(self._title(None), classes="compare-title")
        note = Static(classes="compare-note")
        note.display = False
        yield note
        with VerticalScroll(classes="compare-body", can_focus=False):
            # Shown once the prompt is sent: until then it would say "streaming".
            self.reply.display = False
            yield self.reply

    def _title(self, width: int | None) -> Content:
        """`N provider · model` in `width` cells; narrower, the model alone, its middle cut
        (four columns on 80 cells leave about 16 each)."""
        number = f"{self.index + 1} " + ("⊘ " if self.refused else "")
        label = inert(f"{self.provider} · {self.model}")
        if width is not None and len(number) + len(label) > width:
            label = cut_middle(inert(self.model), max(width - len(number), 1))
        return Content.assemble((number, "bold"), label)

    def note(self, lines: Sequence[str]) -> None:
        """Lines under the title: how this model gets the attachments."""
        note = self.query_one(".compare-note", Static)
        note.update(Content("\n".join(inert(line) for line in lines)))
        note.display = bool(lines)

    async def refuse(self, reason: str) -> None:
        """Its model cannot take the attachments: the title is marked, the reason is
        the column's body, and the model is not asked."""
        self.refused = reason
        title = self.query_one(".compare-title", Static)
        title.update(self._title(title.content_size.width or None))
        await self.reply.finish(None, reason, "not_asked")

    def on_resize(self) -> None:
        title = self.query_one(".compare-title", Static)
        title.update(self._title(title.content_size.width or None))

    @property
    def body(self) -> VerticalScroll:
        return self.query_one(".compare-body", VerticalScroll)

    def follow(self) -> None:
        """Keep the newest text in view once the answer outgrows its column.

        Anchored from the start, Textual would sit a short answer at the bottom of an
        empty column; unanchored, a long one would stream out of sight."""
        body = self.body
        if not body.is_anchored and body.max_scroll_y > 0 and body.scroll_y == 0:
            body.anchor()

    def mark(self, selected: bool) -> None:
        set_own_class(self.query_one(".compare-title", Static), "-selected", selected)

    @property
    def keepable(self) -> bool:
        """Stored and with some text: a thread can go on from it (even cut short)."""
        turn = self.turn
        return turn is not None and turn.message_id is not None and bool(turn.text)


class CompareScreen(Screen[Continue | None]):
    """Columns for `targets`; sends `prompt` at once, or waits for one to be typed. The
    prompt goes into `session`'s thread after `parent_id` (None: a new thread)."""

    BINDINGS = [
        Binding("escape", "back", "Cancel / back"),
        Binding("left", "select(-1)", "‹ Column", key_display="←"),
        Binding("right", "select(1)", "Column ›", key_display="→"),
        Binding("enter", "keep", "Keep this answer"),
        Binding("pageup", "scroll(-1)", "Scroll", show=False),
        Binding("pagedown", "scroll(1)", "Scroll", show=False),
        *(Binding(str(n), f"keep({n - 1})", f"Keep {n}", show=False) for n in range(1, 5)),
    ]

    def __init__(
        self,
        targets: list[tuple[str, str]],
        prompt: str | None,
        *,
        session: ChatSession,
        parent_id: str | None,
        store: Store,
        attached: Sequence[Prepared] = (),
    ) -> None:
        super().__init__()
        self.attached = tuple(attached)
        self.session = session
        self.parent_id = parent_id
        self.store = store
        self.targets = targets
        self.prompt = prompt if prompt and prompt.strip() else None
        self.columns = [CompareColumn(i, p, m) for i, (p, m) in enumerate(targets)]
        self.selected = 0
        self.state = "composing"  # then running, done
        self.thread_id: str | None = None
        self.worker: Worker[None] | None = None
        self._follow: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="compare-status")
        yield Vertical(id="compare-prompt")
        with Horizontal(id="compare-columns"):
            yield from self.columns
        if self.prompt is None:
            yield PromptBox(id="prompt")
        yield ChatFooter()

    async def on_mount(self) -> None:
        self.columns[0].mark(True)
        if self.prompt is None:
            self._status("Type the prompt to send to every model; Enter sends, Esc goes back.")
            self.query_one(PromptBox).focus()
        else:
            await self._send(self.prompt)

    def _status(self, text: str) -> None:
        self.query_one("#compare-status", Static).update(
            Content.assemble(
                (f"Compare {len(self.targets)} models", "bold $text-accent"),
                "  ",
                (text, "$text-warning"),
            )
        )

    # --- sending ----------------------------------------------------------------------------

    @on(PromptBox.Submitted)
    async def _submitted(self, event: PromptBox.Submitted) -> None:
        event.stop()
        if self.state == "composing":
            await event.prompt_box.remove()
            await self._send(event.text)

    async def _send(self, prompt: str) -> None:
        self.prompt = prompt
        self.state = "running"
        user = UserMessage(
            None, text=prompt, attached=[item.part for item in self.attached], pictures=False
        )
        await self.query_one("#compare-prompt").mount(user)
        for column in self.columns:
            column.reply.display = True
        self._status("streaming… Esc cancels all")
        self.refresh_bindings()
        self._follow = self.set_interval(0.25, self._follow_columns)
        self.worker = self._run(prompt)

    def _follow_columns(self) -> None:
        for column in self.columns:
            column.follow()

    @work(group="compare", exit_on_error=False, description="compare")
    async def _run(self, prompt: str) -> None:
        """Resolve every model, then `run_compare`; however it ends (cancelled, a locked
        database, a bug), every column ends with what is known."""
        turns: dict[int, Turn] = {}  # column index -> what its model produced
        error: str | None = None
        try:
            await self._compare(prompt, turns)
        except asyncio.CancelledError:
            await self._ended(turns, None, "cancelled")
            raise
        except BaChatError as exc:
            error = exc.line("tui")
        except Exception as exc:  # a bug must not leave the columns streaming forever
            from ba_tui.keys import redact

            error = redact(f"internal error: {type(exc).__name__}: {exc}")
        await self._ended(turns, error, "error")

    async def _compare(self, prompt: str, turns: dict[int, Turn]) -> None:
        session = self.session
        targets: list[Target] = []
        columns: list[CompareColumn] = []
        for column in self.columns:
            try:
                target = await ready_target(session, column.provider, column.model)
            except BaChatError as exc:
                await column.reply.finish(None, exc.line("tui"))
                continue
            if self.attached and not await self._fits(column, target):
                continue
            targets.append(target)
            columns.append(column)
        if not targets:
            return

        def forward(index: int, event: Event) -> None:
            if index >= 0:  # -1: notes about the thread's history, said per column above
                columns[index].reply.feed(event)

        filled: list[Turn] = []
        try:
            await session.compare(
                prompt,
                targets,
                parent_id=self.parent_id,
                on_event=forward,
                turns=filled,
                attached=self.attached,
            )
        finally:
            self.thread_id = session.thread.id if session.thread else None
            turns.update(
                (column.index, turn) for column, turn in zip(columns, filled, strict=False)
            )

    async def _fits(self, column: CompareColumn, target: Target) -> bool:
        """Whether the column's model can take the attachments (a PDF it does not read
        goes as text, said under its title); if not, the column says why."""
        from ba_tui.attachments.fit import Refused

        try:
            notes = self.session.check_attachments([target], self.attached)
        except Refused as refused:
            await column.refuse(refused.message)
            return False
        column.note(notes)
        return True

    async def _ended(self, turns: dict[int, Turn], error: str | None, status: str) -> None:
        """Close every column still streaming: with its stored reply when there is one."""
        store = self.store
        for column in self.columns:
            turn = column.turn = turns.get(column.index)
            if not column.reply.streaming:
                continue
            if turn is None:
                await column.reply.finish(None, error, status)
                continue
            message = store.get_message(turn.message_id) if turn.message_id else None
            line = turn.error.line("tui") if turn.error else error
            await column.reply.finish(message, line, turn.status)
        self.state = "done"
        if self._follow is not None:
            self._follow.stop()
        # One last look after the final layout: the end of each answer, with its
        # footer (tokens, cost, timings), is what is on screen when they are done.
        self.call_after_refresh(self._follow_columns)
        if any(column.keepable for column in self.columns):
            first = next(c for c in self.columns if c.keepable)
            self._select(first.index)
            count = len(self.columns)
            self._status(
                f"Keep one answer to go on with its model: 1–{count} (or ←→, Enter) · "
                "Esc: back, all kept as variants"
            )
        elif self.thread_id is None and any(column.refused for column in self.columns):
            self._status("No model here can take the attachments: see each column. Esc goes back.")
        elif self.thread_id is None:
            self._status("No model could be asked: see each column. Esc goes back.")
        else:
            self._status("No answer to keep. Esc goes back.")
        self.refresh_bindings()

    # --- keys -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "keep":
            return self.state == "done"
        if action in ("select", "scroll"):
            return self.state != "composing"
        return True

    def _select(self, index: int) -> None:
        self.columns[self.selected].mark(False)
        self.selected = max(0, min(len(self.columns) - 1, index))
        self.columns[self.selected].mark(True)

    def action_select(self, step: int) -> None:
        self._select(self.selected + step)

    def action_scroll(self, step: int) -> None:
        body = self.columns[self.selected].body
        if step < 0:
            body.scroll_page_up()
        else:
            body.scroll_page_down()

    async def action_keep(self, index: int | None = None) -> None:
        if index is None:
            index = self.selected
        if not 0 <= index < len(self.columns):
            return
        column = self.columns[index]
        if not column.keepable or column.turn is None or self.thread_id is None:
            self.notify(f"Answer {index + 1} has nothing to continue from: keep another.")
            return
        turn = column.turn
        self.store.update_thread(self.thread_id, provider=turn.provider, model=turn.model)
        self.dismiss(
            Continue(
                self.thread_id,
                turn.message_id,
                f"Continuing with {turn.provider} · {turn.model}; the other answers are kept "
                "as variants (Ctrl+↑, then ←→).",
            )
        )

    async def action_back(self) -> None:
        if self.state == "running" and self.worker is not None:
            self.worker.cancel()
            return
        if self.thread_id is None:
            self.dismiss(None)
            return
        first = next((c.turn for c in self.columns if c.keepable and c.turn), None)
        notice = "Every answer is kept as a variant of the prompt (Ctrl+↑, then ←→)."
        if first is not None:
            # The thread goes on from the first answer: with its model, as the top bar
            # will say (not the model the thread had before the comparison).
            self.store.update_thread(self.thread_id, provider=first.provider, model=first.model)
            notice = f"Continuing with {first.provider} · {first.model}. {notice}"
        self.dismiss(Continue(self.thread_id, first.message_id if first else None, notice))
