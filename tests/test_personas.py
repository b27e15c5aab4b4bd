"""Personas: the built-ins, the user's own from config.toml, and `ba-chat personas`."""

from __future__ import annotations

import pytest

from ba_tui.config import Config
from ba_tui.errors import ConfigError, UsageError
from ba_tui.personas import Persona, all_personas, get_persona
from tests.conftest import make_env, run_cli


def test_builtins():
    config = Config()
    assert [p.name for p in all_personas(config)] == ["default", "business-analyst"]
    assert get_persona("default", config).system is None
    analyst = get_persona("business-analyst", config).system or ""
    for must in ("clarifying questions", "As a <role>, I want", "so that", "Given/When/Then"):
        assert must in analyst
    for must in ("risks", "assumptions", "dependencies", "open questions", "RACI", "Markdown"):
        assert must in analyst


def test_user_personas_and_overrides():
    config = Config(
        data={
            "personas": {
                "pm": {
                    "system": "You are a PM.\nBe brief.",
                    "provider": "openai",
                    "model": "gpt-4o",
                },
                "business-analyst": {"model": "claude-opus-5-5", "provider": "anthropic"},
                "default": {"system": "Answer in French."},
            }
        }
    )
    personas = {p.name: p for p in all_personas(config)}
    assert list(personas) == ["default", "business-analyst", "pm"]
    assert personas["pm"] == Persona("pm", "You are a PM.\nBe brief.", "openai", "gpt-4o")
    assert personas["pm"].summary == "You are a PM."
    # An override changes only what it sets.
    analyst = personas["business-analyst"]
    assert (analyst.provider, analyst.model) == ("anthropic", "claude-opus-5-5")
    assert "Given/When/Then" in (analyst.system or "")
    assert personas["default"].system == "Answer in French."


def test_unknown_and_malformed_personas():
    with pytest.raises(UsageError) as caught:
        get_persona("ba", Config(data={"personas": {"pm": {"system": "x"}}}))
    assert (
        "unknown persona 'ba'; choose one of: default, business-analyst, pm" in caught.value.line()
    )
    with pytest.raises(ConfigError, match=r"\[personas.pm\]: system must be a string"):
        all_personas(Config(data={"personas": {"pm": {"system": 3}}}))
    with pytest.raises(ConfigError, match="must be a table"):
        all_personas(Config(data={"personas": {"pm": "x"}}))


def test_choose_lets_the_user_win():
    pm = Persona("pm", "Be a PM.", provider="openai", model="gpt-4o")
    assert pm.choose(None, None, None) == ("openai", "gpt-4o", "Be a PM.")
    assert pm.choose(None, "o3", "Be terse.") == ("openai", "o3", "Be terse.")
    assert pm.choose("openai", None, None) == ("openai", "gpt-4o", "Be a PM.")
    # Another provider: the persona's model would not exist there.
    assert pm.choose("anthropic", None, None) == ("anthropic", None, "Be a PM.")
    assert Persona("default", None).choose(None, None, "") == (None, None, "")


def test_cli_lists_and_shows(home):
    (home / "config.toml").write_text(
        '[personas.pm]\nsystem = "You are a PM.\\nBe brief."\n'
        'provider = "openai"\nmodel = "gpt-4o"\n'
    )
    env = make_env("http://127.0.0.1:9", home)
    listed = run_cli("personas", env=env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["default", "business-analyst", "pm"]
    assert lines[2].split()[1:3] == ["openai/gpt-4o", "You"]
    assert "no system prompt" in lines[0]
    shown = run_cli("personas", "pm", env=env)
    assert shown.stdout.endswith("You are a PM.\nBe brief.\n")
    missing = run_cli("personas", "nobody", env=env)
    assert missing.returncode == 2 and "unknown persona 'nobody'" in missing.stderr
