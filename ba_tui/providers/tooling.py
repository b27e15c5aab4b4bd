"""Tool calling as every adapter needs it: names and schemas each API accepts, a reply's
steps split into the API's messages, and results cut to size for the model.

Providers refuse what others take: names over 64 characters or with dots (`server.tool`),
and Gemini `additionalProperties` and `$defs`. So each tool is sent under a sanitised name
and the adapter maps the name the model calls back to the tool's own (`wire_names`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ba_tui.messages import Part, ToolCall, ToolResult, unanswered_calls
from ba_tui.providers.spec import ChatMessage, ToolSpec

NAME_LIMIT = 64
CANCELLED = "cancelled: the call did not run (the turn was stopped)"
# What Gemini's schema subset takes; anything else (additionalProperties, $defs, $ref,
# const, default...) makes it refuse the whole request.
_GEMINI_KEYS = {
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "properties",
    "required",
    "items",
    "anyOf",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "propertyOrdering",
}


def wire_name(name: str) -> str:
    """`name` as every API accepts it: letters, digits, `_` and `-`, starting with a letter
    or `_`, at most 64 characters (a long one keeps a digest of the whole to stay unique)."""
    clean = re.sub(r"[^A-Za-z0-9_-]", "_", name) or "tool"
    if not re.match(r"[A-Za-z_]", clean):
        clean = f"_{clean}"
    if len(clean) > NAME_LIMIT:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        clean = f"{clean[: NAME_LIMIT - 9]}_{digest}"
    return clean


def wire_names(tools: Iterable[ToolSpec]) -> dict[str, str]:
    """Each tool's own name -> the name sent, unique among `tools`."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for tool in tools:
        name = wire_name(tool.name)
        while name in taken:
            name = wire_name(f"{name}_{len(taken)}")
        taken.add(name)
        out[tool.name] = name
    return out


class Names:
    """Both ways between tools' own names and the names one request sent."""

    def __init__(self, tools: Iterable[ToolSpec]) -> None:
        self.sent = wire_names(tools)
        self.own = {wire: own for own, wire in self.sent.items()}

    def wire(self, name: str) -> str:
        return self.sent.get(name) or wire_name(name)

    def back(self, name: str) -> str:
        """The tool's own name for what the model called (unknown names pass through:
        the loop answers them with an error the model can read)."""
        return self.own.get(name, name)


def object_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A tool's arguments schema as the APIs want it: always an object with properties."""
    out = dict(schema) if isinstance(schema, Mapping) else {}
    if out.get("type") != "object":
        out = {"type": "object", "properties": {}}
    out.setdefault("properties", {})
    return out


def gemini_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The schema in the subset Gemini accepts: `$ref`s to `$defs` inlined (a cycle ends as
    a bare object), unknown keywords dropped, `type: [x, "null"]` as `nullable`."""
    root = object_schema(schema)
    defs = {**(root.get("definitions") or {}), **(root.get("$defs") or {})}
    return _gemini_node(root, defs, ())


def _gemini_node(node: Any, defs: Mapping[str, Any], seen: tuple[str, ...]) -> Any:
    if not isinstance(node, Mapping):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name in seen or name not in defs:
            return {"type": "object"}
        return _gemini_node(defs[name], defs, (*seen, name))
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in _GEMINI_KEYS:
            continue
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {k: _gemini_node(v, defs, seen) for k, v in value.items()}
        elif key == "items":
            out[key] = _gemini_node(value, defs, seen)
        elif key == "anyOf" and isinstance(value, list):
            out[key] = [_gemini_node(v, defs, seen) for v in value]
        elif key == "type" and isinstance(value, list):
            kinds = [k for k in value if k != "null"]
            out[key] = kinds[0] if kinds else "string"
            if "null" in value:
                out["nullable"] = True
        else:
            out[key] = value
    return out


def for_model(result: ToolResult, cap: int) -> str:
    """A result's output as the model is sent it: cut at `cap` characters, with a note
    saying so (one oversized result must not fill the context window)."""
    output = result.output or ("(no output)" if not result.is_error else "error")
    if len(output) <= cap:
        return output
    return f"{output[:cap]}\n\n[cut by ba-chat: {len(output)} characters, the first {cap} shown]"


def has_tools(message: ChatMessage) -> bool:
    return any(isinstance(p, ToolCall | ToolResult) for p in message.parts)


def expand(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """The messages with each reply that used tools split into its steps: an assistant
    message ending in its calls, then a `tool` message with their results, and so on.
    A call left without a result (a turn stopped mid-loop, a crash) gets a "cancelled"
    one, so the history is always one every API accepts."""
    out: list[ChatMessage] = []
    for message in messages:
        if message.role != "assistant" or not has_tools(message):
            out.append(message)
            continue
        out += _steps(message.parts)
    return out


def _steps(parts: Sequence[Part]) -> list[ChatMessage]:
    steps: list[ChatMessage] = []
    said: list[Part] = []
    results: list[Part] = []

    def flush() -> None:
        # (Results with no call before them cannot be sent, and are left out.)
        if said:
            steps.append(ChatMessage("assistant", tuple(said)))
            missing = unanswered_calls([*said, *results])
            results.extend(
                ToolResult(c.id, c.name, CANCELLED, is_error=True, approval="cancelled")
                for c in missing
            )
            if results:
                steps.append(ChatMessage("tool", tuple(results)))
        said.clear()
        results.clear()

    for part in parts:
        if isinstance(part, ToolResult):
            results.append(part)
        else:
            after_calls = said and isinstance(said[-1], ToolCall) and not isinstance(part, ToolCall)
            if results or after_calls:
                flush()
            said.append(part)
    flush()
    return steps
