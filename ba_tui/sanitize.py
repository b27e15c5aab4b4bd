"""Making outside text safe for a terminal: model output, imported files, thread titles.

`inert` removes escape sequences and control characters (newlines and tabs stay), so
colours, cursor moves, clipboard writes (OSC 52) and links (OSC 8) from a model can never
reach the terminal; `InertStream` does the same for text arriving in pieces. Used by the
CLI (on a terminal) and by every TUI widget.
"""

from __future__ import annotations

import re

# A complete escape sequence (CSI in its 7- and 8-bit forms, OSC/DCS/APC/PM/SOS strings,
# two-byte ESC forms), or a single control character other than newline and tab (C0, DEL
# and C1).
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|\x1b[\]P^_X][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[ -/]*[0-~]"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)
_CSI = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]")
_STRING = re.compile(r"\x1b[\]P^_X][^\x07\x1b]*(?:\x07|\x1b\\)")
_SHORT = re.compile(r"\x1b[ -/]*[0-~]")
# How much of an unfinished sequence a stream holds back before giving up on it.
_MAX_PENDING = 1024
# A lone surrogate: how Python carries bytes that were not valid UTF-8 (command-line
# arguments, stdin in a C locale). UTF-8 cannot encode one, so it could never be stored,
# logged, printed or sent.
_SURROGATE = re.compile("[\ud800-\udfff]")


def inert(text: str) -> str:
    """`text` without escape sequences or control characters (newlines and tabs stay)."""
    if not text:
        return text
    text = text.replace("\r\n", "\n")
    return _SEQUENCE.sub("", text)


class InertStream:
    """Cleans text that arrives in pieces: a sequence split across two deltas is still
    recognised, because an unfinished one at the end is held back until it completes."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, text: str) -> str:
        text = self._held + text
        self._held = ""
        cut = max(text.rfind("\x1b"), text.rfind("\x9b"))
        if cut == len(text) - 1 and cut > 0 and text[cut] == "\x1b":
            # A lone ESC may be the first half of the ESC-backslash ending a string.
            start = text.rfind("\x1b", 0, cut)
            kind = text[start + 1 : start + 2] if start != -1 else ""
            if kind in ("]", "P", "^", "_", "X") and "\x07" not in text[start:]:
                cut = start
        if cut != -1 and len(text) - cut <= _MAX_PENDING:
            tail = text[cut:]
            if _unfinished(tail):
                text, self._held = text[:cut], tail
        if text.endswith("\r"):
            text, self._held = text[:-1], "\r" + self._held
        return inert(text)

    def close(self) -> str:
        """Whatever is still held back, cleaned (an unfinished sequence is dropped)."""
        held, self._held = self._held, ""
        return inert(held)


def _unfinished(tail: str) -> bool:
    """Whether `tail` (starting at ESC or an 8-bit CSI) could still become a complete
    sequence."""
    if tail[0] == "\x9b":
        return not _CSI.match(tail)
    if len(tail) == 1:
        return True
    kind = tail[1]
    if kind == "[":
        return not _CSI.match(tail)
    if kind in "]P^_X":
        return not _STRING.match(tail)
    return not _SHORT.match(tail)


def replace_surrogates(text: str) -> tuple[str, int]:
    """`text` with each lone surrogate replaced by U+FFFD, and how many there were."""
    return _SURROGATE.subn("\ufffd", text)


def decode(raw: bytes, encoding: str = "utf-8") -> tuple[str, int]:
    """`raw` as text, bytes that are not valid `encoding` replaced by U+FFFD; and how many
    bytes were replaced."""
    try:
        return raw.decode(encoding), 0
    except UnicodeDecodeError:
        pass
    # surrogateescape keeps one surrogate per bad byte, which is the count people need.
    bad = len(_SURROGATE.findall(raw.decode(encoding, "surrogateescape")))
    return raw.decode(encoding, "replace"), bad


def bytes_replaced(what: str, count: int, encoding: str = "utf-8") -> str:
    """The one line saying that `what` had `count` bytes that were not valid text."""
    import codecs

    name = codecs.lookup(encoding).name
    label = "UTF-8" if name == "utf-8" else name
    return f"{what} was not valid {label}; {count} byte{'s' * (count != 1)} replaced with \ufffd"
