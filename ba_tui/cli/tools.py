"""`ba-chat tools` (every tool a model can be offered) and the terminal's approval prompt."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import typer

from ba_tui.cli.app import app, terminal_safe, warn

if TYPE_CHECKING:
    from ba_tui.messages import ToolCall
    from ba_tui.tools import Approver, Decision, Tool


@app.command("tools")
def list_tools(
    json_out: bool = typer.Option(False, "--json", help="Print the tools as JSON."),
) -> None:
    """List every tool a model can be offered.

    The built-in ones (`ask --tool NAME`, `[tools] enabled`) and those of the enabled MCP
    servers (which this starts).
    """
    from ba_tui.config import load_config
    from ba_tui.tools.builtin import BUILTIN

    config = load_config()
    section = config.data.get("tools") or {}
    enabled = set(section.get("enabled") or []) if isinstance(section, dict) else set()
    tools = [(tool, tool.name in enabled) for tool in BUILTIN.values()]
    tools += [(tool, True) for tool in _mcp_tools(config)]
    rows: list[dict[str, Any]] = [
        {
            "name": tool.name,
            "source": tool.source,
            "annotations": tool.annotations(),
            "enabled": on,
            "description": tool.description,
        }
        for tool, on in tools
    ]
    if json_out:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        flags = ", ".join([*row["annotations"], *(["enabled"] if row["enabled"] else [])])
        first = row["description"].splitlines()[0] if row["description"] else ""
        print(f"{row['name']:<{width}}  {row['source']:<10}  {flags:<20}  {first}")


def _mcp_tools(config: Any) -> list[Tool]:
    """The enabled MCP servers' tools (a server that fails is said in one line)."""
    from ba_tui.cli.mcp import connected, run
    from ba_tui.tools.mcp import servers, tools_of

    enabled = [server for server in servers(config.data) if server.enabled]
    if not enabled:
        return []

    async def listing(connections: list[Any]) -> list[Tool]:
        found: list[Tool] = []
        for connection in connections:
            if connection.failure is not None:
                warn(f"ba-chat: MCP server {connection.server.name} failed: {connection.failure}")
            else:
                found += tools_of(connection)
        return found

    result: list[Tool] = run(connected(enabled, listing))
    return result


def terminal_approver() -> Approver | None:
    """A prompt on the terminal for calls the policy does not allow by itself; None
    without a terminal to ask on (then such calls are denied)."""
    if sys.stdin is None or not sys.stdin.isatty() or not sys.stderr.isatty():
        return None

    import asyncio

    async def approve(call: ToolCall, tool: Tool) -> Decision:
        return await asyncio.to_thread(_ask_user, call, tool)

    return approve


def _ask_user(call: ToolCall, tool: Tool) -> Decision:
    from ba_tui.tools import Decision

    arguments = json.dumps(dict(call.arguments), ensure_ascii=False, indent=2)
    about = ", ".join([tool.source, *tool.annotations()])
    sys.stderr.write(
        terminal_safe(f"\nThe model wants to run {tool.name} ({about}):\n")
        + terminal_safe(arguments)
        + "\nRun it? [y]es once, [s]ession, [n]o: "
    )
    sys.stderr.flush()
    answer = _read_line().strip().lower()
    if answer in ("y", "yes"):
        return Decision(True, "once")
    if answer in ("s", "session"):
        return Decision(True, "session")
    sys.stderr.write("Reason for the model (optional): ")
    sys.stderr.flush()
    return Decision(False, reason=_read_line().strip() or None)


def _read_line() -> str:
    try:
        return sys.stdin.readline()
    except (OSError, ValueError):
        return ""
