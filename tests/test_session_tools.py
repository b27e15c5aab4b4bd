"""ChatSession with tools, in-process: approvals remembered "always" across sessions, a
step's calls approved in order then run at once, an MCP server's tools changing mid-turn,
and compare offering only read-only tools. Real adapters talk to the fake provider
server; MCP servers are real ones (tests/mcp/) over stdio."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from ba_tui.config import load_config
from ba_tui.events import Notice, ToolCallRan
from ba_tui.messages import ToolResult
from ba_tui.session import ChatSession
from ba_tui.store import Store
from ba_tui.tools import Decision, Tool, Toolbox, ToolFailed
from tests.conftest import make_env
from tests.servers import text_stream, tool_stream

LIVE = Path(__file__).parent / "mcp" / "live_server.py"


@pytest.fixture
def setup(server, home: Path, monkeypatch, tmp_path: Path):
    """The fake server's URLs and keys in the environment, a store, and a folder with a
    notes file as the current directory."""
    for name, value in make_env(server.url, home).items():
        monkeypatch.setenv(name, value)
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("hello from notes\n")
    monkeypatch.chdir(work)
    with Store.open(home / "ba-chat.db") as store:
        yield server, store


def _tool_messages(request) -> list[str]:
    return [m["content"] for m in request.json["messages"] if m["role"] == "tool"]


def _results(store: Store, session: ChatSession) -> list[ToolResult]:
    reply = store.messages(session.thread.id)[-1]
    return [part for part in reply.parts if isinstance(part, ToolResult)]


async def test_always_is_remembered_by_the_next_session_until_forgotten(setup):
    server, store = setup
    asked: list[str] = []

    async def approve(call, tool):
        asked.append(call.name)
        return Decision(True, "always")

    async def one_session() -> ChatSession:
        server.queue(
            tool_stream("openai", [("c1", "read_file", {"path": "notes.txt"})]),
            text_stream("openai", "It says hello."),
        )
        session = ChatSession(load_config(), store)  # a new process: a new toolbox
        session.use_tools(["read_file"], policy="ask", approve=approve)
        await session.send("notes?", session.target("openai", "gpt-4o-mini"))
        return session

    first = await one_session()
    assert asked == ["read_file"]
    assert [(kept.tool, kept.source) for kept in store.allowed_tools()] == [
        ("read_file", "builtin")
    ]
    assert _results(store, first)[0].approval == "always"
    second = await one_session()
    assert asked == ["read_file"]  # not asked again
    (result,) = _results(store, second)
    assert (result.approval, result.output) == ("always", "hello from notes\n")
    assert store.forget_tools(["read_file"]) == ["read_file"]
    await one_session()
    assert asked == ["read_file", "read_file"]  # forgotten: asked again


async def test_a_steps_calls_are_approved_in_order_then_run_at_once(setup):
    """The slow tool waits for the quick one to finish: run one after the other it
    would give up (an error result), run at once both succeed."""
    server, store = setup
    log: list[str] = []
    quick_done = asyncio.Event()

    async def slow(arguments):
        log.append("start slow")
        try:
            async with asyncio.timeout(10):
                await quick_done.wait()
        except TimeoutError:
            raise ToolFailed("the quick tool never ran beside this one") from None
        log.append("end slow")
        return "slow done"

    async def quick(arguments):
        log.append("start quick")
        quick_done.set()
        log.append("end quick")
        return "quick done"

    async def approve(call, tool):
        log.append(f"ask {tool.name}")
        return Decision(True, "once")

    session = ChatSession(load_config(), store)
    session.tools = Toolbox.of(
        [Tool("slow", "Slow.", {}, slow), Tool("quick", "Quick.", {}, quick)], "ask", approve
    )
    server.queue(
        tool_stream("openai", [("c1", "slow", {}), ("c2", "quick", {})]),
        text_stream("openai", "Both done."),
    )
    events: list = []
    turn = await session.send("go", session.target("openai", "gpt-4o-mini"), on_event=events.append)
    assert turn.text == "Both done."
    # Both questions first, in the calls' order; then both tools ran at once.
    assert log[:2] == ["ask slow", "ask quick"]
    assert log.index("start quick") < log.index("end slow")
    assert log.index("start slow") < log.index("end quick")
    # Shown as they finished; kept and sent in the calls' order.
    assert [e.call.name for e in events if isinstance(e, ToolCallRan)] == ["quick", "slow"]
    assert [r.output for r in _results(store, session)] == ["slow done", "quick done"]
    assert _tool_messages(server.requests[1]) == ["slow done", "quick done"]


def _mcp_config(home: Path, name: str, script: Path, extra: str = "") -> None:
    arguments = json.dumps([str(script)])
    (home / "config.toml").write_text(
        f'[mcp.servers.{name}]\ncommand = "{sys.executable}"\nargs = {arguments}\n'
        f'approval = "all"\n{extra}'
    )


async def test_an_mcp_server_runs_calls_at_once_and_its_new_tools_are_offered_next(
    setup, home: Path
):
    server, store = setup
    _mcp_config(home, "live", LIVE)
    server.queue(
        # live.meet answers "met" only when a second call arrives while it waits.
        tool_stream("openai", [("c1", "live_meet", {}), ("c2", "live_meet", {})]),
        tool_stream("openai", [("c3", "live_grow", {})]),
        tool_stream("openai", [("c4", "live_late", {})]),
        text_stream("openai", "All done."),
    )
    session = ChatSession(load_config(), store)
    session.use_tools(policy="ask")
    try:
        turn = await session.send("go", session.target("openai", "gpt-4o-mini"))
    finally:
        await session.close_tools()
    assert turn.text == "All done.", turn.error
    offered = [{t["function"]["name"] for t in r.json["tools"]} for r in server.requests]
    assert "live_late" not in offered[0] and "live_late" not in offered[1]
    assert "live_late" in offered[2]  # the step after grow offers the new tool
    assert _tool_messages(server.requests[1]) == ["met", "met"]
    assert _tool_messages(server.requests[3])[-1] == "late and here"


async def test_compare_offers_only_read_only_tools_unless_config_says_all(setup, home: Path):
    server, store = setup

    async def write(arguments) -> str:
        return "written"

    def session_with_tools(thread=None) -> ChatSession:
        session = ChatSession(load_config(), store, thread)
        box = session.use_tools(["read_file", "current_time"], policy="ask")
        assert box is not None
        box.tools["write_note"] = Tool("write_note", "Write.", {}, write)  # not read-only
        return session

    session = session_with_tools()
    targets = [session.target("openai", "gpt-4o-mini"), session.target("anthropic", None)]
    notes: list = []
    await session.compare("Which?", targets, on_event=lambda i, e: notes.append((i, e)))

    def offered(request) -> set[str]:
        return {t.get("name") or t["function"]["name"] for t in request.json["tools"]}

    both = {"read_file", "current_time"}
    assert [offered(request) for request in server.requests] == [both, both]
    (note,) = [e.notice for i, e in notes if i == -1 and isinstance(e, Notice)]
    assert note == (
        "ba-chat: compare offers only read-only tools; held back: write_note"
        ' ([tools] compare = "all" offers them all)'
    )
    server.reset()
    (home / "config.toml").write_text('[tools]\ncompare = "all"\n')
    session = session_with_tools(store.latest_thread())
    await session.compare("Again?", targets)
    assert [offered(request) for request in server.requests] == [both | {"write_note"}] * 2


async def test_compares_tool_loops_share_kept_clients_until_the_last_one_ends():
    """Each model's tool loop keeps its SDK clients for its steps; the first loop to end
    must not close the client another model is still streaming from."""
    from ba_tui.providers import BUILTIN, Target, clients

    target = Target(BUILTIN["openai"], "m", "http://127.0.0.1:9/v1", "k", "test")
    closed: list = []

    async def close(made) -> None:
        closed.append(made)

    first, second = clients.kept_while(), clients.kept_while()
    await first.__aenter__()
    await second.__aenter__()
    async with clients.client(target, None, lambda stall, connect: object(), close) as made:
        pass
    await first.__aexit__(None, None, None)
    assert closed == [] and clients.kept_count() == 1  # the second loop still uses it
    await second.__aexit__(None, None, None)
    assert closed == [made] and clients.kept_count() == 0


async def test_the_text_of_two_steps_reads_as_two_paragraphs(setup):
    """ "Let me read it." then, after the call, "It says hello.": stored, streamed and
    shown as two paragraphs, never "read it.It says"."""
    from ba_tui.events import TextDelta

    server, store = setup
    server.queue(
        tool_stream("openai", [("c1", "read_file", {"path": "notes.txt"})], text="Let me read it."),
        text_stream("openai", "It says hello."),
    )
    session = ChatSession(load_config(), store)
    session.use_tools(["read_file"], policy="all")
    streamed: list[str] = []
    turn = await session.send(
        "notes?",
        session.target("openai", "gpt-4o-mini"),
        on_event=lambda e: streamed.append(e.text) if isinstance(e, TextDelta) else None,
    )
    assert turn.text == "Let me read it.\n\nIt says hello."
    assert "".join(streamed) == turn.text
    assert store.messages(session.thread.id)[-1].content == turn.text
