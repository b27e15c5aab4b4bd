"""Files dropped on the terminal: what a drag-and-drop pastes, read back as paths.

Terminals paste a dropped file as its path: GNOME Terminal and Konsole quote it
(`'/home/me/My File.pdf' `), iTerm2 and kitty escape spaces (`/Users/me/My\\ File.pdf`),
some send `file://` URLs, several files come separated by spaces or line breaks. A paste
is taken as files only when every word of it is an absolute path (or `~/...`, or a
`file://` URL) of a file that exists: a drop always gives absolute paths, while a word
someone pasted as text (`README.md`, `/usr/bin`) should stay text.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from urllib.parse import unquote, urlparse

# A drop is a handful of paths; a longer paste is text and is not split or stat'ed.
MAX_DROP_CHARS = 8192
MAX_DROP_FILES = 32


def dropped_files(text: str) -> list[str] | None:
    """The files a paste names, or None when it is text (any word not an existing file)."""
    text = text.strip()
    if not text or len(text) > MAX_DROP_CHARS:
        return None
    try:
        words = shlex.split(text, posix=True)
    except ValueError:  # an unbalanced quote: text, not a path a terminal quoted
        return None
    if not words or len(words) > MAX_DROP_FILES:
        return None
    paths = [_path(word) for word in words]
    if any(path is None for path in paths):
        return None
    return [str(path) for path in paths if path is not None]


def _path(word: str) -> Path | None:
    """The existing file `word` names, if it is an absolute path, `~/...` or file:// URL."""
    if word.startswith("file://"):
        url = urlparse(word)
        if url.netloc not in ("", "localhost"):
            return None  # a file on another host cannot be read here
        word = unquote(url.path)
    elif word.startswith("~"):
        word = os.path.expanduser(word)
    if not os.path.isabs(word):
        return None
    path = Path(word)
    try:
        return path if path.is_file() else None
    except OSError:  # a name too long, a path through a file
        return None
