"""`ba-chat mcp`: the MCP servers in config.toml, their tools, a call for debugging, and
importing the `mcpServers` JSON other apps use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ba_tui.cli.app import app, warn

if TYPE_CHECKING:
    from ba_tui.tools.mcp import Connection, ServerConfig

mcp_app = typer.Typer(
    name="mcp",
    help="List, call and import MCP servers.",
    rich_markup_mode=None,
    add_completion=False,
)
app.add_typer(mcp_app, name="mcp")


def _servers(name: str | None = None) -> list[ServerConfig]:
    from ba_tui.config import load_config
    from ba_tui.errors import UsageError
    from ba_tui.tools.mcp import servers

    found = servers(load_config().data)
    if name is None:
        return found
    chosen = [server for server in found if server.name == name]
    if not chosen:
        known = ", ".join(server.name for server in found) or "none configured"
        raise UsageError(
            f"no MCP server named {name!r}", f"servers: {known} (see ba-chat mcp list)"
        )
    return chosen


async def connected(servers: list[ServerConfig], work: Any) -> Any:
    """Connect to `servers` at once, run `work(connections)`, then close them."""
    import asyncio

    from ba_tui.paths import data_dir
    from ba_tui.tools.mcp import Connection

    connections = [Connection(server, data_dir() / "mcp") for server in servers]
    try:
        await asyncio.gather(*(c.start() for c in connections))
        return await work(connections)
    finally:
        await asyncio.gather(*(c.close() for c in connections))


def run(work: Any) -> Any:
    import asyncio  # (not at import: `ba-chat --help` never needs it)

    return asyncio.run(work)


def _schema_tokens(connection: Connection) -> int:
    """Roughly what the server's tool definitions cost in context, per request (4 chars
    a token, the usual rule of thumb)."""
    text = json.dumps(
        [
            [t.name, t.description, t.schema]
            for t in connection.tools
            if connection.server.offers(t.name)
        ]
    )
    return len(text) // 4


@mcp_app.command("list")
def list_servers(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the servers, their state and tool count.

    Also what their tools' schemas cost in tokens on every request.
    """
    servers = _servers()
    if not servers:
        warn("no MCP servers in config.toml; add [mcp.servers.NAME] or run ba-chat mcp import FILE")
        return
    enabled = [server for server in servers if server.enabled]

    async def rows(connections: list[Connection]) -> list[dict[str, Any]]:
        by_name = {c.server.name: c for c in connections}
        out = []
        for server in servers:
            connection = by_name.get(server.name)
            row: dict[str, Any] = {"name": server.name, "transport": server.transport}
            if connection is None:
                row |= {"state": "disabled", "tools": 0, "tokens": 0}
            elif connection.failure is not None:
                row |= {"state": f"failed: {connection.failure}", "tools": 0, "tokens": 0}
            else:
                offered = [t for t in connection.tools if server.offers(t.name)]
                row |= {"state": "ok", "tools": len(offered), "tokens": _schema_tokens(connection)}
            out.append(row)
        return out

    listed = run(connected(enabled, rows))
    if json_out:
        print(json.dumps(listed, ensure_ascii=False, indent=2))
        return
    for row in listed:
        print(
            f"{row['name']:<16} {row['transport']:<6} {row['tools']:>3} tools"
            f" {row['tokens']:>6} tokens  {row['state']}"
        )


@mcp_app.command("tools")
def list_tools(
    name: str | None = typer.Argument(None, help="Only this server's tools."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every tool the servers offer, as the model sees it: `server.tool`."""
    from ba_tui.tools.mcp import tools_of

    servers = [server for server in _servers(name) if server.enabled or name]

    async def listing(connections: list[Connection]) -> list[dict[str, Any]]:
        out = []
        for connection in connections:
            if connection.failure is not None:
                warn(f"ba-chat: MCP server {connection.server.name} failed: {connection.failure}")
                continue
            for tool in tools_of(connection):
                out.append(
                    {
                        "name": tool.name,
                        "annotations": tool.annotations(),
                        "description": tool.description,
                        "schema": dict(tool.parameters),
                    }
                )
        return out

    tools = run(connected(servers, listing))
    if json_out:
        print(json.dumps(tools, ensure_ascii=False, indent=2))
        return
    for tool in tools:
        notes = f" ({', '.join(tool['annotations'])})" if tool["annotations"] else ""
        first = tool["description"].splitlines()[0] if tool["description"] else ""
        print(f"{tool['name']}{notes}  {first}")


@mcp_app.command("call")
def call_tool(
    name: str = typer.Argument(..., help="The server."),
    tool: str = typer.Argument(..., help="The tool, as the server names it."),
    arguments: str = typer.Argument("{}", help="The arguments as a JSON object."),
) -> None:
    """Call one tool and print what it returns.

    For debugging a server.
    """
    from ba_tui.errors import UsageError
    from ba_tui.tools import ToolFailed

    try:
        parsed = json.loads(arguments)
    except ValueError as exc:
        raise UsageError(
            f"the arguments are not JSON: {exc}", "pass an object, e.g. '{\"a\": 1}'"
        ) from None
    if not isinstance(parsed, dict):
        raise UsageError("the arguments must be a JSON object", "e.g. '{\"a\": 1}'")

    async def work(connections: list[Connection]) -> tuple[str, bool]:
        (connection,) = connections
        if connection.failure is not None:
            raise ToolFailed(f"MCP server {name} failed: {connection.failure}")
        return await connection.call(tool, parsed)

    try:
        text, is_error = run(connected(_servers(name), work))
    except ToolFailed as exc:
        warn(f"ba-chat: error: {exc}")
        raise typer.Exit(1) from None
    print(text)
    if is_error:
        warn(f"ba-chat: {name}.{tool} returned an error")
        raise typer.Exit(1)


@mcp_app.command("import")
def import_servers(
    file: Path = typer.Argument(..., help="A JSON file with mcpServers (Claude Desktop, Cursor…)."),
) -> None:
    """Add the servers of an `mcpServers` JSON file.

    They go into config.toml; a server whose name is there already is kept as it is.
    Values that look secret (env variables named like *TOKEN* or *KEY*, Authorization
    headers) go to the OS keyring, and config.toml refers to them as keyring:NAME.
    """
    from ba_tui.config import add_mcp_servers, load_config
    from ba_tui.errors import UsageError
    from ba_tui.keys import NoKeyring

    try:
        data = json.loads(file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {file}: {exc}", "pass a JSON file with mcpServers") from None
    found = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(found, dict) or not found:
        raise UsageError(
            f"{file} has no mcpServers object", 'it should look like {"mcpServers": {...}}'
        )
    configured = (load_config().data.get("mcp") or {}).get("servers") or {}
    kept: dict[str, Any] = {}
    left_out = False
    for name, raw in found.items():
        try:
            kept[str(name)] = raw if name in configured else _secrets_to_keyring(str(name), raw)
        except NoKeyring as exc:
            warn(f"ba-chat: {name} left out: {exc.line()}")
            left_out = True
    added, skipped = add_mcp_servers(kept)
    for note in skipped:
        warn(note)
    print(f"added {len(added)} MCP server(s): {', '.join(added) or 'none'}")
    if left_out:
        raise typer.Exit(NoKeyring.exit_code)


def _secrets_to_keyring(name: str, raw: Any) -> Any:
    """The server `raw` with each secret-looking env value and header moved to the OS
    keyring and replaced by its `keyring:` reference, one line on stderr each. NoKeyring
    (saying which value and what to do) when there is no keyring to keep one in."""
    from ba_tui.keys import NoKeyring, keyring_name, looks_secret, store_secret

    if not isinstance(raw, dict):
        return raw
    moved = dict(raw)
    for table, what in (("env", "env"), ("headers", "header")):
        values = raw.get(table)
        if not isinstance(values, dict):
            continue
        moved[table] = dict(values)
        for key, value in values.items():
            if not looks_secret(str(key)) or keyring_name(str(value)) or not str(value):
                continue
            try:
                ref = store_secret(f"mcp.{name}.{key}", str(value))
            except NoKeyring as exc:
                raise NoKeyring(
                    f"its {what} {key} looks secret and cannot be kept: {exc.message}",
                    "set up an OS keyring and import again"
                    " (ba-chat never writes secrets to config.toml)",
                ) from None
            moved[table][key] = ref
            warn(f"ba-chat: {name}: {what} {key} went to the OS keyring; config.toml says {ref}")
    return moved


@mcp_app.command("secret")
def store_secret_command(
    name: str = typer.Argument(..., help="The NAME of a keyring:NAME value in config.toml."),
) -> None:
    """Store a value config.toml refers to as keyring:NAME.

    For a token in an MCP server's env or headers; asked for with a hidden prompt, or
    read from stdin when piped.
    """
    from ba_tui.keys import NoKeyring, keyring_problem, store_secret

    if problem := keyring_problem():  # say so before asking for a value that cannot be kept
        raise NoKeyring(f"cannot store keyring:{name}: {problem}", "set up an OS keyring first")
    value = _read_secret(name)
    try:
        ref = store_secret(name, value)
    except NoKeyring as exc:
        raise NoKeyring(f"cannot store keyring:{name}: {exc.message}") from None
    print(f"stored {ref} in the OS keyring")


def _read_secret(name: str) -> str:
    """The value from a hidden prompt on a terminal, or from stdin when piped: one line
    (a header such as `Bearer …` may hold spaces)."""

    from ba_tui.cli.keys import hidden_or_piped
    from ba_tui.errors import UsageError

    value = hidden_or_piped(f"value for keyring:{name} (input hidden): ")
    if not value:
        raise UsageError(
            f"no value given for keyring:{name}",
            f'type it at the prompt, or pipe it in: echo "$TOKEN" | ba-chat mcp secret {name}',
        )
    if any(not char.isprintable() for char in value):
        raise UsageError(
            "the value contains line breaks or control characters",
            "pass one line, nothing else; nothing was stored",
        )
    return value
