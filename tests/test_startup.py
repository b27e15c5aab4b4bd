"""Start-up stays instant: help imports no provider SDK, no Textual and no sqlite_utils;
an `ask` on an up-to-date store does not import sqlite_utils either."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# pydantic is not listed: typer imports it for any subcommand, and every SDK needs it anyway.
HEAVY = ("anthropic", "openai", "google", "textual", "sqlite_utils", "keyring", "tomlkit")
# The attachment libraries: imported when a file of their type is attached, never before.
DOCUMENTS = ("pypdf", "docx", "openpyxl", "PIL", "lxml", "httpx2", "textual_image")

# Runs `ba-chat ARGS` as the console script does (ba_tui.entry.main), then prints, after
# a blank line, the modules that were imported.
_PROBE = """
import json, sys
sys.argv = ["ba-chat", *json.loads(sys.argv[1])]
from ba_tui.entry import main
try:
    main()
except SystemExit:
    pass
print()
print(json.dumps(sorted(sys.modules)))
"""

HELP = [
    ["usage", "--help"],
    ["--help"],
    ["ask", "--help"],
    ["models", "--help"],
    ["keys", "--help"],
    ["keys", "set", "--help"],
    ["config", "--help"],
    ["config", "set", "--help"],
    ["doctor", "--help"],
    ["personas", "--help"],
    ["threads", "--help"],
    ["export", "--help"],
    ["search", "--help"],
    ["completion", "--help"],
]


@pytest.mark.parametrize("args", HELP)
def test_help_imports_nothing_heavy(args):
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)], capture_output=True, text=True, check=True
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert [m for m in loaded if m.split(".")[0] in HEAVY + DOCUMENTS] == []
    assert "Usage:" in done.stdout


def test_saved_ask_on_an_up_to_date_store_skips_sqlite_utils(server, env):
    from tests.conftest import run_cli
    from tests.servers import fixture

    server.queue(fixture("openai_stream_usage.sse"), fixture("openai_stream_usage.sse"))
    first = run_cli("ask", "-p", "openai", "-m", "gpt-4o-mini", "first", env=env)
    assert first.returncode == 0, first.stderr
    args = ["ask", "-c", "second"]
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    answer, _, modules = done.stdout.rstrip("\n").rpartition("\n")
    assert answer.strip() == first.stdout.strip()
    assert "sqlite_utils" not in json.loads(modules)
    # An ask without attachments loads none of the document and image libraries.
    assert not {m.split(".")[0] for m in json.loads(modules)} & {"pypdf", "docx", "openpyxl", "PIL"}
    listed = run_cli("threads", env=env)
    assert listed.returncode == 0 and "first" in listed.stdout
