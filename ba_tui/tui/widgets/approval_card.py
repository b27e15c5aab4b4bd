"""The approval card: a model wants to run a tool, and the user says whether it may.

It shows inline under the streaming reply (not a modal: the reply it belongs to stays in
view): the tool's name, where it comes from and what it may do, and the call's arguments
as pretty JSON. Keys: `y` run once, `s` for this session, `a` always, `e` edit the
arguments first, `n` deny (with an optional reason for the model), Esc cancels the reply.
The answer goes to the tool loop through `Asking.answer`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Static, TextArea

from ba_tui.tui.text import inert
from ba_tui.tui.widgets.tool_call import pretty

if TYPE_CHECKING:
    from ba_tui.messages import ToolCall
    from ba_tui.tools import Decision, Tool

KEYS = "y once · s session · a always · e edit · n deny · esc cancels the reply"
EDIT_KEYS = "ctrl+s keeps the edit · esc drops it"
DENY_KEYS = "enter denies · esc goes back"


@dataclass(eq=False)
class Asking:
    """A call waiting for the user's answer (the tool loop awaits `decision`)."""

    call: ToolCall
    tool: Tool
    decision: asyncio.Future[Decision] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def answer(self, decision: Decision) -> None:
        if not self.decision.done():
            self.decision.set_result(decision)


def parse_arguments(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """The edited arguments, or why they cannot be used (one line)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"Not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
    if not isinstance(value, dict):
        return None, "The arguments must be a JSON object: { … }"
    return value, None


class ApprovalCard(Vertical, can_focus=True):
    """Asks whether `asking.call` may run; answers through `asking.answer`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "decide('once')", "Run once"),
        Binding("s", "decide('session')", "This session"),
        Binding("a", "decide('always')", "Always"),
        Binding("e", "edit", "Edit"),
        Binding("n", "deny", "Deny"),
        Binding("ctrl+s", "keep_edit", "Keep edit", priority=True),
        # One of these at a time (check_action): back from editing or denying, else the
        # screen's Esc, which cancels the reply.
        Binding("escape", "back", "Back"),
        Binding("escape", "screen.cancel_reply", "Cancel reply"),
    ]

    def __init__(self, asking: Asking) -> None:
        super().__init__(classes="approval-card")
        self.asking = asking
        self.mode = "ask"  # "ask", "edit" or "deny"
        self.edited: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        call, tool = self.asking.call, self.asking.tool
        yield Static(
            Content.assemble(("Run ", "bold"), (inert(tool.name), "bold $text-accent"), "?"),
            classes="approval-title",
        )
        about = [tool.source, *tool.annotations()]
        tone = "$text-error" if tool.destructive else "$text-muted"
        yield Static(Content.assemble((inert(" · ".join(about)), tone)), classes="approval-about")
        with VerticalScroll(classes="approval-arguments", can_focus=False):
            yield Static(Content(inert(pretty(call.arguments))), classes="approval-json")
        # The editor and the reason's input are made when first asked for: the card is
        # on screen sooner without them.
        problem = Static(classes="approval-problem")
        problem.display = False
        yield problem
        yield Static(KEYS, classes="approval-keys")

    def on_mount(self) -> None:
        self.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("decide", "edit", "deny"):
            return self.mode == "ask"
        if action == "keep_edit":
            return self.mode == "edit"
        if action == "back":
            return self.mode != "ask"
        return True

    # --- answers ------------------------------------------------------------------------

    def action_decide(self, scope: str) -> None:
        from ba_tui.tools import Decision

        self._answer(Decision(True, scope, arguments=self.edited))

    def _answer(self, decision: Decision) -> None:
        # The tool loop goes on; the screen removes the card and gives the focus back.
        self.asking.answer(decision)

    @on(Input.Submitted, ".approval-reason")
    def _denied(self, event: Input.Submitted) -> None:
        from ba_tui.tools import Decision

        event.stop()
        self._answer(Decision(False, reason=event.value.strip() or None))

    # --- editing and denying ------------------------------------------------------------

    async def action_edit(self) -> None:
        if not self.query(".approval-editor"):
            arguments = self.edited if self.edited is not None else self.asking.call.arguments
            editor = TextArea(pretty(arguments), classes="approval-editor", soft_wrap=True)
            await self.mount(editor, after=self.query_one(".approval-arguments"))
        self._set_mode("edit")
        self.query_one(".approval-editor", TextArea).focus()

    def action_keep_edit(self) -> None:
        editor = self.query_one(".approval-editor", TextArea)
        arguments, problem = parse_arguments(editor.text)
        if problem is not None:
            self._problem(problem)  # the editor stays open, with what was typed
            return
        self.edited = arguments
        shown = pretty(arguments or {})
        self.query_one(".approval-json", Static).update(
            Content.assemble(("edited\n", "$text-warning"), inert(shown))
        )
        self._set_mode("ask")
        self.focus()

    async def action_deny(self) -> None:
        if not self.query(".approval-reason"):
            reason = Input(placeholder="Reason for the model (optional)", classes="approval-reason")
            await self.mount(reason, before=self.query_one(".approval-problem"))
        self._set_mode("deny")
        self.query_one(".approval-reason", Input).focus()

    def action_back(self) -> None:
        if self.mode == "edit":  # the edit is dropped: the editor shows the last kept one
            self.query_one(".approval-editor", TextArea).text = pretty(
                self.edited if self.edited is not None else self.asking.call.arguments
            )
        self._set_mode("ask")
        self.focus()

    def _set_mode(self, mode: str) -> None:
        self.mode = mode
        self.query_one(".approval-arguments").display = mode != "edit"
        for editor in self.query(".approval-editor"):
            editor.display = mode == "edit"
        for reason in self.query(".approval-reason"):
            reason.display = mode == "deny"
        self._problem("")
        keys = {"ask": KEYS, "edit": EDIT_KEYS, "deny": DENY_KEYS}[mode]
        self.query_one(".approval-keys", Static).update(keys)
        self.refresh_bindings()

    def _problem(self, text: str) -> None:
        line = self.query_one(".approval-problem", Static)
        line.update(Content(text))
        line.display = bool(text)
