"""Outside text made inert, whole or in pieces; the small formats the TUI shows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ba_tui.tui.text import (
    InertStream,
    cut,
    cut_middle,
    fit,
    inert,
    one_line,
    relative_time,
    unjoined,
)

HOSTILE = (
    "[@click=app.quit]x[/] [bold red]hi \x1b[31mred\x1b[0m \x1b]52;c;SGVsbG8=\x07 "
    "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \x1b[2J\x1b[5;1H\x9b2Jend\x07\x08\r\n"
)


def test_inert_removes_sequences_and_keeps_markup_as_text():
    assert inert(HOSTILE) == "[@click=app.quit]x[/] [bold red]hi red  link end\n"
    assert inert("tab\tand\nnewline") == "tab\tand\nnewline"


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 11])
def test_a_stream_cleans_sequences_split_across_pieces(size):
    stream = InertStream()
    pieces = [HOSTILE[i : i + size] for i in range(0, len(HOSTILE), size)]
    out = "".join(stream.feed(piece) for piece in pieces) + stream.close()
    assert out == inert(HOSTILE)
    assert "\x1b" not in out


def test_an_unfinished_sequence_is_dropped_at_the_end():
    stream = InertStream()
    assert stream.feed("done \x1b]52;c;AAAA") == "done "
    assert stream.close() == "52;c;AAAA"  # ESC ] is gone; what is left is plain text


def test_relative_times():
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert relative_time("2026-11-22T11:59:30.000Z", now) == "now"
    assert relative_time("2026-11-22T11:40:00.000Z", now) == "20m"
    assert relative_time("2026-11-22T07:00:00.000Z", now) == "5h"
    assert relative_time("2026-11-20T09:00:00.000Z", now) == "2d"
    assert relative_time("2026-03-01T09:00:00.000Z", now) == "Mar 01"
    assert relative_time("2025-03-01T09:00:00.000Z", now) == "2025-03-01"
    assert relative_time("garbage", now) == ""


def test_one_line():
    assert one_line("\n\n  first line  \nsecond") == "first line"
    assert one_line("x" * 80, 10) == "x" * 9 + "…"


def test_unjoined_drops_what_terminals_measure_differently():
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert unjoined(f"a\u200bb {family} \u2764\ufe0f \U0001f44d\U0001f3fd") == (
        "ab \U0001f468\U0001f469\U0001f467 \u2764 \U0001f44d"
    )
    assert unjoined("\u202eevil\u202c \u00adsoft") == "evil soft"  # bidi controls too
    assert unjoined("中文 é and plain") == "中文 é and plain"  # visible text stays


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("short", 8, "short   "),
        ("中文标题很长", 8, "中文标… "),  # a wide character never split in half
        ("中文标题", 8, "中文标题"),
        ("words and more", 8, "words a…"),
        ("words and more", 7, "words… "),  # no space left before the ellipsis
    ],
)
def test_fit_measures_cells_not_characters(text, width, expected):
    assert fit(text, width) == expected
    assert cut(text, width) == expected.rstrip()


def test_cut_middle_keeps_both_ends_of_a_model_id():
    assert cut_middle("gpt-5.4-mini-2026-03-17", 40) == "gpt-5.4-mini-2026-03-17"
    assert cut_middle("gpt-5.4-mini-2026-03-17", 13) == "gpt-5.…-03-17"
    assert cut_middle("gpt-5.4-mini-2026-03-17", 2) == "g…"
    assert cut_middle("gpt-5.4-mini-2026-03-17", 1) == "…"
