"""`ask` on a terminal renders the answer's Markdown as it streams; piped, or with --raw,
the answer is written exactly as the model sent it."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

import pytest

from ba_tui.cli.markdown_stream import Blocks
from tests.conftest import run_cli
from tests.servers import text_stream

ANSWER = """# Plan

Some **bold** words and `code`, then a [link](https://example.com).

- first item
- second item

```python
def double(x):

    return x * 2
```

| name | size |
|------|-----:|
| one  |   22 |

Last paragraph.
"""
_CODE = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x1b]*\x1b\\|[\r\n]|[^\x1b\r\n]+")


def _screen(written: str) -> str:
    """What a terminal shows after `written`: enough of one to follow Rich's Live (cursor
    up, erase line, carriage return); colours and links are dropped."""
    rows: list[str] = [""]
    row = col = 0
    for match in _CODE.finditer(written):
        piece = match[0]
        if piece == "\r":
            col = 0
        elif piece == "\n":
            row += 1
            rows += [""] * (row + 1 - len(rows))
        elif match[2] == "A":  # cursor up
            row = max(0, row - int(match[1] or 1))
        elif match[2] == "K":  # erase the line
            rows[row] = ""
        elif not piece.startswith("\x1b"):
            line = rows[row].ljust(col)
            rows[row] = line[:col] + piece + line[col + len(piece) :]
            col += len(piece)
    return "\n".join(line.rstrip() for line in rows).strip("\n")


def _on_terminal(env, *args, stderr_too: bool = False):
    """Run `ba-chat ask ARGS` with stdout (and with `stderr_too` stderr) on a
    pseudo-terminal (80x24): what it wrote there, its stderr and its exit code."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ba_tui", "ask", "--no-save", *args],
        env={**env, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"},
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower if stderr_too else subprocess.PIPE,
    )
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        out += chunk
    _, err = proc.communicate(timeout=60)
    os.close(leader)
    return out.decode(), (err or b"").decode(), proc.returncode


def test_answer_is_rendered_as_markdown_on_a_terminal(server, env):
    server.queue(text_stream("anthropic", ANSWER, chunk_size=3))
    out, err, code = _on_terminal(env, "-p", "anthropic", "plan it")
    assert code == 0, err
    text = _screen(out)
    assert "\x1b[1m" in out  # bold, in the terminal's own codes
    assert "• first item" in text and "- first item" not in text
    assert "Some bold words and code, then a link" in text and "**" not in text
    assert "# Plan" not in text and "Plan" in text
    assert "def double(x):" in text and "```" not in text
    assert "one" in text and "22" in text and "|------|" not in text
    assert text.rstrip().endswith("Last paragraph.")
    assert err == ""


def test_raw_keeps_the_answer_as_sent_on_a_terminal(server, env):
    server.queue(text_stream("anthropic", ANSWER, chunk_size=3))
    out, err, code = _on_terminal(env, "--raw", "-p", "anthropic", "plan it")
    assert code == 0, err
    assert out.replace("\r\n", "\n") == ANSWER


def test_piped_answer_is_byte_for_byte(server, env):
    server.queue(text_stream("anthropic", ANSWER, chunk_size=3))
    done = run_cli("ask", "--no-save", "-p", "anthropic", "plan it", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ANSWER


def test_reasoning_stays_on_stderr_while_the_answer_renders(server, env):
    server.queue(text_stream("deepseek", "A **short** answer.", reasoning="Let me think."))
    out, err, code = _on_terminal(env, "-p", "deepseek", "-m", "deepseek-reasoner", "q")
    assert code == 0, err
    assert err == "Let me think.\n\n"  # as before: raw on a pipe, then a blank line
    assert _screen(out) == "A short answer." and "Let me think" not in out


def test_reasoning_on_a_terminal_is_rendered_dim_and_set_apart_by_one_blank_line(server, env):
    """Gemini's thought summaries are Markdown with blank lines around them: on a terminal
    they read as the answer does (no `**`), dim, one blank line before the answer."""
    thoughts = "**Defining it**\n\nA living list of risks.\n\n\n**Answering**\n\nShort.\n\n\n"
    server.queue(text_stream("gemini", "A **register**.", reasoning=thoughts))
    out, _, code = _on_terminal(env, "-p", "gemini", "q", stderr_too=True)
    assert code == 0, out
    screen = _screen(out)
    assert screen == (
        "Defining it\n\nA living list of risks.\n\nAnswering\n\nShort.\n\nA register."
    ), screen
    assert "\x1b[1;2mDefining it" in out  # a bold heading, dim as all the thinking


def _blocks(pieces):
    cutter = Blocks()
    found = [block for piece in pieces for block in cutter.feed(piece)]
    return found, cutter.text


def test_a_block_is_finished_only_when_the_next_one_begins():
    found, rest = _blocks(["Para", "graph one.\n", "\n", "Second"])
    assert found == ["Paragraph one."]
    assert rest == "Second"
    found, rest = _blocks(["Paragraph one.\n\n"])
    assert found == [] and rest == "Paragraph one.\n\n"  # a list might continue


@pytest.mark.parametrize(
    "text",
    [
        "```\ncode\n\nmore code\n```\n",  # blank lines inside a fence
        "~~~~\n```\n\n~~~\n\nstill code\n~~~~\n",  # a shorter or other fence does not close
        "- item\n\n  continued under the item\n",  # an indented line continues the list
        "> quote\n\n    indented\n",
    ],
)
def test_blocks_never_cut_inside_fences_or_before_an_indented_line(text):
    found, rest = _blocks([text[i : i + 3] for i in range(0, len(text), 3)])
    assert found == [] and rest == text


def test_blocks_split_fences_lists_and_paragraphs():
    text = "Intro.\n\n```\na\n\nb\n```\n\n- x\n- y\n\nEnd"
    found, rest = _blocks([text[i : i + 2] for i in range(0, len(text), 2)])
    assert found == ["Intro.", "```\na\n\nb\n```", "- x\n- y"]
    assert rest == "End"
