"""Answers as JSON that fits a schema: how a user writes one, what each API is sent, and
whether what came back fits.

A user writes a schema three ways: a JSON Schema file, inline JSON, or a short field list
(`title, priority int, criteria list`), or names one saved in config (`[schemas.NAME]`) or
built in (user stories, acceptance criteria, risks). What comes back is checked with
jsonschema (imported only when a schema is used: it takes ~0.2 s), never trusted: a
provider's "strict" mode is not available everywhere, and a model in JSON mode only
promises JSON, not the fields.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ba_tui.errors import UsageError

_TYPES: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "string": {"type": "string"},
    "int": {"type": "integer"},
    "integer": {"type": "integer"},
    "float": {"type": "number"},
    "number": {"type": "number"},
    "bool": {"type": "boolean"},
    "boolean": {"type": "boolean"},
    "list": {"type": "array", "items": {"type": "string"}},
}
_FIELD = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s+([A-Za-z]+))?\s*(?::\s*(.*))?$")
# What a short field list looks like, for error messages.
SYNTAX = "`title, priority int, criteria list` (types: str, int, float, bool, list)"

BUILTIN: dict[str, str] = {
    "user_stories": (
        "title: a short name for the story, as_a: the user role, i_want: the goal, "
        "so_that: the benefit, priority: must / should / could / won't, "
        "acceptance_criteria list: each testable, in Given/When/Then where it fits"
    ),
    "acceptance_criteria": (
        "story: the story or feature they belong to, "
        "criteria list: each one testable, in Given/When/Then form"
    ),
    "risks": (
        "risk: what could go wrong, likelihood: low / medium / high, "
        "impact: low / medium / high, mitigation: what to do about it, owner: who acts"
    ),
}
MULTI_KEY = "items"


@dataclass(frozen=True)
class OutputSchema:
    """The shape an answer must have. `multi` asks for an array of such objects (sent to
    the model wrapped in an object, which every API accepts as a root)."""

    name: str
    schema: Mapping[str, Any]
    multi: bool = False
    source: str = field(default="", compare=False)  # what the user wrote, for messages

    def wire(self) -> dict[str, Any]:
        """The JSON Schema the model is sent."""
        one = copy.deepcopy(dict(self.schema))
        if not self.multi:
            return one
        return {
            "type": "object",
            "properties": {MULTI_KEY: {"type": "array", "items": one}},
            "required": [MULTI_KEY],
        }

    def unwrap(self, data: Any) -> Any:
        """The answer as the user asked for it: the array itself with `multi`."""
        if self.multi and isinstance(data, dict) and set(data) == {MULTI_KEY}:
            return data[MULTI_KEY]
        return data

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "schema": dict(self.schema), "multi": self.multi}


def parse(
    given: str, *, multi: bool = False, saved: Mapping[str, Any] | None = None
) -> OutputSchema:
    """`--schema` as the user wrote it: a saved name, a file, inline JSON or a field list."""
    text = given.strip()
    saved = saved or {}
    if text in saved or text in BUILTIN:
        return _named(text, saved.get(text, BUILTIN.get(text)), multi)
    if text.startswith(("{", "[")):
        return OutputSchema("answer", _check(_json(text, "the inline schema")), multi, given)
    path = Path(text).expanduser()
    if text.endswith(".json") or (path.is_file() and "," not in text):
        return OutputSchema(path.stem or "answer", _check(_file(path)), multi, given)
    return OutputSchema("answer", fields(text), multi, given)


def _named(name: str, value: Any, multi: bool) -> OutputSchema:
    """A saved schema: built in (a field list), or `[schemas.NAME]` in config.toml with
    `fields`, `json` or `file`."""
    if isinstance(value, str):
        return OutputSchema(name, fields(value), multi, name)
    if isinstance(value, Mapping):
        if isinstance(given := value.get("fields"), str):
            return OutputSchema(name, fields(given), multi, name)
        if isinstance(given := value.get("json"), str):
            return OutputSchema(name, _check(_json(given, f"schemas.{name}.json")), multi, name)
        if isinstance(given := value.get("file"), str):
            return OutputSchema(name, _check(_file(Path(given).expanduser())), multi, name)
    raise UsageError(
        f"schema {name!r} in config.toml has no fields, json or file",
        f'add one, e.g. fields = "title, priority int, criteria list" under [schemas.{name}]',
    )


def fields(text: str) -> dict[str, Any]:
    """A JSON Schema from a short field list: `name [type][: description]`, separated by
    commas or newlines; every field is required."""
    properties: dict[str, Any] = {}
    for item in _split(text):
        match = _FIELD.match(item)
        if not match:
            raise UsageError(
                f"cannot read schema field {item.strip()!r}", f"write fields as {SYNTAX}"
            )
        name, kind, description = match.groups()
        if kind and kind.lower() not in _TYPES:
            raise UsageError(
                f"unknown type {kind!r} for schema field {name!r}", f"write fields as {SYNTAX}"
            )
        prop = dict(_TYPES[(kind or "str").lower()])
        if description:
            prop["description"] = description.strip()
        properties[name] = prop
    if not properties:
        raise UsageError("the schema names no fields", f"write fields as {SYNTAX}")
    return {"type": "object", "properties": properties, "required": list(properties)}


def _split(text: str) -> list[str]:
    """Fields split at commas and newlines, but not at a comma inside a description
    (`priority: must, should or could`): a piece that does not start a field joins the one
    before it."""
    out: list[str] = []
    for piece in re.split(r"[,\n]", text):
        if not piece.strip():
            continue
        starts_field = re.match(r"^\s*[A-Za-z_][A-Za-z0-9_]*(\s+[A-Za-z]+)?\s*(:|$)", piece)
        if out and ":" in out[-1] and not starts_field:
            out[-1] += "," + piece
        else:
            out.append(piece)
    return out


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{what} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
            f"fix the JSON, or write a field list such as {SYNTAX}",
        ) from None


def _file(path: Path) -> Any:
    try:
        return _json(path.read_text(encoding="utf-8"), f"schema file {path}")
    except FileNotFoundError:
        raise UsageError(
            f"schema file {path} does not exist", "check the path, or pass the schema inline"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise UsageError(f"cannot read schema file {path}: {reason}", "check the file") from None


def _check(schema: Any) -> dict[str, Any]:
    """The schema if it is a valid JSON Schema for an object; else one line saying why."""
    import jsonschema

    if not isinstance(schema, dict):
        raise UsageError("the schema must be a JSON object", f"or write a field list: {SYNTAX}")
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "the top level"
        raise UsageError(
            f"the schema is not valid JSON Schema at {where}: {exc.message}", "fix the schema"
        ) from None
    return schema


# --- what each API is sent ------------------------------------------------------------


def closed(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The schema with `additionalProperties: false` on every object that does not say:
    OpenAI's strict mode and Anthropic's structured output both require it."""
    out = copy.deepcopy(dict(schema))

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(out)
    return out


# Keywords OpenAI's strict mode rejects (its documented subset leaves them out).
_NOT_STRICT = {"patternProperties", "if", "then", "else", "dependentRequired", "allOf", "not"}


def strict_ok(schema: Mapping[str, Any]) -> bool:
    """Whether OpenAI's strict mode can take the schema as it is: every object lists all
    its properties as required (the field lists always do), no keyword outside its
    subset. Otherwise the schema is sent without `strict` and checked here."""

    def ok(node: Any) -> bool:
        if isinstance(node, dict):
            if _NOT_STRICT & set(node):
                return False
            if node.get("type") == "object":
                props = node.get("properties") or {}
                if set(node.get("required") or []) != set(props):
                    return False
            return all(ok(value) for value in node.values())
        if isinstance(node, list):
            return all(ok(value) for value in node)
        return True

    return ok(schema)


def instruction(schema: Mapping[str, Any]) -> str:
    """The system-prompt lines that ask for JSON where the API cannot enforce a schema
    (DeepSeek's JSON mode, a model without structured output)."""
    return (
        "Reply with a single JSON value and nothing else: no prose, no code fence. "
        "It must match this JSON Schema:\n" + json.dumps(schema, ensure_ascii=False)
    )


# --- what came back -------------------------------------------------------------------

_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*\n(.*?)\n?```\s*$", re.DOTALL)


def load_answer(text: str) -> Any:
    """The answer as JSON: models in JSON mode sometimes wrap it in a code fence anyway.
    Raises ValueError with a short reason when it is not JSON."""
    if match := _FENCE.match(text):
        text = match[1]
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None


def problem(data: Any, schema: Mapping[str, Any]) -> str | None:
    """Why `data` does not fit `schema` (the most relevant error, with where), or None."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


def check(text: str, schema: OutputSchema) -> tuple[Any, str | None]:
    """The answer's data (unwrapped) and why it does not fit, or None when it does."""
    try:
        data = load_answer(text)
    except ValueError as exc:
        return None, str(exc)
    return schema.unwrap(data), problem(data, schema.wire())


def stored_data(record: Mapping[str, Any] | None, text: str) -> Any | None:
    """The data of a stored reply that was asked for a shape and fit it (its `schema`
    field says so: it was checked when the reply was saved), or None: for showing it as a
    table and copying it as CSV. Read, not validated again: the TUI asks on every redraw."""
    if not record or not record.get("valid"):
        return None
    try:
        data = load_answer(text)
    except ValueError:
        return None
    name, schema = str(record.get("name") or "answer"), record.get("schema") or {}
    return OutputSchema(name, schema, bool(record.get("multi"))).unwrap(data)


def retry_prompt(error: str) -> str:
    """What the model is told when its answer did not fit, for its one more try."""
    return (
        f"Your answer did not match the JSON Schema: {error}. "
        "Reply again with only the corrected JSON."
    )
