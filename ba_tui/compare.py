"""Compare mode: one prompt to several models at once, each through the normal turn runner.

The user message is saved once; every model's reply is a sibling under it, so the thread
can later be continued from whichever answer the user keeps.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ba_tui.conversation import Turn, TurnOptions, run_turn, written
from ba_tui.messages import Blob, Text
from ba_tui.providers import ChatMessage, Target, adapter

if TYPE_CHECKING:
    from ba_tui.attachments import Prepared
    from ba_tui.events import Event
    from ba_tui.store import Store
    from ba_tui.tools import Toolbox


async def run_compare(
    targets: Sequence[Target],
    prompt: str,
    *,
    history: Sequence[ChatMessage] = (),
    system: str | None = None,
    options: TurnOptions | None = None,
    on_event: Callable[[int, Event], Any] | None = None,
    store: Store | None = None,
    thread_id: str | None = None,
    parent_id: str | None = None,
    fastest: bool = False,
    turns: list[Turn] | None = None,
    attached: Sequence[Prepared] = (),
    files: Mapping[str, Blob] | None = None,
    tools: Toolbox | None = None,
) -> list[Turn]:
    """Run the prompt against every target concurrently; turns come back in target order.

    One target failing does not stop the others. With `fastest`, the first complete
    answer wins and the others are cancelled (and saved as `cancelled`). A caller that
    may cancel the whole comparison passes `turns` (empty) to see, even then, what each
    target produced: it is filled in target order before anything is sent. `tools` go to
    every target that takes tools (one box: its approvals are asked one at a time).
    """
    # Import every SDK first: an import inside one task would stall the others' clocks.
    for target in targets:
        adapter(target.spec)
    asked = (*(item.part for item in attached), *((Text(prompt),) if prompt else ()))
    blobs = [(item.part, item.blob) for item in attached]
    user_id = None
    if store is not None and thread_id is not None:
        add = functools.partial(
            store.add_message, thread_id, role="user", parts=asked, parent_id=parent_id, blobs=blobs
        )
        # (A 50 MB PDF takes a third of a second to store: not on the TUI's event loop.)
        user_id = (await written(add) if blobs else add()).id
    messages = [*history, ChatMessage("user", asked)]
    files = {**(files or {}), **{part.sha256: blob for part, blob in blobs}}
    placeholders = turns if turns is not None else []
    placeholders[:] = [Turn(t.provider, t.model, thread_id=thread_id) for t in targets]

    def forward(index: int) -> Callable[[Event], Any]:
        return lambda event: on_event(index, event) if on_event else None

    tasks = [
        asyncio.create_task(
            run_turn(
                target,
                None,
                history=messages,
                system=system,
                options=options,
                on_event=forward(index),
                store=store,
                thread_id=thread_id,
                parent_id=user_id,
                turn=placeholders[index],
                files=files,
                tools=tools,
            )
        )
        for index, target in enumerate(targets)
    ]
    pending = set(tasks)
    try:
        while pending:
            _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if fastest and any(t.status == "complete" for t in placeholders):
                break
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return placeholders
