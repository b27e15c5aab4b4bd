"""A real MCP server, written with the `mcp` SDK, for the tests: add, a slow tool, one that
fails, and a way to crash. Runs over stdio by default, or streamable HTTP on 127.0.0.1
with `--http PORT`. It prints to stderr, as servers do, which must never reach a terminal.
"""

from __future__ import annotations

import os
import sys
import time

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

server = MCPServer("calc")


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def add(a: float, b: float) -> str:
    """Add two numbers."""
    print(f"calc: adding {a} and {b}", file=sys.stderr, flush=True)
    return f"{a + b:g}"


@server.tool()
def slow(seconds: float) -> str:
    """Wait, then answer."""
    time.sleep(seconds)
    return "done waiting"


@server.tool(annotations=ToolAnnotations(destructiveHint=True))
def fail(reason: str) -> str:
    """Always fails."""
    raise ValueError(reason)


@server.tool()
def crash() -> str:
    """Ends the server at once."""
    os._exit(3)


if __name__ == "__main__":
    print("calc server starting", file=sys.stderr, flush=True)
    if len(sys.argv) > 2 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
