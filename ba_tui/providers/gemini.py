"""Google Gemini through the official google-genai SDK: request, event and error mapping."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncGenerator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from ba_tui import errors
from ba_tui.attachments.fit import Native, pieces
from ba_tui.events import (
    Event,
    Finished,
    ReasoningDelta,
    StreamError,
    TextDelta,
    ToolCallDone,
    ToolCallStarted,
    Uploaded,
    Usage,
)
from ba_tui.messages import ToolCall, ToolResult
from ba_tui.providers import clients, gemini_files, reading, tooling
from ba_tui.providers.spec import ChatMessage, ChatRequest, Target

API_VERSION = "v1beta"
_FILTERED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}


def _client(
    target: Target, request: ChatRequest | None = None
) -> AbstractAsyncContextManager[genai.Client]:
    def make(stall: float, connect: float) -> genai.Client:
        # HttpOptions.timeout (ms) becomes httpx's per-read timeout, i.e. a stall limit;
        # it has no connect timeout of its own. No retry_options: the turn runner retries
        # every provider the same way.
        return genai.Client(
            api_key=target.key,
            http_options=types.HttpOptions(
                base_url=target.base_url, api_version=API_VERSION, timeout=int(stall * 1000)
            ),
        )

    return clients.client(target, request, make, lambda client: client.aio.aclose())


def _config(target: Target, request: ChatRequest, thoughts: bool) -> types.GenerateContentConfig:
    thinking = None
    if thoughts:
        thinking = types.ThinkingConfig(
            include_thoughts=True, thinking_budget=request.thinking_budget
        )
    mode, system = request.structured(target)
    native = mode == "json_schema" and request.schema is not None
    return types.GenerateContentConfig(
        system_instruction=system or None,
        response_mime_type="application/json" if mode else None,
        response_json_schema=request.schema.wire() if native and request.schema else None,
        max_output_tokens=request.max_tokens,
        temperature=request.temperature,
        top_p=request.top_p,
        stop_sequences=list(request.stop) or None,
        thinking_config=thinking,
        **_tool_config(request),
    )


def _part(piece: Native | str, uploaded: Mapping[tuple[str, str], types.Part]) -> types.Part:
    """One piece of a message: text, or a file (an image, a PDF) as inline data, or as a
    reference to its upload when it is too large for that."""
    if isinstance(piece, str):
        return types.Part(text=piece)
    if (reference := uploaded.get((piece.sha256, piece.mime))) is not None:
        return reference
    return types.Part(inline_data=types.Blob(mime_type=piece.mime, data=piece.data))


def _tool_config(request: ChatRequest) -> dict[str, Any]:
    """The tools as function declarations, in the schema subset Gemini takes, with the
    SDK's automatic function calling off: ba-chat's loop runs the calls (after approval)."""
    if not request.tools:
        return {}
    names = tooling.Names(request.tools)
    declarations = [
        types.FunctionDeclaration(
            name=names.wire(tool.name),
            description=tool.description,
            parameters_json_schema=tooling.gemini_schema(tool.parameters),
        )
        for tool in request.tools
    ]
    return {
        "tools": [types.Tool(function_declarations=declarations)],
        "automatic_function_calling": types.AutomaticFunctionCallingConfig(disable=True),
    }


async def _contents(
    client: genai.Client, target: Target, request: ChatRequest, made: list[Uploaded]
) -> list[types.Content]:
    """The messages as Gemini's contents; files too large to go inline are uploaded to
    the Files API first (see gemini_files), those uploads added to `made`."""
    names = tooling.Names(request.tools)
    messages = tooling.expand(request.messages)
    found = [
        pieces(m.parts, request.files, target.capabilities)
        if m.attached and not tooling.has_tools(m)
        else []
        for m in messages
    ]
    every = [piece for message in found for piece in message]
    uploaded = await gemini_files.references(
        client, every, target.capabilities, request.uploads, made
    )
    out: list[types.Content] = []
    for m, message in zip(messages, found, strict=True):
        if tooling.has_tools(m):
            content = _tool_step(m, request, names)
        else:
            content = types.Content(
                role="model" if m.role == "assistant" else "user",
                parts=[_part(piece, uploaded) for piece in message] or [types.Part(text=m.content)],
            )
        if out and out[-1].role == content.role == "user":  # results, then the prompt
            joined = [*(out[-1].parts or ()), *(content.parts or ())]
            out[-1] = types.Content(role="user", parts=joined)
        else:
            out.append(content)
    return out


def _tool_step(message: ChatMessage, request: ChatRequest, names: tooling.Names) -> types.Content:
    """A step that called functions (each with its `thought_signature` back on the same
    part, as Gemini requires), or the function responses answering them."""
    if message.role == "tool":
        results = [p for p in message.parts if isinstance(p, ToolResult)]
        return types.Content(role="user", parts=[_response(p, request, names) for p in results])
    parts = [types.Part(text=message.content)] if message.content else []
    for call in message.parts:
        if not isinstance(call, ToolCall):
            continue
        meta = call.meta if call.provider == "gemini" and call.meta else {}
        signature = meta.get("thought_signature")
        parts.append(
            types.Part(
                function_call=types.FunctionCall(
                    id=None if meta.get("made_up_id") else call.id,
                    name=names.wire(call.name),
                    args=dict(call.arguments),
                ),
                thought_signature=base64.b64decode(signature) if signature else None,
            )
        )
    return types.Content(role="model", parts=parts)


def _response(result: ToolResult, request: ChatRequest, names: tooling.Names) -> types.Part:
    output = tooling.for_model(result, request.tool_result_cap)
    part = types.Part.from_function_response(
        name=names.wire(result.name), response={"error" if result.is_error else "output": output}
    )
    if part.function_response is not None and not result.call_id.startswith("gemini_"):
        part.function_response.id = result.call_id
    return part


def _call(part: Any, names: tooling.Names) -> ToolCall:
    """A functionCall part as a call; Gemini often gives no id, so one is made up (and
    never sent back), and the part's thought_signature is kept to be replayed."""
    function = part.function_call
    meta: dict[str, Any] = {}
    if part.thought_signature:
        meta["thought_signature"] = base64.b64encode(part.thought_signature).decode()
    call_id = function.id
    if not call_id:
        call_id = f"gemini_{uuid.uuid4().hex[:16]}"
        meta["made_up_id"] = True
    arguments = dict(function.args or {})
    return ToolCall(call_id, names.back(function.name or ""), arguments, "gemini", meta or None)


def _usage(meta: Any) -> Usage:
    candidates = meta.candidates_token_count
    thoughts = meta.thoughts_token_count
    output = (
        None if candidates is None and thoughts is None else (candidates or 0) + (thoughts or 0)
    )
    return Usage(
        input_tokens=meta.prompt_token_count,
        output_tokens=output,
        reasoning_tokens=thoughts,
        cache_read_tokens=meta.cached_content_token_count,
        cache_write_tokens=None,
    )


def _finish(reason: Any) -> tuple[str, str | None]:
    raw = getattr(reason, "value", None) or (str(reason) if reason else None)
    if raw == "STOP":
        return "stop", raw
    if raw == "MAX_TOKENS":
        return "length", raw
    if raw in _FILTERED:
        return "content_filter", raw
    return "other", raw


def _retry_delay(details: Any) -> float | None:
    """The RetryInfo delay ("26s") Gemini puts in a RESOURCE_EXHAUSTED body."""
    items = errors.error_detail(details).get("details") or []
    for item in items if isinstance(items, list) else []:
        delay = item.get("retryDelay") if isinstance(item, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                return None
    return None


def _error(target: Target, exc: Exception) -> errors.ProviderError | None:
    if isinstance(exc, genai_errors.APIError):
        detail = errors.error_detail(exc.details)
        reasons = {
            item.get("reason")
            for item in detail.get("details") or []
            if isinstance(item, dict) and item.get("reason")
        }
        kind = None
        if "API_KEY_INVALID" in reasons or exc.status in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
            kind = "auth"
        elif exc.status == "UNAVAILABLE":
            kind = "overloaded"
        return errors.for_status(
            target.provider,
            int(exc.code or 500),
            str(exc.message or ""),
            model=target.model,
            key_source=target.key_source,
            retry_after=_retry_delay(exc.details),
            kind=kind,
        )
    return errors.transport(target.provider, target.base_url, exc)


def _thinking_refused(exc: Exception) -> bool:
    return (
        isinstance(exc, genai_errors.ClientError)
        and exc.code == 400
        and "thinking" in str(exc.message or "").lower()
    )


async def stream(target: Target, request: ChatRequest) -> AsyncGenerator[Event, None]:
    """Yield the normalized events of one reply; errors arrive as StreamError."""
    usage: Any = None
    finish: Any = None
    reader = reading.Reader(target)
    names = tooling.Names(request.tools)
    saw_calls = False
    async with _client(target, request) as client:
        chunks = None
        try:
            made: list[Uploaded] = []
            contents = await _contents(client, target, request, made)
            for upload in made:
                yield upload
            try:
                chunks = await client.aio.models.generate_content_stream(
                    model=request.model,
                    contents=contents,
                    config=_config(target, request, True),
                )
            except genai_errors.ClientError as exc:
                # Models without thinking reject thinking_config; ask again without it.
                if not _thinking_refused(exc):
                    raise
                chunks = await client.aio.models.generate_content_stream(
                    model=request.model,
                    contents=contents,
                    config=_config(target, request, False),
                )
            async for chunk in reader.read(chunks):
                if chunk.usage_metadata is not None:
                    usage = chunk.usage_metadata  # cumulative: the last one is the total
                for candidate in chunk.candidates or ():
                    if candidate.finish_reason:
                        finish = candidate.finish_reason
                    for part in (candidate.content.parts if candidate.content else None) or ():
                        if part.function_call is not None:
                            call = _call(part, names)
                            yield ToolCallStarted(call.id, call.name)
                            yield ToolCallDone(call)
                            saw_calls = True
                        if not part.text:
                            continue
                        yield ReasoningDelta(part.text) if part.thought else TextDelta(part.text)
            if usage is not None:
                yield _usage(usage)
            if finish is None:
                yield StreamError(errors.ended_early(target.provider))
            else:
                # Gemini says STOP after function calls; the loop needs to know they came.
                reason, raw = _finish(finish)
                yield Finished("tool_calls" if saw_calls and reason == "stop" else reason, raw)
        except errors.ProviderError as exc:  # ours on purpose: a file Gemini could not ready
            yield StreamError(exc)
        except Exception as exc:
            if (error := _error(target, exc) or reader.error(exc)) is None:
                raise
            yield StreamError(error)
        finally:
            # The SDK's stream is a generator; closing it (rather than leaving it to the
            # garbage collector) ends the response now.
            if chunks is not None and hasattr(chunks, "aclose"):
                await chunks.aclose()


async def list_models(target: Target) -> list[str]:
    async with _client(target) as client:
        try:
            names = []
            async for model in await client.aio.models.list():
                if "generateContent" in (model.supported_actions or ["generateContent"]):
                    names.append((model.name or "").removeprefix("models/"))
            return names
        except Exception as exc:
            if (error := _error(target, exc)) is None:
                raise
            raise error from None
