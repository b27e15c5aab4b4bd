"""A mistyped command line is one line that says what was wrong and how to put it right
(exit 2), never click's three lines of usage, `Try ...` and `Error: ...`."""

from __future__ import annotations

import pytest

from tests.conftest import make_env, run_cli

CASES = [
    (
        ["ask", "--thinking", "100", "hi"],
        "invalid value '100' for --thinking: input should be greater than or equal to 1024; "
        "see ba-chat ask --help",
    ),
    (
        ["ask", "--thinking=lots", "hi"],
        "invalid value 'lots' for --thinking: input should be a valid integer",
    ),
    (["--bogus"], "no such option: --bogus (did you mean --verbose?); see ba-chat --help"),
    (
        ["usage", "--sinse", "7d"],
        "no such option: --sinse for 'usage' (did you mean --since?); see ba-chat usage --help",
    ),
    (
        ["threads", "--limit", "3"],
        "no such option: --limit for 'threads' (did you mean ba-chat threads list --limit?); "
        "see ba-chat threads --help",
    ),
    (
        ["show", "abc"],
        "no such command: show (did you mean ba-chat config show or ba-chat threads show?); "
        "see ba-chat --help",
    ),
    (["expot"], "no such command: expot (did you mean ba-chat export?); see ba-chat --help"),
    (["keys", "sett"], "no such command: sett for 'keys' (did you mean ba-chat keys set?)"),
    (["ask", "-m"], "-m for 'ask' needs a value; see ba-chat ask --help"),
    (
        ["config", "set", "theme"],
        "missing argument 'value' for 'config set'; usage: ba-chat config set",
    ),
    (["threads", "show", "a", "b"], "unexpected extra argument(s) (b) for 'threads show'"),
]


@pytest.mark.parametrize(("args", "says"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_a_usage_error_is_one_line_with_the_fix(home, args, says):
    done = run_cli(*args, env=make_env("http://127.0.0.1:9", home))
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("ba-chat: error: ") and says in lines[0]
    assert "Usage:" not in done.stderr and "Try '" not in done.stderr


def test_help_and_exit_codes_still_come_through(home):
    env = make_env("http://127.0.0.1:9", home)
    helped = run_cli("usage", "--help", env=env)
    assert helped.returncode == 0 and "--since" in helped.stdout and helped.stderr == ""
    bare_group = run_cli("keys", env=env)  # a group without its command shows its help
    assert bare_group.returncode == 2 and "Commands:" in bare_group.stderr + bare_group.stdout
    failed = run_cli("usage", "--since", "yesterday", env=env)  # our own UsageError
    assert failed.returncode == 2
    assert failed.stderr.startswith("ba-chat: error: cannot read --since 'yesterday'")
