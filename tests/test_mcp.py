"""MCP servers as tool sources: a real server written with the `mcp` SDK (tests/mcp/
calc_server.py), over stdio and over streamable HTTP on 127.0.0.1, driven by the real
`ba-chat` in a subprocess, with a fake provider calling its tools."""

from __future__ import annotations

import json
import os
import secrets
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.servers import text_stream, tool_stream

CALC = Path(__file__).parent / "mcp" / "calc_server.py"
LIVE = Path(__file__).parent / "mcp" / "live_server.py"
ROOT = Path(__file__).resolve().parent.parent


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
    old = os.umask(0o022)  # (the usual one: what ba-chat writes must not take its modes)
    try:
        done = run_cli("ask", "-p", "anthropic", "what is 2+3?", env=env)
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2 + 3 = 5."
    assert 'ba-chat: tool calc.add {"a": 2, "b": 3} -> 1 chars' in done.stderr
    # The server's own stderr went to its log file, never to ours.
    assert "calc" not in done.stderr.replace("calc.add", "")
    log = (home / "mcp" / "mcp-calc.log").read_text()
    assert "calc: adding 2.0 and 3.0" in log
    # Private, as all ba-chat writes (the folder 0700, the log 0600), whatever the umask.
    assert stat.S_IMODE((home / "mcp").stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "mcp" / "mcp-calc.log").stat().st_mode) == 0o600
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


def _serve_http(script: Path, *args: str, env: dict[str, str] | None = None):
    """Start an MCP server over streamable HTTP on 127.0.0.1; (its URL, its process)."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(script), "--http", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "the MCP HTTP server did not start"
            time.sleep(0.1)
    return f"http://127.0.0.1:{port}/mcp", process


@pytest.fixture
def http_calc():
    url, process = _serve_http(CALC)
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture
def guarded_live():
    """tests/mcp/live_server.py over HTTP, refusing any request without its bearer token."""
    token = "tok-" + secrets.token_hex(8)
    url, process = _serve_http(
        LIVE, "--token-env", "LIVE_TOKEN", env={**os.environ, "LIVE_TOKEN": token}
    )
    yield url, token
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


def _with_keyring(env: dict[str, str], ring: Path) -> dict[str, str]:
    """`env` with the tests' file keyring at `ring` (tests/keyring_backend.py)."""
    path = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env | {
        "PYTHON_KEYRING_BACKEND": "tests.keyring_backend.FileKeyring",
        "BA_CHAT_TEST_KEYRING": str(ring),
        "PYTHONPATH": path,
    }


def test_ask_over_http_with_a_token_the_import_put_in_the_keyring(
    server, env, home, tmp_path, guarded_live
):
    url, token = guarded_live
    ring = tmp_path / "ring.json"
    env = _with_keyring(env, ring)
    servers = {
        "mcpServers": {"live": {"url": url, "headers": {"Authorization": f"Bearer {token}"}}}
    }
    (tmp_path / "servers.json").write_text(json.dumps(servers))
    done = run_cli("mcp", "import", str(tmp_path / "servers.json"), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        "ba-chat: live: header Authorization went to the OS keyring;"
        " config.toml says keyring:mcp.live.Authorization\n"
    )
    config = (home / "config.toml").read_text()
    assert 'Authorization = "keyring:mcp.live.Authorization"' in config
    assert json.loads(ring.read_text()) == {"ba-chat/mcp.live.Authorization": f"Bearer {token}"}
    # ask, end to end: the token is read from the keyring as the server connects.
    server.queue(
        tool_stream("anthropic", [("toolu_1", "live_has_env", {"name": "LIVE_TOKEN"})]),
        text_stream("anthropic", "The server has its token."),
    )
    done = run_cli("ask", "-p", "anthropic", "--approve", "all", "token?", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "The server has its token."
    (line,) = done.stderr.splitlines()  # one line for the one call
    assert line.startswith('ba-chat: tool live.has_env {"name": "LIVE_TOKEN"} -> 28 chars')
    sent = server.requests[1].json["messages"][2]["content"][0]["content"]
    assert sent == "LIVE_TOKEN is set (20 chars)"
    for path in home.rglob("*"):  # not in config.toml, the logs or the store
        assert not path.is_file() or token.encode() not in path.read_bytes(), path
    # Without its keyring value the server fails in one line, and says what to do.
    ring.unlink()
    listed = json.loads(run_cli("mcp", "list", "--json", env=env).stdout)
    assert listed[0]["state"] == (
        "failed: the keyring has no value for keyring:mcp.live.Authorization;"
        " store it with: ba-chat mcp secret mcp.live.Authorization"
    )
    done = run_cli("mcp", "secret", "mcp.live.Authorization", input=f"Bearer {token}\n", env=env)
    assert (done.returncode, done.stdout) == (
        0,
        "stored keyring:mcp.live.Authorization in the OS keyring\n",
    )
    listed = json.loads(run_cli("mcp", "list", "--json", env=env).stdout)
    assert listed[0]["state"] == "ok"


def test_import_without_a_keyring_leaves_out_a_server_with_secrets(env, home, tmp_path):
    env = env | {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    token = "ghp_" + secrets.token_hex(10)
    servers = {
        "mcpServers": {
            "github": {"command": "gh-mcp", "env": {"GITHUB_TOKEN": token, "LANG": "C"}},
            "calc": {"command": sys.executable, "args": [str(CALC)], "env": {"LANG": "C"}},
        }
    }
    (tmp_path / "servers.json").write_text(json.dumps(servers))
    done = run_cli("mcp", "import", str(tmp_path / "servers.json"), env=env)
    assert done.returncode == 3
    assert done.stdout == "added 1 MCP server(s): calc\n"
    assert done.stderr == (
        "ba-chat: github left out: its env GITHUB_TOKEN looks secret and cannot be kept:"
        " no OS keyring is available here; set up an OS keyring and import again"
        " (ba-chat never writes secrets to config.toml)\n"
    )
    config = (home / "config.toml").read_text()
    assert token not in config and "github" not in config and 'LANG = "C"' in config
