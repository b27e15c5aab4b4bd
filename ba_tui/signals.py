"""SIGTERM and SIGHUP end ba-chat the way Ctrl+C does.

Left to their defaults they kill the process on the spot: a streaming reply stays
`streaming` with only its last checkpoint, and the full-screen app leaves the terminal in
the alternate screen with mouse tracking on. Instead the running task is cancelled, so
the turn runner's cancel path saves what arrived as `cancelled` (and Textual restores the
terminal), and the process then exits 128 + the signal's number, as a shell expects.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

# SIGHUP: the terminal went away (window closed, ssh dropped); SIGTERM: `kill`, systemd,
# a container stopping. Windows has neither as a signal a loop can watch.
NAMES = ("SIGTERM", "SIGHUP")


class Stopped(Exception):
    """The process was asked to stop by `signum`; what was running has been cancelled."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.exit_code = 128 + signum


def install(loop: asyncio.AbstractEventLoop, on_signal: Callable[[int], Any]) -> list[int]:
    """Call `on_signal(signum)` on the loop when SIGTERM or SIGHUP arrives; returns the
    signals it could watch (none off the main thread or on Windows)."""
    watched = []
    for name in NAMES:
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        try:
            loop.add_signal_handler(signum, on_signal, int(signum))
        except (NotImplementedError, RuntimeError, ValueError):
            continue
        watched.append(int(signum))
    return watched


def remove(loop: asyncio.AbstractEventLoop, signums: list[int]) -> None:
    """Give the signals `install` watched back their default behaviour."""
    for signum in signums:
        loop.remove_signal_handler(signum)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coro)`, where SIGTERM or SIGHUP cancels `coro` as Ctrl+C does.

    Raises `Stopped` once `coro` has run its cancel path (KeyboardInterrupt for Ctrl+C,
    as asyncio.run does).
    """
    received: list[int] = []

    async def main() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def stop(signum: int) -> None:
            if not received:  # a second signal must not cut the cancel path short
                received.append(signum)
                task.cancel()

        watched = install(loop, stop)
        try:
            return await coro
        finally:
            remove(loop, watched)

    try:
        result = asyncio.run(main())
    except asyncio.CancelledError:
        if received:
            raise Stopped(received[0]) from None
        raise
    if received:  # it finished (or swallowed the cancel) as the signal came: still stop
        raise Stopped(received[0])
    return result
