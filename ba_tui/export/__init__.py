"""Threads out as Markdown, JSON or JSONL, and back in from ba-chat exports or ChatGPT.

By what each module holds: `format` (the file format's name and version, its JSON, the
errors), `writers` (JSON, JSONL, Markdown), `output` (where an export lands, atomically),
`reader` (our JSON and JSONL, versions 1 and 2), `chatgpt` (ChatGPT's conversations.json)
and `importing` (checked rows into the store in short transactions).
"""

from __future__ import annotations

from ba_tui.export.format import (
    FORMAT,
    FORMATS,
    VERSION,
    ExportError,
    ImportBatch,
    ImportResult,
    Writer,
    encode,
    format_for,
)
from ba_tui.export.importing import IMPORT_BATCH_ROWS, import_batch, import_file
from ba_tui.export.output import Output, WriteFailed, open_output, output_for
from ba_tui.export.reader import read_file
from ba_tui.export.writers import export, write_json, write_jsonl, write_markdown

__all__ = [
    "FORMAT",
    "FORMATS",
    "IMPORT_BATCH_ROWS",
    "VERSION",
    "ExportError",
    "ImportBatch",
    "ImportResult",
    "Output",
    "WriteFailed",
    "Writer",
    "encode",
    "export",
    "format_for",
    "import_batch",
    "import_file",
    "open_output",
    "output_for",
    "read_file",
    "write_json",
    "write_jsonl",
    "write_markdown",
]
