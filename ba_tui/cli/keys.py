"""`ba-chat keys set|list|delete` (API keys in the OS keyring) and `ba-chat config
path|show|set` (config.toml). No key is ever printed, and none is written outside the
keyring."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from ba_tui.cli import complete
from ba_tui.cli.app import app, terminal_safe, utf8, warn

if TYPE_CHECKING:
    from ba_tui.providers import ProviderSpec

keys_app = typer.Typer(
    name="keys",
    help="Store API keys in the OS keyring; see where keys come from.\n\n"
    "No key is ever printed, and none is written outside the keyring.",
    rich_markup_mode=None,
    no_args_is_help=True,
)
config_app = typer.Typer(
    name="config",
    help="Show and change config.toml.",
    rich_markup_mode=None,
    no_args_is_help=True,
)
app.add_typer(keys_app)
app.add_typer(config_app)


def _print(line: str) -> None:
    from ba_tui.keys import redact

    line = redact(line)
    print(terminal_safe(line) if sys.stdout.isatty() else line, flush=True)


def _env_in_use(spec: ProviderSpec) -> str | None:
    import os

    return next((var for var in spec.key_env if os.environ.get(var, "").strip()), None)


# --- keys ---------------------------------------------------------------------------------


def hidden_or_piped(prompt: str) -> str:
    """A secret typed at a hidden prompt on a terminal, or read whole from stdin when
    piped (never echoed, never an argument that `ps` and shell history would keep);
    stripped, "" when nothing came."""
    stream = sys.stdin
    if stream is not None and not stream.closed and stream.isatty():
        import getpass

        try:
            return getpass.getpass(prompt).strip()
        except EOFError:
            return ""
    try:
        return (stream.read() if stream is not None and not stream.closed else "").strip()
    except (OSError, ValueError):
        return ""


def _read_key(spec: ProviderSpec) -> str:
    """The key from a hidden prompt on a terminal, or from stdin when piped."""
    from ba_tui.errors import UsageError

    key = hidden_or_piped(f"{spec.label} API key (input hidden): ")
    if not key:
        raise UsageError(
            f"no key given for {spec.name}",
            f'paste it at the prompt, or pipe it in: echo "$KEY" | ba-chat keys set {spec.name}',
        )
    if any(char.isspace() or not char.isprintable() for char in key):
        raise UsageError(
            "the key contains spaces, line breaks or control characters",
            "pass the key alone, one line, nothing else; nothing was stored",
        )
    return key


@keys_app.command("set")
def keys_set(
    provider: str = typer.Argument(
        ..., help="Provider name, e.g. openai.", autocompletion=complete.providers
    ),
) -> None:
    """Store a provider's API key in the OS keyring.

    The key is asked for with a hidden prompt, or read from stdin when piped.
    """
    from ba_tui.config import load_config
    from ba_tui.errors import UsageError
    from ba_tui.keys import keyring_problem, no_keyring, remember, store_key
    from ba_tui.providers import get_spec

    spec = get_spec(provider, load_config())
    if not spec.key_env and not spec.key_required:
        raise UsageError(f"{spec.name} needs no key", "it runs on this machine")
    # Say so before asking for a key that could not be kept.
    if problem := keyring_problem():
        raise no_keyring(spec, problem)
    key = remember(_read_key(spec))
    backend = store_key(spec, key)
    _print(f"stored the {spec.name} key in the OS keyring ({backend})")
    if var := _env_in_use(spec):
        warn(f"note: {var} is set and is used before the keyring; unset it to use this key")


@keys_app.command("list")
def keys_list(
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show where each provider's key comes from (never the key)."""
    import json

    from ba_tui.config import load_config
    from ba_tui.keys import key_source, keyring_problem
    from ba_tui.providers import all_specs

    config = load_config()
    rows = [
        {"provider": spec.name, "source": key_source(spec, config)} for spec in all_specs(config)
    ]
    if json_out:
        print(json.dumps(rows, indent=2))
    else:
        width = max(len(row["provider"]) for row in rows)
        for row in rows:
            _print(f"{row['provider']:<{width}}  {row['source']}")
    if problem := keyring_problem():
        warn(f"note: {problem}; keys come from the environment or key_command")


@keys_app.command("delete")
def keys_delete(
    provider: str = typer.Argument(
        ..., help="Provider name, e.g. openai.", autocompletion=complete.providers
    ),
) -> None:
    """Remove a provider's key from the OS keyring."""
    from ba_tui.config import load_config
    from ba_tui.keys import delete_key, keyring_problem
    from ba_tui.providers import get_spec

    spec = get_spec(provider, load_config())
    if problem := keyring_problem():
        _print(f"no {spec.name} key to delete: {problem}")
    elif delete_key(spec):
        _print(f"deleted the {spec.name} key from the OS keyring")
    else:
        _print(f"there was no {spec.name} key in the OS keyring; nothing deleted")
    if var := _env_in_use(spec):
        warn(f"note: {var} is still set and provides a {spec.name} key")


# --- config -------------------------------------------------------------------------------


def _masked(value: Any, name: str = "") -> Any:
    """A copy of config data with keys masked: `api_key` and the like, and key shapes."""
    from ba_tui.config import secret_name
    from ba_tui.keys import redact

    if isinstance(value, dict):
        return {key: _masked(item, key) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    if name and secret_name(name):
        return "[redacted]"
    return redact(value) if isinstance(value, str) else value


def _toml(data: dict[str, Any]) -> str:
    import tomlkit

    def item(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: item(inner) for key, inner in value.items()}
        if isinstance(value, str) and "\n" in value and "\r" not in value:
            return tomlkit.string(value, multiline=True)
        return value

    return tomlkit.dumps(item(data))


@config_app.command("path")
def config_path_command() -> None:
    """Print where config.toml lives (it may not exist yet)."""
    from ba_tui.paths import config_path

    print(config_path())


@config_app.command("show")
def config_show(
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print config.toml and the defaults in effect.

    Anything that looks like a key is masked.
    """
    import json

    from ba_tui.config import DEFAULTS, load_config, problems

    config = load_config()
    data = _masked(config.data)
    defaults = {key: value for key, value in DEFAULTS.items() if key not in data}
    for problem in problems(config.data):
        warn(f"warning: {config.path}: {problem}")
    if json_out:
        print(json.dumps({"path": str(config.path), "settings": data, "defaults": defaults}))
        return
    exists = config.path is not None and config.path.exists()
    lines = [f"# {config.path}" + ("" if exists else " (not created yet)")]
    body = _toml(data).strip("\n")
    if body:
        lines += ["", body]
    if defaults:
        lines += ["", "# defaults in effect:"]
        lines += [f"# {key} = {json.dumps(value)}" for key, value in defaults.items()]
    _print("\n".join(lines))


@config_app.command("list")
def config_list() -> None:
    """List every setting ba-chat reads and the value each takes."""
    from ba_tui.config import describe, settings

    known = settings()
    width = max(len(name) for name in known)
    for name, kind in known.items():
        print(f"{name:<{width}}  {describe(kind)}")


@config_app.command("set")
def config_set(
    key: str = typer.Argument(..., help="Dotted key, e.g. default_provider or theme."),
    value: str = typer.Argument(
        ..., help="Value; numbers and true/false are typed.", callback=utf8
    ),
) -> None:
    """Set one setting in config.toml, keeping its comments and order."""
    import tomlkit

    from ba_tui.config import set_value
    from ba_tui.paths import config_path

    stored = set_value(key, value)
    shown = tomlkit.item(stored).as_string()
    if "\n" in shown:
        shown = shown.splitlines()[0] + " …"
    _print(f"{key} = {shown}  ({config_path()})")
