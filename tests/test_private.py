"""ba-chat's history, log and config are private to their user (folders 0700, files 0600)
under the usual umask 022; an older, open home is made private once, with one line; and
`doctor` reports one that is open."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import make_env, run_cli
from tests.servers import fixture


@contextmanager
def umask(mask: int) -> Iterator[None]:
    """Run (and start subprocesses) under `mask`, as a user with that umask would."""
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes(folder: Path) -> dict[str, int]:
    return {path.name: mode(path) for path in folder.iterdir()}


def test_a_new_home_and_its_files_are_private_under_umask_022(server, tmp_path):
    home = tmp_path / "new" / "ba-chat"  # not there yet: ba-chat makes it
    env = make_env(server.url, home)
    server.queue(fixture("openai_stream_usage.sse"))
    exported = tmp_path / "export.json"
    with umask(0o022):
        asked = run_cli("ask", "-p", "openai", "hi", env=env)
        configured = run_cli("config", "set", "theme", "dark", env=env)
        export = run_cli("export", "--all", "-o", str(exported), env=env)
    for done in (asked, configured, export):
        assert done.returncode == 0, done.stderr
    assert asked.stderr == ""  # nothing was open, so nothing to say
    assert mode(home) == 0o700
    assert modes(home) == {"ba-chat.db": 0o600, "ba-chat.log": 0o600, "config.toml": 0o600}
    assert mode(exported) == 0o600  # an export holds the same history


def test_the_database_wal_and_rotated_logs_are_private_under_umask_022(tmp_path, monkeypatch):
    from ba_tui import logs
    from ba_tui.store import Store

    home = tmp_path / "home"
    monkeypatch.setenv("BA_CHAT_HOME", str(home))
    with umask(0o022):
        with Store.open(home / "ba-chat.db") as store:
            store.create_thread(title="t", provider="openai", model="m", system=None)
            # Open, so its -wal and -shm files are there to look at.
            wal = {name: bits for name, bits in modes(home).items() if name != "ba-chat.db"}
            assert wal == {"ba-chat.db-wal": 0o600, "ba-chat.db-shm": 0o600}
        for _ in range(3):  # past MAX_BYTES: the log rolls over at least once
            logs.log_event("filler", text="x" * (logs.MAX_BYTES // 2))
    logged = {name: bits for name, bits in modes(home).items() if name.startswith("ba-chat.log")}
    assert "ba-chat.log.1" in logged
    assert set(logged.values()) == {0o600}
    assert mode(home) == 0o700 and mode(home / "ba-chat.db") == 0o600


def _open_home(server, home: Path) -> dict[str, str]:
    """A home as an older ba-chat left it under umask 022: folder 0755, files 0644."""
    env = make_env(server.url, home)
    server.queue(fixture("openai_stream_usage.sse"))
    assert run_cli("ask", "-p", "openai", "hi", env=env).returncode == 0
    (home / "config.toml").write_text("theme = 'dark'\n")
    os.chmod(home, 0o755)
    for path in home.iterdir():
        os.chmod(path, 0o644)
    return env


def test_an_open_home_is_made_private_once_with_one_line(server, home):
    env = _open_home(server, home)
    first = run_cli("threads", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stderr.splitlines() == [
        f"ba-chat: made {home} private (it was 0755; "
        "ba-chat.db, ba-chat.log, config.toml were 0644)"
    ]
    assert mode(home) == 0o700
    assert set(modes(home).values()) == {0o600}
    again = run_cli("threads", env=env)
    assert (again.returncode, again.stderr) == (0, "")


def test_doctor_fails_on_an_open_home_and_says_how_to_fix_it(server, home):
    env = _open_home(server, home)
    done = run_cli("doctor", "-p", "openai", env=env)
    assert done.returncode == 1
    [line] = [line for line in done.stdout.splitlines() if " files " in line]
    assert line.startswith("✗") or line.startswith("FAIL")
    assert f"other users can read or change: {home} (0755; ba-chat.db" in line
    assert f"fix: chmod go-rwx {home} {home / 'ba-chat.db'}" in line
    assert mode(home) == 0o755  # doctor only looks
    run_cli("threads", env=env)  # any other command makes it private
    done = run_cli("doctor", "-p", "openai", env=env)
    assert done.returncode == 0, done.stdout
    [line] = [line for line in done.stdout.splitlines() if " files " in line]
    assert "private to you (folders 0700, files 0600)" in line


def test_an_open_mcp_log_and_screenshot_are_made_private_too(server, home):
    """What ba-chat writes beside its history, an MCP server's stderr log and a picture of
    the screen, is as private, and an open one from before is made so with the rest."""
    env = _open_home(server, home)
    for folder, name in (("mcp", "mcp-calc.log"), ("screenshots", "ba-chat.svg")):
        (home / folder).mkdir()
        (home / folder / name).write_text("x")
        os.chmod(home / folder, 0o755)
        os.chmod(home / folder / name, 0o644)
    first = run_cli("threads", env=env)
    assert first.returncode == 0, first.stderr
    assert "mcp-calc.log" in first.stderr and "ba-chat.svg" in first.stderr
    for folder in ("mcp", "screenshots"):
        assert mode(home / folder) == 0o700
        assert set(modes(home / folder).values()) == {0o600}
