"""Messages made of parts: their JSON form, their checks, and what each provider is sent."""

from __future__ import annotations

import pytest

from ba_tui.messages import (
    Attachment,
    Reasoning,
    Text,
    ToolCall,
    ToolResult,
    dumps,
    for_provider,
    from_dict,
    loads,
    reasoning_of,
    reply_parts,
    text_of,
    to_dict,
)
from ba_tui.providers import BUILTIN, ChatMessage, ChatRequest, Target, adapter
from tests.servers import fixture

EVERY_KIND = (
    Reasoning("First, the tides.", "anthropic", {"signature": "EqQB=="}),
    Text("The moon pulls the sea. ✓ ünï"),
    ToolCall("call_1", "get_weather", {"city": "Oslo", "days": [1, 2]}, "openai"),
    ToolResult("call_1", "get_weather", '{"temp": -3}', is_error=False),
    ToolResult("call_2", "lookup", "no such city", is_error=True),
    Attachment("notes.pdf", "application/pdf", 48213, "ab" * 32),
    Attachment("report.pdf", "application/pdf", 9120, "cd" * 32, 7, "3-9", extracted=True),
)


def test_every_kind_of_part_round_trips_through_json():
    assert loads(dumps(EVERY_KIND)) == EVERY_KIND
    assert [to_dict(p)["type"] for p in EVERY_KIND] == [
        "reasoning", "text", "tool_call", "tool_result", "tool_result", "attachment", "attachment"
    ]  # fmt: skip
    # Empty fields are left out, so a stored text part is no bigger than it needs to be.
    assert dumps([Text("hi")]) == '[{"type":"text","text":"hi"}]'
    assert "is_error" not in to_dict(EVERY_KIND[3]) and to_dict(EVERY_KIND[4])["is_error"]
    assert "extracted" not in to_dict(EVERY_KIND[5]) and to_dict(EVERY_KIND[6])["extracted"]
    assert to_dict(EVERY_KIND[6])["page_range"] == "3-9" and "pages" not in to_dict(EVERY_KIND[5])


def test_text_and_reasoning_are_read_from_the_parts():
    assert text_of(EVERY_KIND) == "The moon pulls the sea. ✓ ünï"
    assert reasoning_of(EVERY_KIND) == "First, the tides."
    assert reasoning_of([Text("x")]) is None and text_of([]) == ""


def test_a_reply_is_its_reasoning_then_its_text():
    parts = reply_parts("answer", "thinking", "anthropic", "sig")
    assert parts == (Reasoning("thinking", "anthropic", {"signature": "sig"}), Text("answer"))
    assert reply_parts("", None, "openai") == ()
    assert reply_parts("only text", "", "openai") == (Text("only text"),)


BAD = [
    ([1], "a part must be an object"),
    ({"type": "video"}, "unknown part type 'video'"),
    ({"type": "text"}, "text part has no text"),
    ({"type": "text", "text": 3}, "text part's text has the wrong type"),
    ({"type": "text", "text": "x", "colour": "red"}, "unknown field(s): colour"),
    ({"type": "tool_call", "id": "1", "name": "f", "arguments": "{}"}, "arguments has the wrong"),
    ({"type": "attachment", "name": "a", "mime": "x", "size": True, "sha256": "s"}, "size"),
]


@pytest.mark.parametrize(("raw", "why"), BAD)
def test_a_malformed_part_says_what_is_wrong(raw, why):
    with pytest.raises(ValueError, match=why.replace("(", r"\(").replace(")", r"\)")):
        from_dict(raw)


def test_metadata_goes_only_to_the_provider_that_wrote_it():
    parts = (Reasoning("hm", "gemini", {"thought_signature": "c2ln"}), Text("ok"))
    assert for_provider(parts, "gemini") == parts
    assert for_provider(parts, "anthropic") == (Reasoning("hm", "gemini"), Text("ok"))


async def _anthropic_body(server, history) -> dict:
    server.queue(fixture("anthropic_stream_text.sse"))
    target = Target(BUILTIN["anthropic"], "claude-sonnet-4-6", server.url, "k", "test")
    request = ChatRequest(
        model=target.model,
        messages=(*history, ChatMessage.of("user", "and then?")),
        thinking_budget=2048,
    )
    [event async for event in adapter(target.spec).stream(target, request)]
    return server.requests[-1].json


async def test_anthropic_gets_back_its_own_signed_thinking_only(server):
    signed = Reasoning("Let me think.", "anthropic", {"signature": "EqQB=="})
    history = (
        ChatMessage.of("user", "why?"),
        ChatMessage("assistant", (signed, Text("Because."))),
        ChatMessage.of("user", "and?"),
        # A fallback answered this turn: its reasoning carries another provider's metadata.
        ChatMessage("assistant", (Reasoning("hmm", "gemini", {"signature": "x"}), Text("So."))),
    )
    messages = (await _anthropic_body(server, history))["messages"]
    assert messages[1]["content"] == [
        {"type": "thinking", "thinking": "Let me think.", "signature": "EqQB=="},
        {"type": "text", "text": "Because."},
    ]
    assert messages[3]["content"] == "So."  # the text only, no foreign thinking block


def test_tool_parts_keep_source_approval_and_duration():
    call = ToolCall("c1", "read_file", {"path": "a"}, "openai", None, source="builtin")
    result = ToolResult("c1", "read_file", "text", approval="session", duration_ms=3.5)
    assert loads(dumps((call, result))) == (call, result)
    assert (
        from_dict(
            {"type": "tool_result", "call_id": "c", "name": "n", "output": "", "duration_ms": 4}
        ).duration_ms
        == 4.0
    )
