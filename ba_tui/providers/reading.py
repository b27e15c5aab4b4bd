"""Reading an SDK's stream: what the SDK raises while it parses a reply is the reply's fault.

A 200 reply that is not what the protocol promises (a proxy's HTML page, invalid JSON,
garbled events) makes each SDK fail its own way, and the way changes between releases
(AssertionError, JSONDecodeError, a ValueError of its own). So the exception's class says
nothing; where it was raised does. An exception from the SDK's `__anext__`, or from the SDK
assembling its final message, happened while it parsed bytes the provider sent: the provider
sent a bad reply (`errors.BadReply`, retried before the first token). An exception from an
adapter's own code around it is a ba-chat bug, and stays an internal error.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ba_tui import errors

if TYPE_CHECKING:
    from ba_tui.providers.spec import Target

T = TypeVar("T")
# Enough of an error page to find its <title>; the rest is never read.
_PAGE_BYTES = 64 * 1024


class Reader:
    """Wraps the SDK calls that read one reply, and remembers which exception came from them.

    When the SDK's stream exposes its HTTP response (`.response`, as anthropic's and
    openai's do), a 200 HTML page is recognised before the SDK parses it and named by its
    title, and a body that is no event stream by its content type.
    """

    def __init__(self, target: Target) -> None:
        self.target = target
        self.failure: BaseException | None = None
        self.response: Any = None

    def read(self, events: AsyncIterable[T]) -> _Reading[T]:
        """`events`, with anything raised while iterating it marked as the reply's fault."""
        self.response = getattr(events, "response", None)
        return _Reading(self, events)

    async def wait(self, awaitable: Awaitable[T]) -> T:
        """`await awaitable` (the SDK finishing the reply it read), marked the same way."""
        try:
            return await awaitable
        except Exception as exc:
            self.failure = exc
            raise

    def error(self, exc: BaseException) -> errors.ProviderError | None:
        """Our error for `exc` if it came from reading the reply, else None (a bug)."""
        if exc is not self.failure:
            return None
        if isinstance(exc, errors.ProviderError):
            return exc
        return self._not_a_stream() or errors.unreadable(
            self.target.provider, self.target.base_url, exc
        )

    def ended_early(self) -> errors.ProviderError:
        """The error for a stream that ended without finishing: a body that was no event
        stream at all (a JSON document where SSE was asked for) is a bad reply, not a drop."""
        return self._not_a_stream() or errors.ended_early(self.target.provider)

    def _not_a_stream(self) -> errors.BadReply | None:
        content_type = self._content_type()
        if not content_type or "event-stream" in content_type:
            return None
        what = f"{content_type} where an event stream was expected"
        return errors.bad_reply(self.target.provider, self.target.base_url, what)

    def _content_type(self) -> str:
        headers = getattr(self.response, "headers", None)
        value = headers.get("content-type", "") if headers is not None else ""
        return str(value).split(";")[0].strip().lower()

    async def check_page(self) -> None:
        """Raise BadReply, named by the page's title, when the reply is an HTML page.

        No LLM API streams HTML, so this never refuses a real reply."""
        if self._content_type() != "text/html":
            return
        body = b""
        async for chunk in self.response.aiter_bytes():
            body += chunk
            if len(body) >= _PAGE_BYTES:
                break
        page = errors.html_page(body.decode("utf-8", "replace")) or "an HTML page"
        status = getattr(self.response, "status_code", None)
        what = f"HTTP {status} with {page}" if status else page
        raise errors.bad_reply(self.target.provider, self.target.base_url, what)


class _Reading(Generic[T]):
    def __init__(self, reader: Reader, events: AsyncIterable[T]) -> None:
        self.reader = reader
        self.events = events
        self.iterator: AsyncIterator[T] | None = None

    def __aiter__(self) -> _Reading[T]:
        return self

    async def __anext__(self) -> T:
        try:
            if self.iterator is None:
                await self.reader.check_page()
                self.iterator = aiter(self.events)
            return await anext(self.iterator)
        except StopAsyncIteration:
            raise
        except Exception as exc:
            self.reader.failure = exc
            raise
