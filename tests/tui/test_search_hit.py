"""Opening a search hit shows its matched words, marked, even deep in a long message
of a long thread on a small terminal; the mark goes with the next key."""

from __future__ import annotations

from ba_tui.store import Store
from tests.tui.conftest import wait_for


def _long_thread(store: Store) -> None:
    thread = store.create_thread(title="Rollout review", provider="anthropic", model="m")
    parent = None
    filler = "Nothing to see in this paragraph, only words to fill it up. " * 4
    for index in range(10):
        role = "user" if index % 2 == 0 else "assistant"
        text = "\n\n".join([f"Message {index}.", *([filler] * 6)])
        if index == 3:  # the hit: an answer whose match is far below its top
            text = "\n\n".join(
                [f"Message {index}.", *([filler] * 8), "The main risks are downtime."]
            )
        message = store.add_message(thread.id, role=role, content=text, parent_id=parent)
        parent = message.id
    # A newer thread, so the app does not open on this one already.
    store.create_thread(title="Something else", provider="anthropic", model="m")


def _marked(app) -> list[str]:
    """The words shown reversed (marked) on the screen now (not the scrollbars)."""
    strips = app.screen._compositor.render_strips()
    return [
        segment.text
        for strip in strips
        for segment in strip
        if segment.style is not None and segment.style.reverse and segment.text.strip().isalnum()
    ]


async def test_a_search_hit_is_scrolled_into_view_and_its_words_marked(make_app, store):
    _long_thread(store)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+f", *"risk")
        await wait_for(
            pilot, lambda: app.screen.query("#hits") and app.screen.query_one("#hits").option_count
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: "risks" in _marked(app))  # on screen and marked
        assert app.main.thread.title == "Rollout review"
        await pilot.press("down")  # the next action clears the mark
        await wait_for(pilot, lambda: not _marked(app))
