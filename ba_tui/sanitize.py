"""Making outside text safe for a terminal: model output, imported files, thread titles.

`inert` removes escape sequences and control characters (newlines and tabs stay), so
colours, cursor moves, clipboard writes (OSC 52) and links (OSC 8) from a model can never
reach the terminal; `InertStream` does the same for text arriving in pieces. Used by the
CLI (on a terminal) and by every TUI widget. `unjoined` also drops the invisible
characters terminals measure differently, for text that must keep its columns.
`hyperlink` is the one way a link from outside text may reach the terminal as OSC 8: web
and mail URLs only, percent-encoded to printable ASCII.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

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


# Links a terminal may open on a click: web and mail, never file:, ssh: or a custom scheme.
_LINK_SCHEMES = ("http://", "https://", "mailto:")


def printable_url(url: str) -> str:
    """`url` with every character outside printable ASCII (controls, ESC, spaces,
    non-ASCII) percent-encoded: safe to show, and to put inside a terminal hyperlink
    (OSC 8), which such a character could end early or turn into another sequence."""
    return "".join(
        char if "!" <= char <= "~" else quote(char, safe="", errors="replace") for char in url
    )


def hyperlink(url: str) -> str | None:
    """What a terminal hyperlink (OSC 8) to `url` may carry, or None if `url` is not a web
    or mail link (a model's `file:///etc` link is shown, never made clickable)."""
    url = url.strip()
    if not url.lower().startswith(_LINK_SCHEMES):
        return None
    return printable_url(url)


def unjoined(text: str) -> str:
    """`text` without the invisible characters whose width terminals disagree on, for a
    line that must keep its columns (a thread title in a list).

    Zero-width and format characters (U+200B, soft hyphen, bidi controls...), the
    zero-width joiner that glues emoji into one (a ZWJ family: 2 cells in one terminal,
    8 in another), variation selectors (❤️: 1 or 2) and skin-tone modifiers go; what is
    left has one width everywhere, the width Textual measures. The stored text is kept.
    """
    if text.isascii():
        return text
    return "".join(char for char in text if not _invisible(char))


def _invisible(char: str) -> bool:
    return (
        unicodedata.category(char) == "Cf"
        or "\ufe00" <= char <= "\ufe0f"
        or "\U0001f3fb" <= char <= "\U0001f3ff"
        or "\U000e0100" <= char <= "\U000e01ef"
    )


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
