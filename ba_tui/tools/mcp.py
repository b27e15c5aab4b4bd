"""MCP servers as tool sources, through the official `mcp` SDK (an optional extra).

Each server in config.toml (`[mcp.servers.NAME]`: `command`/`args`/`env` for stdio,
`url`/`headers` for streamable HTTP; `enabled`, `timeout`, `allow_tools`/`deny_tools`,
`approval`) gets one long-lived connection, opened when a turn first offers tools. The SDK
is built on anyio, whose cancel scopes must be entered and left by the same task (python-sdk
#79, #922), so one task per server owns its `Client` and takes calls from a queue. A
server's stderr goes to its own log file, never the terminal (it would paint over the
TUI). A server that fails to start, crashes or hangs becomes a reason: its tools are left
out, or the call gets an error result, and the turn goes on.

`mcp` takes seconds to import, so it is imported only here, and only when a server is used.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ba_tui.errors import ConfigError
from ba_tui.tools.tool import POLICIES, Tool, ToolFailed

DEFAULT_TIMEOUT = 60.0
START_SECONDS = 30.0  # default start_timeout: a server not ready by then is taken as hung
INSTALL = "install it with `pip install 'ba-chat[mcp]'`"


@dataclass(frozen=True)
class ServerConfig:
    """One `[mcp.servers.NAME]` table, checked."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True
    timeout: float = DEFAULT_TIMEOUT  # seconds one call may take
    start_timeout: float = START_SECONDS  # seconds to start and list its tools
    allow_tools: tuple[str, ...] | None = None
    deny_tools: tuple[str, ...] = ()
    approval: str | None = None  # overrides --approve for this server's tools

    @property
    def transport(self) -> str:
        return "stdio" if self.command else "http"

    def offers(self, tool: str) -> bool:
        allowed = self.allow_tools is None or tool in self.allow_tools
        return allowed and tool not in self.deny_tools


def servers(data: Mapping[str, Any]) -> list[ServerConfig]:
    """The servers config.toml lists (enabled or not); ConfigError says what is wrong."""
    tables = ((data.get("mcp") or {}).get("servers") or {}) if isinstance(data, Mapping) else {}
    if not isinstance(tables, Mapping):
        raise ConfigError("mcp.servers must be a table: [mcp.servers.NAME]")
    return [_server(name, table) for name, table in tables.items()]


def _server(name: str, table: Any) -> ServerConfig:
    where = f"mcp.servers.{name}"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table: [{where}]")
    if bool(table.get("command")) == bool(table.get("url")):
        raise ConfigError(
            f"{where} needs either command (a local server) or url (a remote one)",
            f"edit [{where}] in config.toml",
        )
    if "." in name:
        raise ConfigError(f"{where}: a server name cannot hold a dot", "rename the table")
    approval = table.get("approval")
    if approval is not None and approval not in POLICIES:
        raise ConfigError(f"{where}.approval must be one of: {', '.join(POLICIES)}")

    def strings(key: str) -> tuple[str, ...]:
        value = table.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}.{key} must be a list of strings")
        return tuple(value)

    def mapping(key: str) -> dict[str, str]:
        value = table.get(key) or {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}.{key} must be a table of strings")
        return {str(k): str(v) for k, v in value.items()}

    def seconds(key: str, default: float) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"{where}.{key} must be a number of seconds")
        return float(value)

    return ServerConfig(
        name=name,
        command=table.get("command"),
        args=strings("args"),
        env=mapping("env"),
        url=table.get("url"),
        headers=mapping("headers"),
        enabled=bool(table.get("enabled", True)),
        timeout=seconds("timeout", DEFAULT_TIMEOUT),
        start_timeout=seconds("start_timeout", START_SECONDS),
        allow_tools=strings("allow_tools") if "allow_tools" in table else None,
        deny_tools=strings("deny_tools"),
        approval=approval,
    )


@dataclass
class ServerTool:
    """A tool as an MCP server lists it (plain data, not the SDK's object)."""

    name: str
    description: str
    schema: dict[str, Any]
    read_only: bool
    destructive: bool


# A job for the task that owns a connection: call a tool (name, arguments) or, with no
# name, list the tools again; the answer goes to the future.
Job = tuple[str | None, dict[str, Any], "asyncio.Future[Any]"]


class Connection:
    """One MCP server's connection, owned by its own task; calls go through a queue and
    run at once (a slow tool does not hold up a quick one)."""

    def __init__(self, server: ServerConfig, log_dir: Path) -> None:
        self.server = server
        self.log_path = log_dir / f"mcp-{server.name}.log"
        self.tools: list[ServerTool] = []
        self.version = 0  # goes up each time the tools are listed again
        self.failure: str | None = None
        self._stale = False  # the server said its tool list changed
        self._jobs: asyncio.Queue[Job | None] = asyncio.Queue()
        self._ready: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect and list the tools; on failure `failure` says why (never raises)."""
        if self._task is not None:
            return
        self._ready = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._own(), name=f"mcp:{self.server.name}")
        try:
            async with asyncio.timeout(self.server.start_timeout):
                await asyncio.shield(self._ready)
        except TimeoutError:
            self.failure = f"did not answer within {self.server.start_timeout:g} s"
            await self.close()
        except Exception as exc:  # the task's own failure, kept as a reason
            self.failure = _reason(exc)

    async def _own(self) -> None:
        """The task that holds the SDK's client from connecting to closing."""
        assert self._ready is not None
        try:
            await self._serve()
        except BaseException as exc:
            reason = exc if isinstance(exc, Exception) else ToolFailed("the connection was closed")
            if not self._ready.done():
                self._ready.set_exception(reason)
            self.failure = self.failure or _reason(reason)
            self._fail_waiting(self.failure)
            if not isinstance(exc, Exception):
                raise

    async def _serve(self) -> None:
        try:
            import anyio
            from mcp import Client
        except ImportError:
            raise ToolFailed(f"the mcp package is not installed; {INSTALL}") from None
        from ba_tui.private import make_dir, opener

        make_dir(self.log_path.parent)
        transport = self._transport(await _resolved(self.server))
        # Private, as all ba-chat writes: a server's stderr may echo what it was sent.
        with open(self.log_path, "a", encoding="utf-8", opener=opener) as log:
            async with (
                Client(transport(log), message_handler=self._on_message) as client,
                anyio.create_task_group() as tasks,
            ):
                self.tools = await _list_tools(client)
                tasks.start_soon(self._listen, client)
                assert self._ready is not None
                self._ready.set_result(None)
                while (job := await self._jobs.get()) is not None:
                    tasks.start_soon(self._work, client, job)
                tasks.cancel_scope.cancel()
        raise ToolFailed("the server closed the connection")

    async def _work(self, client: Any, job: Job) -> None:
        """One job, beside the others (the client's requests are multiplexed)."""
        name, arguments, answer = job
        try:
            if name is None:
                self._stale = False
                self.tools, self.version = await _list_tools(client, fresh=True), self.version + 1
                result: Any = None
            else:
                result = await client.call_tool(
                    name, arguments, read_timeout_seconds=self.server.timeout
                )
        except Exception as exc:  # the session survives a timeout or an error
            if not answer.done():
                answer.set_exception(ToolFailed(_reason(exc)))
            return
        if not answer.done():
            answer.set_result(result)

    async def _on_message(self, message: Any) -> None:
        """A server's notification: a changed tool list is listed again before the next
        request offers it (`refresh`)."""
        from mcp.types import ToolListChangedNotification

        if isinstance(message, ToolListChangedNotification):
            self._stale = True

    async def _listen(self, client: Any) -> None:
        """Subscribe to tool list changes where the protocol (2026-07-28) asks for a
        subscription; earlier servers send the notification unasked (`_on_message`)."""
        try:
            async with client.listen(tools_list_changed=True) as changes:
                async for _ in changes:
                    self._stale = True
        except Exception:  # not supported (an earlier protocol), or lost: the notifications
            return  # still come, and a lost stream must not end the connection

    def _transport(self, server: ServerConfig) -> Any:
        """How to reach `server` (its keyring values already read), given the log file."""
        if server.command:
            import os

            from mcp import StdioServerParameters
            from mcp.client.stdio import stdio_client

            params = StdioServerParameters(
                command=server.command, args=list(server.args), env={**os.environ, **server.env}
            )
            return lambda log: stdio_client(params, errlog=log)
        if server.headers:
            import httpx2  # the HTTP client the mcp SDK is built on
            from mcp.client.streamable_http import streamable_http_client

            def connect(log: Any) -> Any:
                http = httpx2.AsyncClient(headers=dict(server.headers))
                return streamable_http_client(str(server.url), http_client=http)

            return connect
        return lambda log: server.url

    def _fail_waiting(self, reason: str) -> None:
        while not self._jobs.empty():
            job = self._jobs.get_nowait()
            if job is not None and not job[2].done():
                job[2].set_exception(ToolFailed(reason))

    def _running(self) -> bool:
        return self.failure is None and self._task is not None and not self._task.done()

    async def refresh(self) -> None:
        """List the tools again if the server said they changed (`version` goes up); a
        server that does not answer keeps its old list."""
        if not self._stale or not self._running():
            return
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._jobs.put((None, {}, answer))
        assert self._task is not None
        try:
            async with asyncio.timeout(self.server.timeout):
                await _first(answer, self._task)
        except (TimeoutError, ToolFailed) as exc:
            from ba_tui.logs import log_event

            log_event("mcp_relist_failed", server=self.server.name, reason=_reason(exc))

    async def call(self, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        """Run one tool; its text and whether it is an error. ToolFailed when the server
        is down or does not answer in time."""
        if not self._running():
            raise ToolFailed(f"MCP server {self.server.name} is not running: {self.failure}")
        assert self._task is not None
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._jobs.put((name, arguments, answer))
        try:
            # The SDK's own read timeout ends a slow call; this ends a server that died.
            async with asyncio.timeout(self.server.timeout + 5):
                result = await _first(answer, self._task)
        except TimeoutError:
            raise ToolFailed(
                f"MCP server {self.server.name} did not answer within {self.server.timeout:g} s"
            ) from None
        return _text(result), bool(getattr(result, "is_error", False))

    async def close(self) -> None:
        """End the connection (and a stdio server's process)."""
        task, self._task = self._task, None
        if task is None or task.done():
            return
        await self._jobs.put(None)
        try:
            async with asyncio.timeout(5):
                await asyncio.shield(task)
        except (TimeoutError, Exception):
            task.cancel()
            with _suppressed():
                await task


async def _resolved(server: ServerConfig) -> ServerConfig:
    """`server` with its `keyring:NAME` env and header values read from the OS keyring
    (a keyring may be slow to answer, so in a thread); ToolFailed with the one line of
    what is missing, which becomes this server's failure."""
    from dataclasses import replace

    from ba_tui.keys import keyring_name

    values = (*server.env.values(), *server.headers.values())
    if not any(keyring_name(value) for value in values):
        return server

    def read() -> ServerConfig:
        from ba_tui.errors import BaChatError
        from ba_tui.keys import read_secret

        def each(table: Mapping[str, str]) -> dict[str, str]:
            return {k: read_secret(n) if (n := keyring_name(v)) else v for k, v in table.items()}

        try:
            return replace(server, env=each(server.env), headers=each(server.headers))
        except BaChatError as exc:
            raise ToolFailed(exc.line()) from None

    return await asyncio.to_thread(read)


def _suppressed() -> Any:
    from contextlib import suppress

    return suppress(BaseException)


async def _first(answer: asyncio.Future[Any], task: asyncio.Task[None]) -> Any:
    """The answer, or ToolFailed as soon as the server's task ends without giving one."""
    done, _ = await asyncio.wait({answer, task}, return_when=asyncio.FIRST_COMPLETED)
    if answer in done:
        return answer.result()
    if not answer.done():
        answer.cancel()
    raise ToolFailed("the MCP server stopped during the call")


async def _list_tools(client: Any, *, fresh: bool = False) -> list[ServerTool]:
    """Every page of the server's tools; `fresh` past the SDK's response cache."""
    tools: list[ServerTool] = []
    cursor = None
    while True:
        page = await client.list_tools(cursor=cursor, cache_mode="refresh" if fresh else "use")
        for tool in page.tools:
            notes = tool.annotations
            tools.append(
                ServerTool(
                    tool.name,
                    tool.description or "",
                    dict(tool.input_schema or {}),
                    bool(notes and notes.read_only_hint),
                    bool(notes and notes.destructive_hint),
                )
            )
        cursor = page.next_cursor
        if not cursor:
            return tools


def _text(result: Any) -> str:
    """A tool result as text: its text blocks, else its structured content as JSON, with
    a line for each image or other block the model cannot be sent as text."""
    pieces = []
    for block in getattr(result, "content", None) or ():
        kind = getattr(block, "type", "")
        if kind == "text":
            pieces.append(block.text)
        elif kind == "resource_link":
            pieces.append(f"[resource {getattr(block, 'uri', '')}]")
        else:
            pieces.append(f"[{kind} content left out]")
    if not pieces and getattr(result, "structured_content", None) is not None:
        pieces.append(json.dumps(result.structured_content, ensure_ascii=False))
    return "\n".join(pieces)


def _reason(exc: BaseException) -> str:
    """One line for why a server failed (an ExceptionGroup is unwrapped to its cause)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, ToolFailed) else f"{type(exc).__name__}: {text}"


def tools_of(connection: Connection) -> list[Tool]:
    """The server's tools as the toolbox offers them, named `server.tool`."""
    server = connection.server

    def runner(name: str) -> Any:
        async def run(arguments: dict[str, Any]) -> str:
            text, is_error = await connection.call(name, arguments)
            if is_error:
                raise ToolFailed(text or "the tool failed")
            return text

        return run

    return [
        Tool(
            f"{server.name}.{tool.name}",
            tool.description,
            tool.schema,
            runner(tool.name),
            source=f"mcp:{server.name}",
            read_only=tool.read_only,
            destructive=tool.destructive,
            timeout=server.timeout + 10,
            policy=server.approval,
        )
        for tool in connection.tools
        if server.offers(tool.name)
    ]
