"""`ask` on a terminal: the cost of rendering a streamed answer's Markdown, ba-chat's way
(finished blocks rendered once, only the block still arriving redrawn) beside
re-rendering the whole answer on every redraw and on every token.

Run: .venv/bin/python bench/markdown_bench.py [--kb 40] [--rate 100]
An answer of about --kb KB (paragraphs, lists, code fences, tables) arrives in 4-character
tokens at --rate tokens a second; the screen is redrawn 10 times a second (Live's rate in
ba_tui/cli/markdown_stream.py), so once every rate/10 tokens. Rendering goes to a
100-column in-memory console with colour. Prints milliseconds of CPU per redraw at the
start and end of the answer, and in total; then the real MarkdownStream, end to end.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402

from ba_tui.cli.markdown_stream import REFRESH_PER_SECOND, Blocks, MarkdownStream, _lines  # noqa: E402

SECTION = """## Step {n}

A paragraph with **bold**, *italic* and `inline code`, long enough to wrap over a few
lines of a terminal: the renderer has to lay out every word of it each time it draws.

- a first point about step {n}
- a second point, with a [link](https://example.com/{n})
- a third point

```python
def step_{n}(items):
    total = 0
    for item in items:
        total += item * {n}
    return total
```

| item | count |
|------|------:|
| a    | {n}   |
| b    | 42    |

"""


def answer(kb: float) -> str:
    text, n = "", 0
    while len(text) < kb * 1024:
        n += 1
        text += SECTION.format(n=n)
    return text


def console() -> Console:

    return Console(file=io.StringIO(), width=100, force_terminal=True, color_system="truecolor")


def tokens(text: str) -> list[str]:
    return [text[i : i + 4] for i in range(0, len(text), 4)]


def timed_redraws(text: str, every: int, mode: str) -> list[float]:
    """CPU seconds of each redraw (plus the blocks finished since the last one)."""
    out = console()
    cutter = Blocks()
    seen = ""
    costs: list[float] = []
    spent = 0.0
    for index, token in enumerate(tokens(text), 1):
        started = time.process_time()
        if mode == "blocks":
            for block in cutter.feed(token):
                out.print(_lines(out, block, out.options))  # printed once, for good
        else:
            seen += token
        if mode == "per token" or index % every == 0:
            _lines(out, cutter.text if mode == "blocks" else seen, out.options)
            spent += time.process_time() - started
            costs.append(spent)
            spent = 0.0
        else:
            spent += time.process_time() - started
    return costs


def end_to_end(text: str, rate: float) -> tuple[float, float]:
    """The real MarkdownStream (its Live thread included) fed at `rate` tokens a second:
    (wall seconds, CPU seconds)."""
    stream = MarkdownStream(io.StringIO())
    pause = 1 / rate
    wall, cpu = time.perf_counter(), time.process_time()
    for token in tokens(text):
        stream.feed(token)
        time.sleep(pause)
    stream.close()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=float, default=40)
    parser.add_argument("--rate", type=float, default=100, help="tokens a second")
    parser.add_argument("--per-token-kb", type=float, default=8, help="answer for per-token")
    args = parser.parse_args()
    text = answer(args.kb)
    every = max(1, round(args.rate / REFRESH_PER_SECOND))
    print(
        f"answer {len(text) / 1024:.0f} KB, {len(tokens(text))} tokens at {args.rate:g}/s, "
        f"a redraw every {every} tokens; CPU ms per redraw (first 10% / last 10%), total s"
    )
    rows = [("ba-chat: finished blocks once, redraw the last", "blocks", text)]
    rows.append(("whole answer at every redraw", "whole", text))
    small = answer(args.per_token_kb)
    rows.append((f"whole answer at every token ({len(small) // 1024} KB)", "per token", small))
    for label, mode, body in rows:
        costs = timed_redraws(body, every, mode)
        tenth = max(1, len(costs) // 10)
        first = sum(costs[:tenth]) / tenth * 1000
        last = sum(costs[-tenth:]) / tenth * 1000
        print(f"  {label:<48} {first:7.1f} {last:8.1f} {sum(costs):8.2f}")
    wall, cpu = end_to_end(answer(min(args.kb, 16)), args.rate * 4)
    print(f"MarkdownStream end to end, 16 KB at {args.rate * 4:g} tokens/s: ", end="")
    print(f"wall {wall:.2f} s, CPU {cpu:.2f} s")


if __name__ == "__main__":
    main()
