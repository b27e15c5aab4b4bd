"""API keys as a user handles them: `keys set|list|delete`, the look-up order, redaction,
and a canary key that must reach the provider and nowhere else.

The keyring is never the machine's own: a JSON-file backend (tests/keyring_backend.py) or
keyring's fail backend, chosen through PYTHON_KEYRING_BACKEND.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ba_tui import keys
from ba_tui.config import Config
from ba_tui.keys import key_source, lookup_key, redact, remember
from ba_tui.providers import BUILTIN, get_spec
from tests.conftest import KEYS, make_env, run_cli
from tests.servers import FakeServer

ROOT = Path(__file__).resolve().parent.parent
FILE_BACKEND = "tests.keyring_backend.FileKeyring"
FAIL_BACKEND = "keyring.backends.fail.Keyring"


def keyring_env(url: str, home: Path, ring: Path, *, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """make_env with the file keyring at `ring` and without the env keys in `drop`."""
    env = make_env(url, home)
    for var in drop:
        env.pop(var, None)
    path = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.update(PYTHON_KEYRING_BACKEND=FILE_BACKEND, BA_CHAT_TEST_KEYRING=str(ring), PYTHONPATH=path)
    return env


def stored(ring: Path) -> dict[str, str]:
    return json.loads(ring.read_text()) if ring.exists() else {}


def together(
    *commands: tuple[str, ...], env: dict[str, str]
) -> list[subprocess.CompletedProcess[str]]:
    """Run independent commands at the same time (each is mostly start-up)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(commands)) as pool:
        return list(pool.map(lambda args: run_cli(*args, env=env), commands))


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


# --- redaction ----------------------------------------------------------------------------


def test_redact_masks_seen_keys_and_key_shapes():
    secret = "canary-" + secrets.token_hex(6)
    remember(secret)
    line = (
        f"401 for {secret}; sk-proj-abcDEF123456 sk-ant-api03-xyz987654 "
        "AIzaSyA1234567890abcdef gsk_abcdefghijklmnopqrstuv"
    )
    masked = redact(line)
    assert secret not in masked
    for shape in ("sk-proj", "sk-ant", "AIza", "gsk_"):
        assert shape not in masked
    assert masked.count("[redacted]") == 5
    # OpenAI echoes a rejected key half-masked; its first and last letters are masked too.
    assert redact("Incorrect API key provided: sk-proj-********abcd. You can") == (
        "Incorrect API key provided: [redacted]. You can"
    )
    assert redact("provided: sk-fixtu*****0000.") == "provided: [redacted]."
    # Words that merely contain the letters stay readable.
    assert redact("risk-assessment task-list ask-me") == "risk-assessment task-list ask-me"


def test_redact_leaves_short_dummy_keys_alone():
    remember("ollama")  # a placeholder people give local servers; not a secret
    assert redact("could not reach ollama at http://localhost:11434") == (
        "could not reach ollama at http://localhost:11434"
    )


# --- look-up order (in process, with an in-memory keyring) --------------------------------


class MemoryKeyring:
    """Just enough of a keyring backend for `keyring.get_password`."""

    def __init__(self, values: dict[str, str] | None = None, fail: bool = False) -> None:
        self.values = values or {}
        self.fail = fail

    def get_password(self, service: str, user: str) -> str | None:
        if self.fail:
            from keyring.errors import NoKeyringError

            raise NoKeyringError("no backend")
        return self.values.get(f"{service}/{user}")


@pytest.fixture
def memory_keyring(monkeypatch):
    import keyring.core

    ring = MemoryKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", ring)
    for spec in BUILTIN.values():
        for var in spec.key_env:
            monkeypatch.delenv(var, raising=False)
    return ring


def test_lookup_order_env_then_keyring_then_key_command(memory_keyring, monkeypatch):
    spec = get_spec("openai", Config())
    config = Config(data={"providers": {"openai": {"key_command": "echo from-command-123"}}})
    assert lookup_key(spec, config) == ("from-command-123", "key_command")
    memory_keyring.values["ba-chat/openai"] = "from-keyring-123"
    assert lookup_key(spec, config) == ("from-keyring-123", "keyring")
    monkeypatch.setenv("OPENAI_API_KEY", " from-env-123 ")
    assert lookup_key(spec, config) == ("from-env-123", "env OPENAI_API_KEY")
    # `keys list` reports the same source without running key_command.
    assert key_source(spec, config) == "env OPENAI_API_KEY"


def test_keyring_failure_is_silent_and_inline_keys_only_for_custom(memory_keyring):
    memory_keyring.fail = True
    openai = get_spec("openai", Config())
    assert lookup_key(openai, Config()) == (None, "not set")
    config = Config(
        data={
            "providers": {
                "openai": {"api_key": "inline-openai-123"},
                "lan": {
                    "kind": "openai-compatible",
                    "base_url": "http://lan/v1",
                    "api_key": "x-123456789",
                },
            }
        }
    )
    assert lookup_key(openai, config) == (None, "not set")  # built-ins never read a plaintext key
    assert lookup_key(get_spec("lan", config), config) == ("x-123456789", "config")
    assert key_source(get_spec("ollama", Config()), Config()) == "not needed"
    failing = Config(data={"providers": {"openai": {"key_command": "echo oops >&2; exit 3"}}})
    assert lookup_key(openai, failing) == (None, "not set")
    assert keys.run_key_command("echo oops >&2; exit 3") == (
        None,
        "key_command exited with 3: oops",
    )


def _running(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie nobody reaped does not count)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_a_hung_key_command_is_killed_with_its_children_and_named(tmp_path, home):
    pids = tmp_path / "pids"
    script = tmp_path / "hang.sh"
    # A helper in the background and the command itself, both stuck for good.
    script.write_text(f'sleep 1000 &\necho $$ $! > "{pids}"\nexec sleep 1000\n')
    (home / "config.toml").write_text(
        f'key_command_timeout = 1\n[providers.openai]\nkey_command = "sh {script}"\n'
    )
    env = make_env("http://127.0.0.1:9", home)
    del env["OPENAI_API_KEY"]
    try:
        done = run_cli("ask", "--no-save", "-p", "openai", "hi", env=env)
        started = [int(pid) for pid in pids.read_text().split()]
        assert len(started) == 2
        deadline = time.monotonic() + 10
        while any(_running(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in started if _running(pid)]
    finally:
        for pid in (int(pid) for pid in pids.read_text().split()) if pids.exists() else ():
            if _running(pid):
                os.kill(pid, 9)
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "no API key for openai: key_command timed out after 1 s" in lines[0]
    assert "check key_command under [providers.openai]" in lines[0]


def test_keyrings_alt_is_refused_unless_chosen(monkeypatch):
    plaintext = type("PlaintextKeyring", (), {"__module__": "keyrings.alt.file"})()
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setattr(keys, "_chosen_explicitly", lambda: False)
    assert "plain file" in (keys.keyring_problem(plaintext) or "")
    monkeypatch.setattr(keys, "_chosen_explicitly", lambda: True)
    assert keys.keyring_problem(plaintext) is None


# --- the commands -------------------------------------------------------------------------


def test_keys_set_list_delete_with_a_file_keyring(tmp_path, home):
    ring = tmp_path / "ring.json"
    env = keyring_env("http://127.0.0.1:9", home, ring, drop=("OPENAI_API_KEY",))
    key = "test-key-" + secrets.token_hex(8)

    done = run_cli("keys", "set", "openai", env=env, input=f"  {key}\n")
    assert done.returncode == 0, done.stderr
    assert stored(ring) == {"ba-chat/openai": key}
    assert "stored the openai key in the OS keyring" in done.stdout

    listed = run_cli("keys", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    sources = dict(line.split(None, 1) for line in listed.stdout.splitlines())
    assert sources["openai"] == "keyring"
    assert sources["anthropic"] == "env ANTHROPIC_API_KEY"
    assert sources["ollama"] == "not needed"
    assert key not in listed.stdout + listed.stderr
    assert KEYS["ANTHROPIC_API_KEY"] not in listed.stdout

    done = run_cli("keys", "delete", "openai", env=env)
    assert (done.returncode, stored(ring)) == (0, {})
    assert "deleted the openai key" in done.stdout
    again = run_cli("keys", "delete", "openai", env=env)
    assert again.returncode == 0
    assert "there was no openai key in the OS keyring" in again.stdout


@pytest.mark.parametrize(
    ("args", "given", "message"),
    [
        (
            ("keys", "set", "openia"),
            "k-123456789",
            "unknown provider 'openia'; choose one of: anthropic",
        ),
        (("keys", "set", "openai"), "  \n", "no key given for openai"),
        (("keys", "set", "openai"), "Bearer abc123456", "the key contains spaces"),
    ],
)
def test_keys_set_refuses_bad_input(tmp_path, home, args, given, message):
    ring = tmp_path / "ring.json"
    done = run_cli(*args, env=keyring_env("http://127.0.0.1:9", home, ring), input=given)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not ring.exists()


def test_keys_set_without_an_os_keyring_fails_and_writes_nothing(tmp_path, home):
    user_home = tmp_path / "user"  # where keyrings.alt would have put a plaintext file
    user_home.mkdir()
    env = make_env("http://127.0.0.1:9", home, PYTHON_KEYRING_BACKEND=FAIL_BACKEND)
    env.update(HOME=str(user_home), XDG_DATA_HOME=str(user_home / "data"))
    done = run_cli("keys", "set", "openai", env=env, input="never-stored-123456\n")
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "no OS keyring is available here" in lines[0]
    assert "OPENAI_API_KEY" in lines[0] and 'key_command = "pass show openai"' in lines[0]
    assert "never-stored" not in done.stdout + done.stderr
    assert files_under(home) == [] and files_under(user_home) == []


def test_keys_set_prompts_without_echo_on_a_terminal(tmp_path, home):
    import fcntl
    import pty
    import termios

    ring = tmp_path / "ring.json"
    env = keyring_env("http://127.0.0.1:9", home, ring)
    key = "typed-key-" + secrets.token_hex(6)
    master, slave = pty.openpty()

    def become_terminal_owner() -> None:  # getpass reads /dev/tty, the controlling terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    child = subprocess.Popen(
        [sys.executable, "-m", "ba_tui", "keys", "set", "openai"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
        preexec_fn=become_terminal_owner,
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 20
    try:
        while b"API key" not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                seen += os.read(master, 1024)
        assert b"OpenAI API key (input hidden): " in seen
        os.write(master, f"{key}\n".encode())
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                try:
                    chunk = os.read(master, 1024)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            elif child.poll() is not None:
                break
        assert child.wait(timeout=10) == 0, seen
    finally:
        os.close(master)
        if child.poll() is None:
            child.kill()
    assert key.encode() not in seen  # not echoed
    assert stored(ring) == {"ba-chat/openai": key}


def test_canary_key_reaches_the_provider_and_nowhere_else(tmp_path, home):
    canary = "CANARY-" + secrets.token_hex(10)
    ring = tmp_path / "ring.json"  # outside the data home on purpose
    outputs: list[subprocess.CompletedProcess[str]] = []

    with FakeServer() as server:
        env = keyring_env(server.url, home, ring, drop=("OPENAI_API_KEY",))
        outputs.append(run_cli("keys", "set", "openai", env=env, input=f"{canary}\n"))
        assert outputs[-1].returncode == 0, outputs[-1].stderr
        assert stored(ring) == {"ba-chat/openai": canary}

        # Saved, so the database and the export below are checked too.
        saved = run_cli("ask", "-p", "openai", "-m", "gpt-4o-mini", "hi", env=env)
        assert saved.returncode == 0, saved.stderr
        assert server.requests[-1].headers["authorization"] == f"Bearer {canary}"
        outputs.append(saved)

        refused = run_cli("config", "set", "providers.openai.api_key", canary, env=env)
        assert refused.returncode == 2 and "ba-chat keys set openai" in refused.stderr
        outputs.append(refused)
        outputs.append(run_cli("config", "set", "theme", "dark", env=env))
        assert outputs[-1].returncode == 0, outputs[-1].stderr
        listed, shown, doctor, exported = together(
            ("keys", "list"),
            ("config", "show"),
            ("doctor", "-p", "openai"),
            ("export", "--all", "--format", "json"),
            env=env,
        )
        for done in (listed, shown, doctor, exported):
            assert done.returncode == 0, (done.args, done.stdout, done.stderr)
        assert re.search(r"^openai +keyring$", listed.stdout, re.M)
        assert "key from keyring" in doctor.stdout and "key accepted" in doctor.stdout
        assert '"openai"' in exported.stdout  # the saved thread was exported
        outputs += [listed, shown, doctor, exported]

    with FakeServer(keys={"openai": "another-key"}) as server:
        env = keyring_env(server.url, home, ring, drop=("OPENAI_API_KEY",))
        failed = run_cli("ask", "--no-save", "-p", "openai", "-m", "gpt-4o-mini", "hi", env=env)
        assert failed.returncode == 3
        assert "openai rejected the API key" in failed.stderr
        assert server.requests[-1].headers["authorization"] == f"Bearer {canary}"
        outputs.append(failed)

    for done in outputs:
        assert canary not in done.stdout + done.stderr, done.args
        assert canary[7:] not in done.stdout + done.stderr, done.args
    written = files_under(home)
    assert {"config.toml", "ba-chat.db"} <= {path.name for path in written}
    for path in written:
        assert canary[7:].encode() not in path.read_bytes(), path
