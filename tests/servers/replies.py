"""What the fake server can answer: fixture replays, generated streams, errors and drops.

Every builder returns a `Reply`; `FakeServer.queue()` takes them. An SSE reply is a list of
events (each one blank-line-terminated block, comments like `: keep-alive` included), sent
with `Transfer-Encoding: chunked`, one event per chunk. A JSON reply goes out with
`Content-Length`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"

DIALECTS = ("anthropic", "openai", "deepseek", "gemini")
DEFAULT_MODELS = {
    "anthropic": "claude-sonnet-4-5-20250929",
    "openai": "gpt-4o-mini-2024-07-18",
    "deepseek": "deepseek-reasoner",
    "gemini": "gemini-2.5-flash",
}
_ANTHROPIC_REQUEST_ID = "req_011CFixtureReplay0000000"
_SSE_HEADERS = {
    "anthropic": {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache",
        "request-id": _ANTHROPIC_REQUEST_ID,
    },
    "openai": {
        "Content-Type": "text/event-stream; charset=utf-8",
        "x-request-id": "req_fixturereplay000000000000000",
    },
    "deepseek": {"Content-Type": "text/event-stream; charset=utf-8"},
    "ollama": {"Content-Type": "text/event-stream"},
    "llamacpp": {"Content-Type": "text/event-stream", "Server": "llama.cpp"},
    "gemini": {"Content-Type": "text/event-stream"},
}
_JSON_TYPES = {
    "anthropic": "application/json",
    "openai": "application/json; charset=utf-8",
    "gemini": "application/json; charset=UTF-8",
}
_RETRY_AFTER = {"anthropic_error_429_rate_limit.json": "2", "openai_error_429_rate_limit.json": "1"}
# Fixtures after which the provider closes the connection.
_CLOSE_AFTER = {"anthropic_stream_error_overloaded.sse"}
_GEMINI_SIGNATURE = "CiIBZmFrZS10aG91Z2h0LXNpZ25hdHVyZS1ub3QtcmVhbA=="
_EVENT = re.compile(rb".*?(?:\r\n\r\n|\n\n|\r\r)|.+", re.S)


@dataclass
class Reply:
    """One scripted response. Build it with fixture(), text_stream(), status() or drop()."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""  # a JSON reply, sent with Content-Length
    events: list[bytes] | None = None  # an SSE reply, one chunk per event
    cut_after: int | None = None  # send this many events, then close without the last chunk
    stall_after: int | None = None  # send this many events, go silent, then close likewise
    stall_seconds: float = 0.0
    delay: float = 0.0  # seconds between events
    close: bool = False  # close the connection after a complete reply
    drop: bool = False  # close the connection without any response
    label: str = ""  # what to log


def split_events(data: bytes) -> list[bytes]:
    """Split an SSE body after each blank line, keeping its own line endings (LF or CRLF)."""
    return _EVENT.findall(data)


def _merge(base: dict[str, str], extra: dict[str, str] | None) -> dict[str, str]:
    merged = {k: v for k, v in base.items() if k.lower() not in {e.lower() for e in extra or {}}}
    merged.update(extra or {})
    return merged


def _family(name: str) -> str:
    return name.split("_", 1)[0]


def fixture(
    name: str,
    *,
    status: int | None = None,
    headers: dict[str, str] | None = None,
    cut_after: int | None = None,
    stall_after: int | None = None,
    stall_seconds: float = 30.0,
    delay: float = 0.0,
) -> Reply:
    """Replay fixtures/<name> byte for byte, with the status and headers INDEX.md gives it."""
    data = (FIXTURES / name).read_bytes()
    family = _family(name)
    if name.endswith(".sse"):
        return Reply(
            status=status or 200,
            headers=_merge(_SSE_HEADERS[family], headers),
            events=split_events(data),
            cut_after=cut_after,
            stall_after=stall_after,
            stall_seconds=stall_seconds,
            delay=delay,
            close=name in _CLOSE_AFTER,
            label=name,
        )
    code = re.search(r"_error_(\d{3})_", name)
    base = {"Content-Type": _JSON_TYPES[family]}
    if code and family == "anthropic":
        base["request-id"] = json.loads(data).get("request_id", _ANTHROPIC_REQUEST_ID)
    elif code and family == "openai":
        base["x-request-id"] = "req_fixturereplay000000000000000"
    if name in _RETRY_AFTER:
        base["retry-after"] = _RETRY_AFTER[name]
    return Reply(
        status=status or (int(code[1]) if code else 200),
        headers=_merge(base, headers),
        body=data,
        label=name,
    )


def status(code: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> Reply:
    """An arbitrary JSON reply, e.g. status(400, {"error": {"message": "no"}})."""
    raw = body if isinstance(body, str) else json.dumps(body)
    return Reply(
        status=code,
        headers=_merge({"Content-Type": "application/json"}, headers),
        body=raw.encode(),
        label=f"status {code}",
    )


def drop() -> Reply:
    """Read the request, then close the connection without answering."""
    return Reply(drop=True, label="drop")


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _compact(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def text_stream(
    dialect: str,
    text: str,
    *,
    chunk_size: int = 4,
    reasoning: str | None = None,
    usage: bool = True,
    model: str | None = None,
    delay: float = 0.0,
) -> Reply:
    """A generated stream carrying `text` (and `reasoning` first), shaped like the fixtures.

    Dialects: "anthropic" (a thinking block with a signature_delta for reasoning), "openai"
    (no reasoning), "deepseek" (reasoning_content), "gemini" (thought parts). usage=False
    drops the OpenAI usage chunk, DeepSeek's usage and Gemini's usageMetadata; Anthropic
    always carries usage, as its protocol requires.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {DIALECTS}, not {dialect!r}")
    if dialect == "openai" and reasoning:
        raise ValueError("OpenAI chat completions stream no reasoning; use 'deepseek'")
    body = _chunks(text, chunk_size)
    thoughts = _chunks(reasoning, chunk_size) if reasoning else []
    build = {"anthropic": _anthropic, "openai": _openai, "deepseek": _deepseek}.get(
        dialect, _gemini
    )
    events = build(body, thoughts, model or DEFAULT_MODELS[dialect], usage)
    return Reply(
        headers=dict(_SSE_HEADERS[dialect]),
        events=[e.encode() for e in events],
        delay=delay,
        label=f"text_stream({dialect}, {len(text)} chars)",
    )


def _anthropic(body: list[str], thoughts: list[str], model: str, usage: bool) -> list[str]:
    def event(data: dict[str, Any]) -> str:
        return f"event: {data['type']}\ndata: {_compact(data)}\n\n"

    tokens = {"input_tokens": 12, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    start_usage = {
        **tokens,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 1,
        "service_tier": "standard",
    }
    message = {
        "id": "msg_01FakeGeneratedStream0001",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": model,
        "stop_reason": None,
        "stop_sequence": None,
        "stop_details": None,
        "usage": start_usage,
    }
    out = [event({"type": "message_start", "message": message})]
    blocks = [("thinking", thoughts)] if thoughts else []
    blocks.append(("text", body))
    for index, (kind, chunks) in enumerate(blocks):
        block = {"type": kind, kind: ""}
        out.append(event({"type": "content_block_start", "index": index, "content_block": block}))
        if index == 0:
            out.append('event: ping\ndata: {"type": "ping"}\n\n')
        for piece in chunks:
            delta = {"type": f"{kind}_delta", kind: piece}
            out.append(event({"type": "content_block_delta", "index": index, "delta": delta}))
        if kind == "thinking":
            delta = {"type": "signature_delta", "signature": "EqQBFakeSignatureNotReal0000=="}
            out.append(event({"type": "content_block_delta", "index": index, "delta": delta}))
        out.append(event({"type": "content_block_stop", "index": index}))
    stop = {"stop_reason": "end_turn", "stop_sequence": None, "stop_details": None}
    final = {**tokens, "output_tokens": len(body) + len(thoughts)}
    out.append(event({"type": "message_delta", "delta": stop, "usage": final}))
    out.append(event({"type": "message_stop"}))
    return out


def _openai(body: list[str], thoughts: list[str], model: str, usage: bool) -> list[str]:
    base = {
        "id": "chatcmpl-FakeGeneratedStream00000001",
        "object": "chat.completion.chunk",
        "created": 1763780000,
        "model": model,
        "service_tier": "default",
        "system_fingerprint": "fp_fakefake00",
    }

    def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> str:
        choices = (
            []
            if delta is None
            else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        )
        data = {**base, "choices": choices, **({"usage": None} if usage else {}), **extra}
        return f"data: {_compact({**data, 'obfuscation': 'fake'})}\n\n"

    out = [chunk({"role": "assistant", "content": "", "refusal": None})]
    out += [chunk({"content": piece}) for piece in body]
    out.append(chunk({}, "stop"))
    if usage:
        count = len(body)
        numbers = {"prompt_tokens": 12, "completion_tokens": count, "total_tokens": 12 + count}
        details = {
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
        out.append(chunk(None, usage={**numbers, **details}))
    return [*out, "data: [DONE]\n\n"]


def _deepseek(body: list[str], thoughts: list[str], model: str, usage: bool) -> list[str]:
    base = {
        "id": "3f0e1c52-9b7a-4c1e-8f64-fakegenerate1",
        "object": "chat.completion.chunk",
        "created": 1763780100,
        "model": model,
        "system_fingerprint": "fp_fakefake00_prod0820_fp8_kvcache",
    }

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return f"data: {_compact({**base, 'choices': [choice], **extra})}\n\n"

    first: dict[str, Any] = {"role": "assistant", "content": None if thoughts else ""}
    out = [": keep-alive\n\n"]
    if thoughts:
        out.append(chunk({**first, "reasoning_content": ""}))
        out += [chunk({"content": None, "reasoning_content": piece}) for piece in thoughts]
        out += [chunk({"content": piece, "reasoning_content": None}) for piece in body]
        last: dict[str, Any] = {"content": "", "reasoning_content": None}
    else:
        out.append(chunk(first))
        out += [chunk({"content": piece}) for piece in body]
        last = {"content": ""}
    extra = {}
    if usage:
        count = len(body) + len(thoughts)
        extra["usage"] = {
            "prompt_tokens": 12,
            "completion_tokens": count,
            "total_tokens": 12 + count,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": len(thoughts)},
            "prompt_cache_hit_tokens": 0,
            "prompt_cache_miss_tokens": 12,
        }
    out.append(chunk(last, "stop", **extra))
    return [*out, "data: [DONE]\n\n"]


def _gemini(body: list[str], thoughts: list[str], model: str, usage: bool) -> list[str]:
    prompt, n_thoughts = 12, len(thoughts)
    parts: list[tuple[dict[str, Any], int | None]] = [
        ({"text": piece, "thought": True}, None) for piece in thoughts
    ]
    parts += [({"text": piece}, i + 1) for i, piece in enumerate(body)]
    if thoughts:
        parts[n_thoughts][0]["thoughtSignature"] = _GEMINI_SIGNATURE
    out = []
    for i, (part, done) in enumerate(parts):
        candidate: dict[str, Any] = {"content": {"parts": [part], "role": "model"}}
        if i == len(parts) - 1:
            candidate["finishReason"] = "STOP"
        data: dict[str, Any] = {"candidates": [{**candidate, "index": 0}]}
        if usage:
            meta: dict[str, Any] = {"promptTokenCount": prompt}
            if done is not None:
                meta["candidatesTokenCount"] = done
            meta["totalTokenCount"] = prompt + (done or 0) + n_thoughts
            meta["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
            if thoughts:
                meta["thoughtsTokenCount"] = n_thoughts
            data["usageMetadata"] = {**meta, "serviceTier": "standard"}
        data.update(modelVersion=model, responseId="FakeGeneratedGemini001")
        line = json.dumps(data, ensure_ascii=False, separators=(",", ": "))
        out.append(f"data: {line}\r\n\r\n")
    return out


# -- replies a provider should never send ----------------------------------------------------

BAD_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_GARBAGE = b"event: message_start\ndata: {garbage, not json\n\n"
_MALFORMED = ("json", "garbage", "garbage-after-text", "no-choices")


def html_page(code: int = 502) -> Reply:
    """nginx's 502 page, as a proxy in front of a provider sends it (with `code`, which may
    be 200: some proxies get the status right and the body wrong)."""
    return Reply(
        status=code,
        headers={"Content-Type": "text/html", "Server": "nginx"},
        body=BAD_GATEWAY_PAGE,
        label=f"html_page({code})",
    )


def malformed(kind: str, dialect: str) -> Reply:
    """A 200 reply that breaks the protocol, shaped for `dialect`'s endpoint:
    "json" (a JSON body cut off mid-object), "garbage" (an event stream whose data is not
    JSON), "garbage-after-text" (a few good events of text, then that garbage),
    "no-choices" (OpenAI-style chunks without `choices`)."""
    if kind not in _MALFORMED:
        raise ValueError(f"kind must be one of {_MALFORMED}, not {kind!r}")
    sse = dict(_SSE_HEADERS[dialect])
    label = f"malformed({kind}, {dialect})"
    if kind == "json":
        body = b'{"id": "msg_01", "type": "message", "content": [{"type": "te'
        return Reply(headers={"Content-Type": "application/json"}, body=body, label=label)
    if kind == "garbage":
        return Reply(headers=sse, events=[_GARBAGE, b"data: ]]]\n\n"], label=label)
    if kind == "garbage-after-text":
        reply = text_stream(dialect, "Hello there, this reply breaks off soon.")
        reply.events = [*(reply.events or [])[:4], _GARBAGE]
        reply.label = label
        return reply
    chunk = b'data: {"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1}\n\n'
    return Reply(headers=sse, events=[chunk, chunk, b"data: [DONE]\n\n"], label=label)


def runaway(dialect: str, megabytes: float = 4) -> Reply:
    """A reply that ignores max_tokens: `megabytes` of text in 4 KB deltas, then a proper
    end, as fast as the socket takes it."""
    words = "runaway " * int(megabytes * 1024 * 1024 / 8)
    reply = text_stream(dialect, words, chunk_size=4096)
    reply.label = f"runaway({dialect}, {megabytes} MB)"
    return reply


def drip(dialect: str, every: float = 0.5, text: bool = True) -> Reply:
    """A reply that never ends: one token every `every` seconds (for hours), or with
    text=False only SSE keep-alive comments, which reset any stall timeout."""
    if text:
        reply = text_stream(dialect, "drip " * 20_000, chunk_size=5, delay=every)
    else:
        reply = Reply(headers=dict(_SSE_HEADERS[dialect]), events=[b": keep-alive\n\n"] * 20_000)
        reply.delay = every
    reply.label = f"drip({dialect}, every {every} s, text={text})"
    return reply
