"""Key redaction: a provider that echoes a key, whole, without its prefix or with its end
starred out, must not get any 8 characters of it onto the screen, into a traceback, the
database, the log or `--json`, whichever way the key was found (env, keyring,
key_command)."""

from __future__ import annotations

import json
import random
import re
import secrets
import sqlite3
import string
from pathlib import Path

import pytest

from ba_tui import redact as redaction
from ba_tui.export import FORMATS
from ba_tui.redact import MASK, redact, remember
from tests.conftest import make_env, run_cli
from tests.servers import status
from tests.test_keys import keyring_env


def pieces(key: str) -> set[str]:
    return {key[start : start + 8] for start in range(len(key) - 7)}


def leaked(key: str, *texts: str) -> list[str]:
    """Every 8-character piece of `key` found in `texts` (the canary scan)."""
    return sorted({piece for piece in pieces(key) for text in texts if piece in text})


def home_files(home: Path) -> list[str]:
    """Every file in the data home (database, WAL, log, config), as text."""
    return [p.read_bytes().decode("utf-8", "replace") for p in home.rglob("*") if p.is_file()]


def echoes(key: str, prefix: str) -> str:
    """A provider's error text echoing `key` as a careless one does: whole, without its
    prefix (`token=canary-…`), and with its last letters starred out (`KRcanary…x**`)."""
    bare = key.removeprefix(prefix)
    return f"invalid key {key}; token={bare}; seen KR{bare[:-3]}x**"


# --- the function ---------------------------------------------------------------------------


def test_any_piece_of_eight_or_more_characters_of_a_known_key_is_masked():
    key = "sk-canary-" + secrets.token_hex(10)
    remember(key)
    bare = key.removeprefix("sk-")
    assert redact(f"token={bare} and more") == f"token={MASK} and more"
    assert redact(f"KR{bare[:-3]}x**") == f"KR{MASK}x**"
    assert redact(f"({bare[5:13]})") == f"({MASK})"  # exactly eight characters
    assert redact(f"({bare[5:12]})") == f"({bare[5:12]})"  # seven are left alone
    # Two separate pieces stay two masks; the text between them stays.
    assert redact(f"{bare[:9]} then {bare[-9:]}") == f"{MASK} then {MASK}"
    assert redact("could not reach openai at http://127.0.0.1:8080") == (
        "could not reach openai at http://127.0.0.1:8080"
    )


def test_a_piece_inside_another_key_shaped_string_still_masks_all_of_it():
    remember("x-123456789")  # a piece of it, "12345678", sits inside the Google key below
    assert redact("key AIzaSyA1234567890abcdef here") == f"key {MASK} here"


def naive(text: str, keys: list[str]) -> str:
    """The definition, slowly: mask every character covered by an 8-character window that
    occurs in a key, each stretch of covered characters becoming one MASK."""
    windows = {piece for key in keys for piece in pieces(key)}
    covered = [False] * len(text)
    for start in range(len(text) - 7):
        if text[start : start + 8] in windows:
            covered[start : start + 8] = [True] * 8
    parts = re.split("(1+)", "".join("1" if flag else "0" for flag in covered))
    out, at = [], 0
    for part in parts:
        out.append(MASK if part.startswith("1") else text[at : at + len(part)])
        at += len(part)
    return "".join(out)


def test_masking_agrees_with_the_definition_on_random_echoes():
    rng = random.Random(15)
    alphabet = string.ascii_letters + string.digits + "-_"
    keys = ["".join(rng.choice(alphabet) for _ in range(rng.choice((20, 39, 51)))) for _ in "abc"]
    for key in keys:
        remember(key)
    for _ in range(300):
        text = "".join(rng.choice(alphabet + " .:=*") for _ in range(rng.randint(0, 60)))
        for _ in range(rng.randint(0, 3)):
            key = rng.choice(keys)
            start = rng.randint(0, len(key) - 1)
            piece = key[start : start + rng.randint(1, 30)]
            at = rng.randint(0, len(text))
            text = text[:at] + piece + text[at:]
        # Key-shaped strings (sk-…) are masked by shape first; then the piece rule.
        expected = naive(redaction._SHAPES.sub(MASK, text), keys)
        assert redact(text) == expected, text


# --- --verbose ----------------------------------------------------------------------------


def _anthropic_401(key: str) -> object:
    error = {"type": "authentication_error", "message": echoes(key, "sk-ant-")}
    return status(401, {"type": "error", "error": error})


@pytest.mark.parametrize("source", ["env", "keyring", "key_command"])
def test_verbose_traceback_never_shows_the_key(server, home, tmp_path, source):
    key = "sk-ant-canary-" + secrets.token_hex(12)
    if source == "env":
        env = make_env(server.url, home, ANTHROPIC_API_KEY=key)
    elif source == "keyring":
        ring = tmp_path / "ring.json"
        ring.write_text(json.dumps({"ba-chat/anthropic": key}))
        env = keyring_env(server.url, home, ring, drop=("ANTHROPIC_API_KEY",))
    else:
        secret_file = tmp_path / "secret"
        secret_file.write_text(key + "\n")
        (home / "config.toml").write_text(
            f'[providers.anthropic]\nkey_command = "cat {secret_file}"\n'
        )
        env = make_env(server.url, home)
        del env["ANTHROPIC_API_KEY"]
    server.queue(_anthropic_401(key))
    done = run_cli("--verbose", "ask", "-p", "anthropic", "--retries", "0", "hi", env=env)
    sent = server.requests[-1].headers
    assert key in (sent.get("x-api-key"), sent.get("authorization", "")[7:])  # it was used
    assert "Traceback (most recent call last)" in done.stderr  # --verbose did show one
    exports = [run_cli("export", "--all", "-f", fmt, env=env).stdout for fmt in FORMATS]
    assert all("hi" in export for export in exports)  # the failed turn was exported
    assert not leaked(key, done.stdout, done.stderr, *exports, *home_files(home))
    assert done.returncode == 3, done.stderr
    assert done.stderr.rstrip().splitlines()[-1].startswith("ba-chat: error: anthropic rejected")


def test_verbose_traceback_of_an_internal_error_is_redacted(server, env):
    # google-genai validates a model list: a malformed one fails inside the SDK with the
    # offending value quoted, which here is the key the server echoed.
    key = "canary-" + secrets.token_hex(12)
    env["GEMINI_API_KEY"] = key
    model = {"name": "models/x", "inputTokenLimit": f"token={key}"}
    server.queue(status(200, {"models": [model]}))
    done = run_cli("--verbose", "models", "-p", "gemini", "--refresh", env=env)
    assert "Traceback (most recent call last)" in done.stderr
    assert not leaked(key, done.stdout, done.stderr)
    assert done.returncode == 1
    assert done.stderr.rstrip().splitlines()[-1].startswith("ba-chat: internal error:")


# --- every sink of an error line ------------------------------------------------------------


def test_a_partly_echoed_key_reaches_no_output_no_row_and_no_log(server, home):
    key = "sk-canary-" + secrets.token_hex(10)
    env = make_env(server.url, home, OPENAI_API_KEY=key)
    error = {"message": echoes(key, "sk-"), "type": "invalid_request_error", "code": "x"}
    server.queue(status(401, {"error": error}))
    done = run_cli("ask", "--json", "-p", "openai", "hi", env=env)
    assert done.returncode == 3, done.stderr
    printed = json.loads(done.stdout)
    assert printed["status"] == "error" and MASK in printed["error"]
    assert MASK in done.stderr
    with sqlite3.connect(home / "ba-chat.db") as db:
        [stored] = db.execute("SELECT error FROM messages WHERE role = 'assistant'").fetchall()
    assert MASK in stored[0]
    log = (home / "ba-chat.log").read_text()
    assert MASK in log
    assert not leaked(key, done.stdout, done.stderr, stored[0], log, *home_files(home))
