"""Completion candidates: what Tab offers for a provider, model, persona or thread.

Each callback imports what it reads inside its body, so `ba-chat --help` pays nothing for
them, and never fails: a broken config or a missing store means fewer candidates, not an
error (`completion.py` has the shell side).
"""

from __future__ import annotations

from typing import Any

import typer


def _config() -> Any:
    from ba_tui.config import Config, load_config

    try:
        return load_config()
    except Exception:  # a broken config.toml: complete the built-ins
        return Config()


def _specs(config: Any) -> list[Any]:
    from ba_tui.providers import BUILTIN, all_specs

    try:
        return all_specs(config)
    except Exception:
        return list(BUILTIN.values())


def providers(incomplete: str) -> list[tuple[str, str]]:
    """Built-in providers and the custom ones from config.toml."""
    return [(spec.name, spec.label) for spec in _specs(_config())]


def _models_of(provider: str, config: Any) -> list[tuple[str, str]]:
    from ba_tui.models import catalog

    found = []
    for entry in catalog(provider):
        found.append((entry.id, entry.note or provider))
        found += [(alias, f"{provider}: {entry.id}") for alias in entry.aliases]
    try:
        configured = config.provider(provider).get("models") or []
    except Exception:
        configured = []
    found += [(str(model), f"{provider}: from config.toml") for model in configured]
    return found


def models(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Model ids and aliases of the provider given with -p, else of every provider."""
    config = _config()
    chosen = ctx.params.get("provider")
    names = [chosen] if chosen else [spec.name for spec in _specs(config)]
    return list(dict(pair for name in names for pair in _models_of(name, config)).items())


def targets(incomplete: str) -> list[tuple[str, str]]:
    """`provider` and `provider:model` for --compare and --fallback."""
    config = _config()
    found = []
    for spec in _specs(config):
        found.append((spec.name, f"{spec.label}, its default model"))
        found += [(f"{spec.name}:{model}", note) for model, note in _models_of(spec.name, config)]
    return found


def personas(incomplete: str) -> list[tuple[str, str]]:
    """Built-in personas and the user's own."""
    from ba_tui.personas import all_personas

    try:
        return [(persona.name, _one_line(persona.summary)) for persona in all_personas(_config())]
    except Exception:
        return []


def threads(incomplete: str) -> list[tuple[str, str]]:
    """Ids of the latest threads, each with its title; nothing before the store exists
    (completing must not create it)."""
    from ba_tui.paths import db_path

    if not db_path().is_file():
        return []
    from ba_tui.store import Store

    try:
        with Store.open() as store:
            return [(t.id, _one_line(t.title)) for t in store.list_threads(limit=100)]
    except Exception:
        return []


def _one_line(text: str) -> str:
    """A title as zsh and fish show it beside a candidate: one line, and no escape
    sequences (a title can come from a model's reply or an imported file)."""
    from ba_tui.sanitize import inert

    return " ".join(inert(text).split())


def export_formats(incomplete: str) -> list[tuple[str, str]]:
    return [("md", "Markdown, to read"), ("json", "to keep or import"), ("jsonl", "one row a line")]


def usage_groups(incomplete: str) -> list[str]:
    return ["provider", "model", "day"]
