"""OpenAI chat completions through the official SDK, for OpenAI, DeepSeek, Ollama and any
OpenAI-compatible server (vLLM, llama.cpp, LM Studio, OpenRouter, Groq).

Compatible servers differ in small ways: usage may ride on the finish chunk or never come,
reasoning arrives as `reasoning_content` (DeepSeek, llama.cpp) or `reasoning` (Ollama), and
some refuse `stream_options`. All of those end up as the same events.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import AsyncGenerator
from contextlib import AbstractAsyncContextManager
from typing import Any

import openai

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
from ba_tui.messages import Reasoning, ToolCall, ToolResult
from ba_tui.providers import clients, reading, tooling
from ba_tui.providers.spec import ChatMessage, ChatRequest, Target
from ba_tui.schemas import closed, strict_ok

_FINISH = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
}
# Endpoints that refused `stream_options` once are not asked again in this process.
_no_stream_options: set[str] = set()


def _client(
    target: Target, request: ChatRequest | None = None
) -> AbstractAsyncContextManager[openai.AsyncOpenAI]:
    def make(stall: float, connect: float) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            # Local servers need no key, but the SDK refuses to start without one.
            api_key=target.key or "not-needed",
            base_url=target.base_url,
            max_retries=0,
            timeout=openai.Timeout(stall, connect=connect),
        )

    return clients.client(target, request, make, lambda client: client.close())


def _response_format(mode: str | None, request: ChatRequest) -> dict[str, Any] | None:
    """OpenAI's `json_schema` (strict where the schema allows it: OpenAI then guarantees
    the fields), else JSON mode, whose schema rides in the system prompt."""
    if request.schema is None or mode is None:
        return None
    if mode == "json_object":
        return {"type": "json_object"}
    wire = request.schema.wire()
    return {
        "type": "json_schema",
        "json_schema": {
            "name": re.sub(r"[^A-Za-z0-9_-]", "_", request.schema.name)[:64] or "answer",
            "schema": closed(wire),
            "strict": strict_ok(wire),
        },
    }


def _part(piece: Native | str) -> dict[str, Any]:
    """One piece of a message as a content part: text, an image, or a PDF file."""
    if isinstance(piece, str):
        return {"type": "text", "text": piece}
    url = f"data:{piece.mime};base64,{base64.b64encode(piece.data).decode('ascii')}"
    if piece.mime.startswith("image/"):
        return {"type": "image_url", "image_url": {"url": url}}
    return {"type": "file", "file": {"filename": piece.name, "file_data": url}}


def _content(target: Target, request: ChatRequest, message: ChatMessage) -> str | list[Any]:
    """The message's text; with attachments, a list of parts unless all of them went as
    text (one string then, which every compatible server takes)."""
    if not message.attached:
        return message.content
    found = pieces(message.parts, request.files, target.capabilities)
    if len(found) == 1 and isinstance(found[0], str):
        return found[0]
    return [_part(piece) for piece in found]


def _params(target: Target, request: ChatRequest) -> dict[str, Any]:
    mode, system = request.structured(target)
    messages: list[dict[str, Any]] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages += _messages(target, request)
    params: dict[str, Any] = {"model": request.model, "messages": messages, "stream": True}
    if request.tools:
        params["tools"] = _tools(request)
    if target.base_url not in _no_stream_options:
        params["stream_options"] = {"include_usage": True}
    if request.max_tokens:
        params[target.spec.max_tokens_param] = request.max_tokens
    if request.temperature is not None:
        params["temperature"] = request.temperature
    if request.top_p is not None:
        params["top_p"] = request.top_p
    if request.stop:
        params["stop"] = list(request.stop)
    if response_format := _response_format(mode, request):
        params["response_format"] = response_format
    return params


def _messages(target: Target, request: ChatRequest) -> list[dict[str, Any]]:
    names = tooling.Names(request.tools)
    out: list[dict[str, Any]] = []
    for message in tooling.expand(request.messages):
        if message.role == "tool":
            out += [_tool_message(p, request) for p in message.parts if isinstance(p, ToolResult)]
        elif tooling.has_tools(message):
            out.append(_calls_message(target, message, names))
        else:
            out.append({"role": message.role, "content": _content(target, request, message)})
    return out


def _calls_message(target: Target, message: ChatMessage, names: tooling.Names) -> dict[str, Any]:
    """An assistant step that called tools. DeepSeek wants the reasoning of such a step
    back (`reasoning_content`), or it answers 400; its older deepseek-reasoner refused
    the field, so that model is not sent it."""
    calls = [p for p in message.parts if isinstance(p, ToolCall)]
    out: dict[str, Any] = {
        "role": "assistant",
        "content": message.content or None,
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {
                    "name": names.wire(call.name),
                    "arguments": json.dumps(dict(call.arguments), ensure_ascii=False),
                },
            }
            for call in calls
        ],
    }
    reasoning = "".join(p.text for p in message.parts if isinstance(p, Reasoning))
    if target.provider == "deepseek" and "deepseek-reasoner" not in target.model:
        out["reasoning_content"] = reasoning
    return out


def _tool_message(result: ToolResult, request: ChatRequest) -> dict[str, Any]:
    content = tooling.for_model(result, request.tool_result_cap)
    return {"role": "tool", "tool_call_id": result.call_id, "content": content}


def _tools(request: ChatRequest) -> list[dict[str, Any]]:
    names = tooling.Names(request.tools)
    return [
        {
            "type": "function",
            "function": {
                "name": names.wire(tool.name),
                "description": tool.description,
                "parameters": tooling.object_schema(tool.parameters),
            },
        }
        for tool in request.tools
    ]


class _Calls:
    """Tool calls assembled from `delta.tool_calls` fragments, however a server numbers
    them: OpenAI gives each call an index and its id and name on the first fragment only;
    Ollama sends index 0 for every one of parallel calls (each with its own id); Gemini's
    compatible endpoint sends no index at all. A new id starts a new call; a fragment
    without one goes to the call with its index, else the latest; a call with no id gets
    one made up (the results must name it)."""

    def __init__(self, names: tooling.Names) -> None:
        self.names = names
        self.calls: list[dict[str, Any]] = []
        self.by_index: dict[int, int] = {}

    def add(self, item: Any) -> list[Event]:
        events: list[Event] = []
        index, function = item.index, item.function
        found = None
        if item.id:
            found = next((i for i, c in enumerate(self.calls) if c["id"] == item.id), None)
        elif index is not None and index in self.by_index:
            found = self.by_index[index]
        elif index is None and self.calls:
            found = len(self.calls) - 1
        if found is None:
            name = self.names.back(getattr(function, "name", None) or "")
            self.calls.append({"id": item.id or f"call_{uuid.uuid4().hex[:24]}", "name": name})
            self.calls[-1]["arguments"] = ""
            found = len(self.calls) - 1
            events.append(ToolCallStarted(self.calls[found]["id"], name))
        if index is not None:
            self.by_index[index] = found
        call = self.calls[found]
        if function is not None:
            if function.name and not call["name"]:
                call["name"] = self.names.back(function.name)
            if function.arguments:
                call["arguments"] += function.arguments
                events.append(ToolCallDelta(call["id"], function.arguments))
        return events

    def done(self, provider: str) -> list[Event]:
        return [ToolCallDone(_tool_call(call, provider)) for call in self.calls]


def _tool_call(call: dict[str, Any], provider: str) -> ToolCall:
    """A finished call; arguments that are not a JSON object are kept in `meta`, and the
    loop tells the model so rather than run the tool with them."""
    raw = call["arguments"].strip()
    try:
        arguments = json.loads(raw) if raw else {}
    except ValueError:
        arguments = None
    if not isinstance(arguments, dict):
        meta = {"invalid_arguments": raw}
        return ToolCall(call["id"], call["name"], {}, provider=provider, meta=meta)
    return ToolCall(call["id"], call["name"], arguments, provider=provider)


def _usage(usage: Any) -> Usage:
    prompt = getattr(usage, "prompt_tokens_details", None)
    completion = getattr(usage, "completion_tokens_details", None)
    cached = getattr(prompt, "cached_tokens", None)
    if cached is None:
        # DeepSeek reports its context cache as prompt_cache_hit_tokens.
        cached = (usage.model_extra or {}).get("prompt_cache_hit_tokens")
    return Usage(
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        reasoning_tokens=getattr(completion, "reasoning_tokens", None),
        cache_read_tokens=cached,
        cache_write_tokens=None,
    )


def _reasoning(delta: Any) -> str | None:
    extra = delta.model_extra or {}
    return extra.get("reasoning_content") or extra.get("reasoning") or None


def _error(target: Target, exc: Exception) -> errors.ProviderError | None:
    if isinstance(exc, openai.APIStatusError):
        detail = errors.error_detail(exc.body)
        # A body that is not JSON (a proxy's page) is kept as text, not the SDK's summary.
        raw = exc.body if isinstance(exc.body, str) else None
        return errors.for_status(
            target.provider,
            exc.status_code,
            str(detail.get("message") or raw or exc.message),
            model=target.model,
            key_source=target.key_source,
            retry_after=errors.retry_after(exc.response.headers),
            kind=str(detail.get("code") or "") or None,
        )
    if isinstance(exc, openai.APIError) and not isinstance(exc, openai.APIConnectionError):
        # An error object inside the stream: the reply broke after it started.
        detail = errors.error_detail(exc.body)
        code = str(detail.get("code", ""))
        text = str(detail.get("message") or exc.message)
        return errors.for_status(
            target.provider,
            int(code) if code.isdigit() else 500,
            text,
            model=target.model,
            key_source=target.key_source,
            kind="overloaded" if "overload" in f"{detail.get('type')} {text}".lower() else None,
        )
    return errors.transport(target.provider, target.base_url, exc)


def _refused_stream_options(exc: Exception) -> bool:
    return (
        isinstance(exc, openai.APIStatusError)
        and exc.status_code in (400, 422)
        and ("stream_options" in str(exc.body) or "include_usage" in str(exc.body))
    )


async def _open(client: openai.AsyncOpenAI, target: Target, request: ChatRequest) -> Any:
    try:
        return await client.chat.completions.create(**_params(target, request))
    except openai.APIStatusError as exc:
        if not _refused_stream_options(exc):
            raise
        _no_stream_options.add(target.base_url)
        return await client.chat.completions.create(**_params(target, request))


async def stream(target: Target, request: ChatRequest) -> AsyncGenerator[Event, None]:
    """Yield the normalized events of one reply; errors arrive as StreamError."""
    usage: Usage | None = None
    finish: str | None = None
    reader = reading.Reader(target)
    calls = _Calls(tooling.Names(request.tools))
    async with _client(target, request) as client:
        chunks = None
        try:
            chunks = await _open(client, target, request)
            async for chunk in reader.read(chunks):
                if chunk.usage is not None:
                    usage = _usage(chunk.usage)
                elif getattr(chunk, "choices", None) is None:
                    # Not a chat.completion.chunk (the SDK does not check): say so now
                    # rather than wait for a finish that will not come.
                    what = "an event that is not a chat completion chunk"
                    yield StreamError(errors.bad_reply(target.provider, target.base_url, what))
                    return
                for choice in chunk.choices or ():
                    delta = choice.delta
                    if delta is not None:
                        if reasoning := _reasoning(delta):
                            yield ReasoningDelta(reasoning)
                        if delta.content:
                            yield TextDelta(delta.content)
                        for item in delta.tool_calls or ():
                            for event in calls.add(item):
                                yield event
                    if choice.finish_reason:
                        finish = choice.finish_reason
            for event in calls.done(target.provider):
                yield event
            if usage is not None:
                yield usage
            if finish is None:
                yield StreamError(reader.ended_early())
            else:
                yield Finished(_FINISH.get(finish, "other"), finish)
        except Exception as exc:
            if (error := _error(target, exc) or reader.error(exc)) is None:
                raise
            yield StreamError(error)
        finally:
            if chunks is not None:  # a kept client's connection goes back to its pool
                await chunks.close()


async def list_models(target: Target) -> list[str]:
    async with _client(target) as client:
        try:
            return sorted([model.id async for model in client.models.list()])
        except Exception as exc:
            if (error := _error(target, exc)) is None:
                raise
            raise error from None
