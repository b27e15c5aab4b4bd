"""Making outside text safe to show, and the small formats the TUI repeats.

Everything that came from a model, a file or a thread title passes through `inert` (or an
`InertStream` while it streams) before any widget sees it: escape sequences and control
characters are removed so they can never reach the terminal. Markup is not a concern here:
widgets are given `Content`, never markup strings.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.cells import cell_len, set_cell_size

from ba_tui.sanitize import InertStream, inert, unjoined

__all__ = ["InertStream", "inert", "unjoined"]


def parse_time(stamp: str) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None


def relative_time(stamp: str, now: datetime) -> str:
    """`now`, `5m`, `3h`, `2d`, then a date: short enough for a thread list."""
    when = parse_time(stamp)
    if when is None:
        return ""
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    if seconds < 7 * 86400:
        return f"{int(seconds // 86400)}d"
    if when.year == now.year:
        return when.strftime("%b %d")
    return when.strftime("%Y-%m-%d")


def utc_now() -> datetime:
    return datetime.now(UTC)


def tokens(count: int | None) -> str:
    if count is None:
        return "?"
    if count >= 10_000:
        return f"{count / 1000:.0f}k"
    if count >= 1000:
        return f"{count / 1000:.1f}k"
    return str(count)


def seconds(ms: float | None) -> str:
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"


def one_line(text: str, width: int = 60) -> str:
    """The first non-blank line of `text`, shortened to `width` characters."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= width else line[: width - 1].rstrip() + "…"


def cut(text: str, width: int) -> str:
    """`text` in at most `width` terminal cells, ending in "…" when shortened. Cells, not
    characters: a CJK character takes two, a combining accent none."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    return set_cell_size(text, width - 1).rstrip() + "…"


def cut_middle(text: str, width: int) -> str:
    """`text` in at most `width` characters, its middle replaced by "…" when shortened:
    model ids differ at both ends (family first, size and date last)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    tail = (width - 1) // 2
    return text[: width - 1 - tail] + "…" + (text[-tail:] if tail else "")


def fit(text: str, width: int) -> str:
    """`text` in exactly `width` terminal cells: `cut`, then padded with spaces."""
    text = cut(text, width)
    return text + " " * (width - cell_len(text))


# A text longer than either of these is too big to put in a widget whole: Textual wraps and
# measures every line of a Static or TextArea on the event loop (a 1 MB paste: seconds).
BIG_CHARS = 20_000
BIG_LINES = 400


def is_big(text: str) -> bool:
    """Too big to show whole (see BIG_CHARS, BIG_LINES)."""
    return len(text) > BIG_CHARS or text.count("\n", 0, BIG_CHARS) >= BIG_LINES


def size_label(text: str) -> str:
    """`1.1 MB, 62,000 lines`: how big a text is, in the words people use."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size >= 1_000_000:
        shown = f"{size / 1_000_000:.1f} MB"
    elif size >= 1000:
        shown = f"{size / 1000:.0f} KB"
    else:
        shown = f"{size} bytes"
    lines = text.count("\n") + (not text.endswith("\n"))
    return f"{shown}, {lines:,} line{'s' if lines != 1 else ''}"


def head(text: str, lines: int = 12, chars: int = 1200) -> str:
    """The start of a big text: at most `lines` lines and `chars` characters."""
    start = "\n".join(text[:chars].split("\n")[:lines])
    return start.rstrip("\n")
