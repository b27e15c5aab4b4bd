"""The conversation: the messages of the thread's current branch, newest at the bottom.

Messages are selected with a cursor (a small focusable bar under the messages) rather
than by focusing them: focusing a widget restyles its whole subtree in Textual, and a long
reply is hundreds of widgets. The cursor's keys act on the selected message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message as TextualMessage
from textual.widget import Widget
from textual.widgets import Button, Static

from ba_tui.tui.widgets.message import AssistantMessage, MessageView, UserMessage

if TYPE_CHECKING:
    from ba_tui.messages import Attachment
    from ba_tui.store import Message
    from ba_tui.tui.branches import Branches

# Older messages of a long thread are mounted on request, so opening it stays quick.
SHOWN = 40


class MessageCursor(Widget, can_focus=True):
    """Keys for the selected message. Shown as a one-line hint while it has focus."""

    BINDINGS = [
        Binding("up,k", "move(-1)", "Previous", show=False),
        Binding("down,j", "move(1)", "Next", show=False),
        Binding("c,y", "act('copy')", "Copy"),
        # Shift+C: the same letter, for the part of the reply people copy most often.
        Binding("C", "act('code')", "Copy code", key_display="C"),
        Binding("t", "act('reasoning')", "Reasoning"),
        Binding("o", "act('tools')", "Tool calls"),
        Binding("v", "act('csv')", "Copy CSV"),
        Binding("e", "act('edit')", "Edit & resend"),
        Binding("o", "act('open')", "Open file"),
        Binding("s", "act('save')", "Save file"),
        Binding("r", "act('regenerate')", "Regenerate"),
        Binding("left,[", "act('previous')", "‹ Variant", key_display="←"),
        Binding("right,]", "act('next')", "Variant ›", key_display="→"),
        Binding("escape,i", "leave", "Back to prompt"),
    ]

    def render(self) -> Content:
        return Content("↑↓ select · c copy · e edit · r regenerate · ←→ variants · esc back")

    def action_move(self, step: int) -> None:
        self.parent_view.move(step)

    def action_act(self, action: str) -> None:
        self.parent_view.act(action)

    def action_leave(self) -> None:
        self.parent_view.post_message(ConversationView.Leave())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "act" and parameters:
            return self.parent_view.can_act(str(parameters[0]))
        return True

    @property
    def parent_view(self) -> ConversationView:
        return self.query_ancestor(ConversationView)

    def on_focus(self) -> None:
        view = self.parent_view
        if view.selected is None and (views := view.views):
            view.select(views[-1])  # reached with Tab: start at the newest message

    def on_blur(self) -> None:
        self.parent_view.select(None)


class ConversationView(Vertical):
    """Shows one branch of a thread; `select` and the cursor act on a message."""

    class Act(TextualMessage):
        """The user asked for `action` (copy, edit, regenerate, previous, next) on `view`."""

        def __init__(self, view: MessageView, action: str) -> None:
            super().__init__()
            self.view = view
            self.action = action

    class Leave(TextualMessage):
        """The user is done selecting messages."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.selected: MessageView | None = None
        self._hidden: list[MessageView] = []
        # The code block C copied last, so pressing it again copies the next one; the
        # same for the attachment o opened.
        self._copied_code: tuple[MessageView, int] | None = None
        self._opened: tuple[MessageView, int] | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="messages", can_focus=False):
            yield Button("Show earlier messages", id="earlier", compact=True)
            yield Static(classes="conversation-empty")
        yield MessageCursor(id="cursor")

    @property
    def scroller(self) -> VerticalScroll:
        return self.query_one("#messages", VerticalScroll)

    @property
    def views(self) -> list[MessageView]:
        return list(self.scroller.query_children(MessageView))

    def show_empty(self, text: Content) -> None:
        self.query_one(".conversation-empty", Static).update(text)

    async def show(self, path: list[Message], branches: Branches) -> None:
        """Replace what is shown with `path` (root to leaf)."""
        self.selected = None
        views = [
            self.view_for(
                message,
                branches,
                last=i == len(path) - 1,
                reply=path[i + 1] if i + 1 < len(path) else None,
            )
            for i, message in enumerate(path)
        ]
        self._hidden = views[:-SHOWN] if len(views) > SHOWN else []
        shown = views[len(self._hidden) :]
        scroller = self.scroller
        with self.app.batch_update():
            await scroller.remove_children(MessageView)
            self.query_one("#earlier").display = bool(self._hidden)
            self.query_one(".conversation-empty").display = not views
            if shown:
                await scroller.mount_all(shown)
        scroller.anchor()

    def view_for(
        self,
        message: Message,
        branches: Branches,
        *,
        last: bool = False,
        reply: Message | None = None,
    ) -> MessageView:
        """The widget for `message`; `reply` is the message shown after it (a prompt's
        chips say how its attachments reached the model that answered)."""
        variant = branches.variant(message)
        if message.role == "user":
            answered = reply is not None and reply.role == "assistant"
            sent_to = (
                (reply.provider, reply.model)
                if answered and reply is not None and reply.provider and reply.model
                else None
            )
            return UserMessage(message, variant=variant, sent_to=sent_to)
        return AssistantMessage(message, variant=variant, can_regenerate=last)

    async def add(self, *views: MessageView) -> None:
        self.query_one(".conversation-empty").display = False
        await self.scroller.mount_all(views)
        self.scroller.anchor()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "earlier":
            event.stop()
            hidden, self._hidden = self._hidden, []
            event.button.display = False
            if hidden:
                await self.scroller.mount_all(hidden, after=event.button)

    # --- selection --------------------------------------------------------------------------

    def enter(self) -> None:
        """Start selecting messages, at the newest one."""
        views = self.views
        if not views:
            return
        self.select(views[-1])
        self.query_one(MessageCursor).focus()

    def select(self, view: MessageView | None) -> None:
        if self.selected is not None and self.selected is not view:
            self.selected.select(False)
        self.selected = view
        if view is not None:
            view.select(True)
            self.scroller.release_anchor()
            self.scroller.scroll_to_widget(
                view, animate=False, top=view.size.height > self.scroller.size.height
            )
        cursor = self.query_one(MessageCursor)
        if cursor.is_mounted:
            cursor.refresh_bindings()

    def move(self, step: int) -> None:
        views = self.views
        if not views:
            return
        index = views.index(self.selected) if self.selected in views else len(views)
        self.select(views[max(0, min(len(views) - 1, index + step))])

    def can_act(self, action: str) -> bool:
        view = self.selected
        if view is None:
            return False
        if action in ("previous", "next"):
            return view.has_variants
        if action == "edit":
            return isinstance(view, UserMessage) and view.message is not None
        if action == "regenerate":
            return isinstance(view, AssistantMessage) and view.can_regenerate and not view.streaming
        if action == "code":
            return isinstance(view, AssistantMessage) and bool(view.code_blocks)
        if action == "reasoning":
            return isinstance(view, AssistantMessage) and view.has_reasoning
        if action == "tools":
            return isinstance(view, AssistantMessage) and bool(view.tool_rows)
        if action == "csv":
            return isinstance(view, AssistantMessage) and view.data is not None
        if action in ("open", "save"):
            return isinstance(view, UserMessage) and bool(view.attachments)
        return True

    def act(self, action: str) -> None:
        view = self.selected
        if view is None or not self.can_act(action):
            return
        # Folding and copying a code block change nothing outside the conversation.
        if action == "reasoning" and isinstance(view, AssistantMessage):
            view.toggle_reasoning()
        elif action == "tools" and isinstance(view, AssistantMessage):
            view.toggle_calls()
        elif action == "code" and isinstance(view, AssistantMessage):
            self.copy_code(view)
        elif action == "open" and isinstance(view, UserMessage):
            self.open_attachment(view)
        elif action == "save" and isinstance(view, UserMessage):
            self.save_attachment(view)
        elif action == "csv" and isinstance(view, AssistantMessage):
            from ba_tui.tabular import rows, to_csv

            data = view.data
            self.app.copy_to_clipboard(to_csv(data))
            count = len(rows(data))
            self.notify(f"Copied {count} row{'s' * (count != 1)} as CSV", timeout=3)
        else:
            self.post_message(self.Act(view, action))

    def copy_code(self, view: AssistantMessage) -> None:
        """Copy one code block of `view`: the first, then the next on each press."""
        blocks = view.code_blocks
        last = self._copied_code
        index = (last[1] + 1) % len(blocks) if last and last[0] is view else 0
        self._copied_code = (view, index)
        block = blocks[index]
        code = block.code.removesuffix("\n")
        self.app.copy_to_clipboard(code)
        lines = code.count("\n") + 1
        what = f"code block {index + 1} of {len(blocks)}" if len(blocks) > 1 else "the code block"
        about = ", ".join(filter(None, (block.language, f"{lines} line{'s' * (lines != 1)}")))
        more = " · C again for the next" if len(blocks) > 1 else ""
        # The language is the model's text: shown as written, never as markup.
        self.notify(f"Copied {what} ({about}){more}", timeout=3, markup=False)

    def _next_attachment(self, view: UserMessage) -> tuple[Attachment, str]:
        """The attachment `o` opens now: the first, then the next on each press (with a
        note saying which of how many)."""
        attached = view.attachments
        last = self._opened
        index = (last[1] + 1) % len(attached) if last and last[0] is view else 0
        self._opened = (view, index)
        more = (
            f" ({index + 1} of {len(attached)}; o again for the next)" if len(attached) > 1 else ""
        )
        return attached[index], more

    def open_attachment(self, view: UserMessage) -> None:
        """Open one attachment of `view` with the system's viewer."""
        part, more = self._next_attachment(view)
        self._open(part, more)

    @work(thread=True, exit_on_error=False, group="open-attachment")
    def _open(self, part: Attachment, more: str) -> None:
        from ba_tui.tui import attached_files

        store = getattr(self.app, "store", None)
        line, opened = attached_files.open_stored(store, part)
        self.app.call_from_thread(
            self.notify,
            line + more if opened else line,
            timeout=5 if opened else 10,
            markup=False,
            severity="information" if opened else "warning",
        )

    def save_attachment(self, view: UserMessage) -> None:
        """Ask where to save an attachment of `view` (the one `o` opened last, else the
        first), then write it there."""
        from ba_tui.tui.screens.save_attachment import SaveAttachment

        attached = view.attachments
        last = self._opened
        part = attached[last[1]] if last and last[0] is view else attached[0]

        def chosen(path: str | None) -> None:
            if path:
                self._save(part, path)

        self.app.push_screen(SaveAttachment(part), chosen)

    @work(thread=True, exit_on_error=False, group="save-attachment")
    def _save(self, part: Attachment, path: str) -> None:
        from ba_tui.tui import attached_files

        store = getattr(self.app, "store", None)
        line, ok = attached_files.save_stored(store, part, path)
        self.app.call_from_thread(
            self.notify, line, timeout=5, markup=False, severity="information" if ok else "error"
        )

    def on_message_view_clicked(self, event: MessageView.Clicked) -> None:
        self.select(event.view)
        self.query_one(MessageCursor).focus()
