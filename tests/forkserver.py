"""`run_cli`'s fast path: a warm Python that has imported the provider SDKs forks a new
process for each `ba-chat` run, so no test pays the SDKs' imports again (anthropic's alone
is ~1.7 s of CPU, over 3,000 modules; most CLI tests ask a provider).

Each run is still a process of its own, started the way `python -m ba_tui ARGS` starts:
its own pid, pipes for stdin, stdout and stderr, the test's environment, working folder
and umask, `sys.argv` and `sys.path[0]` as `-m` sets them, and an exit code or signal
that the test reads as `subprocess.run` gives it. The one difference is that the SDK
modules are already in `sys.modules`: so the tests about what start-up imports run their
own `python` (tests/test_startup.py), and so does any run whose environment differs in
what Python or the SDKs read when they are imported (PYTHON*, locale, *_LOG ...).

`BA_CHAT_TEST_FRESH_PROCESS=1` turns the fast path off: every run then starts a fresh
interpreter, to rule the fork server out when a test fails only here.

Run as a script, this file is the server: it imports the SDKs, prints `ready`, then for
each request on its Unix socket forks a child that runs `ba_tui` as `__main__`.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import locale
import os
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# Imported once in the server. Nothing of ba_tui, Textual, keyring or sqlite_utils: what
# ba-chat imports itself, and when, stays as in a fresh process.
PRELOAD = ("anthropic", "openai", "google.genai")
_LENGTH = struct.Struct("!Q")
_PID = struct.Struct("!q")


def _read_at_import(name: str) -> bool:
    """Whether Python or an SDK reads variable `name` while starting or importing."""
    return (
        (
            name.startswith(("PYTHON", "LC_", "OPENAI_API_", "AZURE_OPENAI_"))
            and name != "PYTHON_KEYRING_BACKEND"  # keyring is not preloaded
        )
        or name in ("LANG", "LANGUAGE")
        or name.endswith(("_LOG", "_LOG_LEVEL"))
    )


def _import_time_env(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if _read_at_import(k)}


# -- the test's side ----------------------------------------------------------------------
class _Client:
    """One fork server per test process, started on first use, stopped at exit."""

    def __init__(self, env: dict[str, str]) -> None:
        self.folder = tempfile.mkdtemp(prefix="ba-chat-forkserver-")
        self.path = str(Path(self.folder) / "socket")
        self.env = _import_time_env(env)
        self.log = Path(self.folder) / "stderr"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, __file__, self.path],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline()
        # Anything the imports printed (a warning) would be lost to the runs: use fresh ones.
        self.ok = ready == b"ready\n" and self.log.read_bytes() == b""
        atexit.register(self.stop)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def fits(self, env: dict[str, str]) -> bool:
        return self.ok and self.process.poll() is None and _import_time_env(env) == self.env

    def run(
        self,
        argv: list[str],
        env: dict[str, str],
        input: str,
        timeout: float,
        cwd: Path | None,
    ) -> subprocess.CompletedProcess[str]:
        encoding = locale.getpreferredencoding(False)
        request = {"argv": argv[3:], "env": env, "cwd": str(cwd or os.getcwd())}
        request["umask"] = _current_umask()
        payload = json.dumps(request).encode()
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(self.path)
            socket.send_fds(conn, [_LENGTH.pack(len(payload))], [stdin_r, stdout_w, stderr_w])
            conn.sendall(payload)
            for fd in (stdin_r, stdout_w, stderr_w):
                os.close(fd)
            (pid,) = _PID.unpack(_receive(conn, _PID.size))
            out: dict[int, bytes] = {}
            threads = [
                threading.Thread(target=_write, args=(stdin_w, input.encode(encoding))),
                threading.Thread(target=_read, args=(stdout_r, out)),
                threading.Thread(target=_read, args=(stderr_r, out)),
            ]
            for thread in threads:
                thread.daemon = True
                thread.start()
            deadline = time.monotonic() + timeout
            conn.settimeout(timeout)
            try:
                (code,) = _PID.unpack(_receive(conn, _PID.size))
                for thread in threads:
                    thread.join(max(0.0, deadline - time.monotonic()))
                    if thread.is_alive():
                        raise TimeoutError
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                raise subprocess.TimeoutExpired(
                    argv, timeout, _text(out.get(stdout_r, b""), encoding), None
                ) from None
        return subprocess.CompletedProcess(
            argv,
            code,
            _text(out.get(stdout_r, b""), encoding),
            _text(out.get(stderr_r, b""), encoding),
        )


def _current_umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _receive(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the fork server went away")
        data += chunk
    return data


def _write(fd: int, data: bytes) -> None:
    # ba-chat may exit without reading its stdin, as subprocess.run tolerates.
    with contextlib.suppress(BrokenPipeError), open(fd, "wb") as pipe:
        pipe.write(data)


def _read(fd: int, out: dict[int, bytes]) -> None:
    with open(fd, "rb") as pipe:
        out[fd] = pipe.read()


def _text(data: bytes, encoding: str) -> str:
    """Bytes as `subprocess.run(text=True)` decodes them (universal newlines)."""
    return data.decode(encoding).replace("\r\n", "\n").replace("\r", "\n")


_client: _Client | None = None
_lock = threading.Lock()


def run(
    argv: list[str], env: dict[str, str], input: str, timeout: float, cwd: Path | None
) -> subprocess.CompletedProcess[str] | None:
    """`argv` (`python -m ba_tui ...`) run by a fork of the warm server, or None when this
    run needs a fresh interpreter (see the module's docstring)."""
    global _client
    if os.environ.get("BA_CHAT_TEST_FRESH_PROCESS") == "1":
        return None
    with _lock:
        if _client is None:
            _client = _Client(env)
    if not _client.fits(env):
        return None
    return _client.run(argv, env, input, timeout, cwd)


# -- the server's side --------------------------------------------------------------------
def _serve(path: str) -> dict[str, Any]:
    """Fork a child per request; return (in the child only) the request it is to run."""
    import importlib

    del sys.path[0]  # this file's folder (tests/): its modules must not shadow any
    for name in PRELOAD:
        importlib.import_module(name)
    if threading.active_count() != 1:
        sys.exit("fork server: an import started a thread; forking is not safe")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    parent = os.getppid()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    waiting: dict[int, socket.socket] = {}
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    while os.getppid() == parent:
        if selector.select(timeout=0.01):
            conn, _ = listener.accept()
            (size,), fds = _receive_request(conn)
            request = json.loads(_receive(conn, size))
            pid = os.fork()
            if pid == 0:
                selector.close()
                listener.close()
                conn.close()
                _become(request, fds)
                return request
            for fd in fds:
                os.close(fd)
            conn.sendall(_PID.pack(pid))
            waiting[pid] = conn
        _reap(waiting)
    sys.exit(0)


def _receive_request(conn: socket.socket) -> tuple[tuple[int], list[int]]:
    data, fds, _, _ = socket.recv_fds(conn, _LENGTH.size, 3)
    if len(data) < _LENGTH.size:
        data += _receive(conn, _LENGTH.size - len(data))
    return _LENGTH.unpack(data), fds


def _reap(waiting: dict[int, socket.socket]) -> None:
    """Tell each test whose child ended its exit code (minus the signal, if killed)."""
    while waiting:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        conn = waiting.pop(pid)
        with contextlib.suppress(OSError):  # the test gave up on this run (its timeout)
            conn.sendall(_PID.pack(os.waitstatus_to_exitcode(status)))
        conn.close()


def _become(request: dict[str, Any], fds: list[int]) -> None:
    """Turn this child into `python -m ba_tui ARGS` as the test asked for it."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.umask(request["umask"])
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.path.insert(0, os.getcwd())  # what `-m` puts first
    sys.argv = ["-m", *request["argv"]]


if __name__ == "__main__":
    _serve(sys.argv[1])
    # Only a forked child gets here: run ba-chat as `python -m ba_tui` does, and let its
    # SystemExit, exception or KeyboardInterrupt end this process as it would end that one.
    import runpy

    runpy.run_module("ba_tui", run_name="__main__", alter_sys=True)
