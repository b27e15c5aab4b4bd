"""Streamed tool calls as each dialect sends them, shaped like the SDKs' own recordings.

Anthropic: a tool_use block per call, its input as `input_json_delta` pieces (the first
one empty, as the API sends it), `stop_reason: tool_use` (anthropic-sdk-python
tests/lib/streaming/fixtures/tool_use_response.txt). OpenAI: `delta.tool_calls[i]` with
`index`, the id and name on the first fragment only, then argument pieces,
`finish_reason: tool_calls` (openai-python tests/lib/chat/test_completions_streaming.py).
Ollama's /v1: each of parallel calls whole in one chunk, every one with `index: 0`.
Gemini's OpenAI-compatible endpoint: whole calls with no `index`. DeepSeek: reasoning
first, usage on the finish chunk. Gemini: whole `functionCall` parts without ids, the
first carrying a `thoughtSignature`, `finishReason: STOP` (python-genai's replays).
"""

from __future__ import annotations

import json
from typing import Any

from tests.servers.replies import _GEMINI_SIGNATURE, _SSE_HEADERS, Reply, _chunks, _compact

Call = tuple[str, str, dict[str, Any]]  # id, name as sent to the provider, arguments
FLAVOURS = ("anthropic", "openai", "ollama", "gemini-compat", "deepseek", "gemini")


def tool_stream(
    flavour: str, calls: list[Call], *, text: str = "", reasoning: str | None = None
) -> Reply:
    """A reply that calls `calls` (in parallel when several), after `text`."""
    build = {
        "anthropic": _anthropic,
        "openai": _openai,
        "ollama": _openai,
        "gemini-compat": _openai,
        "deepseek": _openai,
        "gemini": _gemini,
    }[flavour]
    events = build(flavour, calls, text, reasoning)
    dialect = "openai" if flavour in ("ollama", "gemini-compat") else flavour
    return Reply(
        headers=dict(_SSE_HEADERS[dialect]),
        events=[e.encode() for e in events],
        label=f"tool_stream({flavour}, {len(calls)} calls)",
    )


def _anthropic(flavour: str, calls: list[Call], text: str, reasoning: str | None) -> list[str]:
    def event(data: dict[str, Any]) -> str:
        return f"event: {data['type']}\ndata: {_compact(data)}\n\n"

    usage = {"input_tokens": 40, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    message = {
        "id": "msg_01FakeToolUse000000000001",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": "claude-sonnet-4-5-20250929",
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": 1},
    }
    out = [event({"type": "message_start", "message": message})]
    index = 0
    if reasoning:
        block = {"type": "thinking", "thinking": ""}
        out.append(event({"type": "content_block_start", "index": index, "content_block": block}))
        delta = {"type": "thinking_delta", "thinking": reasoning}
        out.append(event({"type": "content_block_delta", "index": index, "delta": delta}))
        delta = {"type": "signature_delta", "signature": "EqQBFakeToolSignature0000=="}
        out.append(event({"type": "content_block_delta", "index": index, "delta": delta}))
        out.append(event({"type": "content_block_stop", "index": index}))
        index += 1
    if text:
        block = {"type": "text", "text": ""}
        out.append(event({"type": "content_block_start", "index": index, "content_block": block}))
        for piece in _chunks(text, 8):
            delta = {"type": "text_delta", "text": piece}
            out.append(event({"type": "content_block_delta", "index": index, "delta": delta}))
        out.append(event({"type": "content_block_stop", "index": index}))
        index += 1
    for call_id, name, arguments in calls:
        block = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
        out.append(event({"type": "content_block_start", "index": index, "content_block": block}))
        for piece in ["", *_chunks(json.dumps(arguments), 5)]:
            delta = {"type": "input_json_delta", "partial_json": piece}
            out.append(event({"type": "content_block_delta", "index": index, "delta": delta}))
        out.append(event({"type": "content_block_stop", "index": index}))
        index += 1
    stop = {"stop_reason": "tool_use", "stop_sequence": None}
    out.append(event({"type": "message_delta", "delta": stop, "usage": {"output_tokens": 30}}))
    out.append(event({"type": "message_stop"}))
    return out


def _openai(flavour: str, calls: list[Call], text: str, reasoning: str | None) -> list[str]:
    base = {
        "id": "chatcmpl-FakeToolCalls0000000001",
        "object": "chat.completion.chunk",
        "created": 1763780000,
        "model": "fake-model",
        "system_fingerprint": "fp_fakefake00",
    }

    def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> str:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
        return f"data: {_compact({**base, 'choices': choices, **extra})}\n\n"

    out = [chunk({"role": "assistant", "content": None if reasoning else ""})]
    if reasoning:
        out.append(chunk({"content": None, "reasoning_content": reasoning}))
    out += [chunk({"content": piece}) for piece in _chunks(text, 6)] if text else []
    for i, (call_id, name, arguments) in enumerate(calls):
        whole = {"id": call_id, "type": "function", "function": {"name": name}}
        if flavour == "ollama":  # every call whole, every one at index 0
            whole["function"]["arguments"] = json.dumps(arguments)
            out.append(chunk({"role": "assistant", "tool_calls": [{"index": 0, **whole}]}))
        elif flavour == "gemini-compat":  # whole calls, no index
            whole["function"]["arguments"] = json.dumps(arguments)
            out.append(chunk({"role": "assistant", "tool_calls": [whole]}))
        else:
            whole["function"]["arguments"] = ""
            out.append(chunk({"tool_calls": [{"index": i, **whole}]}))
            for piece in _chunks(json.dumps(arguments), 7):
                fragment = {"index": i, "function": {"arguments": piece}}
                out.append(chunk({"tool_calls": [fragment]}))
    numbers = {"prompt_tokens": 40, "completion_tokens": 30, "total_tokens": 70}
    if flavour == "deepseek":
        out.append(chunk({"content": ""}, "tool_calls", usage=numbers))
    else:
        out.append(chunk({}, "tool_calls"))
        out.append(chunk(None, usage=numbers))
    return [*out, "data: [DONE]\n\n"]


def _gemini(flavour: str, calls: list[Call], text: str, reasoning: str | None) -> list[str]:
    parts: list[dict[str, Any]] = [{"text": text}] if text else []
    for i, (_, name, arguments) in enumerate(calls):
        part: dict[str, Any] = {"functionCall": {"name": name, "args": arguments}}
        if i == 0:  # in a parallel batch only the first call carries a signature
            part["thoughtSignature"] = _GEMINI_SIGNATURE
        parts.append(part)
    data = {
        "candidates": [
            {"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {
            "promptTokenCount": 40,
            "candidatesTokenCount": 30,
            "totalTokenCount": 70,
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "FakeToolCallsGemini001",
    }
    return [f"data: {json.dumps(data, separators=(',', ': '))}\r\n\r\n"]
