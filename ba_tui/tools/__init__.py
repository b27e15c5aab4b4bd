"""Tools a model may call, and the one place a call is approved and run.

A `Toolbox` holds the tools offered in a turn (built-in ones today, MCP servers' next),
decides whether a call may run (the `--approve` policy, what the user allowed for the
session, else the front end's `approve` callback: a prompt in `ask`, a card in the TUI)
and runs it. Every call ends as a `ToolResult`, never an exception: an unknown tool, bad
arguments, a denial, a failure or a timeout are results the model can read and act on.
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

__all__ = ["POLICIES", "Approver", "Decision", "Tool", "ToolFailed", "Toolbox"]


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


@dataclass
class Toolbox:
    """The tools of one session and its approval state."""

    tools: dict[str, Tool]
    policy: str = "ask"
    approve: Approver | None = None
    allowed: set[str] = field(default_factory=set)  # tools allowed for this session
    # MCP servers whose tools join the box when the first turn needs them (`connect`).
    servers: list[Any] = field(default_factory=list)
    connections: list[Any] = field(default_factory=list)

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
        from ba_tui.tools.mcp import Connection, tools_of

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
            for tool in tools_of(connection):
                self.tools[tool.name] = tool
        return notes

    async def close(self) -> None:
        """Close every MCP connection (a stdio server's process ends with it)."""
        connections, self.connections = self.connections, []
        await asyncio.gather(*(c.close() for c in connections))

    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(tool.spec() for tool in self.tools.values())

    def source(self, name: str) -> str | None:
        tool = self.tools.get(name)
        return tool.source if tool else None

    async def run(self, call: ToolCall) -> ToolResult:
        """Approve and run one call; always a result."""
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
        start = time.perf_counter()
        try:
            async with asyncio.timeout(tool.timeout):
                output, error = await tool.run(arguments), False
        except ToolFailed as exc:
            output, error = str(exc), True
        except TimeoutError:
            output, error = f"the tool took longer than {tool.timeout:g} s and was stopped", True
        except Exception as exc:  # a tool's bug is the model's error result, not ours
            output, error = f"the tool failed: {type(exc).__name__}: {exc}", True
        took = (time.perf_counter() - start) * 1000
        if edited is not None and dict(edited) != dict(call.arguments):
            # The model must know its call is not what ran, or it reasons from a wrong premise.
            shown = json.dumps(arguments, ensure_ascii=False)
            output = f"(the user changed the arguments to {shown})\n{output}"
        return _result(call, output, error=error, approval=approval, duration_ms=took)

    async def _approval(
        self, call: ToolCall, tool: Tool
    ) -> tuple[str, str | None, Mapping[str, Any] | None]:
        """How the call may run ("policy", "session", "once", "always") or "denied", the
        reason for a denial, and the user's edited arguments (None: as the model asked)."""
        policy = tool.policy or self.policy
        if policy == "all" or (policy == "read-only" and tool.read_only):
            return "policy", None, None
        if tool.name in self.allowed:
            return "session", None, None
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
        if decision.scope in ("session", "always"):
            self.allowed.add(tool.name)
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
