"""Tools a model may call, and the one place a call is approved and run.

A `Toolbox` holds the tools offered in a turn (built-in ones today, MCP servers' next),
decides whether a call may run (the `--approve` policy, what the user allowed for the
session or "always", else the front end's `approve` callback: a prompt in `ask`, a card
in the TUI) and runs it. The loop admits a step's calls one at a time, in order, then
runs the admitted ones at once (`admit`, then `execute`). Every call ends as a
`ToolResult`, never an exception: an unknown tool, bad arguments, a denial, a failure or
a timeout are results the model can read and act on.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ba_tui.errors import UsageError
from ba_tui.messages import ToolCall, ToolResult
from ba_tui.providers.spec import ToolSpec
from ba_tui.tools.tool import POLICIES, Tool, ToolFailed

__all__ = ["POLICIES", "Admitted", "Approver", "Decision", "Tool", "ToolFailed", "Toolbox"]


@dataclass(frozen=True)
class Decision:
    """The user's answer to an approval request: run it once, for the rest of the
    session, always (the front end remembers that), or not, with a reason for the model.
    `arguments` are the user's edit of the call's arguments: the tool runs with them and
    the model is told they were changed (it asked for something else)."""

    allow: bool
    scope: str = "once"  # "once", "session" or "always"
    reason: str | None = None
    arguments: Mapping[str, Any] | None = None


# The front end's question: may this call of this tool run? None means nobody can be
# asked (no terminal): the call is denied.
Approver = Callable[[ToolCall, Tool], Awaitable[Decision]]


@dataclass(frozen=True)
class Admitted:
    """A call that may run (the policy or the user let it), with the arguments it runs
    with: what `Toolbox.admit` hands to `Toolbox.execute`."""

    call: ToolCall
    tool: Tool
    approval: str  # "policy", "session", "always" or "once"
    arguments: dict[str, Any]
    edited: bool = False  # the user changed the model's arguments


@dataclass
class Toolbox:
    """The tools of one session and its approval state."""

    tools: dict[str, Tool]
    policy: str = "ask"
    approve: Approver | None = None
    allowed: set[str] = field(default_factory=set)  # tools allowed for this session
    # Tools the user allowed "always" (loaded from the store by the session), and how a
    # new "always" is remembered there.
    always: set[str] = field(default_factory=set)
    remember: Callable[[Tool], None] | None = None
    # MCP servers whose tools join the box when the first turn needs them (`connect`).
    servers: list[Any] = field(default_factory=list)
    connections: list[Any] = field(default_factory=list)
    read_only: bool = False  # offer only read-only tools (compare's view)
    # Each connection's tool list version this box last took its tools from.
    _seen: dict[str, int] = field(default_factory=dict, repr=False)
    # One question at a time: compare's columns share the box, the user has one terminal.
    _asking: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @classmethod
    def of(
        cls, tools: Iterable[Tool], policy: str = "ask", approve: Approver | None = None
    ) -> Toolbox:
        if policy not in POLICIES:
            raise UsageError(
                f"unknown approval policy {policy!r}", f"use one of: {', '.join(POLICIES)}"
            )
        return cls({tool.name: tool for tool in tools}, policy, approve)

    async def connect(self, log_dir: Any) -> list[str]:
        """Open each MCP server's connection (all at once) and add its tools; once per
        session. Returns a line for each server that failed (its tools are left out)."""
        if not self.servers:
            return []
        from ba_tui.tools.mcp import Connection

        pending, self.servers = self.servers, []
        connections = [Connection(server, log_dir) for server in pending]
        await asyncio.gather(*(c.start() for c in connections))
        self.connections += connections
        notes = []
        for connection in connections:
            if connection.failure is not None:
                notes.append(
                    f"ba-chat: MCP server {connection.server.name} failed: {connection.failure}"
                    f" (its log: {connection.log_path})"
                )
                continue
            self._take_tools(connection)
        return notes

    async def refresh(self) -> None:
        """Take the new tool lists of servers that said theirs changed (`list_changed`),
        so the next request offers what each server offers now."""
        for connection in self.connections:
            await connection.refresh()
            if self._seen.get(connection.server.name) != connection.version:
                self._take_tools(connection)

    def _take_tools(self, connection: Any) -> None:
        from ba_tui.tools.mcp import tools_of

        source = f"mcp:{connection.server.name}"
        kept = {name: tool for name, tool in self.tools.items() if tool.source != source}
        offered = [t for t in tools_of(connection) if t.read_only or not self.read_only]
        self.tools = kept | {tool.name: tool for tool in offered}
        self._seen[connection.server.name] = connection.version

    def read_only_view(self) -> tuple[Toolbox, list[str]]:
        """The same box offering only its read-only tools (compare asks several models at
        once: a side effect must not run once per model), and the names held back.
        Approvals given in either count for both."""
        view = Toolbox(
            {name: tool for name, tool in self.tools.items() if tool.read_only},
            self.policy,
            self.approve,
            self.allowed,
            self.always,
            self.remember,
            connections=self.connections,
            read_only=True,
            _seen=dict(self._seen),
            _asking=self._asking,
        )
        return view, [name for name, tool in self.tools.items() if not tool.read_only]

    async def close(self) -> None:
        """Close every MCP connection (a stdio server's process ends with it)."""
        connections = list(self.connections)
        self.connections.clear()  # (a view shares the list: it sees them closed too)
        await asyncio.gather(*(c.close() for c in connections))

    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(tool.spec() for tool in self.tools.values())

    def source(self, name: str) -> str | None:
        tool = self.tools.get(name)
        return tool.source if tool else None

    async def run(self, call: ToolCall) -> ToolResult:
        """Approve and run one call; always a result."""
        admitted = await self.admit(call)
        return admitted if isinstance(admitted, ToolResult) else await self.execute(admitted)

    async def admit(self, call: ToolCall) -> Admitted | ToolResult:
        """Whether `call` may run, asking the user if the policy does not say: Admitted,
        or the result that ends it (an unknown tool, bad arguments, a denial)."""
        tool = self.tools.get(call.name)
        if tool is None:
            known = ", ".join(self.tools) or "none"
            return _result(call, f"no tool named {call.name!r} (tools: {known})", error=True)
        if call.meta and "invalid_arguments" in call.meta:
            raw = str(call.meta["invalid_arguments"])[:200]
            return _result(call, f"the arguments were not a JSON object: {raw}", error=True)
        approval, reason, edited = await self._approval(call, tool)
        if approval == "denied":
            return _result(call, reason or "denied by the user", error=True, approval="denied")
        arguments = dict(call.arguments if edited is None else edited)
        changed = edited is not None and dict(edited) != dict(call.arguments)
        return Admitted(call, tool, approval, arguments, changed)

    async def execute(self, admitted: Admitted) -> ToolResult:
        """Run an admitted call within its tool's timeout; always a result."""
        tool, arguments = admitted.tool, admitted.arguments
        start = time.perf_counter()
        try:
            async with asyncio.timeout(tool.timeout):
                output, error = await tool.run(dict(arguments)), False
        except ToolFailed as exc:
            output, error = str(exc), True
        except TimeoutError:
            output, error = f"the tool took longer than {tool.timeout:g} s and was stopped", True
        except Exception as exc:  # a tool's bug is the model's error result, not ours
            output, error = f"the tool failed: {type(exc).__name__}: {exc}", True
        took = (time.perf_counter() - start) * 1000
        if admitted.edited:
            # The model must know its call is not what ran, or it reasons from a wrong premise.
            shown = json.dumps(arguments, ensure_ascii=False)
            output = f"(the user changed the arguments to {shown})\n{output}"
        return _result(
            admitted.call, output, error=error, approval=admitted.approval, duration_ms=took
        )

    async def _approval(
        self, call: ToolCall, tool: Tool
    ) -> tuple[str, str | None, Mapping[str, Any] | None]:
        """How the call may run ("policy", "session", "always", "once") or "denied", the
        reason for a denial, and the user's edited arguments (None: as the model asked)."""
        policy = tool.policy or self.policy
        if policy == "all" or (policy == "read-only" and tool.read_only):
            return "policy", None, None
        async with self._asking:  # (an answer to an earlier question may cover this one)
            if tool.name in self.allowed:
                return "session", None, None
            if tool.name in self.always:
                return "always", None, None
            if self.approve is None:
                return (
                    "denied",
                    (
                        "denied: no terminal to ask the user for approval"
                        " (allow tools with --approve read-only or --approve all)"
                    ),
                    None,
                )
            decision = await self.approve(call, tool)
        if not decision.allow:
            return (
                "denied",
                "denied by the user" + (f": {decision.reason}" if decision.reason else ""),
                None,
            )
        if decision.scope == "session":
            self.allowed.add(tool.name)
        elif decision.scope == "always":
            self.always.add(tool.name)
            if self.remember is not None:
                self.remember(tool)
        return decision.scope, None, decision.arguments


def _result(
    call: ToolCall,
    output: str,
    *,
    error: bool = False,
    approval: str | None = None,
    duration_ms: float | None = None,
) -> ToolResult:
    return ToolResult(
        call.id, call.name, output, is_error=error, approval=approval, duration_ms=duration_ms
    )
