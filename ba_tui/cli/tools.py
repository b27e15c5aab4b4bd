"""`ba-chat tools` (every tool a model can be offered, and forgetting the ones allowed
always) and the terminal's approval prompt."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import typer

from ba_tui.cli.app import app, terminal_safe, warn

if TYPE_CHECKING:
    from ba_tui.messages import ToolCall
    from ba_tui.tools import Approver, Decision, Tool


tools_app = typer.Typer(
    name="tools",
    help="List every tool a model can be offered; forget approvals.",
    rich_markup_mode=None,
    add_completion=False,
)
app.add_typer(tools_app, name="tools")


@tools_app.callback(invoke_without_command=True)
def tools_root(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="Print the tools as JSON."),
) -> None:
    """List every tool a model can be offered (`ba-chat tools`).

    The built-in ones (`ask --tool NAME`, `[tools] enabled`) and those of the enabled MCP
    servers (which this starts), and which run without asking because you allowed them
    always (`ba-chat tools forget NAME` takes that back).
    """
    if ctx.invoked_subcommand is None:
        list_tools(json_out)


def list_tools(json_out: bool) -> None:
    from ba_tui.config import load_config
    from ba_tui.tools.builtin import BUILTIN

    config = load_config()
    section = config.data.get("tools") or {}
    enabled = set(section.get("enabled") or []) if isinstance(section, dict) else set()
    tools = [(tool, tool.name in enabled) for tool in BUILTIN.values()]
    tools += [(tool, True) for tool in _mcp_tools(config)]
    with _open_store() as store:
        always = {kept.tool: kept for kept in store.allowed_tools()}
    rows: list[dict[str, Any]] = [
        {
            "name": tool.name,
            "source": tool.source,
            "annotations": tool.annotations(),
            "enabled": on,
            "always": tool.name in always,
            "description": tool.description,
        }
        for tool, on in tools
    ]
    # Allowed always, but not offered now (its server is off or failed): still listed, so
    # it can be seen and forgotten.
    listed = {row["name"] for row in rows}
    rows += [
        {
            "name": kept.tool,
            "source": kept.source,
            "annotations": [],
            "enabled": False,
            "always": True,
            "description": "(not offered now)",
        }
        for kept in always.values()
        if kept.tool not in listed
    ]
    if json_out:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        flags = ", ".join(
            [
                *row["annotations"],
                *(["enabled"] if row["enabled"] else []),
                *(["always allowed"] if row["always"] else []),
            ]
        )
        first = row["description"].splitlines()[0] if row["description"] else ""
        print(f"{row['name']:<{width}}  {row['source']:<10}  {flags:<20}  {first}")


@tools_app.command("forget")
def forget_tools(
    names: list[str] | None = typer.Argument(None, help="Tools as `ba-chat tools` names them."),
    every: bool = typer.Option(False, "--all", help="Every tool allowed always."),
) -> None:
    """Ask again before running tools you allowed always."""
    from ba_tui.errors import UsageError

    if bool(names) == every:
        raise UsageError(
            "name the tools to forget, or pass --all", "e.g. ba-chat tools forget calc.add"
        )
    with _open_store() as store:
        if names:
            known = {kept.tool for kept in store.allowed_tools()}
            unknown = [name for name in names if name not in known]
            if unknown:
                raise UsageError(
                    f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not allowed"
                    " always",
                    "ba-chat tools lists the ones that are",
                )
        forgotten = store.forget_tools(names or None)
    print(
        f"forgot {len(forgotten)} tool(s): {', '.join(forgotten)}; they ask again"
        if forgotten
        else "no tool was allowed always"
    )


def _open_store() -> Any:
    from ba_tui.store import Store

    return Store.open()


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
        + "\nRun it? [y]es once, [s]ession, [a]lways, [n]o: "
    )
    sys.stderr.flush()
    answer = _read_line().strip().lower()
    if answer in ("y", "yes"):
        return Decision(True, "once")
    if answer in ("s", "session"):
        return Decision(True, "session")
    if answer in ("a", "always"):
        return Decision(True, "always")
    sys.stderr.write("Reason for the model (optional): ")
    sys.stderr.flush()
    return Decision(False, reason=_read_line().strip() or None)


def _read_line() -> str:
    try:
        return sys.stdin.readline()
    except (OSError, ValueError):
        return ""
