"""Attached images drawn in the terminal, with textual-image.

textual-image finds out what the terminal can draw when it is first imported: it writes
queries to stdout and reads the answers from stdin. That only works before Textual starts;
once it runs, Textual's input thread reads stdin, so the answers would arrive as stray
keys and the queries would wait out their timeouts. ba-chat imports textual-image only
when a thread shows an image (it costs start-up time otherwise), so it never lets it ask:
the import sees a stdout that is not a terminal, and ba-chat picks the way to draw from
what the terminal says of itself in the environment (`renderer`). The cell size in pixels
comes from the terminal's window size (an ioctl, no query), which Kitty and Sixel
pictures need to fill exactly the cells they are given.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage
    from textual.widget import Widget

MAX_ROWS = 12  # a picture in the conversation is a preview: the viewer (o) shows it whole
MAX_COLUMNS = 60
DEFAULT_CELL = (10, 20)  # pixels per cell when the terminal does not say (textual-image's)
# Pictures load in several worker threads at once: one of them imports textual-image.
_IMPORTING = threading.Lock()


def renderer(environ: Mapping[str, str], *, headless: bool = False) -> str:
    """How to draw: `kitty` (Kitty's graphics protocol), `sixel`, or `halfcell` (coloured
    half blocks, which every colour terminal shows, tmux and screen included, and which
    is all a headless run can show)."""
    term = environ.get("TERM", "")
    if headless or environ.get("TMUX") or environ.get("STY") or term.startswith(("screen", "tmux")):
        return "halfcell"  # a multiplexer passes neither protocol on without setup
    if term == "xterm-kitty" or environ.get("KITTY_WINDOW_ID"):
        return "kitty"
    sixel_programs = ("WezTerm", "iTerm.app")
    if (
        environ.get("TERM_PROGRAM") in sixel_programs
        or term.startswith(("foot", "mlterm"))
        or environ.get("KONSOLE_VERSION")
    ):
        return "sixel"
    return "halfcell"


def cell_pixels() -> tuple[int, int]:
    """A terminal cell's size in pixels from the window size the terminal reports (no
    escape sequence); textual-image's default when it reports none."""
    stream = sys.__stdout__
    try:
        import fcntl
        import struct
        import termios

        if stream is None or not stream.isatty():
            return DEFAULT_CELL
        raw = fcntl.ioctl(stream.fileno(), termios.TIOCGWINSZ, b"\0" * 8)
        rows, columns, width, height = struct.unpack("HHHH", raw)
    except (ImportError, OSError, ValueError):
        return DEFAULT_CELL
    if not (rows and columns and width and height):
        return DEFAULT_CELL
    return max(width // columns, 1), max(height // rows, 1)


class _NotATerminal:
    """stdout as textual-image's import sees it: not a terminal, so it asks nothing."""

    def __init__(self, stream: IO[str] | None) -> None:
        self._stream = stream

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def _unasked(cell: tuple[int, int]) -> Iterator[None]:
    """textual-image imported without querying the terminal, told the cell size through
    the variables it reads when it cannot ask (textual-serve sets them for browsers)."""
    real = sys.__stdout__
    saved = {name: os.environ.get(name) for name in ("TEXTUAL_CELL_WIDTH", "TEXTUAL_CELL_HEIGHT")}
    os.environ["TEXTUAL_CELL_WIDTH"], os.environ["TEXTUAL_CELL_HEIGHT"] = map(str, cell)
    # sys.__stdout__ is Final to type checkers; this is the one place it is swapped.
    setattr(sys, "__stdout__", _NotATerminal(real))  # noqa: B010
    try:
        yield
    finally:
        setattr(sys, "__stdout__", real)  # noqa: B010
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass(frozen=True)
class Drawing:
    """How pictures are drawn in this terminal: the widget class and a cell's pixels."""

    kind: str
    widget: Callable[..., Widget]  # (a PIL image, classes=...) -> a textual-image widget
    cell: tuple[int, int]


def drawing(kind: str) -> Drawing:
    """The textual-image widget for `kind` (see `renderer`), imported on first use.
    Blocking (an import, an ioctl): called from a worker thread."""
    with _IMPORTING:
        return _drawing(kind)


@cache
def _drawing(kind: str) -> Drawing:
    cell = cell_pixels()
    with _unasked(cell):
        from textual_image import widget
    classes: dict[str, Callable[..., Widget]] = {
        "kitty": widget.TGPImage,
        "sixel": widget.SixelImage,
        "halfcell": widget.HalfcellImage,
    }
    return Drawing(kind, classes[kind], cell)


def cells(pixels: tuple[int, int], cell: tuple[int, int], width: int) -> tuple[int, int]:
    """The (columns, rows) a picture of `pixels` takes: its own size in cells, made
    smaller to fit MAX_ROWS rows and `width` columns, its shape kept."""
    columns = pixels[0] / cell[0]
    rows = pixels[1] / cell[1]
    scale = min(1.0, MAX_ROWS / rows if rows else 1.0, width / columns if columns else 1.0)
    return max(1, round(columns * scale)), max(1, round(rows * scale))


def prepared(data: bytes, columns: int, rows: int, cell: tuple[int, int]) -> PILImage:
    """The image decoded and scaled once to what `columns` x `rows` cells show, so a
    redraw does not decode and scale the full-size file again. Blocking."""
    import io

    from PIL import Image

    target = (max(columns * cell[0], 1), max(rows * cell[1], 1))
    image: PILImage = Image.open(io.BytesIO(data))
    image.draft("RGB", target)  # a JPEG decodes at a fraction of its size: much faster
    image.load()
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.width > target[0] or image.height > target[1]:
        # Reduced by whole factors first, then resampled: a screenshot scales in a few ms.
        image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return image
