"""Start-up stays instant: help imports no provider SDK, no Textual and no sqlite_utils."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# pydantic is not listed: typer imports it for any subcommand, and every SDK needs it anyway.
HEAVY = ("anthropic", "openai", "google", "textual", "sqlite_utils", "keyring", "tomlkit")

_PROBE = """
import json, sys
sys.argv = ["ba-chat", *json.loads(sys.argv[1])]
from ba_tui.cli import app
try:
    app()
except SystemExit:
    pass
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
]


@pytest.mark.parametrize("args", HELP)
def test_help_imports_nothing_heavy(args):
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)], capture_output=True, text=True, check=True
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert [m for m in loaded if m.split(".")[0] in HEAVY] == []
    assert "Usage:" in done.stdout
