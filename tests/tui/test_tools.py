"""Tools in the TUI: the approval card under the streaming reply, a row per call, and the
app's one toolbox. The fake provider calls the built-in read_file on a temp folder (the
current directory), the way Anthropic streams a tool_use block."""

from __future__ import annotations

from pathlib import Path

import pytest

from ba_tui.messages import Text, ToolCall, ToolResult
from ba_tui.tui.widgets.approval_card import ApprovalCard
from ba_tui.tui.widgets.message import AssistantMessage
from ba_tui.tui.widgets.prompt_box import PromptBox
from tests.servers import text_stream, tool_stream
from tests.tui.conftest import reply_done, screen_text, send, wait_for

READ = ("toolu_1", "read_file", {"path": "notes.txt"})


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's current folder: the only place read_file may read."""
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello from notes\n")
    (folder / "b.txt").write_text("bee\n")
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def tools_app(make_app, home: Path, work: Path):
    (home / "config.toml").write_text('[tools]\nenabled = ["read_file"]\n')
    return make_app


def sent_results(request) -> list[dict]:
    """The tool_result blocks an Anthropic request carries."""
    return [
        block
        for message in request.json["messages"]
        if isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_result"
    ]


async def card_shown(pilot, timeout: float = 10.0) -> ApprovalCard:
    await wait_for(pilot, lambda: pilot.app.main.query(ApprovalCard), timeout)
    await pilot.pause()
    return pilot.app.main.query_one(ApprovalCard)


def last_reply(store):
    thread = store.latest_thread()
    return store.history(thread.id)[-1]


async def test_approve_once_runs_the_tool_and_its_row_shows_the_result(tools_app, server, store):
    server.queue(tool_stream("anthropic", [READ]), text_stream("anthropic", "The notes say hello."))
    app = tools_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "what do my notes say?")
        card = await card_shown(pilot)
        assert app.focused is card
        shown = screen_text(app)
        assert "Run read_file?" in shown and "builtin · read-only" in shown
        assert '"path": "notes.txt"' in shown and "y once" in shown
        assert '▸ read_file(path="notes.txt") waiting for approval' in shown
        await pilot.press("y")
        await reply_done(pilot)
        assert not app.main.query(ApprovalCard)
        assert isinstance(app.focused, PromptBox)
        # The model got the file, and the reply reads as it answered.
        (result,) = sent_results(server.requests[1])
        assert result["tool_use_id"] == "toolu_1" and result["content"] == "hello from notes\n"
        shown = screen_text(app)
        assert "The notes say hello." in shown
        assert '▸ read_file(path="notes.txt") → 1 line · ' in shown
        # Opened, the row shows the result and how the call was let run.
        await pilot.press("ctrl+up", "o")
        await pilot.pause()
        shown = screen_text(app)
        assert "hello from notes" in shown and "builtin · approved once" in shown
    parts = last_reply(store).parts
    assert [type(p) for p in parts] == [ToolCall, ToolResult, Text]
    assert parts[1].approval == "once"


async def test_deny_with_a_reason_tells_the_model(tools_app, server, store):
    server.queue(tool_stream("anthropic", [READ]), text_stream("anthropic", "Fine, I won't."))
    app = tools_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "read my notes")
        await card_shown(pilot)
        await pilot.press("n", *"private file", "enter")
        await reply_done(pilot)
        assert 'read_file(path="notes.txt") → denied' in screen_text(app)
    (result,) = sent_results(server.requests[1])
    assert result["content"] == "denied by the user: private file"
    assert result["is_error"] is True
    assert last_reply(store).parts[1].approval == "denied"


@pytest.mark.parametrize(("key", "scope"), [("s", "session"), ("a", "always")])
async def test_session_and_always_are_not_asked_again_while_the_app_runs(
    tools_app, server, store, key, scope
):
    again = ("toolu_2", "read_file", {"path": "b.txt"})
    later = ("toolu_3", "read_file", {"path": "notes.txt"})
    server.queue(
        tool_stream("anthropic", [READ]),
        tool_stream("anthropic", [again]),
        text_stream("anthropic", "Read both."),
        tool_stream("anthropic", [later]),
        text_stream("anthropic", "Read it again."),
    )
    app = tools_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "read both")
        await card_shown(pilot)
        await pilot.press(key)
        await reply_done(pilot)
        # A second turn (a session of its own) shares the app's toolbox.
        await send(pilot, "once more")
        await reply_done(pilot)
        assert not app.main.query(ApprovalCard)
    assert [r["content"] for r in sent_results(server.requests[2])] == [
        "hello from notes\n",
        "bee\n",
    ]
    assert len(server.requests) == 5
    first, second = store.history(store.latest_thread().id)[1::2]
    # A tool allowed always runs as that from then on (and the store remembers it).
    assert [p.approval for p in first.parts if isinstance(p, ToolResult)] == [scope, scope]
    assert [p.approval for p in second.parts if isinstance(p, ToolResult)] == [scope]
    assert [t.tool for t in store.allowed_tools()] == (["read_file"] if key == "a" else [])


async def test_two_calls_in_one_step_ask_one_card_and_this_session_covers_the_second(
    tools_app, server, store
):
    again = ("toolu_2", "read_file", {"path": "b.txt"})
    server.queue(tool_stream("anthropic", [READ, again]), text_stream("anthropic", "Read both."))
    app = tools_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "read both at once")
        await card_shown(pilot)
        assert len(app.main.query(ApprovalCard)) == 1  # one question at a time
        await pilot.press("s")
        await reply_done(pilot)
        assert not app.main.query(ApprovalCard)
    assert [r["content"] for r in sent_results(server.requests[1])] == [
        "hello from notes\n",
        "bee\n",
    ]
    results = [p for p in last_reply(store).parts if isinstance(p, ToolResult)]
    assert [p.approval for p in results] == ["session", "session"]


async def test_edited_arguments_run_and_bad_json_stays_in_the_editor(tools_app, server, store):
    server.queue(tool_stream("anthropic", [READ]), text_stream("anthropic", "It says bee."))
    app = tools_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "read my notes")
        card = await card_shown(pilot)
        await pilot.press("e", "f7", *'{"path": ', "ctrl+s")
        await pilot.pause()
        assert card.mode == "edit"  # still editing, with one line saying why
        assert "Not valid JSON (line 1, column 10)" in screen_text(app)
        await pilot.press(*'"b.txt"}', "ctrl+s")
        await pilot.pause()
        assert card.mode == "ask" and app.focused is card
        assert '"path": "b.txt"' in screen_text(app)
        await pilot.press("y")
        await reply_done(pilot)
    (result,) = sent_results(server.requests[1])
    assert result["content"] == '(the user changed the arguments to {"path": "b.txt"})\nbee\n'


async def test_escape_at_the_card_cancels_the_reply_and_the_thread_goes_on(
    tools_app, server, store
):
    server.queue(tool_stream("anthropic", [READ]))
    app = tools_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "read my notes")
        await card_shown(pilot)
        await pilot.press("escape")
        await reply_done(pilot)
        assert not app.main.query(ApprovalCard)
        assert isinstance(app.focused, PromptBox)
        assert 'read_file(path="notes.txt") → cancelled' in screen_text(app)
        cancelled = last_reply(store)
        assert cancelled.status == "cancelled"
        assert cancelled.parts[1].approval == "cancelled"
        # The next prompt carries the call and its (cancelled) result: the API takes it.
        server.queue(text_stream("anthropic", "Never mind then."))
        await send(pilot, "never mind")
        await reply_done(pilot)
        assert "Never mind then." in screen_text(app)
    assert len(server.requests) == 2
    (result,) = sent_results(server.requests[1])
    assert result["tool_use_id"] == "toolu_1"
    assert last_reply(store).status == "complete"


async def test_a_stored_thread_shows_its_calls_folded(make_app, store):
    thread = store.create_thread(title="Notes", provider="anthropic", model="claude-sonnet-4-5")
    user = store.add_message(thread.id, role="user", parts=(Text("read both"),), parent_id=None)
    call = ToolCall("toolu_9", "calc.add", {"a": 2, "b": 3}, source="mcp:calc")
    parts = (
        call,
        ToolResult("toolu_9", "calc.add", "5", approval="session", duration_ms=12.0),
        ToolCall("toolu_10", "read_file", {"path": "x"}, source="builtin"),
        ToolResult("toolu_10", "read_file", "no such file", is_error=True, approval="once"),
        Text("2 + 3 = 5."),
    )
    reply = store.start_reply(thread.id, parent_id=user.id, provider="anthropic", model="m")
    store.checkpoint(reply.id, parts)
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        assert "▸ calc.add(a=2, b=3) → 1 line · 12 ms" in shown
        assert '▸ read_file(path="x") → ✗ error' in shown
        assert "no such file" not in shown
        await pilot.press("ctrl+up", "o")
        await pilot.pause()
        shown = screen_text(app)
        assert "mcp:calc · approved for this session · 12 ms" in shown
        assert "no such file" in shown
        (view,) = [v for v in app.main.query(AssistantMessage)]
        assert not any(row.collapsed for row in view.tool_rows)


async def test_the_card_fits_an_80x24_terminal(tools_app, server, store):
    long = {"path": "notes.txt", "lines": [f"line {i}" for i in range(30)]}
    server.queue(
        tool_stream("anthropic", [("toolu_1", "read_file", long)]),
        text_stream("anthropic", "Done."),
    )
    app = tools_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await send(pilot, "read my notes")
        card = await card_shown(pilot)
        screen = app.screen.region
        assert screen.contains_region(card.region)  # whole, title to keys
        shown = screen_text(app)
        assert "Run read_file?" in shown and "y once · s session" in shown
        # Long arguments scroll inside the card.
        arguments = card.query_one(".approval-arguments")
        assert arguments.max_scroll_y > 0
        await pilot.press("y")
        await reply_done(pilot)


def _children(needle: str) -> list[int]:
    """Processes this one started whose command line holds `needle` (Linux /proc)."""
    found = []
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{pid}/cmdline")
            if cmdline.exists() and needle in cmdline.read_text(errors="replace"):
                found.append(int(pid))
    return found


def _running(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split(") ")[-1][0] != "Z"
    except OSError:
        return False


async def test_an_mcp_servers_tool_runs_once_started_and_quitting_stops_the_server(
    make_app, home, server, store
):
    import sys
    import time

    calc = Path(__file__).parents[1] / "mcp" / "calc_server.py"
    (home / "config.toml").write_text(
        f'[mcp.servers.calc]\ncommand = "{sys.executable}"\nargs = ["{calc}"]\n'
    )
    server.queue(
        tool_stream("anthropic", [("toolu_1", "calc_add", {"a": 2, "b": 3})]),
        text_stream("anthropic", "2 + 3 = 5."),
    )
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "what is 2+3?")
        await card_shown(pilot, 30)  # (importing the mcp SDK takes seconds)
        shown = screen_text(app)
        assert "Run calc.add?" in shown and "mcp:calc · read-only" in shown
        started = _children("calc_server.py")
        assert started, "the MCP server is not running"
        await pilot.press("y")
        await reply_done(pilot)
        assert "▸ calc.add(a=2, b=3) → 1 line" in screen_text(app)
        assert app.main.session().tools.tools.keys() >= {"calc.add", "calc.fail"}
        # A comparison offers only the read-only one (each model would run a call).
        from ba_tui.tui.screens.compare_setup import LAST_CHOICE

        store.set_kv(LAST_CHOICE, "anthropic:claude-sonnet-5-5\nopenai:gpt-4o-mini")
        await pilot.click("#prompt")
        await pilot.press(*"compare this", "ctrl+t")
        await wait_for(pilot, lambda: getattr(app.screen, "available", None))
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.screen, "state", None) == "done", timeout=20)
        compared = [r.json for r in server.requests if "compare this" in str(r.json)]
        assert len(compared) == 2
        for request in compared:
            names = [t.get("name") or t["function"]["name"] for t in request["tools"]]
            assert names == ["calc_add"], names
        await pilot.press("escape")
    # The app quit: the server's process ended with it.
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in started):
        assert time.monotonic() < deadline, "the MCP server outlived the app"
        time.sleep(0.05)
    assert sent_results(server.requests[1])[0]["content"] == "5"


async def test_an_unknown_tool_in_config_is_one_notice_and_the_chat_goes_on(
    make_app, home, server, store
):
    (home / "config.toml").write_text('[tools]\nenabled = ["rm_rf"]\n')
    server.queue(text_stream("anthropic", "Hello."), text_stream("anthropic", "Again."))
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "hi")
        await reply_done(pilot)
        await send(pilot, "hi again")
        await reply_done(pilot)
        assert "Again." in screen_text(app)
        said = [n.message for n in app._notifications if "Tools are off" in n.message]
    assert said == [  # once, not on every turn
        "Tools are off: no built-in tool named 'rm_rf'; use one of: current_time, read_file,"
        " list_folder, fetch_url (see ba-chat tools)"
    ]
    assert "tools" not in server.requests[0].json
