"""The fake provider server, proven with the real SDKs over real HTTP (nothing mocked)."""

from __future__ import annotations

import asyncio
import io
import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import anthropic
import httpx2
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from ba_tui.events import StreamError, TextDelta
from ba_tui.providers import BUILTIN, ChatMessage, ChatRequest, Target, adapter
from tests.servers import FIXTURES, FakeServer, drop, fixture, status, text_stream
from tests.servers.replies import split_events
from tests.wire import expected

HI = [{"role": "user", "content": "hi"}]


class Clients:
    """Real SDK clients pointed at a fake server, closed together at the end."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.opened: list = []

    def _keep(self, client):
        self.opened.append(client)
        return client

    def claude(self, api_key: str = "sk-ant-test", **kw) -> anthropic.AsyncAnthropic:
        kw.setdefault("max_retries", 0)
        url = self.server.url
        return self._keep(anthropic.AsyncAnthropic(base_url=url, api_key=api_key, **kw))

    def gpt(self, api_key: str = "sk-test", **kw) -> openai.AsyncOpenAI:
        kw.setdefault("max_retries", 0)
        url = f"{self.server.url}/v1"
        return self._keep(openai.AsyncOpenAI(base_url=url, api_key=api_key, **kw))

    def gemini(self, api_key: str = "gm-test", api_version: str = "v1beta") -> genai.Client:
        options = types.HttpOptions(base_url=self.server.url, api_version=api_version)
        return self._keep(genai.Client(api_key=api_key, http_options=options))

    async def call(self, dialect: str, model: str | None = None) -> str:
        """One streamed request in the dialect with a default client; returns the text."""
        if dialect == "anthropic":
            return (await claude_stream(self.claude(), model or "claude-sonnet-4-6"))[0]
        if dialect == "openai":
            return (await gpt_stream(self.gpt(), model or "gpt-4o-mini"))[0]
        return (await gemini_stream(self.gemini(), model or "gemini-2.5-flash"))[0]

    async def aclose(self) -> None:
        for client in self.opened:
            await (client.aio.aclose() if isinstance(client, genai.Client) else client.close())


async def adapter_events(
    server: FakeServer, provider: str, model: str, key: str = "k-test", **request
) -> list:
    """Every event ba-chat's own adapter yields for one prompt to the fake server.

    Failures are asserted here, through the adapters, rather than as SDK exception classes:
    which class an SDK raises changes between releases; what ba-chat makes of it must not."""
    spec = BUILTIN[provider]
    base_url = f"{server.url}/v1" if spec.kind == "openai" else server.url
    target = Target(spec, model, base_url, key, "test")
    chat = ChatRequest(model=model, messages=(ChatMessage.of("user", "hi"),), **request)
    return [event async for event in adapter(spec).stream(target, chat)]


def failure(events: list):
    """The error a stream ended with, after checking that it did end with one."""
    assert isinstance(events[-1], StreamError), events[-1]
    return events[-1].error


def text_of(events: list) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


@pytest.fixture
async def sdk(server):
    clients = Clients(server)
    yield clients
    await clients.aclose()


async def claude_stream(client: anthropic.AsyncAnthropic, model: str = "claude-sonnet-4-6", **kw):
    """(text, thinking, final message) of a messages.stream()."""
    text, thinking = [], []
    async with client.messages.stream(model=model, max_tokens=4096, messages=HI, **kw) as stream:
        async for event in stream:
            if event.type == "text":
                text.append(event.text)
            elif event.type == "thinking":
                thinking.append(event.thinking)
        final = await stream.get_final_message()
    return "".join(text), "".join(thinking), final


async def gpt_stream(client: openai.AsyncOpenAI, model: str = "gpt-4o-mini", **kwargs):
    """(text, reasoning, chunks) of a streamed chat completion."""
    chunks = [
        chunk
        async for chunk in await client.chat.completions.create(
            model=model, messages=HI, stream=True, **kwargs
        )
    ]
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    text = "".join(d.content or "" for d in deltas)
    reasoning = "".join(getattr(d, "reasoning_content", None) or "" for d in deltas)
    return text, reasoning, chunks


async def gemini_stream(client: genai.Client, model: str = "gemini-2.5-flash", config=None):
    """(text, thoughts, chunks) of a streamed generate_content."""
    stream = await client.aio.models.generate_content_stream(
        model=model, contents="hi", config=config
    )
    chunks = [chunk async for chunk in stream]
    parts = [p for c in chunks for p in c.candidates[0].content.parts]
    text = "".join(p.text or "" for p in parts if not p.thought)
    thoughts = "".join(p.text or "" for p in parts if p.thought)
    return text, thoughts, chunks


def test_fixtures_split_into_events_losslessly():
    for path in FIXTURES.glob("*.sse"):
        events = split_events(path.read_bytes())
        assert b"".join(events) == path.read_bytes()
        ending = b"\r\n\r\n" if path.name.startswith("gemini") else b"\n\n"
        assert all(event.endswith(ending) for event in events), path.name


# -- Anthropic -------------------------------------------------------------------------------


async def test_anthropic_text_stream_default_route(server, sdk):
    text, thinking, final = await claude_stream(sdk.claude())
    assert (text, thinking) == (expected("anthropic_stream_text.sse").text, "")
    assert final.stop_reason == "end_turn"
    usage = final.usage
    assert (usage.input_tokens, usage.output_tokens) == (21, 38)
    assert (usage.cache_read_input_tokens, usage.cache_creation_input_tokens) == (1843, 0)
    request = server.requests[-1]
    assert (request.method, request.path) == ("POST", "/v1/messages")
    assert request.headers["authorization"] == "Bearer sk-ant-test"
    assert "anthropic-version" in request.headers
    assert request.json["stream"] is True


async def test_anthropic_thinking_stream_with_signature(sdk):
    thinking_config = {"type": "enabled", "budget_tokens": 2048}
    text, thinking, final = await claude_stream(sdk.claude(), thinking=thinking_config)
    want = expected("anthropic_stream_thinking.sse")
    assert (text, thinking) == (want.text, want.reasoning)
    block = final.content[0]
    assert block.type == "thinking" and block.signature.startswith("EqQB")
    assert final.content[1].type == "text"
    assert final.usage.output_tokens == 112
    assert final.usage.cache_creation_input_tokens == 1843


async def test_anthropic_stream_error_event_is_overloaded(server):
    server.queue(fixture("anthropic_stream_error_overloaded.sse"))
    error = failure(await adapter_events(server, "anthropic", "claude-sonnet-4-6"))
    assert (error.kind, error.status, error.retryable) == ("overloaded", 200, True)
    assert "anthropic is overloaded" in error.line()
    assert len(server.requests) == 1  # the SDK does not retry it; the turn runner decides


# -- OpenAI-compatible ------------------------------------------------------------------------

OPENAI_FLAVOURS = [
    # model (routes the default reply), fixture, (prompt, completion) tokens
    ("gpt-4o-mini", "openai_stream_usage.sse", (24, 24)),
    ("deepseek-reasoner", "deepseek_reasoner_stream.sse", (1090, 43)),
    ("llama3.2", "ollama_stream_usage.sse", (31, 13)),
    ("smollm2", "llamacpp_stream_usage.sse", (33, 10)),
]


@pytest.mark.parametrize(("model", "name", "tokens"), OPENAI_FLAVOURS)
async def test_openai_compatible_streams(server, sdk, model, name, tokens):
    options = {"stream_options": {"include_usage": True}}
    text, reasoning, chunks = await gpt_stream(sdk.gpt(), model, **options)
    server.queue(fixture(name))  # the same reply, queued instead of routed by model
    assert (await gpt_stream(sdk.gpt(), "any-model", **options))[:2] == (text, reasoning)
    want = expected(name)
    assert (text, reasoning) == (want.text, want.reasoning)
    usage = [c.usage for c in chunks if c.usage]
    assert len(usage) == 1
    assert (usage[0].prompt_tokens, usage[0].completion_tokens) == tokens
    if name.startswith("deepseek"):
        assert usage[0].completion_tokens_details.reasoning_tokens == 17
        assert usage[0].model_extra["prompt_cache_hit_tokens"] == 1024
        assert chunks[-1].choices  # usage rides on the finish chunk
    else:
        assert chunks[-1].choices == []  # a separate usage-only chunk
    if name.startswith("llamacpp"):
        assert "timings" in chunks[-1].model_extra
    assert server.requests[0].json["stream_options"] == {"include_usage": True}
    assert server.requests[0].headers["authorization"] == "Bearer sk-test"


def test_openai_non_stream_request_is_refused(server):
    request = urllib.request.Request(
        f"{server.url}/v1/chat/completions",
        data=json.dumps({"model": "gpt-4o-mini", "messages": HI}).encode(),
        headers={"authorization": "Bearer sk-test", "content-type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    caught.value.close()
    assert caught.value.code == 400


# -- Gemini ---------------------------------------------------------------------------------


async def test_gemini_text_stream(server, sdk):
    text, thoughts, chunks = await gemini_stream(sdk.gemini())
    assert (text, thoughts) == (expected("gemini_stream_text.sse").text, "")
    assert len(chunks) == 11
    usage = chunks[-1].usage_metadata
    assert (usage.prompt_token_count, usage.candidates_token_count) == (2112, 31)
    assert (usage.cached_content_token_count, usage.thoughts_token_count) == (2027, 187)
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    request = server.requests[-1]
    assert request.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert request.query == "alt=sse"
    assert request.headers["x-goog-api-key"] == "gm-test"


async def test_gemini_thinking_stream(server, sdk):
    thinking = types.ThinkingConfig(include_thoughts=True)
    config = types.GenerateContentConfig(thinking_config=thinking)
    text, thoughts, chunks = await gemini_stream(sdk.gemini(), config=config)
    want = expected("gemini_stream_thinking.sse")
    assert (text, thoughts) == (want.text, want.reasoning)
    signed = [p for c in chunks for p in c.candidates[0].content.parts if p.thought_signature]
    assert len(signed) == 1 and isinstance(signed[0].thought_signature, bytes)
    assert chunks[-1].usage_metadata.thoughts_token_count == 212
    # google-genai 3.4 writes the thinkingConfig keys in snake_case; the route accepts both.
    assert server.requests[-1].json["generationConfig"]["thinkingConfig"] == {
        "include_thoughts": True
    }


async def test_gemini_default_api_version_v1_is_served(server, sdk):
    text, _, _ = await gemini_stream(sdk.gemini(api_version="v1"))
    assert text == expected("gemini_stream_text.sse").text
    assert server.requests[-1].path.startswith("/v1/models/gemini-2.5-flash:")


async def test_gemini_files_api_takes_a_resumable_upload_and_serves_it_once_active(server, sdk):
    client = sdk.gemini()
    data = b"%PDF-1.4\n" + bytes(range(256)) * 40_000  # 10 MB: two 8 MB chunks
    file = await client.aio.files.upload(
        file=io.BytesIO(data),
        config=types.UploadFileConfig(mime_type="application/pdf", display_name="spec.pdf"),
    )
    assert (file.state, file.size_bytes, file.display_name) == ("PROCESSING", len(data), "spec.pdf")
    assert server.files.uploaded() == {file.name: data}
    commands = [r.headers.get("x-goog-upload-command") for r in server.requests]
    assert commands == ["start", "upload", "upload, finalize"]
    assert file.expiration_time - file.create_time == timedelta(hours=48)
    # A file still PROCESSING is refused, as Gemini does; once ACTIVE it can be used.
    part = types.Part.from_uri(file_uri=file.uri, mime_type="application/pdf")
    with pytest.raises(genai_errors.ClientError) as refused:
        await client.aio.models.generate_content(model="gemini-2.5-flash", contents=[part])
    assert "not in an ACTIVE state" in str(refused.value.message)
    looks = [(await client.aio.files.get(name=file.name)).state for _ in range(2)]
    assert looks == ["PROCESSING", "ACTIVE"]
    stream = await client.aio.models.generate_content_stream(
        model="gemini-2.5-flash", contents=[part, "hi"]
    )
    assert [chunk async for chunk in stream]
    # A display name with the magic word ends FAILED, with the API's error.
    doomed = await client.aio.files.upload(
        file=io.BytesIO(b"x"),
        config={"mime_type": "application/pdf", "display_name": "fail-processing.pdf"},
    )
    for _ in range(2):
        doomed = await client.aio.files.get(name=doomed.name)
    assert doomed.state == "FAILED" and doomed.error.message == "File processing failed."


# -- errors ---------------------------------------------------------------------------------

ERRORS = [
    # fixture, what ba-chat calls it, its HTTP status, the retry-after it carries
    ("anthropic_error_401_authentication.json", "auth", 401, None),
    ("anthropic_error_404_not_found_model.json", "model_not_found", 404, None),
    ("anthropic_error_429_rate_limit.json", "rate_limited", 429, 2.0),
    ("anthropic_error_529_overloaded.json", "overloaded", 529, None),
    ("openai_error_401_invalid_api_key.json", "auth", 401, None),
    ("openai_error_404_model_not_found.json", "model_not_found", 404, None),
    ("openai_error_429_rate_limit.json", "rate_limited", 429, 1.0),
    ("gemini_error_400_api_key_invalid.json", "auth", 400, None),
    ("gemini_error_404_model_not_found.json", "model_not_found", 404, None),
    ("gemini_error_429_resource_exhausted.json", "rate_limited", 429, 26.0),
    ("gemini_error_503_unavailable.json", "overloaded", 503, None),
]


@pytest.mark.parametrize(("name", "kind", "code", "wait"), ERRORS)
async def test_error_fixtures_become_our_errors(server, name, kind, code, wait):
    server.queue(fixture(name))
    events = await adapter_events(server, name.split("_")[0], "some-model")
    error = failure(events)
    assert len(events) == 1  # nothing before the error
    assert (error.kind, error.status, error.retry_after) == (kind, code, wait)
    assert error.line().startswith(("anthropic", "openai", "gemini", "rate limited by"))
    assert len(server.requests) == 1


def test_reply_headers_follow_the_index():
    reply = fixture("anthropic_error_429_rate_limit.json")
    assert (reply.status, reply.headers["retry-after"]) == (429, "2")
    assert reply.headers["request-id"] == "req_011CFixture429RateLimit00"
    assert fixture("openai_error_429_rate_limit.json").headers["retry-after"] == "1"
    assert "retry-after" not in fixture("gemini_error_429_resource_exhausted.json").headers
    assert fixture("llamacpp_stream_usage.sse").headers["Server"] == "llama.cpp"
    custom = fixture("openai_error_429_rate_limit.json", status=418, headers={"Retry-After": "9"})
    assert (custom.status, custom.headers) == (418, {**custom.headers, "Retry-After": "9"})
    assert "retry-after" not in custom.headers  # overridden case-insensitively


async def test_openai_honours_retry_after(server, sdk):
    server.queue(fixture("openai_error_429_rate_limit.json"), fixture("openai_stream_usage.sse"))
    started = time.monotonic()
    text, _, _ = await gpt_stream(sdk.gpt(max_retries=1))
    assert text == expected("openai_stream_usage.sse").text
    assert len(server.requests) == 2
    assert time.monotonic() - started >= 0.9  # retry-after: 1


MAGIC = [
    # model, what ba-chat calls the failure, text that arrived before it
    ("claude-not-found", "model_not_found", False),
    ("claude-rate-limit", "rate_limited", False),
    ("claude-overloaded", "overloaded", False),
    ("claude-midstream-error", "overloaded", True),
    ("claude-dropped", "unreachable", True),
    ("gpt-not-found", "model_not_found", False),
    ("gpt-rate-limit", "rate_limited", False),
    ("gpt-overloaded", "overloaded", False),
    ("gpt-midstream-error", "unreachable", True),
    ("gpt-dropped", "unreachable", True),
    ("gemini-not-found", "model_not_found", False),
    ("gemini-rate-limit", "rate_limited", False),
    ("gemini-overloaded", "overloaded", False),
    ("gemini-midstream-error", "overloaded", True),
    ("gemini-dropped", "unreachable", True),
]
PROVIDER = {"claude": "anthropic", "gpt": "openai", "gemini": "gemini"}


@pytest.mark.parametrize(("model", "kind", "partial"), MAGIC)
async def test_magic_model_names(server, model, kind, partial):
    events = await adapter_events(server, PROVIDER[model.split("-")[0]], model)
    error = failure(events)
    assert error.kind == kind
    assert error.retryable == (kind != "model_not_found")
    assert bool(text_of(events)) == partial
    assert len(server.requests) == 1


# -- broken streams ---------------------------------------------------------------------------

CUTS = [
    ("anthropic", "anthropic_stream_text.sse", 6),
    ("openai", "openai_stream_usage.sse", 6),
    ("gemini", "gemini_stream_text.sse", 4),
]


@pytest.mark.parametrize(("provider", "name", "events"), CUTS)
async def test_cut_after_breaks_each_stream_midway(server, provider, name, events):
    """A connection closed mid-body (no final chunk): the text before the cut arrives,
    then one retryable error that says the provider could not be reached."""
    server.queue(fixture(name, cut_after=events))
    got = await adapter_events(server, provider, "some-model")
    error = failure(got)
    assert (error.kind, error.retryable) == ("unreachable", True)
    assert f"could not reach {provider}" in error.line()
    sent = split_events((FIXTURES / name).read_bytes())[:events]
    assert text_of(got) == "".join(_texts(provider, sent)) != ""
    assert len(server.requests) == 1


def _texts(provider: str, events: list[bytes]) -> list[str]:
    """The text pieces carried by raw SSE events, read straight from their JSON."""
    pieces = []
    for event in events:
        for line in event.decode().splitlines():
            if not line.startswith("data:") or line[5:].strip() in ("", "[DONE]"):
                continue
            data = json.loads(line[5:])
            if provider == "anthropic":
                pieces.append(data.get("delta", {}).get("text", ""))
            elif provider == "openai":
                pieces += [c["delta"].get("content") or "" for c in data.get("choices", [])]
            else:
                for candidate in data.get("candidates", []):
                    pieces += [p.get("text", "") for p in candidate["content"]["parts"]]
    return [piece for piece in pieces if piece]


async def test_drop_is_a_connection_error_and_retryable(server, sdk):
    server.queue(drop())
    error = failure(await adapter_events(server, "openai", "gpt-4o-mini"))
    assert (error.kind, error.retryable) == ("unreachable", True)
    server.queue(drop(), fixture("openai_stream_usage.sse"))
    text, _, _ = await gpt_stream(sdk.gpt(max_retries=1))
    assert text == expected("openai_stream_usage.sse").text
    assert len(server.requests) == 3


@pytest.mark.parametrize(("provider", "name", "events"), CUTS)
async def test_stall_trips_read_timeout(server, provider, name, events):
    """No byte for the stall timeout: the text so far, then one retryable `stalled`."""
    server.queue(fixture(name, stall_after=events, stall_seconds=30))
    got = await adapter_events(server, provider, "some-model", stall_timeout=0.3)
    assert (failure(got).kind, failure(got).retryable) == ("stalled", True)
    sent = split_events((FIXTURES / name).read_bytes())[:events]
    assert text_of(got) == "".join(_texts(provider, sent)) != ""


async def test_stop_does_not_wait_for_a_stalled_stream():
    server = FakeServer().start()
    server.queue(fixture("openai_stream_usage.sse", stall_after=1, stall_seconds=30))
    events = []
    target = Target(BUILTIN["openai"], "m", f"{server.url}/v1", "k", "test")

    async def read() -> None:
        request = ChatRequest(model="m", messages=(ChatMessage.of("user", "hi"),))
        async for event in adapter(target.spec).stream(target, request):
            events.append(event)

    reading = asyncio.create_task(read())
    while not server.requests:  # the handler is now stalling after its first event
        await asyncio.sleep(0.01)
    started = time.monotonic()
    await asyncio.to_thread(server.stop)
    assert time.monotonic() - started < 2
    await asyncio.wait_for(reading, 5)  # stop() closed the stalled stream
    assert failure(events).kind == "unreachable"


async def test_delay_spaces_events(server, sdk):
    server.queue(text_stream("openai", "abcdefgh", chunk_size=4, delay=0.05))
    started = time.monotonic()
    text, _, _ = await gpt_stream(sdk.gpt())
    assert text == "abcdefgh"
    assert time.monotonic() - started >= 0.05 * 5  # 7 events, 6 gaps


# -- generated streams ---------------------------------------------------------------------

TEXT = 'Hello, "world"!\nLine two: ünïcödé ✓ 🎉\r\n\ttab {"json": [1]} data: [DONE]\n\n'
REASONING = "First I think.\n\nThen: more 🤔"


@pytest.mark.parametrize("reasoning", [None, REASONING])
@pytest.mark.parametrize("chunk_size", [1, 4, 1000])
async def test_text_stream_round_trips_anthropic(server, sdk, reasoning, chunk_size):
    server.queue(text_stream("anthropic", TEXT, chunk_size=chunk_size, reasoning=reasoning))
    text, thinking, final = await claude_stream(sdk.claude())
    assert (text, thinking) == (TEXT, reasoning or "")
    if reasoning:
        assert final.content[0].type == "thinking" and final.content[0].signature
    assert final.usage.output_tokens > 0 and final.stop_reason == "end_turn"


@pytest.mark.parametrize(("dialect", "reasoning"), [("openai", None), ("deepseek", REASONING)])
@pytest.mark.parametrize("usage", [True, False])
async def test_text_stream_round_trips_openai_and_deepseek(server, sdk, dialect, reasoning, usage):
    server.queue(text_stream(dialect, TEXT, reasoning=reasoning, usage=usage))
    text, got_reasoning, chunks = await gpt_stream(sdk.gpt())
    assert (text, got_reasoning) == (TEXT, reasoning or "")
    usages = [c.usage for c in chunks if c.usage]
    assert len(usages) == (1 if usage else 0)
    if usage and dialect == "deepseek":
        assert usages[0].completion_tokens_details.reasoning_tokens > 0


@pytest.mark.parametrize("reasoning", [None, REASONING])
@pytest.mark.parametrize("usage", [True, False])
async def test_text_stream_round_trips_gemini(server, sdk, reasoning, usage):
    server.queue(text_stream("gemini", TEXT, reasoning=reasoning, usage=usage))
    text, thoughts, chunks = await gemini_stream(sdk.gemini())
    assert (text, thoughts) == (TEXT, reasoning or "")
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert (chunks[-1].usage_metadata is not None) == usage
    if reasoning and usage:
        assert chunks[-1].usage_metadata.thoughts_token_count > 0


async def test_text_stream_edge_cases(server, sdk):
    server.queue(text_stream("deepseek", TEXT))  # deepseek-chat: no reasoning_content at all
    assert (await gpt_stream(sdk.gpt()))[:2] == (TEXT, "")
    for dialect in ("anthropic", "openai", "gemini"):
        server.queue(text_stream(dialect, ""))
        assert await sdk.call(dialect) == ""
    with pytest.raises(ValueError):
        text_stream("cohere", "x")
    with pytest.raises(ValueError):
        text_stream("openai", "x", reasoning="OpenAI streams no reasoning")


async def test_text_stream_5000_tokens(server, sdk):
    body = "tok " * 5000
    server.queue(text_stream("anthropic", body, chunk_size=4))
    text, _, final = await claude_stream(sdk.claude())
    assert text == body and final.usage.output_tokens == 5000
    # The server side alone: 5,000 events over raw HTTP, without SDK parsing.
    server.queue(text_stream("openai", body, chunk_size=4))
    started = time.monotonic()
    async with (
        httpx2.AsyncClient() as client,
        client.stream("POST", f"{server.url}/v1/chat/completions", json={}) as response,
    ):
        raw = b"".join([chunk async for chunk in response.aiter_bytes()])
    assert raw.count(b"data: ") == 5004 and time.monotonic() - started < 10  # ~0.2 s


# -- server behaviour ----------------------------------------------------------------------


async def test_model_lists_route_by_header(server, sdk):
    anthropic_ids = [m.id async for m in sdk.claude().models.list()]
    assert anthropic_ids[0] == "claude-sonnet-4-5-20250929" and len(anthropic_ids) == 3
    openai_ids = [m.id async for m in await sdk.gpt().models.list()]
    assert "gpt-4o-mini" in openai_ids and len(openai_ids) == 4
    for version in ("v1beta", "v1"):
        names = [m.name async for m in await sdk.gemini(api_version=version).aio.models.list()]
        assert names[0] == "models/gemini-2.5-flash" and len(names) == 4
    paths = [r.path for r in server.requests]
    assert paths == ["/v1/models", "/v1/models", "/v1beta/models", "/v1/models"]


async def test_keys_gate_every_dialect():
    keys = {"anthropic": "a-key", "openai": "o-key", "gemini": "g-key", "deepseek": "d-key"}
    with FakeServer(keys=keys) as server:
        sdk = Clients(server)
        server.queue(text_stream("openai", "queued"))
        for provider, code in (("anthropic", 401), ("openai", 401), ("gemini", 400)):
            error = failure(await adapter_events(server, provider, "some-model"))
            assert (error.kind, error.status) == ("auth", code)
        good = sdk.gpt(api_key="o-key")
        assert (await gpt_stream(good))[0] == "queued"  # refusals left the queue alone
        # deepseek's own key is required
        error = failure(await adapter_events(server, "openai", "deepseek-reasoner", key="o-key"))
        assert error.kind == "auth"
        assert (await gpt_stream(sdk.gpt(api_key="d-key"), "deepseek-reasoner"))[1]
        assert (await claude_stream(sdk.claude(api_key="a-key")))[0]
        assert (await gemini_stream(sdk.gemini(api_key="g-key")))[0]
        request = urllib.request.Request(
            f"{server.url}/v1/messages",
            data=json.dumps({"model": "m", "stream": True}).encode(),
            headers={"x-api-key": "a-key", "anthropic-version": "2023-06-01"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.read() == (FIXTURES / "anthropic_stream_text.sse").read_bytes()
        assert len(server.requests) == 9
        await sdk.aclose()


def test_sync_use_unknown_routes_and_reset(server):
    with openai.OpenAI(base_url=f"{server.url}/v1", api_key="k", max_retries=0) as client:
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=HI, stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    server.queue(status(418, {"error": {"message": "teapot"}}, headers={"x-extra": "1"}))
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{server.url}/anything?x=1", timeout=5)
    with caught.value as error:
        assert error.code == 418 and error.headers["x-extra"] == "1"
        assert json.loads(error.read()) == {"error": {"message": "teapot"}}
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{server.url}/nowhere", timeout=5)
    caught.value.close()
    assert caught.value.code == 404
    assert [(r.method, r.path, r.query) for r in server.requests[1:]] == [
        ("GET", "/anything", "x=1"),
        ("GET", "/nowhere", ""),
    ]
    server.queue(drop())
    server.reset()
    assert server.requests == []
    with urllib.request.urlopen(f"{server.url}/v1/models", timeout=5) as response:
        assert json.load(response)["object"] == "list"  # the dropped reply was cleared


async def test_concurrent_streams_each_get_their_reply(server, sdk):
    server.queue(*(text_stream("openai", f"reply number {i}", chunk_size=3) for i in range(40)))
    client = sdk.gpt()
    texts = await asyncio.gather(*(gpt_stream(client) for _ in range(40)))
    assert sorted(t[0] for t in texts) == sorted(f"reply number {i}" for i in range(40))
    assert len(server.requests) == 40


async def test_stop_closes_keep_alive_connections_and_threads():
    server = FakeServer().start()
    sdk = Clients(server)
    await gpt_stream(sdk.gpt())  # leaves a kept-alive connection and its handler thread
    threads = list(server._connections.values())
    assert threads
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    assert not any(t.is_alive() for t in threads)
    assert not server._thread.is_alive()
    server.stop()  # idempotent
    with pytest.raises(RuntimeError):
        server.url  # noqa: B018
    await sdk.aclose()


def test_main_runs_in_the_foreground():
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.servers", "--port", "0"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().split()[4]
        with urllib.request.urlopen(f"{url}/v1beta/models", timeout=5) as response:
            assert json.load(response)["models"][0]["name"] == "models/gemini-2.5-flash"
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl+C
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "GET /v1beta/models -> gemini_models_list.json" in err


def test_server_thread_is_a_named_daemon(server):
    threads = {t.name: t for t in threading.enumerate()}
    assert threads[f"fake-llm-server:{server.port}"].daemon
