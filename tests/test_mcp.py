"""MCP servers as tool sources: a real server written with the `mcp` SDK (tests/mcp/
calc_server.py), over stdio and over streamable HTTP on 127.0.0.1, driven by the real
`ba-chat` in a subprocess, with a fake provider calling its tools."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.servers import text_stream, tool_stream

CALC = Path(__file__).parent / "mcp" / "calc_server.py"


def _config(home: Path, **servers: str) -> None:
    """config.toml with `[mcp.servers.NAME]` tables given as their TOML bodies."""
    text = "".join(f"[mcp.servers.{name}]\n{body}\n" for name, body in servers.items())
    (home / "config.toml").write_text(text)


def _stdio(*args: str, extra: str = "") -> str:
    arguments = json.dumps([str(CALC), *args])
    return f'command = "{sys.executable}"\nargs = {arguments}\n{extra}'


def test_ask_uses_an_mcp_servers_tool_and_keeps_its_stderr_in_a_log(server, env, home):
    _config(home, calc=_stdio(extra='approval = "all"'))
    server.queue(
        tool_stream("anthropic", [("toolu_1", "calc_add", {"a": 2, "b": 3})]),
        text_stream("anthropic", "2 + 3 = 5."),
    )
    done = run_cli("ask", "-p", "anthropic", "what is 2+3?", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2 + 3 = 5."
    assert 'ba-chat: tool calc.add {"a": 2, "b": 3} -> 1 chars' in done.stderr
    # The server's own stderr went to its log file, never to ours.
    assert "calc" not in done.stderr.replace("calc.add", "")
    log = (home / "mcp" / "mcp-calc.log").read_text()
    assert "calc: adding 2.0 and 3.0" in log
    # The model saw the tool under a name it accepts, and got the result.
    first = server.requests[0].json
    assert {tool["name"] for tool in first["tools"]} == {
        "calc_add",
        "calc_slow",
        "calc_fail",
        "calc_crash",
    }
    assert server.requests[1].json["messages"][2]["content"][0]["content"] == "5"
    listed = json.loads(run_cli("threads", "list", "--json", env=env).stdout)
    reply = json.loads(run_cli("threads", "show", listed[0]["id"], "--json", env=env).stdout)
    call = reply["messages"][-1]["parts"][0]
    assert (call["name"], call["source"]) == ("calc.add", "mcp:calc")


def test_allow_and_deny_lists_and_read_only_approval(server, env, home):
    _config(home, calc=_stdio(extra='deny_tools = ["crash", "slow"]\napproval = "read-only"'))
    server.queue(
        tool_stream(
            "openai", [("c1", "calc_add", {"a": 1, "b": 1}), ("c2", "calc_fail", {"reason": "x"})]
        ),
        text_stream("openai", "ok"),
    )
    done = run_cli("ask", "-p", "openai", "go", env=env)
    assert done.returncode == 0, done.stderr
    offered = {tool["function"]["name"] for tool in server.requests[0].json["tools"]}
    assert offered == {"calc_add", "calc_fail"}
    results = [m for m in server.requests[1].json["messages"] if m["role"] == "tool"]
    # add is read-only (runs); fail is not, and there is no terminal to ask: denied.
    assert results[0]["content"] == "2"
    assert results[1]["content"].startswith("denied: no terminal")


def test_a_crashing_server_becomes_an_error_result_and_the_turn_goes_on(server, env, home):
    _config(home, calc=_stdio(extra='approval = "all"'))
    server.queue(
        tool_stream("openai", [("c1", "calc_crash", {})]),
        text_stream("openai", "The calculator crashed."),
    )
    done = run_cli("ask", "-p", "openai", "crash it", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "The calculator crashed."
    (result,) = [m for m in server.requests[1].json["messages"] if m["role"] == "tool"]
    assert result["content"]  # the reason, whatever the SDK called it
    reply_line = [line for line in done.stderr.splitlines() if "calc.crash" in line]
    assert reply_line and "error:" in reply_line[0]


def test_a_slow_tool_times_out_and_the_turn_goes_on(server, env, home):
    _config(home, calc=_stdio(extra='approval = "all"\ntimeout = 2'))
    server.queue(
        tool_stream("openai", [("c1", "calc_slow", {"seconds": 30})]),
        text_stream("openai", "Too slow."),
    )
    done = run_cli("ask", "-p", "openai", "wait", env=env)
    assert done.returncode == 0, done.stderr
    (result,) = [m for m in server.requests[1].json["messages"] if m["role"] == "tool"]
    assert "time" in result["content"].lower()


def test_a_hanging_server_is_left_out_with_one_line(server, env, home):
    hang = (
        f'command = "{sys.executable}"\n'
        'args = ["-c", "import time; time.sleep(120)"]\n'
        "start_timeout = 2\n"
    )
    _config(home, hang=hang, calc=_stdio(extra='approval = "all"'))
    server.queue(text_stream("openai", "Fine without it."))
    done = run_cli("ask", "-p", "openai", "hi", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Fine without it."
    assert "ba-chat: MCP server hang failed: did not answer within 2 s" in done.stderr
    offered = {tool["function"]["name"] for tool in server.requests[0].json["tools"]}
    assert "calc_add" in offered and not any(name.startswith("hang") for name in offered)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def http_calc():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(CALC), "--http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "the MCP HTTP server did not start"
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/mcp"
    process.terminate()
    process.wait(10)


def test_import_list_tools_and_call_over_stdio_and_http(env, home, tmp_path, http_calc):
    servers = {
        "mcpServers": {
            "calc": {"command": sys.executable, "args": [str(CALC)]},
            "remote": {"url": http_calc},
            "broken": {"note": "neither"},
        }
    }
    (tmp_path / "claude.json").write_text(json.dumps(servers))
    done = run_cli("mcp", "import", str(tmp_path / "claude.json"), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "added 2 MCP server(s): calc, remote"
    assert "broken has neither a command nor a url" in done.stderr
    listed = json.loads(run_cli("mcp", "list", "--json", env=env).stdout)
    assert [(row["name"], row["state"], row["tools"]) for row in listed] == [
        ("calc", "ok", 4),
        ("remote", "ok", 4),
    ]
    assert all(row["tokens"] > 0 for row in listed)
    tools = json.loads(run_cli("mcp", "tools", "remote", "--json", env=env).stdout)
    assert {tool["name"]: tool["annotations"] for tool in tools}["remote.add"] == ["read-only"]
    every = json.loads(run_cli("tools", "--json", env=env).stdout)
    sources = {row["name"]: row["source"] for row in every}
    assert sources["read_file"] == "builtin" and sources["remote.add"] == "mcp:remote"
    assert sources["calc.crash"] == "mcp:calc"
    called = run_cli("mcp", "call", "remote", "add", '{"a": 20, "b": 22}', env=env)
    assert (called.returncode, called.stdout) == (0, "42\n")
    failed = run_cli("mcp", "call", "calc", "fail", '{"reason": "no"}', env=env)
    assert failed.returncode == 1 and "calc.fail returned an error" in failed.stderr
    unknown = run_cli("mcp", "call", "nope", "add", env=env)
    assert unknown.returncode == 2 and "no MCP server named 'nope'" in unknown.stderr
