"""The chat screen: thread list, conversation, prompt box and the model indicator.

It owns the flow of a turn: the prompt box posts `Submitted`, a worker runs
`conversation.run_turn` (the same turn runner as `ba-chat ask`) with the reply widget's
`feed` as the event callback, and the store records everything as it happens.

It owns its actions too (new thread, model, compare, search, rename, delete, variants,
cancel), bound to keys here and listed in the command palette from `PALETTE`. What the
status line shows follows the reactive attributes `thread`, `draft`, `leaf_id`, `reply`,
`notice` and `editing` through their watchers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.widgets import Static

from ba_tui.errors import BaChatError
from ba_tui.events import (
    FallingBack,
    Notice,
    ReasoningDelta,
    Retrying,
    Saved,
    TextDelta,
    ToolCallDelta,
    ToolCallDone,
    ToolCallRan,
    ToolCallStarted,
)
from ba_tui.tui.branches import Branches
from ba_tui.tui.commands import KeyedCommands, PaletteEntry
from ba_tui.tui.found import Found
from ba_tui.tui.ready import ready_target
from ba_tui.tui.screens.attaching import AttachingScreen
from ba_tui.tui.text import inert, one_line
from ba_tui.tui.widgets.attachment_bar import AttachmentBar, Pending
from ba_tui.tui.widgets.conversation_view import ConversationView
from ba_tui.tui.widgets.footer import ChatFooter
from ba_tui.tui.widgets.message import AssistantMessage, MessageView, UserMessage
from ba_tui.tui.widgets.path_suggestions import PathSuggestions
from ba_tui.tui.widgets.prompt_box import PromptBox
from ba_tui.tui.widgets.status_line import StatusLine
from ba_tui.tui.widgets.thread_list import ThreadFilter, ThreadList

EDIT_BANNER = "Editing an earlier prompt: Enter sends it as a new branch · Esc stops editing"
# How often the screen looks for what other processes wrote (a PRAGMA, ~µs).
POLL_SECONDS = 1.5

if TYPE_CHECKING:
    from textual.worker import Worker

    from ba_tui.events import Event
    from ba_tui.messages import ToolCall
    from ba_tui.session import ChatSession
    from ba_tui.store import Message, Store, Thread
    from ba_tui.tools import Decision, Tool
    from ba_tui.tui.context import AppContext
    from ba_tui.tui.screens.compare import Continue
    from ba_tui.tui.widgets.approval_card import Asking


@dataclass(frozen=True)
class Draft:
    """The thread being started: nothing is stored until its first prompt is sent."""

    provider: str | None
    model: str | None
    persona: str | None = None
    system: str | None = None


@dataclass(eq=False)  # one reply is one turn: compared by identity
class Reply:
    """A turn in progress. Events go to whichever widget shows it now (the thread may be
    left and opened again while it streams)."""

    thread_id: str | None  # None until the first prompt of a new thread is saved
    widget: AssistantMessage
    user_view: UserMessage | None = None
    worker: Worker[None] | None = None
    user_id: str | None = None
    reply_id: str | None = None
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    notice: str = ""  # "rate limited by gemini, retrying in 2 s (1/2)" until text arrives
    attached: list[Pending] = field(default_factory=list)  # sent with the prompt
    on_notice: Callable[[str], None] | None = None
    tools: list[Event] = field(default_factory=list)  # its tool calls' events, in order
    asking: Asking | None = None  # a call waiting for the user's approval

    def sink(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self.text.append(event.text)
            if self.notice:
                self._notice("")
        elif isinstance(event, ReasoningDelta) and event.text:
            self.reasoning.append(event.text)
        elif isinstance(event, Retrying | FallingBack | Notice):
            self._notice(event.notice)
        elif isinstance(event, Saved):
            self.thread_id, self.user_id = event.thread_id, event.user_id
            self.reply_id = event.reply_id
        elif isinstance(event, ToolCallStarted | ToolCallDelta | ToolCallDone | ToolCallRan):
            self.tools.append(event)  # replayed if the thread is shown again meanwhile
        self.widget.feed(event)

    def _notice(self, text: str) -> None:
        self.notice = text
        if self.on_notice is not None:
            self.on_notice(text)


class MainScreen(AttachingScreen):
    """Threads on the left, the current thread's conversation on the right (and the
    attachments of the next prompt: see AttachingScreen)."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        # The app's Quit and Settings are listed here too, so the footer keeps its order
        # (Quit first, Settings after Search); the app's own bindings do the work.
        Binding("ctrl+q", "app.quit", "Quit"),
        Binding("ctrl+n", "new_thread", "New"),
        Binding("ctrl+o", "pick_model", "Model"),
        Binding("ctrl+t", "compare", "Compare"),
        Binding("ctrl+f", "search", "Search"),
        Binding("ctrl+s", "app.settings", "Settings"),
        Binding("ctrl+up", "select_messages", "Messages", key_display="^↑"),
        Binding("ctrl+b", "toggle_threads", "Threads", show=False),
        Binding("ctrl+r", "rename_thread", "Rename", show=False),
        # Ctrl+G: Ctrl+E is the prompt box's end of line.
        Binding("ctrl+g", "thread_settings", "Thread settings", show=False),
        # Ctrl+A is the prompt box's start of line; L for "load a file".
        Binding("ctrl+l", "attach", "Attach"),
        # One of these two at a time (check_action): the footer names what Esc does now.
        Binding("escape", "cancel_reply", "Cancel reply"),
        Binding("escape", "stop_editing", "Stop editing"),
        # Page through the conversation from anywhere on the screen (the prompt box passes
        # these keys on): scrolling up stops following a streaming reply, scrolling back
        # to the bottom follows it again.
        Binding("pageup", "scroll(-1)", "Page up", show=False),
        Binding("pagedown", "scroll(1)", "Page down", show=False),
    ]

    COMMANDS = {KeyedCommands}
    PALETTE = (
        PaletteEntry("New thread", "Start a thread: provider, model and persona", "new_thread"),
        PaletteEntry("Choose provider and model", "For this thread's next turn", "pick_model"),
        PaletteEntry(
            "Compare models",
            "Send the prompt to several models side by side; keep one answer",
            "compare",
        ),
        PaletteEntry("Search messages", "Full-text search over every thread", "search"),
        PaletteEntry(
            "Attach a file",
            "Choose a file to send with the next prompt (or type @path, or paste its path)",
            "attach",
        ),
        PaletteEntry(
            "Paste image from clipboard",
            "Attach the image on the clipboard (a screenshot) to the next prompt",
            "paste_image(True)",
        ),
        PaletteEntry("Rename thread", "Give the current thread a new title", "rename_thread"),
        PaletteEntry(
            "Thread settings",
            "System prompt, persona, temperature, thinking, length and schema of this thread",
            "thread_settings",
        ),
        PaletteEntry("Delete thread", "Delete the current thread (asks first)", "delete_thread"),
        PaletteEntry(
            "Copy last reply", "Copy the newest reply to the clipboard", "copy_last_reply"
        ),
        PaletteEntry(
            "Regenerate last reply", "Ask again; the old reply is kept as a variant", "regenerate"
        ),
        PaletteEntry("Edit last prompt", "Edit and resend it as a new branch", "edit_last_prompt"),
        PaletteEntry(
            "Previous variant", "Show the previous variant of the last reply", "variant(-1)"
        ),
        PaletteEntry("Next variant", "Show the next variant of the last reply", "variant(1)"),
        PaletteEntry(
            "Select messages",
            "Move between messages to copy, edit or regenerate",
            "select_messages",
        ),
        PaletteEntry(
            "Cancel reply", "Stop the streaming reply and keep what arrived", "cancel_reply"
        ),
        PaletteEntry("Stop editing", "Leave the prompt being edited unsent", "stop_editing"),
        PaletteEntry("Toggle thread list", "Show or hide the thread list", "toggle_threads"),
        PaletteEntry("Pin or unpin thread", "Keep the thread at the top of the list", "pin_thread"),
        PaletteEntry(
            "Archive or unarchive thread",
            "Take the thread out of the list, or bring an archived one back",
            "archive_thread",
        ),
        PaletteEntry("Show archived threads", "List archived threads, or go back", "archived_view"),
        PaletteEntry(
            "Filter threads", "Show only the threads whose title holds…", "filter_threads"
        ),
    )

    # What the status line shows; each change redraws it (the watchers below).
    thread: reactive[Thread | None] = reactive(None, init=False)
    draft: reactive[Draft] = reactive(Draft(None, None), init=False)
    leaf_id: reactive[str | None] = reactive(None, init=False)
    # A reply streaming, or a prompt being edited, changes what Esc does: bindings follow.
    reply: reactive[Reply | None] = reactive(None, init=False, bindings=True)
    editing: reactive[UserMessage | None] = reactive(None, init=False, bindings=True)
    notice: reactive[str] = reactive("", init=False)  # the running reply's retry notice

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self._compared_attachments: list[Pending] = []  # sent with a comparison
        self.context = context
        self.branches = Branches([])
        self.choices: dict[str | None, str] = {}
        self._data_version = 0
        self.found = Found()  # a search hit's words, marked until the next action

    @property
    def store(self) -> Store:
        return self.context.store

    def action_scroll(self, step: int) -> None:
        scroller = self.query_one(ConversationView).scroller
        if step < 0:
            scroller.scroll_page_up(animate=False)
        else:
            scroller.scroll_page_down(animate=False)

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="sidebar"):
                yield ThreadFilter(placeholder="/ filter titles", compact=True, id="thread-filter")
                yield ThreadList(id="threads", clock=self.context.clock)
            with Vertical(id="chat"):
                yield StatusLine(id="status")
                yield ConversationView(id="conversation")
                yield Static(EDIT_BANNER, id="edit-banner")
                yield AttachmentBar(id="attachments")
                yield PathSuggestions(id="path-suggestions")
                yield PromptBox(id="prompt")
        yield ChatFooter()

    async def on_mount(self) -> None:
        self._data_version = self.store.data_version() or 0
        threads = self.query_one(ThreadList)
        threads.hide_ask = self._hide_ask()
        threads.load(self.store)
        provider, model = self.context.defaults()
        persona = self.context.default_persona()
        self.draft = Draft(
            provider, model, persona.name if persona else None, persona.system if persona else None
        )
        # The last conversation, as the user left it (a new thread when there is none).
        last = self.store.latest_thread(
            archived=False, hide_origin="ask" if threads.hide_ask else None
        )
        await self._show_thread(last)
        self.query_one(PromptBox).focus()
        self.set_interval(POLL_SECONDS, self._catch_up)

    async def _catch_up(self) -> None:
        """Show what other processes (`ba-chat ask`, another window) wrote: their threads
        in the list, and new messages in the open thread unless a reply streams into it.
        Costs one PRAGMA per tick while nothing changes."""
        from ba_tui.errors import BaChatError

        try:
            version = self.store.data_version(wait=False)
            if version is None or version == self._data_version:
                return
            self._data_version = version
            self.query_one(ThreadList).reload()
            await self._catch_up_open_thread()
        except BaChatError:
            return  # locked or gone for a moment: the next tick tries again

    async def _catch_up_open_thread(self) -> None:
        from ba_tui.store import ThreadNotFound

        thread = self.thread
        if thread is None or self.editing is not None:
            return
        if self.reply is not None and self.reply.thread_id == thread.id:
            return  # this screen's own reply owns the view until it ends
        try:
            fresh = self.store.get_thread(thread.id)
        except ThreadNotFound:
            self.notify(f"The thread “{one_line(inert(thread.title))}” was deleted elsewhere.")
            await self.new_thread()
            return
        if fresh == thread:
            return
        before = [(m.id, m.status) for m in self.branches.messages]
        if [(m.id, m.status) for m in self.store.messages(thread.id)] != before:
            threads = self.query_one(ThreadList)
            highlighted = threads.highlighted  # the user may be moving through the list
            await self._show_thread(fresh)
            threads.put_highlight(highlighted)
        else:  # a new title or model only: the status line follows
            self.thread = fresh

    # --- what the screen shows --------------------------------------------------------------

    @property
    def provider(self) -> str | None:
        return self.thread.provider if self.thread else self.draft.provider

    @property
    def model(self) -> str | None:
        return self.thread.model if self.thread else self.draft.model

    @property
    def streaming(self) -> bool:
        return self.reply is not None

    def watch_thread(self) -> None:
        self._show_status()

    def watch_draft(self) -> None:
        self._show_status()

    def watch_leaf_id(self) -> None:
        self._show_status()  # a reply ended or a variant was chosen: the spend may change

    def watch_reply(self) -> None:
        self._show_status()

    def watch_editing(self, editing: UserMessage | None) -> None:
        try:
            self.query_one("#edit-banner").set_class(editing is not None, "-editing")
        except NoMatches:
            return
        self._show_status()

    def watch_notice(self) -> None:
        self._show_status()

    def _reply_notice(self, text: str) -> None:
        self.notice = text

    def _show_status(self) -> None:
        try:
            status = self.query_one(StatusLine)
        except NoMatches:
            return  # not composed yet: on_mount sets the first state
        status.provider = self.provider or ""
        status.model = self.model or ""
        status.persona = (self.thread.persona if self.thread else self.draft.persona) or ""
        status.title = self.thread.title if self.thread else "new thread"
        if self.reply is not None:
            here = self.reply.thread_id in (None, self.thread.id if self.thread else None)
            if self.reply.asking is not None:
                status.state = "a tool call waits for your approval"
            elif self.notice:
                status.state = f"{self.notice} · Esc cancels" if here else self.notice
            else:
                status.state = "streaming… Esc cancels" if here else "streaming in another thread…"
        else:
            status.state = ""
        status.spend = self._spend()
        status.context, status.context_full = self._context_gauge()
        status.attached, status.attached_warning = self.attachment_status()

    def _context_gauge(self) -> tuple[str, bool]:
        """How much of the model's context window the conversation used at its last reply
        (`ctx 12k/200k`), and whether that is 80% or more; nothing when either is unknown."""
        from ba_tui.models import capabilities, tokens_label

        if not (self.provider and self.model and self.thread is not None):
            return "", False
        window = capabilities(self.provider, self.model).context_window
        used = next(
            (
                (m.input_tokens or 0) + (m.output_tokens or 0)
                for m in reversed(self.branches.path(self.leaf_id))
                if m.role == "assistant" and m.input_tokens is not None
            ),
            None,
        )
        if not window or used is None:
            return "", False
        return f"ctx {tokens_label(used)}/{tokens_label(window)}", used >= 0.8 * window

    def _spend(self) -> str:
        """`thread $0.0123`, plus `month $4.20 / $20.00` when a monthly budget is set."""
        from ba_tui.pricing import format_cost, month_start, monthly_budget

        parts = []
        if self.thread is not None:
            costs = [m.cost for m in self.branches.messages if m.cost is not None]
            with contextlib.suppress(BaChatError):  # (the replies' sum is still worth showing)
                if (titled := self.store.side_cost(self.thread.id)) is not None:
                    costs.append(titled)  # its title too: what `ba-chat usage` counts
            if costs:
                parts.append(f"thread {format_cost(sum(costs))}")
        if (budget := monthly_budget(self.context.config)) is not None:
            spent = self.store.spend_since(month_start())
            over = " over budget" if spent > budget else ""
            parts.append(f"month {format_cost(spent)} / {format_cost(budget)}{over}")
        return " · ".join(parts)

    async def _show_thread(self, thread: Thread | None, leaf_id: str | None = None) -> None:
        # The branches first: the watchers of `thread` and `leaf_id` show their spend.
        self.branches = Branches(self.store.messages(thread.id) if thread else [])
        path = self.branches.path(leaf_id) if thread else []
        self.thread = thread
        self.leaf_id = path[-1].id if path else None
        self.editing = None
        self.choices = {}
        view = self.query_one(ConversationView)
        if thread is None:
            await view.show([], self.branches)
            view.show_empty(self._welcome_text())
        else:
            await self._show_path(path)
        self.query_one(ThreadList).mark(thread.id if thread else None)
        self.context.warm_up(self.provider)

    async def _show_path(self, path: list[Message]) -> None:
        for parent, child in pairwise(path):
            self.choices[parent.id] = child.id
        view = self.query_one(ConversationView)
        await view.show(path, self.branches)
        view.show_empty(Content("This thread has no messages yet."))
        reply = self.reply
        if reply is not None and self.thread and reply.thread_id == self.thread.id:
            await self._reattach(reply)

    async def _reattach(self, reply: Reply) -> None:
        """The thread with the running reply is shown again: stream into a new widget."""
        view = self.query_one(ConversationView)
        for old in view.views:
            if old.message_id == reply.reply_id:
                label = f"{self.provider} · {self.model}"
                widget = AssistantMessage(None, streaming=True, label=label)
                await view.scroller.mount(widget, after=old)
                await old.remove()
                reply.widget = widget
                for text in reply.reasoning:
                    widget.feed(ReasoningDelta(text))
                for text in reply.text:
                    widget.feed(TextDelta(text))
                for event in reply.tools:
                    widget.feed(event)
                if reply.asking is not None:
                    await widget.ask(reply.asking)
                return

    def _welcome_text(self) -> Content:
        provider = self.provider
        if provider is None:
            return Content(
                "No provider has an API key yet. Open Settings (Ctrl+S) to add one, "
                "or choose Ollama with Ctrl+O."
            )
        return Content.assemble(
            ("New thread", "bold"),
            f" with {inert(provider)} · {inert(self.model or '?')}.\n",
            (
                "Type below and press Enter. Ctrl+O changes the model; Ctrl+P lists every command.",
                "$text-muted",
            ),
        )

    # --- threads ----------------------------------------------------------------------------

    @on(ThreadList.Chosen)
    async def _thread_chosen(self, event: ThreadList.Chosen) -> None:
        if event.thread_id is None:
            await self.new_thread()
        else:
            await self.open_thread(event.thread_id)
        self.query_one(PromptBox).focus()

    async def open_thread(
        self, thread_id: str, message_id: str | None = None, *, select: bool = True
    ) -> bool:
        """Show the thread along the branch through `message_id` (default: the newest),
        with that message selected if `select`; False (and a notice) if it cannot be read."""
        from ba_tui.store import StoreError, ThreadNotFound

        try:
            thread = self.store.get_thread(thread_id)
        except (ThreadNotFound, StoreError) as exc:
            self.notify(exc.line("tui"), severity="error")
            return False
        leaf = None
        if message_id is not None:
            branches = Branches(self.store.messages(thread.id))
            if message_id in branches.by_id:
                leaf = branches.leaf_below(message_id, {})
        await self._show_thread(thread, leaf)
        if message_id is not None and select:
            view = self.query_one(ConversationView)
            for message_view in view.views:
                if message_view.message_id == message_id:
                    view.select(message_view)
                    view.query_one("#cursor").focus()
                    break
        return True

    async def new_thread(
        self,
        provider: str | None = None,
        model: str | None = None,
        persona: str | None = None,
        system: str | None = None,
    ) -> None:
        if provider is None:
            provider, model = self.context.defaults()
        self.draft = Draft(provider, model, persona, system)
        await self._show_thread(None)
        self.query_one(PromptBox).focus()

    def set_model(self, provider: str, model: str) -> None:
        """The next turn of this thread goes to `provider` / `model`."""
        if self.thread is not None:
            self.thread = self.store.update_thread(self.thread.id, provider=provider, model=model)
            self.query_one(ThreadList).show_thread(self.thread)
        else:
            self.draft = replace(self.draft, provider=provider, model=model)
            self.query_one(ConversationView).show_empty(self._welcome_text())
        self.context.warm_up(provider)

    def rename_thread(self, thread_id: str, title: str) -> None:
        """Give the thread `thread_id` (open or not) a new title."""
        from ba_tui.store import ThreadNotFound

        if not title.strip():
            return
        try:
            thread = self.store.update_thread(thread_id, title=title.strip())
        except ThreadNotFound as exc:  # deleted by another process meanwhile
            self.notify(exc.line("tui"), severity="error")
            return
        threads = self.query_one(ThreadList)
        threads.show_thread(thread)
        if self.thread is not None and self.thread.id == thread_id:
            self.thread = thread

    async def delete_thread(self, thread_id: str) -> None:
        """Delete the thread `thread_id` (open or not), unless a reply streams into it."""
        from contextlib import suppress

        from ba_tui.store import ThreadNotFound

        if self.reply is not None and self.reply.thread_id == thread_id:
            self.notify("This thread is streaming a reply; cancel it first (Esc).")
            return
        # Another process may have deleted it first; the list forgets it all the same.
        with suppress(ThreadNotFound):
            self.store.delete_thread(thread_id)
        with suppress(BaChatError):  # (bookkeeping: the thread is gone either way)
            from ba_tui import uploads

            uploads.forget_deleted(self.store)
        threads = self.query_one(ThreadList)
        threads.forget(thread_id)
        if self.thread is not None and self.thread.id == thread_id:
            await self.new_thread()
        self.notify("Thread deleted")

    # --- sending ----------------------------------------------------------------------------

    @on(PromptBox.Submitted)
    async def _submitted(self, event: PromptBox.Submitted) -> None:
        if self.reply is not None:
            self.notify("A reply is still streaming: wait for it, or press Esc to cancel it.")
            return
        if self.provider is None:
            self.notify("Choose a provider first (Ctrl+O), or add a key in Settings (Ctrl+S).")
            return
        if waiting := self.attachments.waiting:
            self.notify(
                f"{waiting[0].name} is not ready yet: press Enter again once its chip shows "
                "its size",
                timeout=4,
            )
            return
        text = event.text
        event.prompt_box.clear()
        attached = self.attachments.take()
        if self.editing is not None:
            await self._resend(self.editing, text, attached)
        else:
            await self._send(text, attached)

    async def _send(self, text: str, attached: list[Pending] | None = None) -> None:
        user = UserMessage(None, text=text)
        await self._start(user, prompt=text, parent_id=self.leaf_id, attached=attached)

    async def regenerate(self, view: AssistantMessage | None = None) -> None:
        """A new reply to the last prompt, kept beside the old one."""
        if self.reply is not None:
            return
        conversation = self.query_one(ConversationView)
        views = conversation.views
        view = view or next((v for v in reversed(views) if isinstance(v, AssistantMessage)), None)
        if view is None or view.message is None or views[-1] is not view:
            self.notify("Only the last reply can be regenerated.")
            return
        parent = view.message.parent_id
        if parent is None:
            return
        await view.remove()
        await self._start(None, prompt=None, parent_id=parent)

    def edit(self, view: UserMessage) -> None:
        """Put an earlier prompt in the prompt box; sending it starts a new branch."""
        if view.message is None:
            return
        self.editing = view
        box = self.query_one(PromptBox)
        box.text = view.text
        box.move_cursor(box.document.end)
        box.focus()

    def stop_editing(self) -> None:
        if self.editing is not None:
            self.editing = None
            self.query_one(PromptBox).clear()

    async def _resend(
        self, view: UserMessage, text: str, attached: list[Pending] | None = None
    ) -> None:
        self.editing = None
        original = view.message
        if original is None or not view.is_mounted:
            await self._send(text, attached)
            return
        conversation = self.query_one(ConversationView)
        views = conversation.views
        stale = views[views.index(view) :]
        await conversation.scroller.remove_children(stale)
        user = UserMessage(None, text=text)
        await self._start(user, prompt=text, parent_id=original.parent_id, attached=attached)

    async def _start(
        self,
        user: UserMessage | None,
        *,
        prompt: str | None,
        parent_id: str | None,
        attached: list[Pending] | None = None,
    ) -> None:
        provider, model = self.provider, self.model
        widget = AssistantMessage(None, streaming=True, label=f"{provider} · {model}")
        reply = Reply(self.thread.id if self.thread else None, widget, user_view=user)
        reply.attached = attached or []
        reply.on_notice = self._reply_notice
        self.notice = ""
        self.reply = reply
        conversation = self.query_one(ConversationView)
        await conversation.add(*([user] if user else []), widget)
        reply.worker = self._run_reply(reply, prompt, parent_id, provider, model)

    @work(group="reply", exit_on_error=False, description="reply")
    async def _run_reply(
        self,
        reply: Reply,
        prompt: str | None,
        parent_id: str | None,
        provider: str | None,
        model: str | None,
    ) -> None:
        """Run one turn; whatever happens, the reply widget ends with what is known."""
        from ba_tui.attachments.fit import Refused

        error: str | None = None
        try:
            session = self.session()
            if problem := self.context.tools_problem:  # said once, then the chat goes on
                self.context.tools_problem = None
                self.notify(problem, severity="warning", markup=False)
            target = await ready_target(session, provider, model)
            fallbacks, _ = await asyncio.to_thread(session.fallbacks)
            # A thread with a schema asks for data, shown as a table once it fits.
            shape = session.schema()
            options = replace(session.turn_options(), schema=shape) if shape else None
            turn = await session.send(
                prompt,
                target,
                parent_id=parent_id,
                fallbacks=fallbacks,
                on_event=reply.sink,
                options=options,
                attached=[item.prepared for item in reply.attached if item.prepared],
            )
            error = turn.error.line("tui") if turn.error else None
        except asyncio.CancelledError:
            await self._end_reply(reply, None, "cancelled")
            raise
        except Refused as exc:
            if reply.attached:  # nothing was sent or stored: the prompt is not lost
                await self._refused(reply, exc.line("tui"))
                return
            error = exc.line("tui")
        except BaChatError as exc:
            error = exc.line("tui")
        except Exception as exc:  # a bug must not take the app down mid-conversation
            from ba_tui.keys import redact

            error = redact(f"internal error: {type(exc).__name__}: {exc}")
        await self._end_reply(reply, error)

    async def _refused(self, reply: Reply, line: str) -> None:
        """The model cannot take the attachments (`attachments.fit.Refused`, before
        anything is stored): the prompt and its chips are pending again, as they were, and
        the refusal is one line."""
        self.notice = ""
        self.reply = None
        await self._show_thread(self.thread, self.leaf_id)  # without the prompt and reply
        box = self.query_one(PromptBox)
        if not box.text and reply.user_view is not None:
            box.load_text(reply.user_view.text)
            box.move_cursor(box.document.end)
        self._said.add(line)  # checking them again as they come back would say it twice
        self.attachments.put_back(reply.attached)
        self.notify(line, severity="error", timeout=8)

    def session(self) -> ChatSession:
        """The open conversation as a session: where its next turn goes (a draft thread
        is stored when its first prompt is sent)."""
        from ba_tui.session import NewThread

        draft = self.draft
        return self.context.session(
            self.thread,
            NewThread(draft.system, draft.persona, origin="tui"),
            self._thread_stored,
        )

    def _thread_stored(self, thread: Thread) -> None:
        """A session stored (or moved) a thread: list it, and open it if the user is still
        looking at the draft it came from."""
        threads = self.query_one(ThreadList)
        threads.show_thread(thread)
        if self.thread is None or self.thread.id == thread.id:
            self.thread = thread
            threads.mark(thread.id)

    async def continue_from(self, thread_id: str, message_id: str | None) -> None:
        """Show the thread through `message_id`, ready for the next prompt: how a
        comparison hands its kept answer back (the thread's model may have changed)."""
        if await self.open_thread(thread_id, message_id, select=False):
            assert self.thread is not None
            self.query_one(ThreadList).show_thread(self.thread)
            self.query_one(PromptBox).focus()

    async def _end_reply(self, reply: Reply, error: str | None, status: str = "error") -> None:
        store = self.store
        self.notice = ""
        self.reply = None
        message = store.get_message(reply.reply_id) if reply.reply_id else None
        if reply.thread_id == (self.thread.id if self.thread else None):
            self.branches = Branches(store.messages(reply.thread_id) if reply.thread_id else [])
            if reply.widget.is_mounted:
                await reply.widget.finish(message, error, status)
                if message is not None:
                    reply.widget.update_message(message, self.branches.variant(message))
                    reply.widget.can_regenerate = True
            if reply.user_id and reply.user_view is not None:
                user = self.branches.by_id.get(reply.user_id)
                if user is not None:
                    reply.user_view.update_message(user, self.branches.variant(user))
                if message is not None:
                    reply.user_view.answered_by(message.provider, message.model)
            if message is not None:
                self.leaf_id = message.id
                self.choices[message.parent_id] = message.id
            elif reply.user_id:
                self.leaf_id = reply.user_id
            elif reply.user_view is not None and reply.user_view.is_mounted:
                # Nothing was saved (no key, unknown provider): give the prompt back.
                box = self.query_one(PromptBox)
                if not box.text:
                    box.text = reply.user_view.text
                self.attachments.put_back(reply.attached)
        try:
            thread = store.get_thread(reply.thread_id) if reply.thread_id else None
        except BaChatError:
            thread = None
        if thread is not None:
            if self.thread is not None and self.thread.id == thread.id:
                self.thread = thread
            self.query_one(ThreadList).show_thread(thread)
            self.query_one(ThreadList).mark(self.thread.id if self.thread else None)
            if message is not None and message.status == "complete" and thread.message_count == 2:
                self.retitle(thread)

    @work(group="title", exit_on_error=False)
    async def retitle(self, thread: Thread) -> None:
        """Name a thread after its first exchange, in the background: the reply is shown
        already, and a title that cannot be made leaves the old one (never an error)."""
        from ba_tui.session import NewThread

        session = self.context.session(thread, NewThread(None, None), self._thread_stored)
        try:
            await session.retitle()
        except Exception:
            return  # a title is never worth interrupting the conversation

    async def approve(self, call: ToolCall, tool: Tool) -> Decision:
        """Ask the user about a tool call with a card under the streaming reply (focus on
        it), and wait for the answer; the card goes and the focus returns to the prompt.
        A cancel (Esc) while it waits cancels the reply: the loop answers the call."""
        from ba_tui.tools import Decision
        from ba_tui.tui.widgets.approval_card import Asking

        # One card at a time, and a call allowed meanwhile is not asked: the toolbox
        # asks its questions one by one and checks what was allowed before each.
        reply = self.reply
        if reply is None:  # a comparison's turn: it has no reply here to ask under
            return Decision(
                False,
                reason="the user could not be asked (a comparison runs tools only with"
                ' approve = "read-only" or "all" in config.toml)',
            )
        asking = reply.asking = Asking(call, tool)
        self._show_status()
        try:
            if reply.widget.is_mounted:
                await reply.widget.ask(asking)
            return await asking.decision
        finally:
            reply.asking = None
            self._show_status()
            await self._close_card(reply)

    async def _close_card(self, reply: Reply) -> None:
        for row in reply.widget.tool_rows:
            row.wait(False)
        card = reply.widget.approval_card
        if card is None:
            return
        focused = self.focused
        had_focus = focused is None or focused is card or card in focused.ancestors
        await card.remove()
        if had_focus and self.app.screen is self:
            self.query_one(PromptBox).focus()

    def cancel_reply(self) -> bool:
        if self.reply is not None and self.reply.worker is not None:
            self.reply.worker.cancel()
            return True
        return False

    # --- message actions --------------------------------------------------------------------

    @on(ConversationView.Act)
    async def _act(self, event: ConversationView.Act) -> None:
        view, action = event.view, event.action
        if action == "copy":
            self.app.copy_to_clipboard(view.text)
            self.notify("Copied to the clipboard", timeout=2)
        elif action == "edit" and isinstance(view, UserMessage):
            self.edit(view)
        elif action == "regenerate" and isinstance(view, AssistantMessage):
            await self.regenerate(view)
        elif action in ("previous", "next"):
            await self.switch_variant(view, -1 if action == "previous" else 1)

    @on(ConversationView.Leave)
    def _leave_conversation(self) -> None:
        self.query_one(PromptBox).focus()

    async def switch_variant(self, view: MessageView, step: int) -> None:
        message = view.message
        if message is None or (
            self.reply is not None and self.reply.thread_id == message.thread_id
        ):
            if self.reply is not None:
                self.notify("Wait for the reply to finish before switching variants.")
            return
        siblings = self.branches.siblings(message)
        index = [s.id for s in siblings].index(message.id)
        target = siblings[max(0, min(len(siblings) - 1, index + step))]
        if target.id == message.id:
            return
        self.choices[target.parent_id] = target.id
        self.leaf_id = self.branches.leaf_below(target.id, self.choices)
        await self._show_path(self.branches.path(self.leaf_id))
        conversation = self.query_one(ConversationView)
        for candidate in conversation.views:
            if candidate.message_id == target.id:
                conversation.select(candidate)
                break

    def last_view(self, kind: type[MessageView]) -> MessageView | None:
        views = self.query_one(ConversationView).views
        return next((v for v in reversed(views) if isinstance(v, kind)), None)

    def select_messages(self) -> None:
        self.query_one(ConversationView).enter()

    # --- actions (keys above, palette entries in PALETTE) -----------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_reply":
            return self.reply is not None
        if action == "stop_editing":
            return self.reply is None and self.editing is not None
        return True

    def action_cancel_reply(self) -> None:
        self.cancel_reply()

    def action_stop_editing(self) -> None:
        self.stop_editing()

    async def action_new_thread(self) -> None:
        from ba_tui.tui.screens.new_thread import NewThreadScreen

        def chosen(result: dict[str, Any] | None) -> None:
            if result is not None:
                self.call_later(self.new_thread, **result)

        provider, model = self.provider, self.model
        if self.thread is not None:
            provider, model = self.context.defaults()
        await self.app.push_screen(NewThreadScreen(self.context, provider, model), chosen)

    async def action_pick_model(self) -> None:
        from ba_tui.tui.screens.picker import ModelPicker

        def chosen(result: tuple[str, str] | None) -> None:
            if result is not None:
                self.set_model(*result)

        picker = ModelPicker(self.provider, self.model, self.context.config)
        await self.app.push_screen(picker, chosen)

    async def action_compare(self) -> None:
        """The prompt in the box (if any) goes to several models side by side."""
        from ba_tui.tui.screens.compare_setup import LAST_CHOICE, CompareSetup, parse_targets

        if self.reply is not None:
            self.notify("A reply is still streaming: wait for it, or press Esc to cancel it.")
            return
        if self.editing is not None:
            self.notify("Send the edited prompt (Enter) or stop editing (Esc) first.")
            return
        current = (self.provider, self.model) if self.provider and self.model else None
        remembered = parse_targets(self.store.get_kv(LAST_CHOICE))
        setup = CompareSetup(current, remembered, self.context.config)
        await self.app.push_screen(setup, self._compare_chosen)

    def _compare_chosen(self, targets: list[tuple[str, str]] | None) -> None:
        from ba_tui.tui.screens.compare import CompareScreen
        from ba_tui.tui.screens.compare_setup import LAST_CHOICE

        if not targets:
            return
        if waiting := self.attachments.waiting:
            self.notify(f"{waiting[0].name} is not ready yet: compare once its chip shows its size")
            return
        self.store.set_kv(LAST_CHOICE, "\n".join(f"{p}:{m}" for p, m in targets))
        box = self.query_one(PromptBox)
        prompt = box.prompt if box.text.strip() else None
        box.clear()
        # The pending attachments go with the compared prompt (each column's model is
        # checked on its own); they come back if the comparison ends with nothing sent.
        self._compared_attachments = self.attachments.take()
        screen = CompareScreen(
            targets,
            prompt,
            session=self.session(),
            parent_id=self.leaf_id if self.thread else None,
            store=self.store,
            attached=[item.prepared for item in self._compared_attachments if item.prepared],
        )
        self.app.push_screen(screen, self._compared)

    def _compared(self, result: Continue | None) -> None:
        """A comparison closed: show its thread through the answer it went on with (the
        chat screen is on screen again, so its replies lay out against what is visible)."""
        taken, self._compared_attachments = self._compared_attachments, []
        if result is None:
            self.attachments.put_back(taken)
            return
        self.call_later(self.continue_from, result.thread_id, result.message_id)
        self.notify(result.notice)

    async def action_search(self) -> None:
        from ba_tui.tui.screens.search import SearchScreen

        def chosen(result: tuple[str, str, tuple[str, ...]] | None) -> None:
            if result is not None:
                self.call_later(self.open_hit, *result)

        await self.app.push_screen(SearchScreen(self.store), chosen)

    async def open_hit(self, thread_id: str, message_id: str, words: tuple[str, ...]) -> None:
        """Open a search hit: its message selected, its matched words marked and in view
        (once laid out: a long message may hold them far below its top) until the next
        key or click."""
        if not await self.open_thread(thread_id, message_id):
            return
        view = self.query_one(ConversationView)
        selected = view.selected
        if selected is None:
            return

        def mark() -> None:
            first = self.found.mark(selected, words)
            if first is not None:
                view.scroller.scroll_to_widget(first, animate=False, center=True)

        self.call_after_refresh(mark)

    def acted_on(self) -> Thread | None:
        """The thread a delete or rename is for: the highlighted one while the thread list
        has focus (the user moved to it there), else the open one."""
        threads = self.query_one(ThreadList)
        if self.focused is threads and (highlighted := threads.highlighted_thread) is not None:
            return highlighted
        return self.thread

    async def action_rename_thread(self) -> None:
        from ba_tui.tui.screens.rename import RenameScreen

        thread = self.acted_on()
        if thread is None:
            self.notify("This thread has no messages yet; it is named after its first prompt.")
            return

        def renamed(title: str | None) -> None:
            if title:
                self.rename_thread(thread.id, title)

        await self.app.push_screen(RenameScreen(thread.title), renamed)

    async def action_thread_settings(self) -> None:
        from ba_tui.tui.screens.thread_settings import ThreadSettingsScreen

        thread = self.thread
        if thread is None:
            self.notify("This thread has no messages yet; send a first prompt, then set it up.")
            return

        def saved(changes: dict[str, Any] | None) -> None:
            if changes is not None:
                self.save_thread_settings(thread.id, changes)

        await self.app.push_screen(ThreadSettingsScreen(thread, self.context.config), saved)

    def save_thread_settings(self, thread_id: str, changes: dict[str, Any]) -> None:
        """Keep a thread's system prompt, persona and settings: its next turns use them."""
        from ba_tui.store import ThreadNotFound

        try:
            thread = self.store.update_thread(thread_id, **changes)
        except ThreadNotFound as exc:  # deleted by another process meanwhile
            self.notify(exc.line("tui"), severity="error")
            return
        if self.thread is not None and self.thread.id == thread_id:
            self.thread = thread
        self.query_one(ThreadList).show_thread(thread)
        self.notify("Thread settings saved: the next turn uses them.", timeout=3)

    async def action_delete_thread(self) -> None:
        from ba_tui.tui.screens.confirm import ConfirmScreen
        from ba_tui.tui.text import unjoined

        thread = self.acted_on()
        if thread is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.call_later(self.delete_thread, thread.id)

        await self.app.push_screen(
            ConfirmScreen(f"Delete the thread “{unjoined(thread.title)}” and all its messages?"),
            confirmed,
        )

    def action_select_messages(self) -> None:
        self.select_messages()

    def action_toggle_threads(self) -> None:
        sidebar = self.query_one("#sidebar")
        if sidebar.display and self.focused in (self.query_one(ThreadList), *sidebar.children):
            # Hidden, the list cannot take keys: typing goes to the prompt box.
            self.query_one(PromptBox).focus()
        sidebar.display = not sidebar.display
        if sidebar.display and self.has_class("-narrow"):
            # Shown over a narrow chat, it is shown to pick a thread: arrows and Enter.
            self.query_one(ThreadList).focus()

    def _hide_ask(self) -> bool:
        return self.context.config.data.get("sidebar_ask_threads") == "hide"

    def action_pin_thread(self) -> None:
        thread = self.acted_on()
        if thread is None:
            self.notify("This thread has no messages yet; send a prompt before pinning it.")
            return
        thread = self._update_listed(thread, pinned=not thread.pinned)
        if thread is not None:
            title = one_line(inert(thread.title))
            self.notify(f"Pinned “{title}”" if thread.pinned else f"Unpinned “{title}”", timeout=2)

    def action_archive_thread(self) -> None:
        thread = self.acted_on()
        if thread is None:
            self.notify("This thread has no messages yet; there is nothing to archive.")
            return
        thread = self._update_listed(thread, archived=not thread.archived)
        if thread is not None:
            title = one_line(inert(thread.title))
            self.notify(
                f"Archived “{title}”: v in the thread list shows archived threads"
                if thread.archived
                else f"Brought “{title}” back from the archive",
                timeout=3,
            )

    def _update_listed(self, thread: Thread, **changes: bool) -> Thread | None:
        """Pin or archive `thread` (open or not) and show the list as it is now."""
        from ba_tui.store import ThreadNotFound

        try:
            updated = self.store.update_thread(thread.id, **changes)
        except ThreadNotFound as exc:  # deleted by another process meanwhile
            self.notify(exc.line("tui"), severity="error")
            return None
        if self.thread is not None and self.thread.id == updated.id:
            self.thread = updated
        self.query_one(ThreadList).reload()
        return updated

    def action_archived_view(self) -> None:
        threads = self.query_one(ThreadList)
        threads.refilter(archived=not threads.archived)
        sidebar = self.query_one("#sidebar")
        sidebar.display = True
        threads.focus()

    def action_filter_threads(self) -> None:
        self.query_one("#sidebar").display = True
        self.query_one(ThreadFilter).focus()

    @on(ThreadFilter.Changed, "#thread-filter")
    def _filter_changed(self, event: ThreadFilter.Changed) -> None:
        self.query_one(ThreadList).refilter(title=event.value)

    def action_copy_last_reply(self) -> None:
        view = self.last_view(AssistantMessage)
        if view is None or not view.text:
            self.notify("There is no reply to copy yet.")
            return
        self.app.copy_to_clipboard(view.text)
        self.notify("Copied the last reply to the clipboard", timeout=2)

    async def action_regenerate(self) -> None:
        await self.regenerate()

    def action_edit_last_prompt(self) -> None:
        view = self.last_view(UserMessage)
        if isinstance(view, UserMessage):
            self.edit(view)

    async def action_variant(self, step: int) -> None:
        view = self.last_view(AssistantMessage)
        if view is not None:
            await self.switch_variant(view, step)

    # --- the app's events -------------------------------------------------------------------

    def settings_changed(self) -> None:
        """Settings closed (the config is reloaded): a screen with no provider yet starts
        a thread with the new defaults."""
        threads = self.query_one(ThreadList)
        if threads.hide_ask != self._hide_ask():
            threads.refilter(hide_ask=self._hide_ask())
        if self.thread is None and self.provider is None:
            provider, model = self.context.defaults()
            if provider:
                self.call_later(self.new_thread, provider, model)

    @work(thread=True, exit_on_error=False, group="keys")
    def check_keys(self) -> None:
        """First run: no key anywhere (environment, keyring, config) means the welcome
        screen; a key found only in the keyring sets the new thread's provider, unless
        config.toml names one. The keyring may be slow: off the UI thread, after the
        first frame."""
        from ba_tui.keys import key_source
        from ba_tui.providers import all_specs

        config = self.context.config
        found = [
            spec.name
            for spec in all_specs(config)
            if spec.key_required and key_source(spec, config) != "not set"
        ]
        self.app.call_from_thread(self._keys_checked, found)

    def _keys_checked(self, providers: list[str]) -> None:
        configured = self.context.config.default_provider
        if not providers and not configured:
            from ba_tui.tui.screens.welcome import WelcomeScreen

            welcome = WelcomeScreen(self.context, offline=self.draft.provider == "local")
            self.app.push_screen(welcome, self._welcomed)
        elif (
            self.thread is None
            and self.draft.provider in (None, "local")
            and not (configured and self.draft.provider == configured)  # a choice stays
            and providers
        ):
            from ba_tui.providers import get_spec, starting_model

            spec = get_spec(providers[0], self.context.config)
            self.call_later(self.new_thread, spec.name, starting_model(spec, self.context.config))

    def _welcomed(self, choice: str | None) -> None:
        if choice == "ollama":  # the welcome screen made it the default provider
            self.call_later(self.new_thread)
        elif choice == "settings":
            self.call_later(self.app.run_action, "settings")
