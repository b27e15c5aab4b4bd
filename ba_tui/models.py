"""A small catalogue of current models per provider, with short aliases and what each can do.

An alias resolves to a pinned id and the resolved id is what gets sent and stored, so a
thread records exactly which model answered. Ids not listed here are passed through:
the provider decides whether they exist, and they get their provider's default
capabilities (`ProviderSpec.capabilities`).

Capabilities are the one place the app learns what a model takes (images, PDFs, tools, a
thinking budget, a schema) and how much it holds; the picker, `ba-chat models`, doctor,
attachments and tools all read them here rather than testing provider names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class FileService:
    """A provider's store for files too large to send inline (Gemini's Files API): the
    adapter uploads them there and sends a reference instead of the bytes."""

    name: str  # as the user is told: "Gemini's Files API"
    max_bytes: int  # the largest one file it takes
    keeps: str  # how long it keeps an upload, as the user is told: "48 hours"


@dataclass(frozen=True)
class Capabilities:
    """What one model can take and do, as its provider's API exposes it."""

    reasoning: bool = False  # thinks before answering (shown or not)
    thinking_budget: bool = False  # the API takes a thinking budget in tokens
    vision: bool = False  # images in a prompt
    pdf: bool = False  # PDFs as documents, not only as extracted text
    tools: bool = False  # function calling
    # How the API constrains an answer to JSON: "json_schema" (a schema it enforces),
    # "json_object" (valid JSON only; the schema goes in the prompt), or None.
    structured_output: str | None = None
    context_window: int | None = None  # tokens in and out together; None when unknown
    max_output: int | None = None  # tokens one reply may use; None when unknown
    # The largest request body the API takes, and the most pages of a PDF it reads
    # natively: attachments are checked against them before anything is sent.
    request_bytes: int | None = None
    pdf_pages: int | None = None
    # With a file service, files that would pass `request_bytes`, or are larger than
    # `inline_file_bytes` on their own, are uploaded there rather than refused.
    inline_file_bytes: int | None = None
    file_service: FileService | None = None

    def names(self) -> list[str]:
        """Short words for what the model can do, for listings (`vision`, `pdf`...)."""
        flags = ("reasoning", "vision", "pdf", "tools")
        words = [flag for flag in flags if getattr(self, flag)]
        if self.structured_output:
            words.append("json" if self.structured_output == "json_object" else "schema")
        return words

    def summary(self) -> str:
        """One phrase for a listing: `vision, pdf, tools, schema · 200k context`."""
        words = ", ".join(self.names()) or "text only"
        return f"{words} · {tokens_label(self.context_window)} context"


def tokens_label(tokens: int | None) -> str:
    """A token count as people say it: 8k, 200k, 1M; `?` when unknown."""
    if tokens is None:
        return "?"
    if tokens < 1000:
        return str(tokens)
    if tokens >= 1_000_000:
        return f"{tokens / 1_048_576:.0f}M" if tokens % 1_000_000 else f"{tokens // 1_000_000}M"
    return f"{round(tokens / 1024)}k" if tokens % 1000 else f"{tokens // 1000}k"


# Provider-wide defaults; a catalogue entry below overrides them for its model.
_CLAUDE = Capabilities(
    reasoning=True,
    thinking_budget=True,
    vision=True,
    pdf=True,
    tools=True,
    structured_output="json_schema",
    context_window=200_000,
    max_output=64_000,
    request_bytes=32 * 1024 * 1024,
    pdf_pages=100,  # 600 on 1M-context models; 100 on 200k ones
)
_GPT5 = Capabilities(
    reasoning=True,
    vision=True,
    pdf=True,
    tools=True,
    structured_output="json_schema",
    context_window=400_000,
    max_output=128_000,
    request_bytes=32 * 1024 * 1024,  # "32 MB of total content" in file inputs
    pdf_pages=100,
)
_GEMINI = Capabilities(
    reasoning=True,
    thinking_budget=True,
    vision=True,
    pdf=True,
    tools=True,
    structured_output="json_schema",
    context_window=1_048_576,
    max_output=65_536,
    # Inline data: at most 100 MB of base64 in a request, "with varying limits based on
    # data types" (blog.google, "Increased file size limits and expanded inputs support in
    # Gemini API", 2026-01-12; it was 20 MB before), and 50 MB for a PDF
    # (ai.google.dev/gemini-api/docs/file-input-methods). Decimal megabytes, the smaller
    # reading: a file at the edge goes through the Files API rather than risk a 400.
    request_bytes=100_000_000,
    inline_file_bytes=50_000_000,
    pdf_pages=1000,
    # 2 GB per file, 20 GB per project, kept 48 hours (ai.google.dev/gemini-api/docs/files).
    file_service=FileService("Gemini's Files API", 2_000_000_000, "48 hours"),
)
_DEEPSEEK = Capabilities(
    tools=True, structured_output="json_object", context_window=128_000, max_output=8_192
)
# An OpenAI-compatible server (Ollama, vLLM, LM Studio...) serving a model we do not
# know: text and tools, JSON mode; the rest is refused rather than guessed.
_COMPATIBLE = Capabilities(tools=True, structured_output="json_object")
_LOCAL = Capabilities(structured_output="json_schema", context_window=8_192, max_output=2_048)

PROVIDER_CAPABILITIES: dict[str, Capabilities] = {
    "anthropic": _CLAUDE,
    "openai": _GPT5,
    "gemini": _GEMINI,
    "deepseek": _DEEPSEEK,
    "ollama": Capabilities(tools=True, structured_output="json_schema"),
    "local": _LOCAL,
}


def provider_capabilities(provider: str) -> Capabilities:
    """What a provider's models can do when the catalogue does not know the model."""
    return PROVIDER_CAPABILITIES.get(provider, _COMPATIBLE)


@dataclass(frozen=True)
class CatalogModel:
    id: str
    aliases: tuple[str, ...] = ()
    note: str = ""
    capabilities: Capabilities | None = None  # None: the provider's defaults


CATALOG: dict[str, tuple[CatalogModel, ...]] = {
    "anthropic": (
        CatalogModel("claude-sonnet-5-5", ("sonnet", "claude-sonnet"), "balanced, default"),
        CatalogModel("claude-opus-5-5", ("opus", "claude-opus"), "most capable"),
        CatalogModel("claude-haiku-5-5", ("haiku", "claude-haiku"), "fastest"),
        CatalogModel("claude-sonnet-4-6", ("sonnet-4.6",), "previous generation"),
        CatalogModel("claude-haiku-4-5-20251001", ("haiku-4.5", "claude-haiku-4-5"), ""),
    ),
    "openai": (
        CatalogModel("gpt-5.4-mini-2026-03-17", ("mini", "gpt-5.4-mini"), "fast, default"),
        CatalogModel("gpt-5.5-2026-04-23", ("gpt-5.5",), "most capable"),
        CatalogModel("gpt-5.4-nano-2026-03-17", ("nano", "gpt-5.4-nano"), "cheapest"),
        CatalogModel(
            "gpt-4.1-2025-04-14",
            ("gpt-4.1",),
            "no reasoning",
            replace(_GPT5, reasoning=False, context_window=1_047_576, max_output=32_768),
        ),
    ),
    "gemini": (
        CatalogModel("gemini-3.5-flash", ("flash",), "fast, default"),
        CatalogModel("gemini-3.1-pro-preview", ("pro", "gemini-pro"), "most capable"),
        CatalogModel("gemini-3.5-flash-lite", ("flash-lite", "lite"), "cheapest"),
        CatalogModel("gemini-2.5-flash", ("gemini-2.5-flash",), "previous generation"),
        CatalogModel("gemini-2.5-pro", ("gemini-2.5-pro",), "previous generation"),
    ),
    "deepseek": (
        CatalogModel("deepseek-chat", ("chat", "v3"), "default"),
        CatalogModel(
            "deepseek-reasoner",
            ("reasoner", "r1"),
            "shows its reasoning",
            replace(_DEEPSEEK, reasoning=True, max_output=64_000),
        ),
    ),
    "ollama": (
        CatalogModel(
            "llama3.2",
            ("llama",),
            "pull it first: ollama pull llama3.2",
            Capabilities(tools=True, structured_output="json_schema", context_window=131_072),
        ),
        CatalogModel(
            "qwen3",
            ("qwen",),
            "thinking model",
            Capabilities(
                reasoning=True, tools=True, structured_output="json_schema", context_window=40_960
            ),
        ),
    ),
    "local": (CatalogModel("SmolLM2-135M-Instruct", ("smollm2",), "built-in, offline, basic"),),
}


def catalog(provider: str) -> tuple[CatalogModel, ...]:
    return CATALOG.get(provider, ())


def capabilities(provider: str, model: str) -> Capabilities:
    """What `model` (an id or an alias) of `provider` can do: its catalogue entry's
    capabilities, else the provider's defaults."""
    for entry in catalog(provider):
        if model == entry.id or model in entry.aliases:
            return entry.capabilities or provider_capabilities(provider)
    return provider_capabilities(provider)


def resolve_model(provider: str, name: str) -> str:
    """Map an alias to its pinned id; anything else is returned as given."""
    for entry in catalog(provider):
        if name == entry.id or name in entry.aliases:
            return entry.id
    return name


# Words in a model id that mark a model the chat API cannot talk to: embeddings,
# moderation, speech in or out, image generation, rerankers, realtime audio, video.
_NOT_CHAT = re.compile(
    r"(?:^|[-_.:/])(?:embed|embedding|moderation|tts|whisper|transcribe|dall|image|imagen"
    r"|rerank|reranker|realtime|sora|veo)(?=$|[-_.:/\d])",
    re.IGNORECASE,
)


def can_chat(model_id: str) -> bool:
    """Whether a model from a provider's live list is a chat model. Live lists mix in
    embedding, speech and image models that fail on a chat request; the catalogue and
    ids the user types are never filtered."""
    return _NOT_CHAT.search(model_id) is None
