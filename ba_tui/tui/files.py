"""Files to attach, as the file picker and `@path` completion find them.

`walk` lists the files under a folder breadth first (the nearest first, as a user looks),
in batches, so a caller in a thread can show the first ones at once and stop when told;
it skips the folders nobody attaches from (.git, virtualenvs, node_modules, caches).
`matches` narrows a list by what was typed; `typed_path` completes an absolute or `~/`
path the way a shell does, one folder at a time.
"""

from __future__ import annotations

import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

SKIP = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
    }
)
# A home folder holds millions of files; past this many the user types a path instead.
MAX_FILES = 200_000
BATCH_SECONDS = 0.1
SHOWN = 200


def walk(root: Path, cancelled: Callable[[], bool] = lambda: False) -> Iterator[list[str]]:
    """Paths of the files under `root`, relative to it, nearest folders first, in batches
    (at least every BATCH_SECONDS while there are new ones). Unreadable folders are
    skipped; symlinked folders are not followed (a loop would never end)."""
    folders: deque[str] = deque([""])
    batch: list[str] = []
    count, last = 0, time.monotonic()
    while folders and count < MAX_FILES:
        if cancelled():
            return
        relative = folders.popleft()
        try:
            with os.scandir(root / relative) as entries:
                found = sorted(entries, key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in found:
            path = f"{relative}{entry.name}"
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIP:
                        folders.append(f"{path}/")
                elif entry.is_file():
                    batch.append(path)
                    count += 1
            except OSError:
                continue
        if batch and (len(batch) >= 2000 or time.monotonic() - last >= BATCH_SECONDS):
            yield batch
            batch, last = [], time.monotonic()
    if batch:
        yield batch


def matches(query: str, files: Sequence[str], limit: int = SHOWN) -> list[str]:
    """The files that match `query`, best first: its text in the file's name, then in its
    path, then its characters in order anywhere (`rqpdf` finds `requirements.pdf`);
    shorter paths first within each. Case is ignored; spaces separate words that must
    all match."""
    words = query.lower().split()
    if not words:
        return list(files[:limit])
    patterns = [re.compile(".*?".join(map(re.escape, word))) for word in words]
    ranked: list[tuple[int, int, str]] = []
    for path in files:
        lowered = path.lower()
        if not all(pattern.search(lowered) for pattern in patterns):
            continue
        name = lowered.rsplit("/", 1)[-1]
        if all(word in name for word in words):
            tier = 0
        elif all(word in lowered for word in words):
            tier = 1
        else:
            tier = 2
        ranked.append((tier, len(path), path))
    ranked.sort()
    return [path for _, _, path in ranked[:limit]]


def is_typed_path(query: str) -> bool:
    """Whether the user is typing a path of their own (absolute or in their home)."""
    return query.startswith(("/", "~"))


def typed_path(query: str, limit: int = SHOWN) -> list[str]:
    """An absolute or `~` path completed one folder at a time: the entries of its folder
    whose names start with what follows the last `/` (folders end in `/`), or the file
    itself when it exists. Shown as typed (`~` stays `~`)."""
    expanded = os.path.expanduser(query)
    if os.path.isfile(expanded):
        return [query]
    folder, _, start = query.rpartition("/")
    folder = folder + "/" if folder or query.startswith("/") else folder
    if not folder:  # "~name": a user's home; not worth completing
        return []
    try:
        with os.scandir(os.path.expanduser(folder)) as entries:
            names = sorted(
                (entry.name + ("/" if _is_dir(entry) else ""))
                for entry in entries
                if entry.name.lower().startswith(start.lower())
                and (start.startswith(".") or not entry.name.startswith("."))
            )
    except OSError:
        return []
    return [folder + name for name in names[:limit]]


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False
