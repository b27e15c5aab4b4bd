"""A second MCP server for the tests, written with the `mcp` SDK: tools whose calls must
run at once to succeed, a tool that adds a tool while the server runs (and says its list
changed), and one that tells whether an environment variable reached it (never its
value). Runs over stdio, or streamable HTTP on 127.0.0.1 with `--http PORT`; with
`--token-env VAR` too, every HTTP request must carry `Authorization: Bearer $VAR`.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations

server = MCPServer("live")
_waiting: list[anyio.Event] = []


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
async def meet(seconds: float = 20) -> str:
    """Wait for a second call of meet: "met" when two calls run at once, else "alone"."""
    if _waiting:
        _waiting.pop().set()
        return "met"
    arrived = anyio.Event()
    _waiting.append(arrived)
    with anyio.move_on_after(seconds):
        await arrived.wait()
        return "met"
    _waiting.remove(arrived)
    return "alone"


def late() -> str:
    """A tool that exists only after grow ran."""
    return "late and here"


@server.tool()
async def grow(ctx: Context) -> str:
    """Add the tool `late`, and tell the client the tool list changed."""
    server.add_tool(late)
    await ctx.notify_tools_changed()  # 2026-07-28 clients: their subscriptions/listen
    try:  # earlier clients: the notifications/tools/list_changed notification
        await ctx.session.send_tool_list_changed()
    except Exception as exc:
        print(f"live: no list_changed notification: {exc}", file=sys.stderr, flush=True)
    return "added late"


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def has_env(name: str) -> str:
    """Whether the variable `name` is set here, and its length (never its value)."""
    value = os.environ.get(name)
    return f"{name} is not set" if value is None else f"{name} is set ({len(value)} chars)"


def _checked(app: Any, token: str) -> Any:
    """The app behind a bearer-token check, as a remote server with auth would be."""
    expected = f"Bearer {token}".encode()

    async def guard(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and dict(scope["headers"]).get(b"authorization") != expected:
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b"missing or wrong token"})
            return
        await app(scope, receive, send)

    return guard


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--http" in args:
        import uvicorn

        port = int(args[args.index("--http") + 1])
        app = server.streamable_http_app()
        if "--token-env" in args:
            app = _checked(app, os.environ[args[args.index("--token-env") + 1]])
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    else:
        server.run()
