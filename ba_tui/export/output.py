"""Where an export goes: a file replaced atomically (a reader never sees half an export),
or a FIFO or character device written through; symlinks followed as `cp` does."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ba_tui.errors import BaChatError
from ba_tui.export.format import ExportError

# Linux gives up on a chain of symlinks after 40 (ELOOP); so do we.
_MAX_LINKS = 40
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class WriteFailed(BaChatError):
    """The export could not be written (disk full, I/O error); no half file is left."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class Output:
    """Where an export asked for at `path` lands, and how it is written."""

    path: Path  # as the user named it
    target: Path  # the file written: `path`, or where its symlink (chain) leads
    stream: bool  # a FIFO or character device: written through as the export is made

    @property
    def shown(self) -> str:
        """How messages name it: the path, and where a symlink led."""
        if self.target == self.path:
            return str(self.path)
        return f"{self.target} (where the symlink {self.path} leads)"


def output_for(path: Path) -> Output:
    """How to write to `path`; ExportError (one line) for what an export cannot go to.

    A new path or a regular file is replaced atomically, so a reader never sees half an
    export. A FIFO or character device (/dev/null, a pipe) is opened and written through,
    as shell redirection does: replacing it would swap the device for a regular file. A
    symlink is followed, like `cp` and `>` do, and the file it leads to is written; the
    link itself is never replaced.
    """
    try:
        found = os.stat(path)  # follows symlinks, including /dev/stdout's /proc links
    except FileNotFoundError:
        found = None  # a new file, or a symlink to one
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ExportError(f"cannot write {path}: it is a loop of symlinks") from None
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    if found is not None and (stat.S_ISFIFO(found.st_mode) or stat.S_ISCHR(found.st_mode)):
        return Output(path, path, stream=True)
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise ExportError(f"cannot write {path}: it is a folder", "name a file to export to")
    if found is not None and not stat.S_ISREG(found.st_mode):
        what = "a block device" if stat.S_ISBLK(found.st_mode) else "not a regular file"
        raise ExportError(f"cannot write {path}: it is {what}", "name a file to export to")
    return Output(path, _follow_links(path), stream=False)


def _follow_links(path: Path) -> Path:
    """The path a chain of symlinks at `path` ends in (it may not exist yet)."""
    target = path
    for _ in range(_MAX_LINKS):
        if not target.is_symlink():
            return target
        target = target.parent / target.readlink()
    raise ExportError(f"cannot write {path}: it is a loop of symlinks")


@contextmanager
def open_output(path: Path | Output) -> Iterator[IO[str]]:
    """A text handle for the export; see `output_for` for which file it writes and how."""
    output = path if isinstance(path, Output) else output_for(path)
    writer = _write_through if output.stream else _write_atomically
    with writer(output.target, output.shown) as handle:
        yield handle


@contextmanager
def _write_atomically(path: Path, shown: str) -> Iterator[IO[str]]:
    """A file at `path` that appears only once completely written; on any failure the
    temporary file is removed and whatever was at `path` before is left as it was."""
    existed = path.exists()
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, then renamed
            "w",
            encoding="utf-8",
            newline="\n",
            dir=path.parent,
            prefix=f".{path.name}.",
            delete=False,
        )
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            raise _disk_full(path, existed) from None
        raise ExportError(f"cannot write {shown}: {exc.strerror or exc}") from None
    try:
        with handle:
            yield handle
            handle.flush()
            # On disk before the rename, so a crash cannot leave an empty file in its place
            # (and a filesystem that allocates late reports a full disk here, not never).
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException as exc:
        Path(handle.name).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            if exc.errno in _NO_SPACE:
                raise _disk_full(path, existed) from None
            raise WriteFailed(f"cannot write {shown}: {exc.strerror or exc}") from None
        raise


@contextmanager
def _write_through(path: Path, shown: str) -> Iterator[IO[str]]:
    """`path` (a FIFO or character device) opened for writing: no temporary file, no
    rename, the node stays what it is."""
    try:
        handle = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ExportError(f"cannot write {shown}: {exc.strerror or exc}") from None
    if handle.isatty():
        # The export is written as is; on a terminal the model's escape sequences would
        # run. Printed to stdout instead, they are made inert.
        handle.close()
        raise ExportError(f"cannot write {shown}: it is a terminal", "leave out -o to print it")
    try:
        with handle:
            yield handle
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            raise WriteFailed(
                f"no space left on {shown}", "free some space and try again"
            ) from None
        raise WriteFailed(f"cannot write {shown}: {exc.strerror or exc}") from None


def _disk_full(path: Path, existed: bool) -> WriteFailed:
    kept = f"{path} is unchanged" if existed else "nothing was written"
    return WriteFailed(f"the disk holding {path} is full ({kept})", "free some space and try again")
