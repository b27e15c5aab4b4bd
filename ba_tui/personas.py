"""Personas: a named system prompt, optionally with its own provider and model.

Two are built in (`default`: no system prompt; `business-analyst`). The user's own come
from `[personas.NAME]` tables in config.toml; one with a built-in's name overrides it,
and fields it leaves out keep the built-in's values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ba_tui.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from ba_tui.config import Config

BUSINESS_ANALYST = """\
You are an experienced business analyst. You help people turn ideas, problems and rough \
requests into clear, testable requirements.

How you work:
- Understand before you write. When a request is ambiguous or missing something that \
matters (who the users are, the goal, scope, constraints, volumes, deadlines, systems \
involved), ask a few focused clarifying questions first, most important first, instead of \
guessing. If you must proceed, state the assumptions you made.
- Separate the problem from the proposed solution, and business needs from technical design.
- Write user stories as "As a <role>, I want <capability>, so that <benefit>", each small \
enough to deliver on its own and with the role and benefit made concrete.
- Give every story acceptance criteria in Given/When/Then form, covering the main path, \
the important edge cases and error handling. Keep criteria observable and testable.
- Flag what could go wrong: risks, assumptions, dependencies, constraints and open \
questions, each in its own short list and each with an owner or next step when known.
- Call out non-functional requirements (security, privacy, performance, availability, \
accessibility, compliance) when they matter.
- Use tables when they make things clearer: requirement lists (ID, requirement, priority \
using MoSCoW, source), RACI matrices, or comparisons of options.
- Prioritise, and say why; point out conflicts or gaps between requirements.

Style: concise, structured Markdown with headings and lists; plain business language; no \
filler. Do not invent facts about the user's organisation: ask, or mark it as an assumption.\
"""


@dataclass(frozen=True)
class Persona:
    """A named system prompt; `provider` and `model`, when set, are used unless the user
    chooses others."""

    name: str
    system: str | None
    provider: str | None = None
    model: str | None = None
    description: str = ""

    def choose(
        self, provider: str | None, model: str | None, system: str | None
    ) -> tuple[str | None, str | None, str | None]:
        """(provider, model, system) for a turn: what the user passed wins, the persona fills
        the gaps. The persona's model is used only with the persona's own provider."""
        same_provider = provider is None or provider == self.provider
        return (
            provider or self.provider,
            model or (self.model if same_provider else None),
            system if system is not None else self.system,
        )

    @property
    def summary(self) -> str:
        """The description, else the system prompt's first line."""
        if self.description:
            return self.description
        if not self.system:
            return "no system prompt"
        return next((line.strip() for line in self.system.splitlines() if line.strip()), "")


BUILTIN: dict[str, Persona] = {
    persona.name: persona
    for persona in (
        Persona("default", None, description="no system prompt: the model as it is"),
        Persona(
            "business-analyst",
            BUSINESS_ANALYST,
            description="elicits requirements; user stories, Given/When/Then, risks",
        ),
    )
}
_FIELDS = ("system", "provider", "model", "description")


def _from_config(name: str, table: object, config: Config) -> Persona:
    where = f"{config.path or 'config.toml'}: [personas.{name}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table", "write it as [personas.NAME]")
    values: dict[str, str] = {}
    for field_name in _FIELDS:
        value = table.get(field_name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {field_name} must be a string, not {value!r}")
        values[field_name] = value
    base = BUILTIN.get(name)
    if base is not None:
        return replace(base, **values)
    return Persona(
        name=name,
        system=values.get("system") or None,
        provider=values.get("provider") or None,
        model=values.get("model") or None,
        description=values.get("description", ""),
    )


def all_personas(config: Config) -> list[Persona]:
    """Built-ins first (as overridden by config), then the user's own in file order."""
    found = dict(BUILTIN)
    tables = config.data.get("personas") or {}
    if not isinstance(tables, dict):
        raise ConfigError(f"{config.path or 'config.toml'}: personas must be a table")
    for name, table in tables.items():
        found[name] = _from_config(name, table, config)
    return list(found.values())


def get_persona(name: str, config: Config) -> Persona:
    """The persona called `name`; UsageError listing the valid names when there is none."""
    personas = all_personas(config)
    for persona in personas:
        if persona.name == name:
            return persona
    valid = ", ".join(persona.name for persona in personas)
    raise UsageError(
        f"unknown persona {name!r}",
        f"choose one of: {valid}, or add [personas.{name}] to config.toml",
    )
