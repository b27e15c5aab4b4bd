"""Anthropic Messages API through the official SDK: request, event and error mapping."""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator
from contextlib import AbstractAsyncContextManager
from typing import Any

import anthropic

from ba_tui import errors
from ba_tui.attachments.fit import Native, pieces
from ba_tui.events import (
    Event,
    Finished,
    ReasoningDelta,
    StreamError,
    TextDelta,
    ToolCallDelta,
    ToolCallDone,
    ToolCallStarted,
    Usage,
)
from ba_tui.messages import Reasoning, ToolCall, ToolResult, for_provider
from ba_tui.providers import clients, reading, tooling
from ba_tui.providers.spec import ChatMessage, ChatRequest, Target
from ba_tui.schemas import closed

PROVIDER = "anthropic"
DEFAULT_MAX_TOKENS = 8192
_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def _client(
    target: Target, request: ChatRequest | None = None
) -> AbstractAsyncContextManager[anthropic.AsyncAnthropic]:
    def make(stall: float, connect: float) -> anthropic.AsyncAnthropic:
        # Retries are the turn runner's job, so every provider retries the same way.
        return anthropic.AsyncAnthropic(
            api_key=target.key,
            base_url=target.base_url,
            max_retries=0,
            timeout=anthropic.Timeout(stall, connect=connect),
        )

    return clients.client(target, request, make, lambda client: client.close())


CACHE = {"type": "ephemeral"}
# Anthropic allows four cache breakpoints: the system prompt and the last two user turns
# (the newest writes the cache the next turn reads; the one before reads this turn's).
USER_BREAKPOINTS = 2


def _thinking(message: ChatMessage) -> list[dict[str, Any]]:
    """The message's signed thinking blocks, as Anthropic wants them back unchanged; only
    Anthropic's own (a signature is its metadata, meaningless to anyone else)."""
    return [
        {"type": "thinking", "thinking": part.text, "signature": part.meta["signature"]}
        for part in for_provider(message.parts, PROVIDER)
        if isinstance(part, Reasoning) and part.meta and part.meta.get("signature")
    ]


def _block(piece: Native | str) -> dict[str, Any]:
    """One piece of a message as a content block: text, an image, or a PDF document."""
    if isinstance(piece, str):
        return {"type": "text", "text": piece}
    source = {
        "type": "base64",
        "media_type": piece.mime,
        "data": base64.b64encode(piece.data).decode("ascii"),
    }
    if piece.mime.startswith("image/"):
        return {"type": "image", "source": source}
    return {"type": "document", "source": source, "title": piece.name}


def _tool_step(message: ChatMessage, request: ChatRequest, names: tooling.Names) -> dict[str, Any]:
    """One step of a reply that used tools: the assistant's thinking (resent unchanged),
    text and then its tool_use blocks (they must come last), or the user message of
    tool_result blocks answering them."""
    if message.role == "tool":
        results = [p for p in message.parts if isinstance(p, ToolResult)]
        return {"role": "user", "content": [_tool_result(p, request) for p in results]}
    content: list[dict[str, Any]] = _thinking(message) if request.thinking_budget else []
    if text := message.content:
        content.append({"type": "text", "text": text})
    content += [
        {"type": "tool_use", "id": p.id, "name": names.wire(p.name), "input": dict(p.arguments)}
        for p in message.parts
        if isinstance(p, ToolCall)
    ]
    return {"role": "assistant", "content": content}


def _tool_result(result: ToolResult, request: ChatRequest) -> dict[str, Any]:
    block = {"type": "tool_result", "tool_use_id": result.call_id}
    block["content"] = tooling.for_model(result, request.tool_result_cap)
    return block | ({"is_error": True} if result.is_error else {})


def _same_roles_merged(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool results and the prompt after them as one user message (results first)."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if out and out[-1]["role"] == message["role"] == "user":
            blocks = [_blocks(out[-1]["content"]), _blocks(message["content"])]
            out[-1] = {"role": "user", "content": blocks[0] + blocks[1]}
        else:
            out.append(message)
    return out


def _blocks(content: Any) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)


def _tools(request: ChatRequest, names: tooling.Names) -> list[dict[str, Any]]:
    return [
        {
            "name": names.wire(tool.name),
            "description": tool.description,
            "input_schema": tooling.object_schema(tool.parameters),
        }
        for tool in request.tools
    ]


def _messages(target: Target, request: ChatRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    names = tooling.Names(request.tools)
    messages = tooling.expand(request.messages)
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    cached = set(users[-USER_BREAKPOINTS:])
    for index, message in enumerate(messages):
        if tooling.has_tools(message):
            out.append(_tool_step(message, request, names))
            continue
        thinking = _thinking(message) if request.thinking_budget else []
        if message.role == "assistant" and thinking:
            content: Any = [*thinking, {"type": "text", "text": message.content}]
        elif message.attached:
            content = [
                _block(piece) for piece in pieces(message.parts, request.files, target.capabilities)
            ]
            if index in cached:
                content[-1]["cache_control"] = CACHE
        elif index in cached:
            content = [{"type": "text", "text": message.content, "cache_control": CACHE}]
        else:
            content = message.content
        out.append({"role": message.role, "content": content})
    return _same_roles_merged(out)


def _params(target: Target, request: ChatRequest) -> dict[str, Any]:
    mode, system = request.structured(target)
    params: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        "messages": _messages(target, request),
    }
    if system:
        params["system"] = [{"type": "text", "text": system, "cache_control": CACHE}]
    # anthropic 2.17 took the sampling settings out of `messages.stream()`'s signature, but
    # the API still reads them from the body (the SDK's migration guide says to send them
    # this way), and 2.12 sends them the same way: one wire request on every version. The
    # structured output format goes the same way (2.12 has no `output_config` argument).
    body: dict[str, Any] = {"temperature": request.temperature, "top_p": request.top_p}
    if mode == "json_schema" and request.schema is not None:
        schema = closed(request.schema.wire())
        body["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
    if body := {name: value for name, value in body.items() if value is not None}:
        params["extra_body"] = body
    if request.stop:
        params["stop_sequences"] = list(request.stop)
    if request.tools:
        params["tools"] = _tools(request, tooling.Names(request.tools))
    if request.thinking_budget:
        params["thinking"] = {"type": "enabled", "budget_tokens": request.thinking_budget}
        params["max_tokens"] = max(params["max_tokens"], request.thinking_budget + 1024)
    return params


def _usage(usage: Any) -> Usage:
    cache_read = usage.cache_read_input_tokens
    cache_write = usage.cache_creation_input_tokens
    total_in = (usage.input_tokens or 0) + (cache_read or 0) + (cache_write or 0)
    return Usage(
        input_tokens=total_in,
        output_tokens=usage.output_tokens,
        reasoning_tokens=None,  # Anthropic bills thinking as output and does not split it out
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )


def _error(target: Target, exc: Exception) -> errors.ProviderError | None:
    if isinstance(exc, anthropic.APIStatusError):
        detail = errors.error_detail(exc.body)
        return errors.for_status(
            target.provider,
            exc.status_code,
            str(detail.get("message") or exc.message),
            model=target.model,
            key_source=target.key_source,
            retry_after=errors.retry_after(exc.response.headers),
            kind=detail.get("type"),
        )
    return errors.transport(target.provider, target.base_url, exc)


async def stream(target: Target, request: ChatRequest) -> AsyncGenerator[Event, None]:
    """Yield the normalized events of one reply; errors arrive as StreamError."""
    reader = reading.Reader(target)
    names = tooling.Names(request.tools)
    call: str | None = None  # the tool_use block streaming now
    async with _client(target, request) as client:
        try:
            # The stream's context closes its response, so a kept client's connection
            # goes back to its pool however the stream ends.
            async with client.messages.stream(**_params(target, request)) as events:
                async for event in reader.read(events):
                    if event.type == "text":
                        yield TextDelta(event.text)
                    elif event.type == "thinking":
                        yield ReasoningDelta(event.thinking)
                    elif event.type == "signature":
                        yield ReasoningDelta("", signature=event.signature)
                    elif event.type == "content_block_start":
                        # Blocks stream one after another: input_json is the latest's.
                        block: Any = event.content_block
                        call = block.id if block.type == "tool_use" else None
                        if call is not None:
                            yield ToolCallStarted(call, names.back(block.name))
                    elif event.type == "input_json" and call is not None:
                        yield ToolCallDelta(call, event.partial_json)
                final = await reader.wait(events.get_final_message())
            for block in final.content:
                if block.type == "tool_use":
                    yield ToolCallDone(_call(block, names))
            yield _usage(final.usage)
            if final.stop_reason is None:
                yield StreamError(reader.ended_early())
            else:
                yield Finished(_FINISH.get(final.stop_reason, "other"), final.stop_reason)
        except Exception as exc:
            if (error := _error(target, exc) or reader.error(exc)) is None:
                raise
            yield StreamError(error)


def _call(block: Any, names: tooling.Names) -> ToolCall:
    arguments = block.input if isinstance(block.input, dict) else {}
    return ToolCall(block.id, names.back(block.name), arguments, provider=PROVIDER)


async def list_models(target: Target) -> list[str]:
    async with _client(target) as client:
        try:
            return [model.id async for model in client.models.list()]
        except Exception as exc:
            if (error := _error(target, exc)) is None:
                raise
            raise error from None
