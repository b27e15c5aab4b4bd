"""What the real APIs refuse about tool calls in a history, refused here too with a 400.

Anthropic: every `tool_use` block of an assistant message must be answered by a
`tool_result` block in the very next (user) message ("tool_use ids were found without
tool_result blocks immediately after"). OpenAI and compatible servers: an assistant message
with `tool_calls` must be followed by a `tool` message for each call id. A history broken
by an interrupted tool call gets these 400s for good (claude-code #3003, opencode #3230).
"""

from __future__ import annotations

from typing import Any


def unanswered_calls(body: Any, dialect: str | None) -> str | None:
    """Why a request's history is refused (the API's own words), or None."""
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list):
        return None
    if dialect == "anthropic":
        return _anthropic(messages)
    if dialect == "openai":
        return _openai(messages)
    return None


def _anthropic(messages: list[Any]) -> str | None:
    for index, message in enumerate(messages):
        content = message.get("content") if message.get("role") == "assistant" else None
        if not isinstance(content, list):
            continue
        ids = [b.get("id") for b in content if isinstance(b, dict) and b.get("type") == "tool_use"]
        if not ids:
            continue
        after = messages[index + 1].get("content") if index + 1 < len(messages) else None
        answered = {
            block.get("tool_use_id")
            for block in (after if isinstance(after, list) else [])
            if isinstance(block, dict) and block.get("type") == "tool_result"
        }
        if missing := [i for i in ids if i not in answered]:
            return (
                f"messages.{index + 1}: `tool_use` ids were found without `tool_result` blocks"
                f" immediately after: {', '.join(missing)}. Each `tool_use` block must have a"
                " corresponding `tool_result` block in the next message."
            )
    return None


def _openai(messages: list[Any]) -> str | None:
    for index, message in enumerate(messages):
        calls = message.get("tool_calls") if message.get("role") == "assistant" else None
        if not calls:
            continue
        answered = set()
        for later in messages[index + 1 :]:
            if later.get("role") != "tool":
                break
            answered.add(later.get("tool_call_id"))
        if any(call.get("id") not in answered for call in calls):
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages"
                " responding to each 'tool_call_id'."
            )
    return None
