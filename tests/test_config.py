"""config.toml: where it lives, `config show` and `config set` (comments and order kept,
values typed and checked, keys refused, a broken file never overwritten)."""

from __future__ import annotations

import os
import tomllib

import pytest

from ba_tui.config import config_path, load_config, parse_key, parse_value, problems, set_value
from ba_tui.errors import ConfigError, UsageError
from tests.conftest import make_env, run_cli

USER_FILE = """\
# my ba-chat settings
default_provider = "anthropic"  # the one I pay for

[providers.ollama]
# the box under the desk
base_url = "http://desk:11434/v1"

[personas.pm]
system = "You are a product manager."
"""


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.setenv("BA_CHAT_HOME", str(tmp_path / "home"))
    return config_path()


def test_paths_follow_ba_chat_home(cfg, tmp_path):
    assert cfg == tmp_path / "home" / "config.toml"
    assert load_config().data == {}


def test_set_keeps_comments_and_order_and_types_values(cfg):
    cfg.parent.mkdir()
    cfg.write_text(USER_FILE)
    set_value("retries", "3")
    set_value("stall_timeout", "90.5")
    set_value("default_provider", "openai")
    set_value("providers.ollama.models", '["llama3.2", "qwen3"]')
    set_value("providers.openrouter.base_url", "https://openrouter.ai/api/v1")
    set_value("providers.openrouter.key_required", "true")
    set_value("personas.pm.model", "4")  # a model id, kept as text
    set_value("personas.qa.system", "You test things.\nBe thorough.")
    text = cfg.read_text()
    assert text.startswith("# my ba-chat settings\n")
    assert 'default_provider = "openai"  # the one I pay for' in text
    assert "# the box under the desk" in text
    assert text.index("[providers.ollama]") < text.index("[providers.openrouter]")
    assert text.index("[providers.openrouter]") < text.index("[personas.pm]")
    assert "\n\n[personas.pm]" in text  # a new table does not glue itself to the next one
    data = tomllib.loads(text)
    assert data["retries"] == 3 and data["stall_timeout"] == 90.5
    assert data["providers"]["ollama"]["models"] == ["llama3.2", "qwen3"]
    assert data["providers"]["openrouter"] == {
        "base_url": "https://openrouter.ai/api/v1",
        "key_required": True,
    }
    assert data["personas"]["pm"] == {"system": "You are a product manager.", "model": "4"}
    assert data["personas"]["qa"]["system"] == "You test things.\nBe thorough."
    assert '"""You test things.\nBe thorough."""' in text


def test_set_creates_the_folder_and_leaves_no_temporary_files(cfg):
    assert not cfg.parent.exists()
    assert set_value("theme", "gruvbox") == "gruvbox"
    assert cfg.read_text() == 'theme = "gruvbox"\n'
    assert os.listdir(cfg.parent) == ["config.toml"]


def test_set_through_a_symlink_keeps_the_link(cfg, tmp_path):
    dotfiles = tmp_path / "dotfiles" / "ba-chat.toml"
    dotfiles.parent.mkdir()
    dotfiles.write_text("# tracked in git\n")
    cfg.parent.mkdir()
    cfg.symlink_to(dotfiles)
    set_value("theme", "nord")
    assert cfg.is_symlink()
    assert dotfiles.read_text() == '# tracked in git\ntheme = "nord"\n'


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "default_provider",
            "openia",
            "unknown provider 'openia' in default_provider; choose one of: anthropic, openai",
        ),
        ("retries", "many", "retries must be a whole number"),
        ("retries", "50", "retries must be between 0 and 10"),
        ("stall_timeout", "true", "stall_timeout must be a number"),
        ("providers.lan.base_url", "lan:8080", "must start with http:// or https://"),
        ("providers.lan.kind", "openai-compatible", "has a kind but no base_url"),
        ("personas.pm.provider", "nobody", "unknown provider 'nobody'"),
        ("personas.new", "x", "personas.new must be a table"),
        ("personas.pm", "x", "personas.pm is a table in config.toml"),
        ("providers.openai.api_key", "abc123456789", "does not keep API keys in config.toml"),
        ("providers.lan.token", "abc123456789", "ba-chat keys set lan"),
        ("theme", "sk-proj-abcdef123456", "looks like an API key"),
        ("providers.openai.key_command", "echo sk-abcdef123456", "looks like an API key"),
        ("providers..x", "1", "is not a config key"),
    ],
)
def test_set_refuses_what_ba_chat_cannot_use(cfg, key, value, message):
    cfg.parent.mkdir()
    cfg.write_text(USER_FILE)
    with pytest.raises(UsageError) as caught:
        set_value(key, value)
    assert message in caught.value.line()
    assert cfg.read_text() == USER_FILE


@pytest.mark.parametrize(
    ("key", "guess"),
    [
        ("bogus_key", ""),
        ("tui.sidebar", ""),
        ("default_modle", " (did you mean default_model?)"),
        ("personas.pm.sytem", " (did you mean personas.pm.system?)"),
        ("providers.ollama.base_ur", " (did you mean providers.ollama.base_url?)"),
    ],
)
def test_set_refuses_a_setting_ba_chat_does_not_read(home, key, guess):
    """A typo saved "with a note" would be ignored from then on: refused, nothing written,
    the nearest names offered and the command that lists them all."""
    env = make_env("http://127.0.0.1:9", home)
    (home / "config.toml").write_text(USER_FILE)
    done = run_cli("config", "set", key, "1", env=env)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"ba-chat: error: ba-chat has no setting '{key}'{guess}; config.toml was not changed; "
        "see the settings with `ba-chat config list`"
    ]
    assert done.stdout == ""
    assert (home / "config.toml").read_text() == USER_FILE


def test_config_list_names_every_setting_it_takes(home):
    env = make_env("http://127.0.0.1:9", home)
    done = run_cli("config", "list", env=env)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split(None, 1)[1] for line in done.stdout.splitlines()}
    assert rows["default_model"] == "text"
    assert rows["retries"] == "a whole number"
    assert rows["providers.NAME.base_url"] == "a URL (http:// or https://)"
    assert rows["providers.NAME.kind"] == "one of: openai-compatible"
    assert rows["personas.NAME.system"] == "text"
    assert not (home / "config.toml").exists()


def test_set_into_inline_and_dotted_tables(cfg):
    cfg.parent.mkdir()
    cfg.write_text(
        'providers = { ollama = { base_url = "http://a/v1" } }\npersonas.pm.system = "x"\n'
    )
    set_value("providers.deepseek.base_url", "https://b/v1")
    set_value("personas.pm.model", "m")
    data = tomllib.loads(cfg.read_text())
    assert data["providers"]["deepseek"] == {"base_url": "https://b/v1"}
    assert data["personas"]["pm"] == {"system": "x", "model": "m"}
    with pytest.raises(UsageError, match="is a table"):
        set_value("providers.ollama", "x")


def test_parse_key_and_value():
    assert parse_key('personas."my pm".system') == ("personas", "my pm", "system")
    assert parse_value("3") == 3 and parse_value("0.5") == 0.5 and parse_value("false") is False
    assert parse_value('"007"') == "007"
    assert parse_value("gpt-4o") == "gpt-4o"
    assert parse_value("2024-01-01") == "2024-01-01"  # dates stay text
    assert parse_value("1\nx = 2") == "1\nx = 2"  # one value, never extra keys
    assert parse_value("nan") == "nan"


def test_problems_lists_settings_that_cannot_work():
    data = {"retries": "x", "providers": {"lan": {"kind": "openai-compatible"}}, "personas": 3}
    assert problems(data) == [
        "retries must be a whole number",
        "providers.lan has a kind but no base_url; set base_url first",
        "personas must be a table: [personas.NAME]",
    ]


def test_cli_path_show_and_set(home):
    env = make_env("http://127.0.0.1:9", home)
    (home / "config.toml").write_text(
        USER_FILE
        + '\n[providers.lan]\nkind = "openai-compatible"\nbase_url = "http://lan/v1"\n'
        + 'api_key = "plain-secret-123"\n'
    )
    path = run_cli("config", "path", env=env)
    assert path.stdout.strip() == str(home / "config.toml")

    done = run_cli("config", "set", "retries", "4", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"retries = 4  ({home / 'config.toml'})"

    shown = run_cli("config", "show", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "plain-secret-123" not in shown.stdout
    assert 'api_key = "[redacted]"' in shown.stdout
    assert "retries = 4" in shown.stdout
    assert "# stall_timeout = 60.0" in shown.stdout  # a default in effect
    assert tomllib.loads(shown.stdout)["providers"]["ollama"]["base_url"] == "http://desk:11434/v1"


def test_cli_never_overwrites_a_broken_file(home):
    env = make_env("http://127.0.0.1:9", home)
    broken = b'default_provider = "openai"\n\n[providers.ollama\nbase_url = 1\n'
    (home / "config.toml").write_bytes(broken)
    for args in (("config", "set", "theme", "dark"), ("config", "show")):
        done = run_cli(*args, env=env)
        assert done.returncode == 2
        line = done.stderr.strip()
        assert len(line.splitlines()) == 1 and "Traceback" not in line
        assert str(home / "config.toml") in line and "line 3" in line
    assert (home / "config.toml").read_bytes() == broken
    assert os.listdir(home) == ["config.toml"]


def test_load_config_names_file_and_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("a = 1\nb = \n")
    with pytest.raises(ConfigError, match=r"config\.toml: .*line 2"):
        load_config(path)


DEEP = {
    "arrays": "a = " + "[" * 100_000 + "]" * 100_000 + "\n",
    "inline-tables": "a = " + "{b = " * 100_000 + "1" + "}" * 100_000 + "\n",
    "one-past-the-limit": "a = " + "[" * 101 + "]" * 101 + "\n",
}


@pytest.mark.parametrize("text", DEEP.values(), ids=DEEP)
def test_a_deeply_nested_file_is_one_line_and_left_alone(home, text):
    env = make_env("http://127.0.0.1:9", home)
    path = home / "config.toml"
    path.write_text(text)
    for args in (("config", "set", "theme", "dark"), ("ask", "--no-save", "hi")):
        done = run_cli(*args, env=env)
        assert done.returncode == 2, done.stderr
        assert done.stderr.splitlines() == [
            f"ba-chat: error: {path} is nested too deeply to read (more than 100 levels of "
            "tables or lists); fix the file; ba-chat will not overwrite it"
        ]
    assert path.read_text() == text
    assert os.listdir(home) == ["config.toml"]


def test_nesting_up_to_the_limit_still_reads(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("a = " + "[" * 100 + "]" * 100 + "\n")
    value = load_config(path).data["a"]
    for _ in range(99):
        (value,) = value
    assert value == []
    path.write_text("[" + ".".join(["t"] * 101) + "]\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(path)
