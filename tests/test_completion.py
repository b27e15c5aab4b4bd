"""Shell completion as a shell runs it: the script `ba-chat completion bash` prints, sourced
in a real bash, and the zsh and fish protocols, against the real `ba-chat` script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ba_tui.store import Store
from tests.conftest import make_env, run_cli

BA_CHAT = str(Path(sys.executable).parent / "ba-chat")  # the console script a shell runs

# Sources the printed script, then presses Tab at the end of each line given as an
# argument, as bash does: COMP_LINE and COMP_POINT set, the function called with the
# command's name. Each answer ends with a line "--".
_BASH = """
eval "$("$BA_CHAT" completion bash)"
complete -p ba-chat >/dev/null || exit 9
for line in "$@"; do
    COMP_LINE="$line"; COMP_POINT=${#line}; COMPREPLY=()
    _ba_chat_completion "$BA_CHAT"
    printf '%s\\n' "${COMPREPLY[@]}" --
done
"""


def bash_tab(env: dict[str, str], *lines: str) -> list[list[str]]:
    done = subprocess.run(
        ["bash", "--norc", "-c", _BASH, "bash", *lines],
        env={**env, "BA_CHAT": BA_CHAT},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    answers = done.stdout.split("--\n")[:-1]
    assert len(answers) == len(lines), done.stdout
    return [[word for word in answer.splitlines() if word] for answer in answers]


@pytest.fixture
def completing(home: Path) -> dict[str, str]:
    """A home with a custom provider in config.toml and two saved threads."""
    (home / "config.toml").write_text(
        '[providers.office-llm]\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1:9/v1"\n'
        'models = ["office-model-7b"]\n'
    )
    with Store.open(home / "ba-chat.db") as store:
        store.create_thread(title="Quarterly plan", provider="openai", model="gpt-4.1")
        store.create_thread(
            title="Risks\x1b]0;pwned\x07\n", provider="anthropic", model="claude-sonnet-5-5"
        )
    return make_env("http://127.0.0.1:9", home)


def test_bash_completes_commands_options_and_names(completing, home):
    from ba_tui.config import load_config
    from ba_tui.personas import all_personas

    with Store.open(home / "ba-chat.db") as store:
        thread_ids = sorted(thread.id for thread in store.list_threads())
    commands, options, providers, models, compare, personas, threads, exports, fmts = bash_tab(
        completing,
        "ba-chat ",
        "ba-chat ask --th",
        "ba-chat ask -p ",
        "ba-chat ask -p openai -m ",
        "ba-chat ask --compare anthropic:son",
        "ba-chat ask --persona ",
        "ba-chat threads show ",
        "ba-chat export ",
        "ba-chat export -f js",
    )
    assert {"ask", "models", "threads", "export", "completion"} <= set(commands)
    assert sorted(options) == ["--thinking", "--thread"]
    assert {"anthropic", "openai", "gemini", "local", "office-llm"} <= set(providers)
    assert {"gpt-4.1-2025-04-14", "mini", "nano"} <= set(models)
    assert not any(model.startswith(("claude", "gemini")) for model in models)
    # bash replaces only the part after the ':', so the answers are cut there
    assert {"sonnet", "sonnet-4.6"} <= set(compare) and "anthropic:sonnet" not in compare
    config = load_config(home / "config.toml")
    assert sorted(personas) == sorted(persona.name for persona in all_personas(config))
    assert sorted(threads) == sorted(exports) == thread_ids
    assert fmts == ["json", "jsonl"]


def run_protocol(env: dict[str, str], **extra: str) -> str:
    """`ba-chat` run as zsh's and fish's scripts run it: what it answers on stdout."""
    done = subprocess.run(
        [BA_CHAT], env={**env, **extra}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout


def test_zsh_and_fish_get_candidates_with_their_help(completing):
    zsh = run_protocol(
        completing, _BA_CHAT_COMPLETE="complete_zsh", _TYPER_COMPLETE_ARGS="ba-chat ask -m office"
    )
    assert zsh.startswith("_arguments") and '"office-model-7b"' in zsh
    fish = run_protocol(
        completing,
        _BA_CHAT_COMPLETE="complete_fish",
        _TYPER_COMPLETE_ARGS="ba-chat threads delete ",
        _TYPER_COMPLETE_FISH_ACTION="get-args",
    )
    # titles beside the ids, with no escape sequence reaching the terminal
    assert sorted(line.split("\t")[1] for line in fish.splitlines()) == ["Quarterly plan", "Risks"]
    assert "\x1b" not in fish


def test_completing_a_thread_id_does_not_create_the_store(home):
    env = make_env("http://127.0.0.1:9", home)
    [threads] = bash_tab(env, "ba-chat threads show ")
    assert threads == [] and not (home / "ba-chat.db").exists()


def test_completion_for_an_unknown_shell_is_one_line(home):
    done = run_cli("completion", "tcsh", env=make_env("http://127.0.0.1:9", home))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "ba-chat: error: no completion for shell 'tcsh'; use bash, zsh or fish"
    )


def test_fish_asking_on_a_terminal_gets_an_answer_not_the_full_screen_app(home):
    """fish runs its `--condition` check as plain `ba-chat`, which on a terminal would
    otherwise open the full-screen app and hang the shell."""
    import os
    import pty

    env = make_env("http://127.0.0.1:9", home)
    env.update(
        _BA_CHAT_COMPLETE="complete_fish",
        _TYPER_COMPLETE_FISH_ACTION="is-args",
        _TYPER_COMPLETE_ARGS="ba-chat ",
    )
    leader, follower = pty.openpty()
    try:
        shell = subprocess.Popen([BA_CHAT], stdin=follower, stdout=follower, env=env)
        try:
            code = shell.wait(timeout=20)
        finally:
            shell.kill()
    finally:
        os.close(follower)
        os.close(leader)
    assert code == 0  # "yes, there are candidates"
