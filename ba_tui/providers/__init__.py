"""The provider registry: what each provider is called, where its key and endpoint live.

Importing this module imports no SDK. `adapter(spec)` imports the one adapter (and so the
one SDK) a turn needs, the first time it is needed.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING

from ba_tui.errors import MissingKey, UsageError
from ba_tui.providers.spec import (
    BUILTIN,
    OFFLINE_INSTALL,
    OFFLINE_NOTICE,
    ChatMessage,
    ChatRequest,
    ProviderSpec,
    Target,
    ToolSpec,
)

__all__ = [
    "BUILTIN",
    "OFFLINE_INSTALL",
    "OFFLINE_NOTICE",
    "ChatMessage",
    "ChatRequest",
    "ProviderSpec",
    "Target",
    "ToolSpec",
]

if TYPE_CHECKING:
    from ba_tui.config import Config


def _custom(name: str, settings: dict) -> ProviderSpec | None:
    if settings.get("kind") != "openai-compatible":
        return None
    if not settings.get("base_url"):
        raise UsageError(
            f"provider {name!r} in config.toml has no base_url",
            f"add base_url under [providers.{name}]",
        )
    env = str(settings.get("key_env") or f"{name.upper().replace('-', '_')}_API_KEY")
    return ProviderSpec(
        name=name,
        label=str(settings.get("label") or name),
        kind="openai",
        key_env=(env,),
        base_url_env=None,
        default_base_url=str(settings["base_url"]),
        default_model=str(settings.get("default_model") or (settings.get("models") or [""])[0]),
        key_required=bool(settings.get("key_required", False)),
    )


def all_specs(config: Config) -> list[ProviderSpec]:
    """Built-ins first, then the custom endpoints declared in config, in file order."""
    specs = list(BUILTIN.values())
    for name, settings in config.providers.items():
        if name not in BUILTIN and isinstance(settings, dict) and (spec := _custom(name, settings)):
            specs.append(spec)
    return specs


def get_spec(name: str, config: Config) -> ProviderSpec:
    for spec in all_specs(config):
        if spec.name == name:
            return spec
    valid = ", ".join(spec.name for spec in all_specs(config))
    raise UsageError(f"unknown provider {name!r}", f"choose one of: {valid}")


def base_url_for(spec: ProviderSpec, config: Config) -> str:
    if spec.base_url_env and (value := os.environ.get(spec.base_url_env, "").strip()):
        return value
    return str(config.provider(spec.name).get("base_url") or spec.default_base_url)


def offline_available(config: Config) -> bool:
    """Whether the built-in offline model can answer here (xllamacpp and its model file are
    installed); cheap: imports neither."""
    from ba_tui.providers import local

    return local.available(config.provider("local"))


def default_provider(config: Config) -> ProviderSpec:
    """config's default_provider, else the first provider that has a key, else the
    built-in offline model when it is installed."""
    from ba_tui.keys import lookup_key

    if config.default_provider:
        return get_spec(config.default_provider, config)
    for spec in all_specs(config):
        if spec.key_required and lookup_key(spec, config)[0]:
            return spec
    if offline_available(config):
        return BUILTIN["local"]
    raise MissingKey(
        "no provider has an API key yet",
        "set one, e.g. export ANTHROPIC_API_KEY=… or `ba-chat keys set openai`, "
        "or use a local server with `-p ollama`",
        tui_hint="add one in Settings (Ctrl+S), or choose Ollama with Ctrl+O",
    )


def default_model(spec: ProviderSpec, config: Config) -> str:
    """The model a turn on `spec` uses when none is named: config's default_model when
    this is the default provider, else the provider's own default."""
    if config.default_model and spec.name == (config.default_provider or spec.name):
        return config.default_model
    return str(config.provider(spec.name).get("default_model") or spec.default_model)


def starting_model(spec: ProviderSpec, config: Config) -> str:
    """The exact model id a new thread on `spec` starts with, as `resolve` would choose."""
    from ba_tui.models import resolve_model

    return resolve_model(spec.name, default_model(spec, config))


def resolve(provider: str | None, model: str | None, config: Config) -> Target:
    """Pick the provider, model, endpoint and key for a turn; fail early with a clear line."""
    from ba_tui.keys import explain_key
    from ba_tui.models import resolve_model

    spec = get_spec(provider, config) if provider else default_provider(config)
    model = model or default_model(spec, config)
    if not model:
        raise UsageError(
            f"no model chosen for {spec.name}",
            f"pass -m MODEL or set default_model under [providers.{spec.name}]",
        )
    key, source, why = explain_key(spec, config)
    if key is None and spec.key_required:
        if why:  # a key_command is configured and gave none: say what it did
            raise MissingKey(
                f"no API key for {spec.name}: {why}",
                f"check key_command under [providers.{spec.name}] in config.toml",
                provider=spec.name,
            )
        raise MissingKey(
            f"no API key for {spec.name}",
            f"set {spec.key_env[0]} or run `ba-chat keys set {spec.name}`",
            provider=spec.name,
            tui_hint=f"add one in Settings (Ctrl+S), or set {spec.key_env[0]}",
        )
    settings = config.provider(spec.name)
    return Target(
        spec, resolve_model(spec.name, model), base_url_for(spec, config), key, source, settings
    )


def fallback_targets(specs: object, config: Config) -> tuple[list[Target], list[str]]:
    """Targets from `provider:model` strings (`--fallback` or config's `fallback`); one
    whose key is missing is skipped, with a note saying so."""
    targets, skipped = [], []
    for spec in specs if isinstance(specs, list) else [specs]:
        provider, _, model = str(spec).partition(":")
        if not provider:
            raise UsageError(f"bad fallback {spec!r}", "write it as provider:model")
        try:
            targets.append(resolve(provider, model or None, config))
        except MissingKey as exc:
            skipped.append(f"fallback {spec} skipped: {exc.line()}")
    return targets, skipped


def adapter(spec: ProviderSpec) -> ModuleType:
    """The adapter module for a spec; importing it imports that provider's SDK."""
    return importlib.import_module(f"ba_tui.providers.{spec.kind}")


def warm_up(spec: ProviderSpec, config: Config) -> None:
    """Get `spec` ready for its first turn, off the UI thread: import its adapter and SDK,
    and where the adapter has more to do (the offline model: start its server and load
    the model, ~1.5 s) do that too. Blocking; errors are left for the turn to report."""
    module = adapter(spec)
    prepare = getattr(module, "warm_up", None)
    if prepare is not None:
        prepare(config.provider(spec.name))


async def live_models(target: Target) -> list[str]:
    """The provider's own list of the models it can chat with. Every live list (the
    picker's, `ba-chat models --refresh`) comes through here, so non-chat models such as
    `text-embedding-3-small` are left out in one place."""
    from ba_tui.models import can_chat

    names = await adapter(target.spec).list_models(target)
    return [str(name) for name in names if can_chat(str(name))]
