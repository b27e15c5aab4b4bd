"""`ba-chat doctor` against the fake providers: one line per check, the fix on failure,
exit 1 only when something is broken, and never a key in the output."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from ba_tui.cli import doctor
from ba_tui.config import Config
from ba_tui.providers import get_spec
from tests.conftest import KEYS, make_env, run_cli
from tests.servers import FakeServer


def lines_for(output: str, subject: str) -> list[str]:
    return [line for line in output.splitlines() if line[2:].split(" ")[0] == subject]


def test_doctor_against_the_fake_providers(tmp_path: Path):
    from ba_tui.store import Store

    broken_home, good_home = tmp_path / "a", tmp_path / "b"
    broken_home.mkdir()
    good_home.mkdir()
    (broken_home / "config.toml").write_text("retries = 3\n")
    Store.open(broken_home / "ba-chat.db").close()

    with FakeServer(keys={"gemini": "another-key"}) as rejecting, FakeServer() as server:
        env = make_env(rejecting.url, broken_home)
        del env["DEEPSEEK_API_KEY"]
        with ThreadPoolExecutor(2) as pool:
            full = pool.submit(run_cli, "doctor", env=env)
            gemini = pool.submit(
                run_cli, "doctor", "-p", "gemini", env=make_env(server.url, good_home)
            )
            full, gemini = full.result(), gemini.result()

    out = full.stdout
    assert full.returncode == 1, (out, full.stderr)
    for provider in ("anthropic", "openai"):
        found = lines_for(out, provider)
        assert found[0] == f"✓ {provider:<9}  key from env {provider.upper()}_API_KEY"
        assert re.fullmatch(
            rf"✓ {provider} +endpoint http://\S+ answered in \d+ ms \(\d+ models\)", found[1]
        )
        assert found[2] == f"✓ {provider:<9}  key accepted"
    rejected = lines_for(out, "gemini")
    assert re.fullmatch(r"✓ gemini +endpoint http://\S+ answered in \d+ ms", rejected[1])
    assert rejected[2].startswith("✗ gemini     key rejected (HTTP 400); fix: check GEMINI_API_KEY")
    assert lines_for(out, "deepseek") == [
        "- deepseek   not configured (no key); fix: set DEEPSEEK_API_KEY or run "
        "`ba-chat keys set deepseek` to use it"
    ]
    assert lines_for(out, "config") == [f"✓ config     {broken_home / 'config.toml'} parses"]
    assert re.fullmatch(
        rf"✓ database   {re.escape(str(broken_home / 'ba-chat.db'))} · [\d.]+ \w+ · schema \d+ · "
        "integrity ok",
        lines_for(out, "database")[0],
    )
    assert lines_for(out, "keyring")[0].startswith("! keyring    the keyring is disabled")
    assert re.match(
        r"✓ versions   ba-chat \S+, python 3\.\d+\.\d+, anthropic \S+",
        lines_for(out, "versions")[0],
    )

    # Nothing broken (a warning and a skipped check are not failures): exit 0.
    assert gemini.returncode == 0, gemini.stdout
    assert lines_for(gemini.stdout, "gemini")[2] == "✓ gemini    key accepted"
    assert lines_for(gemini.stdout, "anthropic") == []
    for done in (full, gemini):
        for key in KEYS.values():
            assert key not in done.stdout + done.stderr
    assert sorted(p.name for p in good_home.iterdir()) == []  # doctor creates nothing


@pytest.fixture
def no_env_keys(monkeypatch):
    for var in ("OPENAI_API_KEY", "DEEPSEEK_API_KEY", "OLLAMA_API_KEY", "OLLAMA_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    import keyring.core

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)


def test_a_failing_key_command_is_a_failure_with_its_reason(no_env_keys):
    config = Config(data={"providers": {"openai": {"key_command": "echo locked >&2; exit 7"}}})
    checks, probe = doctor._key_checks(get_spec("openai", config), config)
    assert probe is None
    assert checks == [
        doctor.Check(
            doctor.FAIL,
            "openai",
            "key_command gave no key: it exited with 7: locked",
            "check key_command under [providers.openai] in config.toml",
        )
    ]


def test_plaintext_keys_in_config_are_warned_about(no_env_keys):
    config = Config(
        data={
            "providers": {
                "openai": {"api_key": "ignored-123456"},
                "lan": {
                    "kind": "openai-compatible",
                    "base_url": "http://lan/v1",
                    "api_key": "x-12345678",
                },
            }
        }
    )
    checks, _ = doctor._key_checks(get_spec("openai", config), config)
    assert checks[0].status == doctor.WARN and "ignored for built-in providers" in checks[0].text
    checks, probe = doctor._key_checks(get_spec("lan", config), config)
    assert checks[0].status == doctor.WARN and "plain text" in checks[0].text
    assert probe is not None and not probe.optional


def test_a_local_server_that_is_off_fails_only_when_configured(no_env_keys, monkeypatch):
    from ba_tui.providers import BUILTIN

    closed = "http://127.0.0.1:9/v1"  # nothing listens on the discard port
    monkeypatch.setitem(BUILTIN, "ollama", replace(BUILTIN["ollama"], default_base_url=closed))
    checks = doctor.provider_checks(Config(), "ollama", 5)
    assert checks == [
        doctor.Check(doctor.SKIP, "ollama", "key not needed"),
        doctor.Check(doctor.SKIP, "ollama", f"not running at {closed} (not configured)"),
    ]
    configured = Config(data={"providers": {"ollama": {"base_url": closed}}})
    checks = doctor.provider_checks(configured, "ollama", 5)
    assert checks[1].status == doctor.FAIL and checks[1].text.startswith("endpoint did not answer")
    assert checks[1].fix


def test_an_endpoint_that_never_answers_times_out(no_env_keys):
    import socket

    with socket.socket() as silent:  # accepts connections, never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        config = Config(data={"providers": {"lan": {"kind": "openai-compatible", "base_url": url}}})
        checks = doctor.provider_checks(config, "lan", 0.3)
    assert checks[1] == doctor.Check(
        doctor.FAIL,
        "lan",
        f"endpoint {url} did not answer within 0.3 s",
        "check your network, or the provider's base_url",
    )


class FakeStore:
    def __init__(self, integrity: str) -> None:
        self.integrity = integrity

    def schema_version(self) -> int:
        return 2

    def integrity_check(self) -> str:
        return self.integrity

    def close(self) -> None:
        pass


def test_database_checks(tmp_path):
    path = tmp_path / "ba-chat.db"
    assert doctor.database_checks(path)[0].status == doctor.SKIP
    assert not path.exists()
    path.write_bytes(b"x" * 2048)
    ok = doctor.database_checks(path, open_store=lambda p: FakeStore("ok"))
    assert ok == [doctor.Check(doctor.OK, "database", f"{path} · 2.0 KB · schema 2 · integrity ok")]
    bad = doctor.database_checks(path, open_store=lambda p: FakeStore("row 3 missing from index"))
    assert bad[0].status == doctor.FAIL and "row 3 missing from index" in bad[0].text


def test_keyring_checks(monkeypatch):
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring.core, "_keyring_backend", fail.Keyring())
    (check,) = doctor.keyring_checks()
    assert check.status == doctor.WARN
    assert "no OS keyring" in check.text and "keys must come from env or key_command" in check.text


def test_config_checks(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("retries = 'x'\n")
    checks, _ = doctor.config_checks(path)
    assert [c.status for c in checks] == [doctor.OK, doctor.FAIL]
    path.write_text("retries = \n")
    checks, config = doctor.config_checks(path)
    assert checks[0].status == doctor.FAIL and "line 1" in checks[0].text
    assert config.data == {}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("retries = \n", "Invalid value (at line 1, column 11)"),
        ("a = " + "[" * 100_000 + "]" * 100_000 + "\n", "is nested too deeply to read"),
    ],
    ids=["malformed", "deeply-nested"],
)
def test_a_broken_config_is_a_failed_check_and_the_others_still_run(tmp_path, text, says):
    from ba_tui.store import Store

    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(text)
    Store.open(home / "ba-chat.db").close()  # its breaker check once re-read config.toml
    done = run_cli(
        "doctor", "-p", "openai", "--timeout", "2", env=make_env("http://127.0.0.1:9", home)
    )
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr == ""
    (config,) = lines_for(done.stdout, "config")
    assert re.match(rf"✗ config +{re.escape(str(home / 'config.toml'))}", config)
    assert says in config
    assert config.endswith("; fix: fix the file; ba-chat will not overwrite it")
    (database,) = lines_for(done.stdout, "database")
    assert database.startswith("✓ database") and "integrity ok" in database
    assert lines_for(done.stdout, "versions")
