"""The tool loop end to end: `ba-chat ask --tool` in a subprocess, a fake provider that
calls tools the way each dialect streams them, real built-in tools, and what is stored."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.servers import text_stream, tool_stream

READ = ("call_1", "read_file", {"path": "notes.txt"})
# flavour -> (ask's -p/-m, the dialect its final answer streams in)
PROVIDERS = {
    "anthropic": (["-p", "anthropic"], "anthropic"),
    "openai": (["-p", "openai"], "openai"),
    "ollama": (["-p", "ollama", "-m", "llama3.2"], "openai"),
    "gemini-compat": (["-p", "openai", "-m", "gemini-2.5-flash"], "openai"),
    "deepseek": (["-p", "deepseek", "-m", "deepseek-chat"], "deepseek"),
    "gemini": (["-p", "gemini"], "gemini"),
}


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """The folder ask runs in: the only place the file tools may read."""
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello from notes\n")
    return folder


def _show(env, *args) -> dict:
    done = run_cli("threads", "show", *args, "--json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _latest_thread(env) -> dict:
    listed = json.loads(run_cli("threads", "list", "--json", "--limit", "1", env=env).stdout)
    return _show(env, listed[0]["id"])


def _sent_result(request: dict) -> str:
    """The text of the first tool result a provider request carries, in any dialect."""
    if "contents" in request:  # Gemini
        for content in request["contents"]:
            for part in content["parts"]:
                if "functionResponse" in part:
                    response = part["functionResponse"]["response"]
                    return response.get("output") or response.get("error")
    for message in request["messages"]:
        if message["role"] == "tool":  # OpenAI and compatible
            return message["content"]
        if isinstance(message["content"], list):  # Anthropic
            for block in message["content"]:
                if block.get("type") == "tool_result":
                    return block["content"]
    raise AssertionError("no tool result in the request")


@pytest.mark.parametrize("flavour", list(PROVIDERS))
def test_ask_runs_a_tool_and_answers_with_its_result(server, env, work, flavour):
    args, dialect = PROVIDERS[flavour]
    server.queue(tool_stream(flavour, [READ]), text_stream(dialect, "The notes say hello."))
    done = run_cli(
        "ask", *args, "--tool", "read_file", "--approve", "read-only", "--json",
        "what do my notes say?", env=env, cwd=work,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["text"] == "The notes say hello."
    (call,) = record["tool_calls"]
    assert call["name"] == "read_file" and call["arguments"] == {"path": "notes.txt"}
    assert call["result"] == "hello from notes\n" and call["is_error"] is False
    assert isinstance(call["duration_ms"], float)
    # One line on stderr for the call.
    lines = [line for line in done.stderr.splitlines() if "read_file" in line]
    assert lines == [lines[0]] and lines[0].startswith(
        'ba-chat: tool read_file {"path": "notes.txt"}'
    )
    # The provider got the result in the second request, and the tokens add up.
    assert len(server.requests) == 2
    assert _sent_result(server.requests[1].json) == "hello from notes\n"
    assert record["usage"]["input_tokens"] > 40
    # Stored: the call and its result as parts of the one reply, with how it ran.
    reply = _latest_thread(env)["messages"][-1]
    kinds = [part["type"] for part in reply["parts"]]
    assert kinds[:2] == ["tool_call", "tool_result"] and kinds[-1] == "text"
    assert reply["parts"][0]["source"] == "builtin"
    assert reply["parts"][1]["approval"] == "policy"
    assert reply["input_tokens"] == record["usage"]["input_tokens"]


def test_parallel_calls_each_get_a_result(server, env, work):
    (work / "b.txt").write_text("bee")
    calls = [READ, ("call_2", "read_file", {"path": "b.txt"})]
    server.queue(tool_stream("ollama", calls), text_stream("openai", "Both read."))
    done = run_cli(
        "ask", "-p", "ollama", "-m", "llama3.2", "--tool", "read_file", "--approve", "all",
        "read both", env=env, cwd=work,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    sent = [m for m in server.requests[1].json["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in sent] == ["hello from notes\n", "bee"]
    assert len({m["tool_call_id"] for m in sent}) == 2


def test_without_a_terminal_a_call_is_denied_and_the_model_told(server, env, work):
    server.queue(tool_stream("openai", [READ]), text_stream("openai", "I could not read it."))
    done = run_cli("ask", "-p", "openai", "--tool", "read_file", "read notes", env=env, cwd=work)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "I could not read it."
    (line,) = [line for line in done.stderr.splitlines() if "read_file" in line]
    assert "denied: no terminal to ask the user for approval" in line
    assert _sent_result(server.requests[1].json).startswith("denied: no terminal")
    result = _latest_thread(env)["messages"][-1]["parts"][1]
    assert result["approval"] == "denied" and result["is_error"] is True


def test_a_tool_result_is_cut_for_the_model_and_kept_whole(server, env, work):
    (work / "notes.txt").write_text("y" * 30_000)
    server.queue(tool_stream("openai", [READ]), text_stream("openai", "Long."))
    done = run_cli(
        "ask", "-p", "openai", "--tool", "read_file", "--approve", "all", "read", env=env, cwd=work
    )
    assert done.returncode == 0, done.stderr
    sent = _sent_result(server.requests[1].json)
    assert sent.startswith("y" * 20_000 + "\n\n[cut by ba-chat: 30000 characters")
    stored = _latest_thread(env)["messages"][-1]["parts"][1]["output"]
    assert stored == "y" * 30_000


def test_the_loop_stops_at_max_tool_steps(server, env, work, home):
    (home / "config.toml").write_text("max_tool_steps = 1\n")
    server.queue(
        tool_stream("openai", [READ]),
        tool_stream("openai", [("call_2", "read_file", {"path": "notes.txt"})]),
    )
    done = run_cli(
        "ask", "-p", "openai", "--tool", "read_file", "--approve", "all", "read", env=env, cwd=work
    )
    assert done.returncode == 0, done.stderr
    assert len(server.requests) == 2  # no third request
    assert "stopped after 1 tool steps" in done.stderr
    parts = _latest_thread(env)["messages"][-1]["parts"]
    results = [p for p in parts if p["type"] == "tool_result"]
    assert len(results) == 2 and results[1]["output"].startswith("not run: the turn reached")


class _Hanging(BaseHTTPRequestHandler):
    """A web server whose page never comes: fetch_url waits on it until stopped."""

    arrived = threading.Event()
    release = threading.Event()

    def do_GET(self) -> None:
        type(self).arrived.set()
        type(self).release.wait(30)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_ctrl_c_mid_loop_keeps_every_call_answered_and_the_thread_continues(server, env, work):
    web = ThreadingHTTPServer(("127.0.0.1", 0), _Hanging)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{web.server_address[1]}/slow"
    try:
        server.queue(tool_stream("anthropic", [("toolu_1", "fetch_url", {"url": url})]))
        proc = subprocess.Popen(
            [sys.executable, "-m", "ba_tui", "ask", "-p", "anthropic", "--tool", "fetch_url",
             "--approve", "all", "fetch it"],
            env=env, cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert _Hanging.arrived.wait(30), "the tool never ran"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
    finally:
        _Hanging.release.set()
        web.shutdown()
    reply = _latest_thread(env)["messages"][-1]
    assert reply["status"] == "cancelled"
    (result,) = [p for p in reply["parts"] if p["type"] == "tool_result"]
    assert result["call_id"] == "toolu_1" and result["approval"] == "cancelled"
    # The thread goes on: the next request carries the call and its result, in order.
    server.queue(text_stream("anthropic", "Sorry, it was slow."))
    done = run_cli("ask", "-p", "anthropic", "-c", "never mind", env=env, cwd=work)
    assert done.returncode == 0, done.stderr
    messages = server.requests[-1].json["messages"]
    assert messages[1]["content"][-1]["type"] == "tool_use"
    assert messages[2]["content"][0]["type"] == "tool_result"
    assert messages[2]["content"][0]["tool_use_id"] == "toolu_1"
    assert messages[2]["content"][-1]["text"] == "never mind"


def test_threads_show_markdown_export_and_search_include_the_calls(server, env, work):
    """In the order they came: the text before the call, the call, the text after."""
    server.queue(
        tool_stream("openai", [READ], text="Let me read it."),
        text_stream("openai", "Done: it says hello."),
    )
    run_cli(
        "ask", "-p", "openai", "--tool", "read_file", "--approve", "all", "x", env=env, cwd=work
    )
    listed = json.loads(run_cli("threads", "list", "--json", env=env).stdout)
    shown = run_cli("threads", "show", listed[0]["id"], env=env).stdout
    reply = shown[shown.index("Let me read it.") :]
    assert reply.startswith(
        'Let me read it.\n[tool read_file {"path": "notes.txt"} · builtin · policy'
    )
    assert reply.index("hello from notes") < reply.index("[/tool]\nDone: it says hello.\n")
    exported = run_cli("export", "--format", "md", listed[0]["id"], env=env)
    assert exported.returncode == 0, exported.stderr
    reply = exported.stdout[exported.stdout.index("Let me read it.") :]
    assert reply.startswith("Let me read it.\n\n<details><summary>Tool: read_file")
    assert reply.index("hello from notes") < reply.index("</details>\n\nDone: it says hello.")
    hits = json.loads(run_cli("search", "hello", "--json", env=env).stdout)
    assert [hit["role"] for hit in hits] == ["assistant"]  # found by its tool result


def test_tools_lists_the_built_in_tools(env, home):
    (home / "config.toml").write_text('[tools]\nenabled = ["current_time"]\n')
    done = run_cli("tools", "--json", env=env)
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert set(rows) == {"current_time", "read_file", "list_folder", "fetch_url"}
    assert rows["read_file"]["annotations"] == ["read-only"]
    assert rows["current_time"]["enabled"] and not rows["fetch_url"]["enabled"]


def test_an_unknown_tool_or_policy_is_one_line(env):
    done = run_cli("ask", "--tool", "rm_rf", "hi", env=env)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("ba-chat: error: no built-in tool named 'rm_rf'")
    done = run_cli("ask", "--approve", "yolo", "hi", env=env)
    assert done.returncode == 2 and "unknown --approve policy 'yolo'" in done.stderr


def test_a_turn_with_tools_is_never_answered_from_the_cache(server, env, work):
    for _ in range(2):
        server.queue(tool_stream("openai", [READ]), text_stream("openai", "It says hello."))
        done = run_cli(
            "ask", "-p", "openai", "--cache", "--tool", "read_file", "--approve", "all",
            "what do my notes say?", env=env, cwd=work,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "answered from the store" not in done.stderr
    assert len(server.requests) == 4  # both turns asked the provider and ran the tool


def test_tools_shows_the_ones_allowed_always_and_forgets_them(env, home):
    from ba_tui.store import Store

    with Store.open(home / "ba-chat.db") as store:
        store.allow_tool("read_file", "builtin")
        store.allow_tool("calc.add", "mcp:calc")  # a server that is not configured now
    done = run_cli("tools", "--json", env=env)
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert rows["read_file"]["always"] and not rows["fetch_url"]["always"]
    assert (rows["calc.add"]["source"], rows["calc.add"]["always"]) == ("mcp:calc", True)
    done = run_cli("tools", "forget", "read_file", env=env)
    assert (done.returncode, done.stdout) == (0, "forgot 1 tool(s): read_file; they ask again\n")
    done = run_cli("tools", "forget", "read_file", env=env)
    assert done.returncode == 2
    assert done.stderr.startswith("ba-chat: error: read_file is not allowed always")
    done = run_cli("tools", "forget", "--all", env=env)
    assert (done.returncode, done.stdout) == (0, "forgot 1 tool(s): calc.add; they ask again\n")
    with Store.open(home / "ba-chat.db") as store:
        assert store.allowed_tools() == []


def test_ask_compare_offers_the_tools_to_every_model(server, env, work):
    done = run_cli(
        "ask", "--compare", "openai:gpt-4o-mini", "--compare", "anthropic", "--tool", "read_file",
        "--no-save", "which?", env=env, cwd=work,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    offered = [
        {tool.get("name") or tool["function"]["name"] for tool in request.json["tools"]}
        for request in server.requests
    ]
    assert offered == [{"read_file"}, {"read_file"}]
