"""What a message is: a role and an ordered list of typed parts, and its stored fields.

This is the one definition the store's rows, the export format and `--json` derive from.
A part may carry opaque provider metadata (Anthropic's thinking `signature`, and next
Gemini's `thought_signature` or a tool call's id scheme). It is replayed only to the
provider that wrote it: a fallback or a compare that switches provider gets the part's
text without it, because another provider would reject or misread it.

Parts are plain frozen dataclasses and serialise to small JSON objects with a `type`
(`{"type": "text", "text": "…"}`); fields that are empty are left out. A leaf module: it
imports nothing of ours.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any, ClassVar

ROLES = ("user", "assistant", "system")
STATUSES = ("complete", "streaming", "partial", "error", "cancelled", "interrupted")
# Counts and measures a message may carry: what export validation and `--json` check.
INT_FIELDS = (
    "input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
)
FLOAT_FIELDS = ("cost", "ttft_ms", "duration_ms")
TEXT_FIELDS = ("provider", "model", "finish_reason", "error", "request_key")
# Fields that hold a JSON object (stored as its text): the schema a reply was asked to fit.
OBJECT_FIELDS = ("schema",)


@dataclass(frozen=True, slots=True)
class Text:
    """Text the user typed or the model answered."""

    type: ClassVar[str] = "text"
    text: str
    provider: str | None = None
    meta: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Reasoning:
    """A model's visible reasoning (thinking, thoughts, reasoning_content)."""

    type: ClassVar[str] = "reasoning"
    text: str
    provider: str | None = None
    meta: Mapping[str, Any] | None = None  # e.g. {"signature": "…"} from Anthropic


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A model asking for a tool to run. `name` is the tool's own name (`server.tool` for
    an MCP tool), never the sanitised one a provider was sent; `source` says where the tool
    lives ("builtin", "mcp:NAME"); `meta` keeps what the provider needs back (Gemini's
    `thought_signature`)."""

    type: ClassVar[str] = "tool_call"
    id: str
    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    provider: str | None = None
    meta: Mapping[str, Any] | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool returned for one call, kept whole (the model may be sent it cut).
    `approval` says how the call was let run or not ("once", "session", "always",
    "policy", "denied", "cancelled"); `duration_ms` how long it ran."""

    type: ClassVar[str] = "tool_result"
    call_id: str
    name: str
    output: str
    is_error: bool = False
    provider: str | None = None
    meta: Mapping[str, Any] | None = None
    approval: str | None = None
    duration_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a prompt. The bytes live in the store under `sha256` (what was
    sent: a page range's pages, a downscaled image), so a thread replays it after the
    file is gone. `mime` is the file's own type (a DOCX stays a DOCX even though models
    get its text); `pages` counts a PDF's pages sent, `page_range` is the range of the
    original they came from (`3-9`); `extracted` says the store holds its text (a
    document's), which search finds."""

    type: ClassVar[str] = "attachment"
    name: str
    mime: str
    size: int
    sha256: str
    pages: int | None = None
    page_range: str | None = None
    extracted: bool = False
    provider: str | None = None
    meta: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, repr=False)
class Blob:
    """An attachment's content: the bytes sent, and the text a model without native
    support for its type reads instead (a document's; None for an image)."""

    data: bytes
    text: str | None = None

    def __repr__(self) -> str:
        # Sizes, not content: a repr of 50 MB of bytes takes half a second and whatever
        # logs it (a worker's description, a traceback) holds the whole file.
        text = "None" if self.text is None else f"<{len(self.text)} characters>"
        return f"Blob(data=<{len(self.data)} bytes>, text={text})"


Part = Text | Reasoning | ToolCall | ToolResult | Attachment
PART_TYPES: dict[str, type[Part]] = {
    kind.type: kind for kind in (Text, Reasoning, ToolCall, ToolResult, Attachment)
}


def to_dict(part: Part) -> dict[str, Any]:
    """The part as a JSON object: its type, then its fields, empty ones left out."""
    out: dict[str, Any] = {"type": part.type}
    for item in fields(part):
        value = getattr(part, item.name)
        if value is None or (item.name in ("meta", "arguments") and not value):
            continue
        if item.name in ("is_error", "extracted") and value is False:
            continue
        out[item.name] = dict(value) if isinstance(value, Mapping) else value
    return out


_KINDS: dict[str, type | tuple[type, ...]] = {
    "text": str,
    "provider": str,
    "meta": dict,
    "id": str,
    "name": str,
    "arguments": dict,
    "call_id": str,
    "output": str,
    "is_error": bool,
    "mime": str,
    "size": int,
    "sha256": str,
    "pages": int,
    "page_range": str,
    "extracted": bool,
    "source": str,
    "approval": str,
    "duration_ms": (int, float),
}


def from_dict(raw: Any) -> Part:
    """A part from its JSON object; ValueError says what is wrong with it."""
    if not isinstance(raw, dict):
        raise ValueError(f"a part must be an object, not {type(raw).__name__}")
    kind = PART_TYPES.get(str(raw.get("type")))
    if kind is None:
        raise ValueError(f"unknown part type {raw.get('type')!r}")
    known = {item.name: item for item in fields(kind)}
    if unknown := set(raw) - set(known) - {"type"}:
        raise ValueError(f"{kind.type} part has unknown field(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, item in known.items():
        value = raw.get(name)
        if value is None:
            if item.default is MISSING and item.default_factory is MISSING:
                raise ValueError(f"{kind.type} part has no {name}")
            continue
        expected = _KINDS[name]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ValueError(f"{kind.type} part's {name} has the wrong type")
        if name == "duration_ms" and isinstance(value, int):
            value = float(value)
        values[name] = value
    return kind(**values)


def dumps(parts: Iterable[Part]) -> str:
    """Parts as the compact JSON array the store keeps."""
    return json.dumps([to_dict(p) for p in parts], ensure_ascii=False, separators=(",", ":"))


def loads(text: str | None) -> tuple[Part, ...]:
    """Parts from the store's JSON array (trusted: the store wrote it)."""
    return tuple(from_dict(raw) for raw in json.loads(text)) if text else ()


def attachments_of(parts: Iterable[Part]) -> tuple[Attachment, ...]:
    """The message's attachments, in the order they were sent."""
    return tuple(p for p in parts if isinstance(p, Attachment))


def size_label(size: int) -> str:
    """Bytes as people read them: 512 B, 48 KB, 3.2 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def attachment_label(part: Attachment) -> str:
    """An attachment in a few words for listings: `report.pdf (application/pdf, 48 KB,
    pages 3-9)`."""
    details = [part.mime, size_label(part.size)]
    if part.page_range:
        details.append(f"pages {part.page_range}")
    elif part.pages:
        details.append(f"{part.pages} page{'s' * (part.pages != 1)}")
    return f"{part.name} ({', '.join(details)})"


def text_of(parts: Iterable[Part]) -> str:
    """The message's text: its text parts joined, what search and listings show."""
    return "".join(p.text for p in parts if isinstance(p, Text))


def tools_of(parts: Iterable[Part]) -> str:
    """The message's tool calls and results as lines of text, what search indexes beside
    its text: `read_file {"path": "notes.txt"}` and what came back."""
    lines = []
    for part in parts:
        if isinstance(part, ToolCall):
            lines.append(f"{part.name} {json.dumps(dict(part.arguments), ensure_ascii=False)}")
        elif isinstance(part, ToolResult):
            lines.append(part.output)
    return "\n".join(lines)


def in_order(parts: Sequence[Part], limit: int = 500) -> list[tuple[str, str, str]]:
    """The message as it happened, for `threads show` and the Markdown export: its text,
    reasoning and tool calls in the order they came, as (kind, header, body): ("text", "",
    text), ("reasoning", "", text), ("tool", a one-line header, the result up to `limit`
    characters). A reply that used tools reads "Let me look at the file.", the call, then
    what the model made of it, rather than all its text before or after its calls.
    Attachments are left out (they go with the prompt, before its text)."""
    results = {p.call_id: p for p in parts if isinstance(p, ToolResult)}
    shown: list[tuple[str, str, str]] = []
    for part in parts:
        if isinstance(part, Text | Reasoning):
            kind = part.type
            if shown and shown[-1][0] == kind:  # a step's pieces, joined
                shown[-1] = (kind, "", shown[-1][2] + part.text)
            elif part.text:
                shown.append((kind, "", part.text))
        elif isinstance(part, ToolCall):
            shown.append(("tool", *_call_shown(part, results.get(part.id), limit)))
    return shown


def _call_shown(call: ToolCall, result: ToolResult | None, limit: int) -> tuple[str, str]:
    arguments = json.dumps(dict(call.arguments), ensure_ascii=False)
    facts = [f"{call.name} {arguments}"]
    if call.source:
        facts.append(call.source)
    if result is not None and result.approval:
        facts.append(result.approval)
    if result is not None and result.duration_ms is not None:
        facts.append(f"{result.duration_ms:.0f} ms")
    if result is not None and result.is_error:
        facts.append("error")
    output = result.output if result is not None else "(no result)"
    if len(output) > limit:
        output = f"{output[:limit]}… ({len(output)} characters)"
    return " · ".join(facts), output


def searchable(parts: Sequence[Part]) -> str:
    """What the store keeps beside the parts for search and listings: the text, then, for
    a reply that used tools, each call and its result (`tools_of`)."""
    text = text_of(parts)
    tools = tools_of(parts)
    return f"{text}\n\n{tools}" if tools and text else tools or text


def unanswered_calls(parts: Sequence[Part]) -> list[ToolCall]:
    """The tool calls among `parts` that have no result yet."""
    answered = {p.call_id for p in parts if isinstance(p, ToolResult)}
    return [p for p in parts if isinstance(p, ToolCall) and p.id not in answered]


def reasoning_of(parts: Iterable[Part]) -> str | None:
    """The message's reasoning, or None when it has none."""
    return "".join(p.text for p in parts if isinstance(p, Reasoning)) or None


def reply_parts(
    text: str, reasoning: str | None, provider: str | None, signature: str | None = None
) -> tuple[Part, ...]:
    """A reply's parts as the stream built them: reasoning first, then the answer."""
    parts: list[Part] = []
    if reasoning or signature:
        meta = {"signature": signature} if signature else None
        parts.append(Reasoning(reasoning or "", provider, meta))
    if text:
        parts.append(Text(text))
    return tuple(parts)


def for_provider(parts: Sequence[Part], provider: str) -> tuple[Part, ...]:
    """The parts as `provider` may see them: another provider's metadata left out."""
    return tuple(
        p if p.meta is None or p.provider == provider else replace(p, meta=None) for p in parts
    )


@dataclass(frozen=True, slots=True)
class Message:
    """One stored message. Token counts are None when the provider did not say (never 0)."""

    id: str
    thread_id: str
    parent_id: str | None
    role: str
    parts: tuple[Part, ...]
    status: str
    provider: str | None
    model: str | None
    input_tokens: int | None
    output_tokens: int | None
    reasoning_tokens: int | None
    cache_read_tokens: int | None
    cache_write_tokens: int | None
    cost: float | None
    ttft_ms: float | None
    duration_ms: float | None
    finish_reason: str | None
    error: str | None
    # The answer's required shape and whether it fit: {"name", "schema", "multi", "valid",
    # "problem"}; None when none was asked for.
    schema: Mapping[str, Any] | None
    # A digest of everything the request sent (see ba_tui.cache): an identical request
    # can be answered from this reply.
    request_key: str | None
    pid: int | None
    created_at: str

    @property
    def content(self) -> str:
        return text_of(self.parts)

    @property
    def reasoning(self) -> str | None:
        return reasoning_of(self.parts)

    @property
    def reasoning_signature(self) -> str | None:
        """Anthropic's signature over the thinking, which it needs back to continue."""
        for part in self.parts:
            if isinstance(part, Reasoning) and part.meta and "signature" in part.meta:
                return str(part.meta["signature"])
        return None


MESSAGE_FIELDS = tuple(item.name for item in fields(Message))


def message_dict(message: Message, *, pid: bool = False) -> dict[str, Any]:
    """A message as JSON shows it (exports, `threads show --json`): every field (`pid`, the
    process writing it, only when asked: exports leave it out), its parts as objects, and
    beside them its `content` and `reasoning` as text for scripts. Store.export_json
    writes the same shape in SQL."""
    out = {name: getattr(message, name) for name in MESSAGE_FIELDS if pid or name != "pid"}
    out["parts"] = [to_dict(part) for part in message.parts]
    return out | {"content": message.content, "reasoning": message.reasoning}
