"""An attachment out of the store: opened with the system's viewer, or saved to a path.

A viewer needs a file, so the bytes are written to a private copy first: in a folder
only the user can enter (0700) under ba-chat's cache folder, readable only by the user
(0600), under the attachment's own name (a viewer shows it, and picks the application by
its extension), in a subfolder per content so two files of one name never collide.
Blocking (the store, the disk): the TUI calls these from a worker thread.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ba_tui.messages import Attachment, size_label

if TYPE_CHECKING:
    from ba_tui.store import Store

OPENED = "opened"  # the cache subfolder of private copies


def safe_name(name: str) -> str:
    """The attachment's name as a file name: no folders, no leading dots, never empty."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    cleaned = "".join(c for c in base if c.isprintable() and c not in '<>:"|?*')
    return cleaned or "attachment"


def _private_folder(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)  # an older folder, or a umask that took bits away


def private_copy(part: Attachment, data: bytes, cache: Path) -> Path:
    """Write `data` to `cache/opened/<sha256 head>/<name>` (folders 0700, file 0600)."""
    root = cache / OPENED
    _private_folder(root)
    folder = root / part.sha256[:16]
    _private_folder(folder)
    path = folder / safe_name(part.name)
    # Created 0600 from the start: never readable by others, not even for a moment.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    path.chmod(0o600)  # an earlier copy made with other bits
    return path


def viewer_command(path: Path) -> list[str] | None:
    """The command that opens `path` in the user's viewer here, or None when there is
    none (Windows opens it with os.startfile instead)."""
    if sys.platform == "darwin":
        program = shutil.which("open")
    else:
        program = shutil.which("xdg-open")
    return [program, str(path)] if program else None


def launch(path: Path) -> bool:
    """Start the viewer on `path`, detached (it outlives neither a crash nor a quit of
    ours, and its output never reaches the screen); False when there is no viewer."""
    if sys.platform == "win32":
        os.startfile(path)
        return True
    command = viewer_command(path)
    if command is None:
        return False
    subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )
    return True


def _data(store: Store | None, part: Attachment) -> bytes | None:
    if store is None:
        return None
    found = store.blobs([part.sha256]).get(part.sha256)
    return found.data if found is not None else None


def open_stored(store: Store | None, part: Attachment) -> tuple[str, bool]:
    """Open the attachment with the viewer: the line to tell the user, and whether a
    viewer was started."""
    from ba_tui.errors import BaChatError
    from ba_tui.paths import cache_dir

    try:
        data = _data(store, part)
        if data is None:
            return f"{part.name} is missing from ba-chat's store: it cannot be opened.", False
        path = private_copy(part, data, cache_dir())
    except BaChatError as exc:
        return exc.line("tui"), False
    except OSError as exc:
        return f"Could not write {part.name} to open it: {exc.strerror or exc}.", False
    try:
        started = launch(path)
    except OSError as exc:
        return (
            f"Could not start a viewer for {part.name} ({exc.strerror or exc}); it is at {path}",
            False,
        )
    if not started:
        tool = "open" if sys.platform == "darwin" else "xdg-open"
        return (
            f"No viewer to open {part.name}: {tool} is not installed. The file is at {path}",
            False,
        )
    return f"Opened {part.name}", True


def save_stored(store: Store | None, part: Attachment, target: str) -> tuple[str, bool]:
    """Save the attachment at `target` (a folder: under its own name there); never over
    an existing file. The line to tell the user, and whether it was saved."""
    from ba_tui.errors import BaChatError

    path = Path(target).expanduser()
    if path.is_dir():
        path = path / safe_name(part.name)
    if path.exists():
        return f"{path} already exists: choose another name.", False
    try:
        data = _data(store, part)
        if data is None:
            return f"{part.name} is missing from ba-chat's store: it cannot be saved.", False
        from ba_tui.private import opener

        # 0600, as an export is: the file is part of the history.
        with open(path, "xb", opener=opener) as out:
            out.write(data)
    except BaChatError as exc:
        return exc.line("tui"), False
    except FileExistsError:
        return f"{path} already exists: choose another name.", False
    except OSError as exc:
        return f"Could not save {part.name} to {path}: {exc.strerror or exc}.", False
    return f"Saved {part.name} ({size_label(len(data))}) to {path}", True
