"""Getting a turn's target ready without blocking the screen (the chat screen and the
compare screen both start turns)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ba_tui.providers import Target
    from ba_tui.session import ChatSession


async def ready_target(session: ChatSession, provider: str | None, model: str | None) -> Target:
    """Resolve a provider and model (the keyring may be asked) and import its SDK (up to
    2 s the first time), both off the UI thread."""
    from ba_tui.providers import adapter

    target = await asyncio.to_thread(session.target, provider, model)
    await asyncio.to_thread(adapter, target.spec)
    return target
