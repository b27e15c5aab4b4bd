"""Shared fixtures: a fake provider server on 127.0.0.1 and a clean ba-chat home."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import forkserver
from tests.servers import FakeServer

FIXTURES = Path(__file__).parent / "servers" / "fixtures"

# Tests run as a careful user would (umask 077), so a config.toml a test writes by hand is
# private and ba-chat's start-up line about files open to others stays out of their way.
# tests/test_private.py runs ba-chat under umask 022 on purpose.
os.umask(0o077)

# Distinct fake keys: tests check the server received them and that they never leak.
# No words in them, as in real keys: any 8 characters of a known key are masked wherever
# they appear, so a key holding "anthropic" would mask the provider's name in every line.
KEYS = {
    "ANTHROPIC_API_KEY": "canary-A-4f9d2c81e7",
    "OPENAI_API_KEY": "canary-O-7b1e8a30d5",
    "GEMINI_API_KEY": "canary-G-3c6f0d94b2",
    "DEEPSEEK_API_KEY": "canary-D-9a2b7e15c6",
}
_SCRUB = (
    "ANTHROPIC_",
    "OPENAI_",
    "GEMINI_",
    "GOOGLE_",
    "DEEPSEEK_",
    "OLLAMA_",
    "BA_CHAT_",
    "PYTHON_KEYRING_BACKEND",
)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


def make_env(url: str, home: Path, **extra: str) -> dict[str, str]:
    """An environment with no real keys or endpoints: only the fake server and a temp home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB)}
    env.update(KEYS)
    env.update(
        BA_CHAT_HOME=str(home),
        # Never touch the machine's real keyring in tests.
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        ANTHROPIC_BASE_URL=url,
        OPENAI_BASE_URL=f"{url}/v1",
        GEMINI_BASE_URL=url,
        DEEPSEEK_BASE_URL=f"{url}/v1",
        OLLAMA_BASE_URL=f"{url}/v1",
        PYTHONWARNINGS="ignore::DeprecationWarning",
    )
    env.update(extra)
    return env


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def env(server: FakeServer, home: Path) -> dict[str, str]:
    return make_env(server.url, home)


@pytest.fixture
def setup(server: FakeServer, home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """The process environment a front end runs in (the fake server's URLs and keys), its
    store and config: for tests that drive the session in this process."""
    from ba_tui.config import load_config
    from ba_tui.store import Store

    for name, value in make_env(server.url, home).items():
        monkeypatch.setenv(name, value)
    with Store.open(home / "ba-chat.db") as store:
        yield server, store, load_config()


def run_cli(
    *args: str,
    env: dict[str, str],
    input: str | None = None,
    timeout: float = 60,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real `ba-chat` entry point as a user would, in a subprocess (forked from a
    warm interpreter that has imported the provider SDKs: see tests/forkserver.py)."""
    argv = [sys.executable, "-m", "ba_tui", *args]
    forked = forkserver.run(argv, env, input or "", timeout, cwd)
    if forked is not None:
        return forked
    return subprocess.run(
        argv,
        env=env,
        cwd=cwd,
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def small_disk(home: Path) -> Iterator[Callable[..., Path]]:
    """`small_disk("1m")` mounts a tmpfs of that size on `home` (or on `where`, made if
    missing): a real disk that fills up. Called again for the same place, it grows or
    shrinks it (remount), as freeing space would. Needs root; the test is skipped where
    mounting is not permitted."""
    mounted: list[Path] = []

    def mount(size: str, where: Path | None = None) -> Path:
        where = where or home
        where.mkdir(parents=True, exist_ok=True)
        again = where in mounted
        options = f"remount,size={size}" if again else f"size={size}"
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True
        )
        if done.returncode != 0:
            if again:
                raise RuntimeError(done.stderr.decode())
            pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
        if not again:
            mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", str(where)], capture_output=True)
