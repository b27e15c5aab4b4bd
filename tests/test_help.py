"""`--help` reads whole at 80 columns and tells a new user where the full-screen app is."""

from __future__ import annotations

import re

import pytest

from tests.conftest import make_env, run_cli


def _help(home, *args: str) -> str:
    env = make_env("http://127.0.0.1:9", home, COLUMNS="80")
    done = run_cli(*args, "--help", env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _commands(text: str) -> dict[str, str]:
    """The `Commands:` section of a help page: name -> its one-line summary."""
    section = text.split("\nCommands:\n", 1)[1]
    rows = [re.match(r"  (\S+)\s+(.*)", line) for line in section.splitlines()]
    return {row[1]: row[2] for row in rows if row}


@pytest.mark.parametrize("group", [[], ["keys"], ["config"], ["threads"], ["mcp"]], ids=str)
def test_no_command_summary_is_cut_at_80_columns(home, group):
    text = _help(home, *group)
    summaries = _commands(text)
    assert summaries  # the section was found
    for name, summary in summaries.items():
        assert not summary.endswith("..."), f"{name}: {summary}"
        assert summary.endswith((".", ")")), f"{name}: {summary}"
    assert max(len(line) for line in text.splitlines()) <= 80


def test_top_level_help_says_plain_ba_chat_opens_the_full_screen_app(home):
    text = " ".join(_help(home).split())
    assert "Run `ba-chat` with no command to open the full-screen chat app." in text


@pytest.mark.parametrize(
    "command",
    [["ask"], ["doctor"], ["usage"], ["export"], ["threads", "list"], ["search"]],
    ids=str,
)
def test_every_option_that_takes_a_value_names_it(home, command):
    """`--max-tokens TOKENS`, not the Python type (`<int range>`, `<str>`) a new release
    of typer shows for an option without a metavar."""
    options = [line for line in _help(home, *command).splitlines() if line.lstrip().startswith("-")]
    assert options
    for line in options:
        declared = line.strip().split("  ")[0]  # the flags and the value's name
        assert "<" not in declared, line
