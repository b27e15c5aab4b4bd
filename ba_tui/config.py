"""config.toml: reading it, checking it, changing it without losing its comments."""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ba_tui.errors import BaChatError, ConfigError, UsageError
from ba_tui.paths import config_path


@dataclass(frozen=True)
class Config:
    """config.toml as read; absent keys fall back to built-in defaults."""

    data: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def default_provider(self) -> str | None:
        return self.data.get("default_provider") or None

    @property
    def default_persona(self) -> str | None:
        return self.data.get("default_persona") or None

    @property
    def default_model(self) -> str | None:
        return self.data.get("default_model") or None

    @property
    def providers(self) -> dict[str, dict[str, Any]]:
        value = self.data.get("providers", {})
        return value if isinstance(value, dict) else {}

    def provider(self, name: str) -> dict[str, Any]:
        value = self.providers.get(name, {})
        return value if isinstance(value, dict) else {}

    def number(self, key: str, default: float) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{self.path}: {key} must be a number, not {value!r}")
        return value


def load_config(path: Path | None = None) -> Config:
    """Read config.toml; a missing file is an empty config, a broken one a clear error."""
    path = path or config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config(path=path)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text", "fix or remove the file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}", "fix the file; ba-chat will not overwrite it") from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively.
        raise _too_deep(path) from None
    if _depth(data) > MAX_DEPTH:
        raise _too_deep(path)
    return Config(data=data, path=path)


# tomlkit, which `config set` edits the file with, refuses values nested deeper than this.
MAX_DEPTH = 100


def _too_deep(path: Path) -> ConfigError:
    return ConfigError(
        f"{path} is nested too deeply to read (more than {MAX_DEPTH} levels of tables or lists)",
        "fix the file; ba-chat will not overwrite it",
    )


def _depth(data: Any) -> int:
    """How deeply tables and lists nest in `data`, counted without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(data, 0)]
    while pending:
        value, level = pending.pop()
        children = value.values() if isinstance(value, dict) else value
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        pending += [(child, level + 1) for child in children if isinstance(child, dict | list)]
    return deepest


# --- settings ba-chat knows, for `config set` and `doctor` --------------------------------

# What a value must be: "str", "int", "number", "bool", "list" (of strings), "url",
# "provider" (a known provider's name), "env" (an environment variable name) or a tuple of
# allowed strings. `config set` refuses keys not listed (a file edited by hand keeps them).
TOP_LEVEL: dict[str, Any] = {
    "default_provider": "provider",
    "default_model": "str",
    "default_persona": "str",
    "fallback": "list",
    "theme": "str",
    "retries": "int",
    "stall_timeout": "number",
    "max_reply_seconds": "number",
    "monthly_budget_usd": "number",
    "key_command_timeout": "number",
    "cache": "bool",
    "cache_ttl": "str",
    "auto_title": ("model", "local", "off"),
    "max_tool_steps": "int",
    "tool_result_cap": "int",
    "approve": ("ask", "read-only", "all"),
    "sidebar_ask_threads": ("show", "hide"),
}
# `[tools]`: the built-in tools offered without `--tool`, and which tools compare offers
# (read-only ones by default: a side effect must not run once per model).
TOOLS_KEYS: dict[str, Any] = {"enabled": "list", "compare": ("read-only", "all")}
PROVIDER_KEYS: dict[str, Any] = {
    "base_url": "url",
    "models": "list",
    "default_model": "str",
    "key_command": "str",
    "key_env": "env",
    "key_required": "bool",
    "kind": ("openai-compatible",),
    "label": "str",
    "model_path": "str",
}
PERSONA_KEYS: dict[str, Any] = {
    "system": "str",
    "provider": "provider",
    "model": "str",
    "description": "str",
}
# `[schemas.NAME]`: an answer shape for `ask --schema NAME`, written one of three ways.
SCHEMA_KEYS: dict[str, Any] = {
    "fields": "str",  # a short field list: "title, priority int, criteria list"
    "json": "str",  # a JSON Schema, inline
    "file": "str",  # a JSON Schema file
    "description": "str",
}
# Defaults in effect when a setting is absent (shown by `config show`).
DEFAULTS: dict[str, Any] = {
    "retries": 2,
    "stall_timeout": 60.0,
    "max_reply_seconds": 600.0,
    "key_command_timeout": 30.0,
    "max_tool_steps": 8,
    "tool_result_cap": 20_000,
}
_LIMITS: dict[str, tuple[float, float]] = {
    "retries": (0, 10),
    "stall_timeout": (1, 3600),
    "max_reply_seconds": (1, 86400),
    "key_command_timeout": (1, 3600),
    "monthly_budget_usd": (0, 1e9),
    "max_tool_steps": (1, 100),
    "tool_result_cap": (1000, 10_000_000),
}
# Names under which people paste secrets; `keys set` is the only way in for those.
_SECRET_NAMES = {"api_key", "apikey", "key", "token", "api_token", "secret", "password"}
_TABLES = {"providers": PROVIDER_KEYS, "personas": PERSONA_KEYS, "schemas": SCHEMA_KEYS}
_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _known_providers(data: dict[str, Any]) -> list[str]:
    from ba_tui.providers import all_specs

    try:
        return [spec.name for spec in all_specs(Config(data=data))]
    except BaChatError:
        from ba_tui.providers import BUILTIN

        return list(BUILTIN)


def _spec_for(path: tuple[str, ...]) -> Any:
    if len(path) == 1:
        return TOP_LEVEL.get(path[0])
    if len(path) == 3 and path[0] in _TABLES:
        return _TABLES[path[0]].get(path[2])
    if len(path) == 2 and path[0] == "tools":
        return TOOLS_KEYS.get(path[1])
    return None


def _check(path: tuple[str, ...], value: Any, kind: Any, data: dict[str, Any]) -> str | None:
    """What is wrong with `value` for the setting at `path`, or None."""
    name = ".".join(path)
    if isinstance(kind, tuple):
        return None if value in kind else f"{name} must be one of: {', '.join(kind)}"
    if kind == "list":
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
        return None if ok else f'{name} must be a list of strings, e.g. ["model-a", "model-b"]'
    if kind == "bool":
        return None if isinstance(value, bool) else f"{name} must be true or false"
    if kind in ("int", "number"):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if kind == "int" and not isinstance(value, int):
            number = False
        if not number:
            return f"{name} must be {'a whole number' if kind == 'int' else 'a number'}"
        low, high = _LIMITS.get(path[-1], (float("-inf"), float("inf")))
        if not low <= value <= high:
            return f"{name} must be between {low:g} and {high:g}"
        return None
    if not isinstance(value, str):
        return f"{name} must be a string"
    if kind == "url" and not value.startswith(("http://", "https://")):
        return f"{name} must start with http:// or https://"
    if kind == "env" and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        return f"{name} must be an environment variable name"
    if kind == "provider" and value not in (known := _known_providers(data)):
        return f"unknown provider {value!r} in {name}; choose one of: {', '.join(known)}"
    return None


def problems(data: dict[str, Any]) -> list[str]:
    """Every setting in `data` (parsed config.toml) that ba-chat cannot use, as lines."""
    found: list[str] = []
    for key, value in data.items():
        if key in _TABLES:
            if not isinstance(value, dict):
                found.append(f"{key} must be a table: [{key}.NAME]")
                continue
            for name, table in value.items():
                if not isinstance(table, dict):
                    found.append(f"{key}.{name} must be a table: [{key}.{name}]")
                    continue
                if key == "providers" and table.get("kind") and not table.get("base_url"):
                    found.append(f"providers.{name} has a kind but no base_url; set base_url first")
                for field_name, field_value in table.items():
                    kind = _TABLES[key].get(field_name)
                    if kind is not None and (
                        bad := _check((key, name, field_name), field_value, kind, data)
                    ):
                        found.append(bad)
        elif key == "tools":
            if not isinstance(value, dict):
                found.append("tools must be a table: [tools]")
                continue
            for field_name, field_value in value.items():
                kind = TOOLS_KEYS.get(field_name)
                if kind is not None and (bad := _check((key, field_name), field_value, kind, data)):
                    found.append(bad)
        elif (kind := TOP_LEVEL.get(key)) is not None and (
            bad := _check((key,), value, kind, data)
        ):
            found.append(bad)
    return found


def parse_key(key: str) -> tuple[str, ...]:
    """A dotted key (`providers.openrouter.base_url`, `personas."my pm".system`) as parts."""
    parts: list[str] = []
    rest = key.strip()
    while rest:
        if rest.startswith('"'):
            end = rest.find('"', 1)
            if end < 1:
                break
            parts.append(rest[1:end])
            rest = rest[end + 1 :]
        else:
            match = _BARE.match(rest)
            if not match:
                break
            parts.append(match.group())
            rest = rest[match.end() :]
        if not rest:
            return tuple(parts)
        if not rest.startswith(".") or len(rest) == 1:
            break
        rest = rest[1:]
    raise UsageError(
        f"{key!r} is not a config key",
        "use a dotted name such as default_provider or providers.openrouter.base_url",
    )


def parse_value(raw: str) -> Any:
    """`raw` as a TOML value when it is a number, boolean, quoted string or list; else the
    string itself (`gpt-4o`, `https://…`, a sentence)."""
    import math
    import tomllib

    try:
        parsed = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        return raw
    if list(parsed) != ["v"]:
        return raw
    value = parsed["v"]
    if isinstance(value, float) and not math.isfinite(value):
        return raw
    scalar = (str, bool, int, float)
    if isinstance(value, scalar) or (
        isinstance(value, list) and all(isinstance(item, scalar) for item in value)
    ):
        return value
    return raw


def _coerce(path: tuple[str, ...], raw: str, value: Any) -> Any:
    """Text where the setting wants text (`default_model 4` is the model "4"), a one-item
    list where it wants a list."""
    kind = _spec_for(path)
    if kind in ("str", "url", "provider", "env") or isinstance(kind, tuple):
        return value if isinstance(value, str) else raw
    if kind == "list" and isinstance(value, str):
        return [value]
    return value


def secret_name(name: str) -> bool:
    """Whether a setting's name says it holds a secret (`api_key`, `token`, …)."""
    return name.lower() in _SECRET_NAMES


def _refuse_secrets(path: tuple[str, ...], value: Any) -> None:
    from ba_tui.keys import looks_like_key

    provider = path[1] if len(path) > 2 and path[0] == "providers" else "PROVIDER"
    hint = f"store keys in the OS keyring with `ba-chat keys set {provider}`"
    if secret_name(path[-1]):
        raise UsageError(f"ba-chat does not keep API keys in config.toml ({'.'.join(path)})", hint)
    texts = value if isinstance(value, list) else [value]
    if any(isinstance(text, str) and looks_like_key(text) for text in texts):
        raise UsageError(f"the value for {'.'.join(path)} looks like an API key; not saved", hint)


def set_value(key: str, raw: str, path: Path | None = None) -> Any:
    """Set one setting in config.toml, keeping the file's comments and order.

    Returns the value stored. A malformed file, a setting ba-chat does not read, an invalid
    value or anything that looks like a key raises UsageError/ConfigError and leaves the
    file as it was.
    """
    path = path or config_path()
    parts = parse_key(key)
    value = _coerce(parts, raw, parse_value(raw))
    _refuse_secrets(parts, value)
    current = load_config(path)  # a broken file stops here, untouched
    old_problems = problems(current.data)

    import tomlkit

    text = path.read_text("utf-8") if path.exists() else ""
    doc = tomlkit.parse(text)
    _assign(doc, parts, value)
    new_text = tomlkit.dumps(doc)
    if new_text.endswith("\n\n") and not text.endswith("\n\n"):
        new_text = new_text.rstrip("\n") + "\n"

    import tomllib

    new_data = tomllib.loads(new_text)
    stored: Any = new_data
    for part in parts:
        stored = stored.get(part) if isinstance(stored, dict) else None
    if stored != value:  # tomlkit could not express it faithfully; write nothing
        raise ConfigError(f"cannot store that value for {key} in {path}", "edit the file by hand")
    new_problems = [bad for bad in problems(new_data) if bad not in old_problems]
    if new_problems:
        raise UsageError(new_problems[0], "config.toml was not changed")
    if _spec_for(parts) is None:
        raise _unknown_setting(parts)
    _write_atomic(path, new_text)
    return value


def settings() -> dict[str, Any]:
    """Every setting ba-chat reads, by dotted name (`providers.NAME.base_url`), with the
    kind of value it takes (as in TOP_LEVEL)."""
    found = dict(TOP_LEVEL)
    for table, keys in _TABLES.items():
        found.update({f"{table}.NAME.{key}": kind for key, kind in keys.items()})
    return found


def describe(kind: Any) -> str:
    """What a value of `kind` must be, in words (`a whole number`, `one of: a, b`)."""
    if isinstance(kind, tuple):
        return f"one of: {', '.join(kind)}"
    return _KIND_WORDS.get(kind, kind)


_KIND_WORDS = {
    "str": "text",
    "int": "a whole number",
    "number": "a number",
    "bool": "true or false",
    "list": 'a list of strings, e.g. ["a", "b"]',
    "url": "a URL (http:// or https://)",
    "provider": "a provider's name",
    "env": "an environment variable's name",
}


def _unknown_setting(parts: tuple[str, ...]) -> UsageError:
    """The error for a setting ba-chat does not read: a typo saved with a note would be
    ignored from then on, so nothing is written and the nearest names are offered."""
    from ba_tui.spelling import closest

    name = ".".join(parts)
    table = len(parts) == 3 and parts[0] in _TABLES
    # A table's keys are matched on their last part: the shared prefix would make every
    # key of the table look alike.
    close = closest(parts[-1], _TABLES[parts[0]]) if table else closest(name, TOP_LEVEL)
    if table:
        close = [f"{parts[0]}.{parts[1]}.{known}" for known in close]
    guess = f" (did you mean {' or '.join(close)}?)" if close else ""
    return UsageError(
        f"ba-chat has no setting {name!r}{guess}; config.toml was not changed",
        "see the settings with `ba-chat config list`",
    )


def _assign(doc: Any, parts: tuple[str, ...], value: Any) -> None:
    import tomlkit
    from tomlkit.items import InlineTable

    if isinstance(value, str) and "\n" in value and "\r" not in value:
        value = tomlkit.string(value, multiline=True)
    container: Any = doc
    for depth, part in enumerate(parts[:-1]):
        if part not in container:
            container[part] = _tables(
                parts[depth + 1 :], value, inline=isinstance(container, InlineTable)
            )
            return
        child = container[part]
        if not isinstance(child, dict):
            raise UsageError(
                f"{'.'.join(parts[: depth + 1])} is a value in config.toml, not a table",
                "config.toml was not changed",
            )
        container = child
    existing = container.get(parts[-1])
    if isinstance(existing, dict):
        raise UsageError(
            f"{'.'.join(parts)} is a table in config.toml; set one of its keys instead",
            "config.toml was not changed",
        )
    container[parts[-1]] = value


def _tables(parts: tuple[str, ...], value: Any, *, inline: bool) -> Any:
    """New nested tables holding `value` at `parts`: `[a.b]` headers, or inline if the
    surrounding table is inline."""
    import tomlkit

    table: Any
    if len(parts) == 1:
        if inline:
            table = tomlkit.inline_table()
            table[parts[0]] = value
            return table
        table = tomlkit.table()
        table[parts[0]] = value
        table.add(tomlkit.nl())
        return table
    child = _tables(parts[1:], value, inline=inline)
    table = tomlkit.inline_table() if inline else tomlkit.table(is_super_table=True)
    table[parts[0]] = child
    return table


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and rename, so a crash never leaves
    half a config behind. A symlinked config.toml (a dotfiles repo) stays a symlink: the
    file it points to is the one replaced."""
    import tempfile

    from ba_tui.private import FILE_MODE, make_dir

    path = path.resolve() if path.is_symlink() else path
    try:
        make_dir(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=".config.", suffix=".toml.tmp", dir=path.parent)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)  # it may hold personas' prompts and endpoints: private
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None


def add_mcp_servers(found: dict[str, Any], path: Path | None = None) -> tuple[list[str], list[str]]:
    """Add `[mcp.servers.NAME]` tables from an `mcpServers` object (the format Claude
    Desktop, Cursor and others use); names already in config.toml are kept as they are.
    Returns (the names added, a note for each one skipped)."""
    import tomlkit

    path = path or config_path()
    load_config(path)  # a broken file stops here, untouched
    text = path.read_text("utf-8") if path.exists() else ""
    doc = tomlkit.parse(text)
    mcp = doc.setdefault("mcp", tomlkit.table(is_super_table=True))
    tables = mcp.setdefault("servers", tomlkit.table(is_super_table=True))
    added, skipped = [], []
    for name, raw in found.items():
        server = _mcp_server(raw)
        if name in tables:
            skipped.append(f"ba-chat: {name} is in config.toml already; kept as it is")
        elif server is None or "." in name:
            skipped.append(f"ba-chat: {name} has neither a command nor a url; left out")
        else:
            tables[name] = server
            added.append(name)
    if added:
        _write_atomic(path, tomlkit.dumps(doc))
    return added, skipped


def _mcp_server(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    if isinstance(raw.get("command"), str):
        server: dict[str, Any] = {"command": raw["command"]}
        if isinstance(raw.get("args"), list):
            server["args"] = [str(arg) for arg in raw["args"]]
        if isinstance(raw.get("env"), dict) and raw["env"]:
            server["env"] = {str(k): str(v) for k, v in raw["env"].items()}
        return server
    url = raw.get("url") or raw.get("serverUrl")
    if isinstance(url, str):
        server = {"url": url}
        if isinstance(raw.get("headers"), dict) and raw["headers"]:
            server["headers"] = {str(k): str(v) for k, v in raw["headers"].items()}
        return server
    return None
