"""What a ba-chat export file is: its name and version, its compact JSON, and the errors
export and import raise; shared by the writers, the reader and the ChatGPT importer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ba_tui.errors import UsageError

FORMAT = "ba-chat"
VERSION = 2
FORMATS = ("md", "json", "jsonl")
SUFFIXES = {".md": "md", ".markdown": "md", ".json": "json", ".jsonl": "jsonl"}

# Compact, like the rows SQLite's json_object() writes (see Store.export_json).
encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Writer(Protocol):
    """Where an export goes: a file, or stdout made safe for a terminal (cli/threads)."""

    def write(self, text: str, /) -> int: ...


class ExportError(UsageError):
    """An export or import that cannot be done; the store is left untouched."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class ImportResult:
    source: str  # "ba-chat JSON", "ba-chat JSONL" or "ChatGPT export"
    threads: int  # in the file
    messages: int
    threads_added: int  # new to the store
    messages_added: int
    skipped: dict[str, int] = field(default_factory=dict)  # left out of the file, by reason


@dataclass(frozen=True, slots=True)
class ImportBatch:
    """A checked import file: rows ready for `Store.import_rows`."""

    source: str
    threads: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    skipped: dict[str, int] = field(default_factory=dict)  # what was left out, by reason
    # Attachments' content: (sha256, mime, Blob), each checked against its sha256.
    blobs: list[tuple[str, str, Any]] = field(default_factory=list)


class Bad:
    """Builds the one-line error for a malformed file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, why: str) -> ExportError:
        return ExportError(f"cannot import {self.path}: {why}", "the store was not changed")


def format_for(path: Path | None, given: str | None) -> str:
    """The format to write: `given` (`--format`) when there is one, else the one the
    file's extension names, else Markdown (stdout, or a file, pipe or device without an
    extension). ExportError for an extension that names no export format: writing
    Markdown into `notes.html` would surprise whoever opens it."""
    if given is not None:
        if given not in FORMATS:
            raise ExportError(f"unknown format {given!r}", "use md, json or jsonl")
        return given
    if path is None or not path.suffix:
        return "md"
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise ExportError(
            f"cannot tell which format to write to {path}: {path.suffix} is not an export format",
            "name a .md, .json or .jsonl file, or choose with --format md, json or jsonl",
        )
    return found
