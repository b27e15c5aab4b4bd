"""SDK clients kept from one turn to the next while the TUI runs.

Building a client costs 27–57 ms of CPU (an SSL context loading the CA bundle, the SDK's
own set-up), and a new client opens a new connection: another TCP and TLS handshake to the
provider before the first token. The TUI sends turn after turn to the same few endpoints,
so while it runs (`keep()` … `release()`), each adapter reuses one client per endpoint,
key and timeouts, and its connection pool. Everywhere else (`ask`, `doctor`, the tests
that call adapters) a turn builds its client and closes it, as the SDKs' examples do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ba_tui.providers.spec import ChatRequest, Target

Client = TypeVar("Client")

# Per event loop: an SDK's async client belongs to the loop it first ran on.
_kept: dict[asyncio.AbstractEventLoop, dict[Hashable, tuple[Any, Callable[[], Awaitable[Any]]]]]
_kept = {}
# How many `kept_while` blocks are open on each loop that keeps clients for them (not for
# the TUI's `keep`): compare runs one tool loop per model at once, and the first to end
# must not close a client the others are still streaming from.
_holders: dict[asyncio.AbstractEventLoop, int] = {}


def keep() -> None:
    """From now on, keep clients on the running loop for the next turn."""
    _kept.setdefault(asyncio.get_running_loop(), {})


async def release() -> None:
    """Close the clients kept on the running loop, and stop keeping them."""
    for _, close in _kept.pop(asyncio.get_running_loop(), {}).values():
        with suppress(Exception):  # closing a pool that lost its connection is not news
            await close()


@asynccontextmanager
async def kept_while() -> AsyncIterator[None]:
    """Keep clients for the requests made inside (a tool loop's steps go to one endpoint,
    one after another), then close them once the last such block on the loop ends;
    nothing changes where the TUI keeps clients already."""
    loop = asyncio.get_running_loop()
    if loop in _kept and loop not in _holders:
        yield
        return
    keep()
    _holders[loop] = _holders.get(loop, 0) + 1
    try:
        yield
    finally:
        _holders[loop] -= 1
        if not _holders[loop]:
            del _holders[loop]
            await release()


def kept_count() -> int:
    """How many clients the running loop keeps (for tests and `doctor`-style checks)."""
    return len(_kept.get(asyncio.get_running_loop(), {}))


@asynccontextmanager
async def client(
    target: Target,
    request: ChatRequest | None,
    make: Callable[[float, float], Client],
    close: Callable[[Client], Awaitable[Any]],
) -> AsyncIterator[Client]:
    """A client for `target`: the kept one if clients are kept, else a new one closed after.

    `make(stall, connect)` builds it with the request's timeouts in seconds (a model list
    gets the defaults). Clients are kept per adapter, base URL, key and timeouts, which is
    everything they are built from; a kept client's requests may run at the same time
    (compare mode)."""
    stall, connect = (request.stall_timeout, request.connect_timeout) if request else (30.0, 10.0)
    kept = _kept.get(asyncio.get_running_loop())
    if kept is None:
        made = make(stall, connect)
        try:
            yield made
        finally:
            await close(made)
        return
    key = (target.spec.kind, target.base_url, target.key, stall, connect)
    if key not in kept:
        made = make(stall, connect)
        kept[key] = (made, lambda: close(made))
    yield kept[key][0]
