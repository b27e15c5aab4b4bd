"""`ask` on a terminal: the answer rendered as Markdown (Rich) while it streams.

Re-rendering the whole answer for every token costs O(answer) each time, so a long answer
slows down as it grows. Instead the text is cut into blocks at blank lines (never inside a
code fence, never before an indented line that may continue a list): a finished block is
printed once, for good, and only the block still arriving is redrawn, by Rich's Live at
most REFRESH_PER_SECOND times a second, however fast the tokens come. Its cost is
O(that block), whatever the length of the answer (bench/markdown_bench.py).

Rich is imported only here, and this module only for `ask` writing to a terminal.
"""

from __future__ import annotations

import errno
import io
import re
from typing import IO, Any, cast

REFRESH_PER_SECOND = 10

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


class Blocks:
    """Cuts streamed Markdown into finished blocks, scanning each line once.

    A block ends at a blank line outside a code fence, once the next line has begun and
    does not start with a space (an indented line may belong to the list or quote above).
    """

    def __init__(self) -> None:
        self.text = ""  # the block still arriving (finished blocks are handed out)
        self._scanned = 0  # the text before this is whole lines already looked at
        self._fence: str | None = None  # the code fence open at `_scanned`, if any
        self._blank_at: int | None = None  # where the blank lines ending the block begin

    def feed(self, fragment: str) -> list[str]:
        """Add streamed text; returns the blocks it finished, in order."""
        self.text += fragment
        finished: list[str] = []
        while True:
            end = self.text.find("\n", self._scanned)
            line = self.text[self._scanned : end if end != -1 else None]
            if self._blank_at is not None and line and not line[0].isspace():
                # The next block has begun: the one before the blank line is finished.
                if block := self.text[: self._blank_at].strip("\n"):
                    finished.append(block)
                self.text = self.text[self._scanned :]
                self._scanned, self._blank_at = 0, None
            if end == -1:
                return finished
            self._look_at(line, self._scanned)
            self._scanned += len(line) + 1

    def _look_at(self, line: str, at: int) -> None:
        match = _FENCE.match(line)
        if self._fence is not None:
            # A fence closes with the same character, at least as many, and nothing after.
            if (
                match
                and match[1][0] == self._fence[0]
                and len(match[1]) >= len(self._fence)
                and not line[match.end() :].strip()
            ):
                self._fence = None
        elif match:
            self._fence = match[1]
        elif not line.strip():
            self._blank_at = at if self._blank_at is None else self._blank_at
        else:
            self._blank_at = None


class MarkdownStream:
    """Writes streamed Markdown to a terminal: `feed` text as it arrives, `close` at the end.

    The text fed must already be inert (no escape sequences): Rich renders what it is
    given. A terminal that goes away (EIO) or a closed pipe stops the output quietly;
    `closed` says so, and the caller keeps saving the reply.
    """

    def __init__(self, file: IO[str], *, style: str | None = None) -> None:
        from rich.console import Console
        from rich.live import Live

        self._file = _Guarded(file)
        # Rich uses write, flush, isatty and fileno, all of which _Guarded has. `style`
        # goes under everything written (the reasoning's "dim").
        self.console = Console(file=cast(IO[str], self._file), style=style)
        self._blocks = Blocks()
        self._printed = 0  # finished blocks printed so far
        self._tail = _Tail()
        self._live = Live(
            self._tail,
            console=self.console,
            auto_refresh=True,
            refresh_per_second=REFRESH_PER_SECOND,
            transient=True,  # the block is printed for good when it is finished
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()

    @property
    def closed(self) -> bool:
        return self._file.gone

    def feed(self, text: str) -> None:
        """Add streamed text: finished blocks are printed, the rest redrawn soon."""
        if not text or self.closed:
            return
        finished = self._blocks.feed(text)
        # The tail first: printing a block redraws the tail below it at once.
        self._tail.text = self._blocks.text
        for block in finished:
            self._print(block)

    def close(self) -> None:
        """Print what is left and stop redrawing; safe to call twice."""
        if self._live.is_started:
            self._tail.text = ""
            self._live.stop()
        rest, self._blocks = self._blocks.text, Blocks()
        if rest.strip() and not self.closed:
            self._print(rest)

    def _print(self, block: str) -> None:
        from rich.segment import Segments

        if self._printed:
            self.console.print()  # one blank line between blocks, as in one document
        lines = _lines(self.console, block, self.console.options)
        self.console.print(Segments(_joined(lines)), end="")
        self._printed += 1


class _Tail:
    """The block still arriving, rendered when Live redraws (not per token), cut to its
    last lines so the newest text stays in view when the block is taller than the
    terminal."""

    def __init__(self) -> None:
        self.text = ""

    def __rich_console__(self, console: Any, options: Any) -> Any:
        text = self.text  # one read: the stream may replace it meanwhile
        if not text.strip():
            return
        from rich.segment import Segment

        room = max(1, console.size.height - 2)
        yield from _joined(_lines(console, text, options)[-room:])
        # The cursor rests on a line of its own below the text: after a line that fills
        # the last column it would wait to wrap, anything echoed then (^C) would start a
        # line Live does not know of, and the next redraw would erase one line too few.
        yield Segment(" ")


def _lines(console: Any, text: str, options: Any) -> list[list[Any]]:
    """`text` rendered as Markdown, a list of segments per line, without the empty lines
    Rich puts before some blocks (a list, a table), so blocks printed one by one are
    spaced as in one document."""
    from rich.markdown import Markdown

    lines = console.render_lines(Markdown(text.strip("\n")), options, pad=False)
    while lines and not "".join(segment.text for segment in lines[0]):
        lines.pop(0)
    while lines and not "".join(segment.text for segment in lines[-1]):
        lines.pop()
    return lines


def _joined(lines: list[list[Any]]) -> list[Any]:
    from rich.segment import Segment

    return [segment for line in lines for segment in (*line, Segment.line())]


class _Guarded(io.TextIOBase):
    """A text file whose writes stop, quietly, once the reader is gone: a closed pipe, or
    a terminal that hung up (EIO; its SIGHUP follows and saves the reply). Rich's Live
    writes from its own thread, where an exception would print a traceback."""

    def __init__(self, file: IO[str]) -> None:
        super().__init__()
        self.file = file
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                self.file.write(text)
            except OSError as exc:
                self._gone(exc)
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self.file.flush()
            except OSError as exc:
                self._gone(exc)

    def _gone(self, exc: OSError) -> None:
        if not isinstance(exc, BrokenPipeError) and exc.errno != errno.EIO:
            raise exc
        self.gone = True

    def isatty(self) -> bool:
        return self.file.isatty()

    def fileno(self) -> int:
        return self.file.fileno()
