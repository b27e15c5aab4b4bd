"""Tool calling in each adapter: definitions in, streamed calls out, results back.

Real SDKs over real HTTP to the fake server, which streams tool calls the way each
dialect does (tests/servers/tool_calls.py); the request a provider gets is read back
from what the server recorded.
"""

from __future__ import annotations

import pytest

from ba_tui.events import Finished, ToolCallDelta, ToolCallDone, ToolCallStarted
from ba_tui.messages import Reasoning, Text, ToolCall, ToolResult
from ba_tui.providers import BUILTIN, ChatMessage, ChatRequest, Target, ToolSpec, adapter
from ba_tui.providers.tooling import expand, gemini_schema, wire_name
from tests.servers import text_stream, tool_stream
from tests.servers.replies import _GEMINI_SIGNATURE

ADD = ToolSpec(
    "calc.add",  # an MCP-style name with a dot, which no API accepts as it is
    "Add two numbers.",
    {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}},
)
# flavour -> (provider, model, base URL suffix)
TARGETS = {
    "anthropic": ("anthropic", "claude-sonnet-4-6", ""),
    "openai": ("openai", "gpt-4o-mini", "/v1"),
    "ollama": ("ollama", "llama3.2", "/v1"),
    "gemini-compat": ("openai", "gemini-2.5-flash", "/v1"),
    "deepseek": ("deepseek", "deepseek-chat", "/v1"),
    "gemini": ("gemini", "gemini-2.5-flash", ""),
}


def _target(server, flavour: str) -> Target:
    provider, model, suffix = TARGETS[flavour]
    return Target(BUILTIN[provider], model, server.url + suffix, "k", "test")


async def _events(server, flavour: str, request: ChatRequest) -> list:
    target = _target(server, flavour)
    return [event async for event in adapter(target.spec).stream(target, request)]


@pytest.mark.parametrize("flavour", list(TARGETS))
async def test_parallel_calls_stream_out_under_the_tools_own_names(server, flavour):
    sent = wire_name("calc.add")
    server.queue(
        tool_stream(flavour, [("call_a", sent, {"a": 2, "b": 3}), ("call_b", sent, {"a": 1})])
    )
    request = ChatRequest("m", (ChatMessage.of("user", "2+3 and 1+0?"),), tools=(ADD,))
    events = await _events(server, flavour, request)

    done = [e.call for e in events if isinstance(e, ToolCallDone)]
    assert [(c.name, dict(c.arguments)) for c in done] == [
        ("calc.add", {"a": 2, "b": 3}),
        ("calc.add", {"a": 1}),
    ]
    assert len({c.id for c in done}) == 2  # two calls, never one merged call
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    assert [e.id for e in started] == [c.id for c in done]
    assert [e for e in events if isinstance(e, Finished)][-1].reason == "tool_calls"
    if flavour in ("anthropic", "openai", "deepseek"):  # arguments stream in pieces
        pieces = "".join(
            e.text for e in events if isinstance(e, ToolCallDelta) and e.id == done[0].id
        )
        assert pieces.replace(" ", "") == '{"a":2,"b":3}'
    body = server.requests[-1].json
    if flavour == "anthropic":
        assert body["tools"][0]["name"] == sent == "calc_add"
    elif flavour == "gemini":
        assert body["tools"][0]["functionDeclarations"][0]["name"] == sent
    else:
        assert body["tools"][0]["function"]["name"] == sent


def _history(provider: str, meta: dict | None = None) -> tuple[ChatMessage, ...]:
    """A prompt, then a reply that called calc.add, got 5, and answered; then a prompt."""
    call = ToolCall("call_7", "calc.add", {"a": 2, "b": 3}, provider=provider, meta=meta)
    reply = (
        Reasoning("I should add.", provider, {"signature": "EqQBsig=="}),
        Text("Let me add."),
        call,
        ToolResult("call_7", "calc.add", "5", duration_ms=1.0),
        Text("It is 5."),
    )
    return (
        ChatMessage.of("user", "2+3?"),
        ChatMessage("assistant", reply),
        ChatMessage.of("user", "and times 2?"),
    )


async def test_anthropic_gets_results_first_and_tool_use_last_with_thinking_resent(server):
    server.queue(text_stream("anthropic", "10."))
    request = ChatRequest("m", _history("anthropic"), tools=(ADD,), thinking_budget=2048)
    await _events(server, "anthropic", request)
    messages = server.requests[-1].json["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant", "user"]
    assert messages[1]["content"] == [
        {"type": "thinking", "thinking": "I should add.", "signature": "EqQBsig=="},
        {"type": "text", "text": "Let me add."},
        {"type": "tool_use", "id": "call_7", "name": "calc_add", "input": {"a": 2, "b": 3}},
    ]
    assert messages[2]["content"][0] == {
        "type": "tool_result",
        "tool_use_id": "call_7",
        "content": "5",
    }
    assert messages[3]["content"] == "It is 5."


async def test_openai_gets_tool_calls_and_tool_messages(server):
    server.queue(text_stream("openai", "10."))
    await _events(server, "openai", ChatRequest("m", _history("openai"), tools=(ADD,)))
    messages = server.requests[-1].json["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": "Let me add.",
        "tool_calls": [
            {
                "id": "call_7",
                "type": "function",
                "function": {"name": "calc_add", "arguments": '{"a": 2, "b": 3}'},
            }
        ],
    }
    assert messages[2] == {"role": "tool", "tool_call_id": "call_7", "content": "5"}
    assert messages[3] == {"role": "assistant", "content": "It is 5."}


async def test_deepseek_gets_the_reasoning_of_a_step_that_called_tools_back(server):
    server.queue(text_stream("deepseek", "10."))
    await _events(server, "deepseek", ChatRequest("m", _history("deepseek"), tools=(ADD,)))
    messages = server.requests[-1].json["messages"]
    assert messages[1]["reasoning_content"] == "I should add."
    assert "reasoning_content" not in messages[3]  # no tool calls: not needed


async def test_gemini_gets_the_calls_thought_signature_back(server):
    server.queue(text_stream("gemini", "10."))
    history = _history("gemini", {"thought_signature": _GEMINI_SIGNATURE, "made_up_id": True})
    await _events(server, "gemini", ChatRequest("m", history, tools=(ADD,)))
    contents = server.requests[-1].json["contents"]
    call = contents[1]["parts"][-1]
    assert call["functionCall"] == {"name": "calc_add", "args": {"a": 2, "b": 3}}
    assert call["thoughtSignature"] == _GEMINI_SIGNATURE
    assert contents[2]["parts"][0]["functionResponse"]["response"] == {"output": "5"}


async def test_a_call_left_without_a_result_is_answered_cancelled():
    reply = (Text("Checking."), ToolCall("c1", "calc.add", {"a": 1}))
    steps = expand((ChatMessage.of("user", "hi"), ChatMessage("assistant", reply)))
    assert [m.role for m in steps] == ["user", "assistant", "tool"]
    (result,) = steps[2].parts
    assert isinstance(result, ToolResult) and result.is_error and result.call_id == "c1"


async def test_a_long_result_is_cut_for_the_model_with_a_note(server):
    server.queue(text_stream("openai", "ok"))
    history = list(_history("openai"))
    reply = history[1].parts
    history[1] = ChatMessage("assistant", (*reply[:3], ToolResult("call_7", "calc.add", "x" * 50)))
    request = ChatRequest("m", tuple(history), tools=(ADD,), tool_result_cap=20)
    await _events(server, "openai", request)
    sent = server.requests[-1].json["messages"][2]["content"]
    assert sent.startswith("x" * 20 + "\n\n[cut by ba-chat: 50 characters")


def test_names_every_api_accepts():
    assert wire_name("github.create_issue") == "github_create_issue"
    long = wire_name("server." + "x" * 100)
    assert len(long) == 64 and long != wire_name("server." + "x" * 99)
    assert wire_name("9lives") == "_9lives"


def test_gemini_schemas_lose_what_gemini_refuses():
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "$defs": {"Point": {"type": "object", "properties": {"x": {"type": ["number", "null"]}}}},
        "properties": {
            "at": {"$ref": "#/$defs/Point"},
            "tags": {"type": "array", "items": {"type": "string"}, "default": []},
        },
        "required": ["at"],
    }
    assert gemini_schema(schema) == {
        "type": "object",
        "properties": {
            "at": {"type": "object", "properties": {"x": {"type": "number", "nullable": True}}},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["at"],
    }


async def test_gemini_is_sent_the_sanitised_schema(server):
    server.queue(text_stream("gemini", "ok"))
    tool = ToolSpec("t", "d", {"type": "object", "additionalProperties": False, "properties": {}})
    await _events(
        server, "gemini", ChatRequest("m", (ChatMessage.of("user", "hi"),), tools=(tool,))
    )
    (declaration,) = server.requests[-1].json["tools"][0]["functionDeclarations"]
    assert "additionalProperties" not in str(declaration)
