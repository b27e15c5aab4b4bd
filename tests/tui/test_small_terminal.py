"""An 80×24 terminal: every dialog fits or scrolls, the chat screen lays out for the width."""

from __future__ import annotations

import re
from typing import Any

import pytest
from textual.widget import Widget

from tests.servers import text_stream
from tests.tui.conftest import reply_done, screen_text, send, wait_for

SMALL = (80, 24)


def shown(app: Any, widget: Widget) -> bool:
    """The widget is on screen: the cell at its centre belongs to it (not cut, not covered)."""
    region = widget.region
    if not region.area:
        return False
    try:
        under, _ = app.screen.get_widget_at(*region.center)
    except Exception:  # no widget there: outside the screen
        return False
    return under is widget or widget in under.ancestors


async def test_tab_reaches_and_shows_every_settings_field(make_app):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SettingsScreen")
        await pilot.pause()
        fields = [w for w in app.screen.query("Input, Select, Button") if w.focusable]
        assert any(w.id == "key-anthropic" for w in fields)
        seen = set()
        for _ in range(len(fields) + 1):
            await pilot.press("tab")
            await pilot.pause()
            focused = app.screen.focused
            assert focused is not None
            assert shown(app, focused), f"{focused.id} has the focus but is not on screen"
            text = screen_text(app)
            # The title and the keys to use stay in view while the fields scroll.
            assert "Settings" in text and "Esc: close" in text
            seen.add(focused.id)
        assert {w.id for w in fields} <= seen


async def test_the_welcome_buttons_stay_in_view(store, monkeypatch):
    from ba_tui.config import load_config
    from ba_tui.providers import local
    from ba_tui.tui.app import ChatApp

    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "DEEPSEEK_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(local, "available", lambda config=None: True)  # the longest text
    app = ChatApp(store=store, config=load_config(), warm_up=False)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "WelcomeScreen")
        await pilot.pause()
        for button in app.screen.query("Button"):
            assert shown(app, button), f"the {button.id} button is not on screen"
        assert app.screen.focused is app.screen.query_one("#settings")
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SettingsScreen")


async def test_list_dialogs_keep_their_hint_and_cursor_in_view(make_app):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        # Compare setup: a long list of models between the filter and the hint.
        await pilot.press("ctrl+t")
        await wait_for(
            pilot,
            lambda: (
                app.screen.query("#targets") and app.screen.query_one("#targets").option_count > 8
            ),
        )
        targets = app.screen.query_one("#targets")
        for _ in range(targets.option_count - 1):
            await pilot.press("down")
        await pilot.pause()
        assert shown(app, app.screen.query_one("#compare-hint"))
        assert "Esc: close" in screen_text(app)
        last = targets.get_option_at_index(targets.option_count - 1)
        model = str(last.value).split(":", 1)[1]
        assert model in screen_text(app), "the highlighted (last) model is off screen"
        await pilot.press("escape")
        # The model picker: OpenAI's live list of models, then the hint.
        await pilot.press("ctrl+o")
        await pilot.press(*"openai", "enter")
        await pilot.press("ctrl+l")
        hint = app.screen.query_one("#picker-hint")
        await wait_for(pilot, lambda: "models from openai" in str(hint.render()))
        await pilot.pause()
        assert shown(app, hint)


async def test_80_columns_collapse_the_thread_list_and_keep_the_footer(make_app, seeded):
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        threads = app.main.query_one("#threads")
        sidebar = app.main.query_one("#sidebar")  # the title filter and the list
        assert not sidebar.display  # the conversation gets the width
        footer = screen_text(app).splitlines()[-1]
        assert "^s Settings" in footer and "^p palette" in footer
        assert "^l Attach" in footer  # the keys sit closer together when narrow
        prompt = app.main.query_one("#prompt")
        assert prompt.placeholder in screen_text(app)  # shown whole
        await pilot.press("ctrl+b")  # still there when asked for
        await pilot.pause()
        assert shown(app, threads) and "Plan the data migration" in screen_text(app)
        assert prompt.placeholder in screen_text(app)  # shortened for the narrower box
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert not sidebar.display
        await pilot.resize_terminal(120, 30)  # wide again: the list is back beside the chat
        await pilot.pause()
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert shown(app, threads)


async def test_compare_headers_fit_80_columns(make_app, store):
    from ba_tui.tui.screens.compare_setup import LAST_CHOICE

    targets = [
        ("anthropic", "claude-sonnet-5-5"),
        ("anthropic", "claude-haiku-4-5-20251001"),
        ("openai", "gpt-5.4-mini-2026-03-17"),
        ("openai", "gpt-5.4-nano-2026-03-17"),
    ]
    store.set_kv(LAST_CHOICE, "\n".join(f"{p}:{m}" for p, m in targets))
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: getattr(app.screen, "available", None))
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CompareScreen")
        await pilot.pause()
        titles = [str(t.render()) for t in app.screen.query(".compare-title")]
        for number, (title, (_, model)) in enumerate(zip(titles, targets, strict=True), 1):
            width = app.screen.query(".compare-title")[number - 1].content_size.width
            assert len(title) <= width, f"{title!r} is cut at {width} columns"
            # Start and end of the model id stay: the dates and sizes that tell them apart.
            assert title.startswith(f"{number} ") and title.endswith(model[-5:])
        # The hint is read whole, and no column claims to stream before a prompt is sent.
        text = screen_text(app)
        assert "Esc goes back." in " ".join(text.split())
        assert "streaming" not in text


def cell_colors(app: Any, x: int, y: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The foreground and background colour of one cell on screen, as drawn."""
    strip = app.screen._compositor.render_strips()[y]
    column = 0
    for segment in strip:
        width = len(segment.text)
        if column + width > x:
            style = segment.style
            fg = style.color.get_truecolor() if style.color else (0, 0, 0)
            return tuple(fg), tuple(style.bgcolor.get_truecolor())
        column += width
    raise AssertionError(f"no cell at {x},{y}")


def distance(one: tuple[int, int, int], other: tuple[int, int, int]) -> float:
    return sum((a - b) ** 2 for a, b in zip(one, other, strict=True)) ** 0.5


CLEAR = 60  # RGB distance a user tells apart at a glance (234 vs 235 is about 10)


async def test_the_focused_settings_field_stands_out_in_every_theme(make_app):
    app = make_app()
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SettingsScreen")
        other = app.screen.query_one("#key-openai")
        for theme in sorted(app.available_themes):
            app.theme = theme
            for field in ("#default-model", "#default-provider"):
                widget = app.screen.query_one(field)
                widget.focus()
                await pilot.pause()
                # The last cells of each field: past any text or cursor, only background.
                focused = cell_colors(app, widget.region.right - 3, widget.region.y)[1]
                unfocused = cell_colors(app, other.region.right - 1, other.region.y)[1]
                assert distance(focused, unfocused) > CLEAR, f"{field} in {theme}"


async def test_compare_setup_shows_which_models_are_chosen_in_every_theme(make_app):
    app = make_app()
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: getattr(app.screen, "available", None))
        targets = app.screen.query_one("#targets")
        assert targets.selected == ["anthropic:claude-sonnet-5-5"]  # the first row
        x, y = targets.content_region.x + 1, targets.content_region.y  # row 1's box, middle
        for theme in sorted(app.available_themes):
            app.theme = theme
            await pilot.pause()
            chosen_fg, chosen_bg = cell_colors(app, x, y)
            other_fg, other_bg = cell_colors(app, x, y + 1)
            # A chosen row's mark is drawn clearly; an unchosen row's box is empty.
            assert distance(chosen_fg, chosen_bg) > CLEAR, theme
            assert distance(other_fg, other_bg) < 10, theme


async def test_at_80_columns_ctrl_b_shows_the_thread_list_ready_to_pick(make_app, seeded):
    """The sidebar (filter and list) folds away below 100 columns; Ctrl+B brings it back
    with the list focused, so arrows and Enter open a thread."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        sidebar = app.main.query_one("#sidebar")
        assert not sidebar.display
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert sidebar.display and app.focused is app.main.query_one("#threads")
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert not sidebar.display and app.focused is app.main.query_one("#prompt")


async def test_at_80_columns_a_long_title_gives_way_to_the_threads_spending(
    make_app, server, store
):
    server.queue(text_stream("anthropic", "Noted."))
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await send(pilot, "Which of the login rules are open?")
        await reply_done(pilot)
        status = screen_text(app).splitlines()[0].strip()
        # The title is cut, the spending and the context window are whole.
        assert re.fullmatch(
            r"anthropic · claude-sonnet-5-5  Which of the [a-z ]+…  thread \S+  ctx 14/200k",
            status,
        ), status


async def test_between_100_and_120_columns_the_footer_keeps_its_keys_whole(make_app, seeded):
    """Wide enough to keep the thread list, too narrow for every key: the keys the prompt
    tells about give way, and the rest are whole up to the palette."""
    app = make_app()
    async with app.run_test(size=(110, 30)) as pilot:
        await pilot.pause()
        assert app.main.query_one("#sidebar").display
        footer = screen_text(app).splitlines()[-1]
        assert re.search(r"\^s Settings +\^↑ Messages +\^l Attach +▏\^p palette$", footer), footer


@pytest.mark.parametrize("width", [80, 100, 120])
async def test_the_footer_shows_whole_keys_or_none_in_message_select(make_app, seeded, width):
    """Message select has more keys than fit: those past the palette's key are left out
    whole (the palette lists them), never cut in the middle ("^t Compar")."""
    app = make_app()
    async with app.run_test(size=(width, 30)) as pilot:
        await pilot.press("ctrl+up")
        await wait_for(pilot, lambda: "Back to prompt" in screen_text(app).splitlines()[-1])
        await pilot.pause()
        footer = screen_text(app).splitlines()[-1]
        keys = [k for k in app.screen.query("FooterKey") if k.display]
        rest = footer
        for key in keys:
            shown = f"{key.key_display} {key.description}".strip()
            assert shown in rest, (shown, footer)
            rest = rest.replace(shown, "", 1)
        assert not rest.replace("▏", "").strip(), footer  # nothing but whole keys
        assert len(keys) < len(app.screen.query("FooterKey"))  # some were left out
