"""The thread list as a user drives it: acting on the highlighted thread, threads other
processes write, titles whatever their characters."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict

import pytest
from rich.cells import cell_len

from ba_tui.store import Store
from tests.conftest import run_cli
from tests.servers import text_stream
from tests.tui.conftest import screen_text, wait_for


async def _highlight_second_thread(pilot) -> None:
    """Open thread A (t1), then Tab to the list and Down to thread B (t2), as a user does."""
    app = pilot.app
    await app.main.open_thread("t1")
    threads = app.main.query_one("#threads")
    while app.focused is not threads:
        await pilot.press("shift+tab")
    assert threads.highlighted == threads.get_option_index("t1")
    await pilot.press("down")
    assert threads.highlighted == threads.get_option_index("t2")


async def test_delete_in_the_list_asks_about_and_deletes_the_highlighted_thread(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _highlight_second_thread(pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
        shown = screen_text(app)
        assert "Delete the thread “Haiku about SQLite”" in shown
        assert "Plan the data migration” and" not in shown
        await pilot.press("enter")  # the default button is Cancel
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MainScreen")
        assert {t.id for t in seeded.list_threads()} == {"t1", "t2"}

        await pilot.press("d")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
        assert "Delete the thread “Haiku about SQLite”" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: "t2" not in app.main.query_one("#threads").threads)
        assert app.main.thread is not None and app.main.thread.id == "t1"  # still open
        assert "A plan" in screen_text(app)
    assert [t.id for t in seeded.list_threads()] == ["t1"]
    assert [m.id for m in seeded.messages("t1")] == ["m1", "m2"]


async def test_delete_with_the_key_deletes_the_highlighted_thread_too(make_app, seeded):
    from ba_tui import uploads
    from ba_tui.events import Uploaded

    # The record of an upload of a file no thread keeps (as t2's would be once deleted).
    gone = Uploaded("c" * 64, "application/pdf", "files/x", "https://g/files/x", None)
    seeded.set_kv(uploads.KEY, json.dumps([{"base_url": "https://g", **asdict(gone)}]))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _highlight_second_thread(pilot)
        await pilot.press("delete")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
        assert "Delete the thread “Haiku about SQLite”" in screen_text(app)
        await pilot.press("tab", "enter")  # Tab back to the red button, then press it
        await wait_for(pilot, lambda: "t2" not in app.main.query_one("#threads").threads)
    assert [t.id for t in seeded.list_threads()] == ["t1"]
    assert seeded.get_kv(uploads.KEY) is None  # nothing of a deleted file stays behind


@pytest.mark.parametrize("key", ["f2", "R"])
async def test_rename_in_the_list_renames_the_highlighted_thread(make_app, seeded, key):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _highlight_second_thread(pilot)
        await pilot.press(key)
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RenameScreen")
        assert app.screen.query_one("#title").value == "Haiku about SQLite"
        await pilot.press("ctrl+a", "ctrl+k", *"Poems", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MainScreen")
        assert app.main.thread.id == "t1"  # the open thread stays open, with its title
        assert app.main.query_one("#status").title == "Plan the data migration"
    assert seeded.get_thread("t2").title == "Poems"
    assert seeded.get_thread("t1").title == "Plan the data migration"


async def test_keys_outside_the_list_still_act_on_the_open_thread(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _highlight_second_thread(pilot)
        await pilot.click("#prompt")  # the highlight stays on B, but the user left the list
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RenameScreen")
        assert app.screen.query_one("#title").value == "Plan the data migration"


async def test_threads_another_process_writes_appear_and_the_highlight_stays(
    make_app, seeded, home
):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _highlight_second_thread(pilot)
        threads = app.main.query_one("#threads")
        with Store.open(home / "ba-chat.db") as other:  # another process's connection
            made = other.create_thread(
                title="Written elsewhere", provider="openai", model="gpt-4.1"
            )
            other.add_message(made.id, role="user", content="hi from a script", parent_id=None)
            other.update_thread("t1", title="Renamed elsewhere")
        await wait_for(pilot, lambda: made.id in threads.threads)
        shown = screen_text(app)
        assert "Written elsewhere" in shown and "Renamed elsewhere" in shown
        order = [threads.get_option_at_index(i).id for i in range(1, threads.option_count)]
        assert order == ["t1", made.id, "t2"]  # newest first
        assert threads.highlighted_thread.id == "t2"  # the highlight did not move
        assert app.focused is threads
        await wait_for(pilot, lambda: app.main.query_one("#status").title == "Renamed elsewhere")

        with Store.open(home / "ba-chat.db") as other:
            other.delete_thread(made.id)
        await wait_for(pilot, lambda: made.id not in threads.threads)
        assert "Written elsewhere" not in screen_text(app)
        assert threads.highlighted_thread.id == "t2"


async def test_the_open_thread_shows_a_turn_another_process_added(
    make_app, seeded, server, tui_env
):
    server.queue(text_stream("anthropic", "An answer from the command line."))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _highlight_second_thread(pilot)  # t1 open, the user on t2 in the list
        done = await asyncio.to_thread(
            run_cli, "ask", "--thread", "t1", "and from a script?", env=tui_env
        )
        assert done.returncode == 0, done.stderr
        await wait_for(pilot, lambda: "An answer from the command line." in screen_text(app))
        shown = screen_text(app)
        assert "and from a script?" in shown and "A plan" in shown
        assert app.main.thread.message_count == 4
        threads = app.main.query_one("#threads")
        assert threads.highlighted_thread.id == "t2" and app.focused is threads


def _terminal_width(text: str) -> int:
    """Cells as a terminal that measures code point by code point (xterm, VTE, the Linux
    console, older tmux) shows `text`: wide characters 2, joiners and marks 0."""
    import unicodedata

    width = 0
    for char in text:
        if unicodedata.category(char) in ("Mn", "Me", "Cf") or char in "\u200b\u200d":
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


TRICKY_TITLES = {
    "z": "Zero\u200bwidth\u200bspaces\u200bbetween\u200bevery\u200bword",
    "f": "Family \U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 trip "
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 and more",
    "c": "中文标题很长很长很长很长很长很长很长",
    "h": "\u2764\ufe0f and \U0001f44d\U0001f3fd short",
    "p": "Plain title",
}


@pytest.fixture
def tricky(store):
    dates = ["2026-11-22T11:59:30.000Z", "2026-11-22T09:00:00.000Z", "2026-11-20T09:00:00.000Z"]
    dates += ["2026-10-01T09:00:00.000Z", "2024-05-01T09:00:00.000Z"]
    store.import_rows(
        [
            {
                "id": tid,
                "title": title,
                "provider": provider,
                "model": "m",
                "system": None,
                "persona": None,
                "created_at": at,
                "updated_at": at,
            }
            for (tid, title), at, provider in zip(
                TRICKY_TITLES.items(),
                dates,
                ["anthropic", "openai", "a-provider-with-a-very-long-name", "gemini", "x"],
                strict=True,
            )
        ],
        [],
    )
    return store


async def test_titles_with_joiners_zero_width_and_wide_characters_keep_the_columns(
    make_app, tricky
):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await app.main.new_thread()  # no thread open: no mark before the first title
        threads = app.main.query_one("#threads")
        await pilot.pause()
        strips = threads.render_lines(threads.region.reset_offset)
        rows = ["".join(segment.text for segment in strip) for strip in strips]
        width = threads.region.width
        for row in rows:  # the same width as Textual counts it and as a terminal shows it
            assert cell_len(row) == width, row
            assert _terminal_width(row) == width, row
        listed = rows[1 : 1 + 2 * len(TRICKY_TITLES)]  # under "+ New thread", two rows each
        titles, details = listed[0::2], listed[1::2]
        firsts = [
            "Zerowidthspacesbetweenevery…",
            "Family",
            "中文标题很长很长很长很长很…",
            "❤",
            "Plain",
        ]
        assert [t.split()[0] for t in titles] == firsts
        whens = ["now", "3h", "2d", "Oct 01", "2024-05-01"]
        assert all(d.rstrip(" ▕").endswith(" " + w) for d, w in zip(details, whens, strict=True))
        ends = {_terminal_width(d.rstrip(" ▕")) for d in details}
        assert len(ends) == 1  # the times end in one column
        assert "\U0001f468\U0001f469\U0001f467\U0001f466" in titles[1]  # the family, unjoined
        assert " a-provider-with-a-very-l… 2d " in details[2]  # cut to leave room for the time


async def test_hiding_the_list_while_it_has_focus_gives_typing_to_the_prompt(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        threads = app.main.query_one("#threads")
        while app.focused is not threads:
            await pilot.press("tab")
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: not app.main.query_one("#sidebar").display)
        await pilot.press(*"still typing")
        assert app.main.query_one("#prompt").text == "still typing"


async def test_the_open_thread_is_marked_apart_from_the_cursor(make_app, seeded):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _highlight_second_thread(pilot)  # t1 open, the cursor on t2
        rows = [row[:31] for row in screen_text(app).splitlines()]  # the list's column
        [open_row] = [row for row in rows if "Plan the data migration" in row]
        [cursor_row] = [row for row in rows if "Haiku about SQLite" in row]
        assert open_row.lstrip().startswith("● ")
        assert "●" not in cursor_row
        await pilot.press("enter")  # open t2: the mark moves with it
        await wait_for(pilot, lambda: app.main.thread.id == "t2")
        rows = [row[:31] for row in screen_text(app).splitlines()]
        assert [row for row in rows if "● Haiku about SQLite" in row]
        assert not [row for row in rows if "● Plan the data migration" in row]
