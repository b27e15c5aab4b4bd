"""The database file on disk: refusing a file that is not SQLite before writing a byte,
and telling whether the WAL file under a connection was replaced."""

from __future__ import annotations

from pathlib import Path

from ba_tui.store.errors import StoreError, not_ours

_SQLITE_HEADER = b"SQLite format 3\x00"


def file_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of `path`, None if there is no such file."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def check_header(path: Path) -> None:
    """Refuse, without writing a byte, anything at `path` that is not a SQLite file."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise StoreError(f"{path} is a folder, not a ba-chat database", "move it away") from None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    if header and header != _SQLITE_HEADER:
        raise not_ours(path)
