"""A local fake of the Anthropic, OpenAI-compatible and Gemini APIs, replaying real wire bytes.

    with FakeServer() as server:
        server.queue(fixture("anthropic_stream_text.sse"))
        client = AsyncAnthropic(base_url=server.url, api_key="x")
        ...
        assert server.requests[-1].json["model"] == ...

See server.py for the default routes and replies.py for the reply builders.
"""

from tests.servers.replies import (
    FIXTURES,
    Reply,
    drip,
    drop,
    fixture,
    html_page,
    malformed,
    runaway,
    status,
    text_stream,
)
from tests.servers.server import FakeServer, Recorded
from tests.servers.tool_calls import tool_stream

__all__ = [
    "FIXTURES",
    "FakeServer",
    "Recorded",
    "Reply",
    "drip",
    "drop",
    "fixture",
    "html_page",
    "malformed",
    "runaway",
    "status",
    "text_stream",
    "tool_stream",
]
