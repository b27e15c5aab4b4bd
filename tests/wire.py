"""Read what a fixture stream says, straight from its JSON: the oracle adapter tests use."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).parent / "servers" / "fixtures"


@dataclass
class Expected:
    text: str
    reasoning: str


def _data_lines(name: str) -> list[dict]:
    out = []
    for line in (FIXTURES / name).read_text().splitlines():
        if line.startswith("data:"):
            payload = line[5:].strip()
            if payload and payload != "[DONE]":
                out.append(json.loads(payload))
    return out


def expected(name: str) -> Expected:
    """The answer text and reasoning a fixture carries, by its dialect."""
    text: list[str] = []
    reasoning: list[str] = []
    for data in _data_lines(name):
        if name.startswith("anthropic"):
            delta = data.get("delta", {}) if data.get("type") == "content_block_delta" else {}
            text.append(delta.get("text", ""))
            reasoning.append(delta.get("thinking", ""))
        elif name.startswith("gemini"):
            for candidate in data.get("candidates", []):
                for part in candidate.get("content", {}).get("parts", []):
                    (reasoning if part.get("thought") else text).append(part.get("text", ""))
        else:
            for choice in data.get("choices", []):
                delta = choice.get("delta") or {}
                text.append(delta.get("content") or "")
                reasoning.append(delta.get("reasoning_content") or delta.get("reasoning") or "")
    return Expected("".join(text), "".join(reasoning))
