"""ba-chat's folders and files are private to their user: folders 0700, files 0600.

The history, the log and config.toml hold every conversation, so they are kept the way
ssh, gpg and cloud CLIs keep theirs, whatever the umask: created with those modes, then
set exactly (a umask can only take bits away, but an odd one could take too many). Those
that already exist open to others (made by an older ba-chat, or by hand) are made private
at start-up, with one line saying so (`secure_home`); `doctor` reports any that are not.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
_OTHERS = 0o077  # anything for the group or the world


def make_dir(path: Path) -> None:
    """Create the folder `path` (and any missing parents) private. An existing folder is
    left as it is: `secure_home` deals with those, and says so."""
    if path.is_dir():
        return
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)


def opener(path: str | os.PathLike[str], flags: int) -> int:
    """For `open(..., opener=opener)`: a file it creates is 0600 whatever the umask; an
    existing one is opened as it is."""
    if not flags & os.O_CREAT:
        return os.open(path, flags)
    try:
        fd = os.open(path, flags | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        if flags & os.O_EXCL:
            raise
        return os.open(path, flags)
    os.fchmod(fd, FILE_MODE)
    return fd


def create_file(path: Path) -> None:
    """Create `path` empty and 0600 unless it exists. SQLite would create a database
    0644 less the umask, and gives its -wal and -shm files the database's mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


# --- what exists already --------------------------------------------------------------------


@dataclass(frozen=True)
class Exposed:
    """A folder or file of ba-chat's that the group or others may use."""

    path: Path
    mode: int  # its permission bits
    folder: bool


# Folders of the data folder ba-chat writes into: MCP servers' stderr logs, and the TUI's
# screenshots (a picture of a conversation).
SUBFOLDERS = ("mcp", "screenshots")


def folders() -> list[Path]:
    """ba-chat's data and config folders (one when BA_CHAT_HOME holds both), and the
    SUBFOLDERS of the data folder."""
    from ba_tui.paths import config_dir, data_dir

    data = data_dir()
    return list(dict.fromkeys([data, config_dir(), *(data / name for name in SUBFOLDERS)]))


def files() -> list[Path]:
    """Every file ba-chat keeps, whether it exists yet or not (and those in SUBFOLDERS
    that do)."""
    from ba_tui.paths import LOG_BACKUPS, config_path, data_dir, db_path, log_path

    db, log = db_path(), log_path()
    kept = [data_dir() / name for name in SUBFOLDERS]
    return [
        db,
        db.with_name(f"{db.name}-wal"),
        db.with_name(f"{db.name}-shm"),
        log,
        *(log.with_name(f"{log.name}.{n}") for n in range(1, LOG_BACKUPS + 1)),
        config_path(),
        *sorted(file for folder in kept if folder.is_dir() for file in folder.iterdir()),
    ]


def exposed() -> list[Exposed]:
    """ba-chat's folders and files that the group or others may read, write or enter.

    A folder with the sticky bit (/tmp, if BA_CHAT_HOME points there) is shared by
    design and is not counted; the files in it are.
    """
    found = []
    for path, folder in [*((p, True) for p in folders()), *((p, False) for p in files())]:
        try:
            info = path.stat()
        except OSError:
            continue
        if folder and (not stat.S_ISDIR(info.st_mode) or info.st_mode & stat.S_ISVTX):
            continue
        if info.st_mode & _OTHERS:
            found.append(Exposed(path, stat.S_IMODE(info.st_mode), folder))
    return found


def secure_home() -> str | None:
    """Make ba-chat's folders 0700 and files 0600 where others could use them; the one
    line saying what changed (or what could not be changed), or None when nothing was
    open. A folder holding none of ba-chat's files exposed nothing, and is made private
    without a word (a new BA_CHAT_HOME made with mkdir).

    Run once at start-up; afterwards nothing is open, so the line is said once."""
    found = exposed()
    failed: list[str] = []
    changed: list[Exposed] = []
    for item in found:
        try:
            os.chmod(item.path, DIR_MODE if item.folder else FILE_MODE)
        except OSError as exc:
            failed.append(f"could not make {_short(item.path)} private ({exc.strerror})")
        else:
            changed.append(item)
    ours = {path.parent for path in files() if path.exists()}
    exposing = [item for item in changed if not item.folder or item.path in ours]
    said = _describe(changed) if exposing else []
    return f"ba-chat: {'; '.join(said + failed)}" if said or failed else None


def describe(found: list[Exposed]) -> str:
    """`found` in a few words: "~/.local/share/ba-chat (0755; ba-chat.db, ba-chat.log 0644)"."""
    return "; ".join(f"{_short(folder)} ({parts})" for folder, parts in _groups(found))


def _describe(changed: list[Exposed]) -> list[str]:
    """Per folder: "made ~/.local/share/ba-chat private (it was 0755; ba-chat.db was 0644)"."""
    return [
        f"made {_short(folder)} private ({parts})" for folder, parts in _groups(changed, was=True)
    ]


def _groups(items: list[Exposed], *, was: bool = False) -> list[tuple[Path, str]]:
    """Per folder, its own mode, then its files grouped by mode."""
    by_folder: dict[Path, list[Exposed]] = {}
    for item in items:
        by_folder.setdefault(item.path if item.folder else item.path.parent, []).append(item)
    groups = []
    for folder, members in by_folder.items():
        parts = [f"it was {m.mode:04o}" if was else f"{m.mode:04o}" for m in members if m.folder]
        modes: dict[int, list[str]] = {}
        for item in members:
            if not item.folder:
                modes.setdefault(item.mode, []).append(item.path.name)
        for mode, names in modes.items():
            verb = ("was " if len(names) == 1 else "were ") if was else ""
            parts.append(f"{', '.join(names)} {verb}{mode:04o}")
        groups.append((folder, "; ".join(parts)))
    return groups


def _short(path: Path) -> str:
    """`path` with the home folder as ~, as people write it."""
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home) :] if home != "/" and text.startswith(home + os.sep) else text
