"""`ba-chat personas`: the built-in personas and the user's own from config.toml."""

from __future__ import annotations

import sys

import typer

from ba_tui.cli import complete
from ba_tui.cli.app import app, terminal_safe


def _print(text: str) -> None:
    print(terminal_safe(text) if sys.stdout.isatty() else text, flush=True)


@app.command()
def personas(
    name: str | None = typer.Argument(
        None, help="Show this persona in full.", autocompletion=complete.personas
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List personas, or show one in full.

    Use one with `ba-chat ask --persona NAME`.
    """
    import json
    from dataclasses import asdict

    from ba_tui.config import load_config
    from ba_tui.personas import all_personas, get_persona

    config = load_config()
    chosen = [get_persona(name, config)] if name else all_personas(config)
    if json_out:
        print(json.dumps([asdict(persona) for persona in chosen], indent=2, ensure_ascii=False))
        return
    if name:
        persona = chosen[0]
        _print(f"name: {persona.name}")
        _print(f"provider: {persona.provider or '(default)'}")
        _print(f"model: {persona.model or '(default)'}")
        if persona.description:
            _print(f"description: {persona.description}")
        _print("")
        _print(persona.system or "(no system prompt)")
        return
    rows = []
    for persona in chosen:
        where = "/".join(part for part in (persona.provider, persona.model) if part)
        rows.append((persona.name, where, persona.summary))
    name_width = max(len(row[0]) for row in rows)
    where_width = max(len(row[1]) for row in rows)
    for persona_name, where, summary in rows:
        column = f"{where:<{where_width}}  " if where_width else ""
        _print(f"{persona_name:<{name_width}}  {column}{summary}".rstrip())
