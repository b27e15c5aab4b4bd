"""A small catalogue of current models per provider, with short aliases.

An alias resolves to a pinned id and the resolved id is what gets sent and stored, so a
thread records exactly which model answered. Ids not listed here are passed through:
the provider decides whether they exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogModel:
    id: str
    aliases: tuple[str, ...] = ()
    note: str = ""


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
        CatalogModel("gpt-4.1-2025-04-14", ("gpt-4.1",), "no reasoning"),
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
        CatalogModel("deepseek-reasoner", ("reasoner", "r1"), "shows its reasoning"),
    ),
    "ollama": (
        CatalogModel("llama3.2", ("llama",), "pull it first: ollama pull llama3.2"),
        CatalogModel("qwen3", ("qwen",), "thinking model"),
    ),
    "local": (CatalogModel("SmolLM2-135M-Instruct", ("smollm2",), "built-in, offline, basic"),),
}


def catalog(provider: str) -> tuple[CatalogModel, ...]:
    return CATALOG.get(provider, ())


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
