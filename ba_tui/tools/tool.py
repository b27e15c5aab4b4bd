"""What a tool is: what the model is told about it, what it may do, how it runs (the
built-in tools and MCP servers' both make these)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ba_tui.providers.spec import ToolSpec

POLICIES = ("ask", "read-only", "all")
DEFAULT_TIMEOUT = 30.0


class ToolFailed(Exception):
    """A tool's own failure, told to the model as an error result (one line)."""


@dataclass(frozen=True)
class Tool:
    """One tool: what the model is told about it, what it may do, and how it runs."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    run: Callable[[dict[str, Any]], Awaitable[str]]
    source: str = "builtin"
    read_only: bool = False  # changes nothing anywhere (MCP's readOnlyHint)
    destructive: bool = False  # may delete or overwrite (MCP's destructiveHint)
    timeout: float = DEFAULT_TIMEOUT
    policy: str | None = None  # its source's own approval policy, over the session's

    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.parameters)

    def annotations(self) -> list[str]:
        """`read-only`, `destructive`: what listings and approval prompts show."""
        return [
            word
            for word, on in (("read-only", self.read_only), ("destructive", self.destructive))
            if on
        ]
