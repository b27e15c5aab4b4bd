"""One tool call of a reply, as a row under it: a line saying what ran and how it went,
`▸ read_file(path="notes.txt") → 3 lines · 4 ms`, and when opened (a click, or `o` on the
selected reply) its arguments and result.

While the model streams the call, the row is open and its arguments grow as they arrive;
once the call has run (or was denied, or cancelled) it folds to its one line. A stored
reply's calls are built from its ToolCall and ToolResult parts, folded.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from ba_tui.tui.text import head, inert, seconds

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ba_tui.messages import ToolCall, ToolResult

# The line's arguments are cut to fit the line with the outcome after them, and to at
# least this many characters; the opened row shows them whole.
LINE_ARGUMENTS = 48
MIN_ARGUMENTS = 8
# A result is shown up to this much (the whole of it stays in the thread).
RESULT_LINES = 30
RESULT_CHARS = 3000
APPROVALS = {
    "once": "approved once",
    "session": "approved for this session",
    "always": "approved always",
    "policy": "allowed by the approval policy",
    "denied": "denied",
    "cancelled": "not run (cancelled)",
}


def call_arguments(arguments: Mapping[str, Any], width: int = LINE_ARGUMENTS) -> str:
    """`path="notes.txt", limit=3`: a call's arguments as its row's line shows them, in
    at most `width` characters."""
    text = ", ".join(
        f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in arguments.items()
    )
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def outcome(result: ToolResult) -> str:
    """`3 lines · 4 ms`, `✗ error · 2 ms`, `denied`: how a call went, in a few words."""
    if result.approval in ("denied", "cancelled"):
        return str(result.approval)
    if result.is_error:
        what = "✗ error"
    else:
        count = len(result.output.splitlines())
        what = f"{count} line{'s' * (count != 1)}"
    took = f" · {seconds(result.duration_ms)}" if result.duration_ms is not None else ""
    return what + took


def pretty(arguments: Mapping[str, Any]) -> str:
    return json.dumps(dict(arguments), ensure_ascii=False, indent=2)


class ToolCallRow(Vertical):
    """A call by its id: `start` (streaming), `grow` (argument text), `complete` (the
    whole call), `ran` (its result); `toggle` opens and folds it."""

    def __init__(
        self,
        call_id: str,
        name: str,
        *,
        call: ToolCall | None = None,
        result: ToolResult | None = None,
        stored: bool = False,
    ) -> None:
        super().__init__(classes="tool-call")
        self.call_id = call_id
        self.tool_name = name
        self.call = call
        self.result = result
        self.streamed = ""  # the argument text as it arrives, before the call is whole
        self.stored = stored  # from a stored reply: folded, and nothing more will come
        self.collapsed = stored or result is not None
        self.waiting = False  # its approval card is showing

    def compose(self) -> ComposeResult:
        yield Static(self._line(), classes="tool-call-line")
        body = Static(self._body(), classes="tool-call-body")
        body.display = not self.collapsed
        yield body

    @property
    def status(self) -> str:
        """What the row shows now: "streaming", "waiting" (to run) or the result's outcome."""
        if self.result is not None:
            return outcome(self.result)
        return "waiting" if self.call is not None else "streaming"

    def grow(self, text: str) -> None:
        self.streamed += text
        self._redraw()

    def complete(self, call: ToolCall) -> None:
        """The call is whole: its line says so (the approval card, if any, shows its
        arguments in full), folded."""
        self.call = call
        self.collapsed = True
        self._redraw()

    def wait(self, on: bool) -> None:
        """The call waits for the user's answer (its card shows under the rows)."""
        self.waiting = on
        self._redraw()

    def ran(self, call: ToolCall, result: ToolResult) -> None:
        self.call, self.result, self.waiting = call, result, False
        self.collapsed = True
        self._redraw()

    def toggle(self, open_: bool | None = None) -> None:
        self.collapsed = not open_ if open_ is not None else not self.collapsed
        self._redraw()

    def on_click(self) -> None:
        self.toggle()

    def on_resize(self) -> None:
        if self.is_mounted:  # the arguments on the line are cut to the new width
            self.query_one(".tool-call-line", Static).update(self._line())

    def _redraw(self) -> None:
        if not self.is_mounted:
            return
        self.query_one(".tool-call-line", Static).update(self._line())
        body = self.query_one(".tool-call-body", Static)
        body.display = not self.collapsed
        if not self.collapsed:
            body.update(self._body())

    def _line(self) -> Content:
        mark = "▸" if self.collapsed else "▾"
        if self.result is not None:
            after = f" → {outcome(self.result)}"
        elif self.call is None:
            after = " …"
        elif self.stored:  # (a stored call has a result; an old row may not)
            after = " no result"
        else:
            after = " waiting for approval" if self.waiting else " running…"
        # The outcome always shows: the arguments give way to it on a narrow line.
        room = (self.size.width or LINE_ARGUMENTS * 2) - len(self.tool_name) - len(after) - 4
        room = max(min(room, LINE_ARGUMENTS), MIN_ARGUMENTS)
        if self.call is not None:
            arguments = call_arguments(self.call.arguments, room)
        else:
            arguments = (
                self.streamed if len(self.streamed) <= room else self.streamed[: room - 1] + "…"
            )
        what = f"{mark} {self.tool_name}({arguments})"
        tone = "$text-error" if self.result is not None and self.result.is_error else "$text-muted"
        return Content.assemble(inert(what), (after, tone))

    def _body(self) -> Content:
        """The arguments (pretty JSON), then the result cut for the screen, and how it ran."""
        arguments = pretty(self.call.arguments) if self.call is not None else self.streamed
        parts: list[tuple[str, str] | str] = [("arguments\n", "bold"), inert(arguments)]
        result = self.result
        if result is not None:
            about = [
                self.call.source if self.call is not None and self.call.source else "",
                APPROVALS.get(result.approval or "", result.approval or ""),
                seconds(result.duration_ms) if result.duration_ms is not None else "",
                "error" if result.is_error else "",
            ]
            label = " · ".join(filter(None, about))
            parts += [("\n\nresult", "bold"), (f"  {label}\n", "$text-muted")]
            shown = head(result.output, RESULT_LINES, RESULT_CHARS)
            parts.append(inert(shown))
            if shown != result.output.rstrip("\n"):
                rest = len(result.output.splitlines()) - len(shown.splitlines())
                more = f"{rest} more lines" if rest > 0 else "more"
                parts.append(
                    (f"\n… {more} (the whole result is kept in the thread)", "$text-muted")
                )
        return Content.assemble(*parts)
