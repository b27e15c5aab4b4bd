"""Files attached to a prompt: read, recognised, made ready to send, and checked against
the model before anything is sent or stored.

`load(source)` turns a path, `path.pdf#p=3-9`, an http(s) URL or `-` (stdin's bytes) into
a `Prepared` attachment: the message part, the bytes to send (a page range's pages, a
downscaled image) and the text models without native support read (a PDF's, a Word or
Excel file's as Markdown, a text file's own). It is blocking and can take a while on a
large file (hashing, extraction, downscaling): a front end with a UI runs it in a thread
(`await asyncio.to_thread(load, path)`). Every failure is an `AttachmentError`, one line
naming the file and what to do, exit code 2.

`fit.check(...)` then says whether a model can take them (see fit.py).
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ba_tui.attachments import kinds
from ba_tui.attachments.documents import Unreadable
from ba_tui.errors import UsageError
from ba_tui.messages import Attachment, Blob, size_label

# Larger files are refused before they are read whole: no provider takes a request
# this big, and a page range (read from the file) is the way to send part of one.
MAX_FILE_BYTES = 256 * 1024 * 1024
FETCH_TIMEOUT = 30.0
_RANGE = re.compile(r"^(?P<path>.+)#p=(?P<first>\d+)(?:-(?P<last>\d+))?$")


class AttachmentError(UsageError):
    """A file that cannot be attached, or a model that cannot take it: nothing is sent
    or stored."""


@dataclass(frozen=True)
class Prepared:
    """An attachment ready to send: its part (what the message stores), its content, and
    what was done to it on the way (`notes`, one line each, e.g. a downscale)."""

    part: Attachment
    blob: Blob
    notes: tuple[str, ...] = ()
    source: str = ""  # the path or URL as the user gave it

    @property
    def name(self) -> str:
        return self.part.name


def split_range(source: str) -> tuple[str, tuple[int, int | None] | None]:
    """`report.pdf#p=3-9` as (`report.pdf`, (3, 9)); `#p=5` is one page. A path that
    really ends that way (it exists) is taken as it is."""
    match = _RANGE.match(source)
    if match is None or Path(source).exists():
        return source, None
    first = int(match["first"])
    last = int(match["last"]) if match["last"] else first
    if first < 1 or last < first:
        raise AttachmentError(
            f"{match['path']}: the page range {first}-{last} is not a range of pages",
            "write it as FILE#p=FIRST-LAST, e.g. report.pdf#p=3-9",
        )
    return match["path"], (first, last)


def load(source: str, mime: str | None = None, *, stdin: BinaryIO | None = None) -> Prepared:
    """`source` (a path, an http(s) URL or `-`) as an attachment ready to send; `mime`
    overrides the type ba-chat would detect."""
    path, pages = split_range(source)
    if path == "-":
        name, data, hint = "stdin", _read_stdin(stdin), None
    elif path.startswith(("http://", "https://")):
        from ba_tui.attachments.fetch import fetch

        name, data, hint = fetch(path, MAX_FILE_BYTES, FETCH_TIMEOUT)
    else:
        name, data, hint = Path(path).name, _read_file(Path(path)), None
    kind = _kind(data, name, mime, hint)
    if pages is not None and kind != kinds.PDF:
        raise AttachmentError(
            f"{name}: a page range works only for PDFs, and this is a {kinds.label(kind)}",
            "attach it without #p=, or convert it to PDF",
        )
    return _prepare(name, data, kind, pages, source)


def from_bytes(name: str, data: bytes, mime: str | None = None) -> Prepared:
    """Bytes that are no file (an image pasted from the clipboard) as an attachment
    named `name`, made ready as a file's would be."""
    if not data:
        raise AttachmentError(f"{name} is empty", "there is nothing to attach")
    if len(data) > MAX_FILE_BYTES:
        raise _too_big(name, len(data))
    return _prepare(name, data, _kind(data, name, mime, None), None, name)


def pdf_pages(path: str) -> int | None:
    """How many pages the PDF at `path` has (None when it is not a PDF): a front end asks
    it before `load` to offer a page range first, as loading a PDF of hundreds of pages
    extracts the text of every one of them."""
    file = Path(path)
    try:
        with file.open("rb") as handle:
            if handle.read(5) != b"%PDF-":
                return None
    except OSError:
        return None  # not a file it can read: `load` says what is wrong with it
    data = _read_file(file)
    from ba_tui.attachments import documents

    try:
        return documents.pdf_pages(documents.pdf_reader(data, file.name))
    except Unreadable as exc:
        raise AttachmentError(exc.message, exc.hint) from None


def _read_stdin(stdin: BinaryIO | None) -> bytes:
    stream = stdin or getattr(sys.stdin, "buffer", None)
    if stream is None or sys.stdin is None or sys.stdin.isatty():
        raise AttachmentError(
            "-a - attaches what is piped in, but nothing is", "pipe a file: ba-chat ask -a - < FILE"
        )
    data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _too_big("stdin", len(data))
    if not data:
        raise AttachmentError("-a -: stdin was empty", "pipe a file: ba-chat ask -a - < FILE")
    return data


def _read_file(path: Path) -> bytes:
    try:
        if path.is_dir():
            raise AttachmentError(f"{path} is a folder", "attach the files in it one by one")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _too_big(path.name, size)
        return path.read_bytes()
    except FileNotFoundError:
        raise AttachmentError(f"no file at {path}", "check the path") from None
    except PermissionError:
        raise AttachmentError(
            f"cannot read {path}: permission denied", "check the file's permissions"
        ) from None
    except OSError as exc:
        raise AttachmentError(f"cannot read {path}: {exc.strerror or exc}", None) from None


def _too_big(name: str, size: int) -> AttachmentError:
    return AttachmentError(
        f"{name} is {size_label(size)}, more than the {size_label(MAX_FILE_BYTES)} ba-chat "
        "attaches",
        "attach a smaller file, or a PDF's page range (FILE#p=1-50)",
    )


def _kind(data: bytes, name: str, given: str | None, hint: str | None) -> str:
    """The type to send the file as: `given` (--attach-type) if ba-chat supports it, else
    detected from the bytes, then the name, then the server's Content-Type (`hint`)."""
    if given is not None:
        given = given.strip().lower()
        if not kinds.supported(given):
            raise AttachmentError(
                f"{name}: ba-chat cannot send files of type {given}",
                "use an image, PDF, Word, Excel, CSV or text type with --attach-type",
            )
        return given
    detected = kinds.detect(data, name)
    if detected is None and hint and kinds.supported(hint) and not kinds.is_text(hint):
        detected = hint
    if detected is None:
        named = kinds.by_name(name) or "binary data"
        raise AttachmentError(
            f"{name} is {named}, which no model ba-chat talks to can read",
            "attach images, PDFs, Word or Excel files, CSV or text "
            "(or say what it is with --attach-type)",
            tui_hint="attach images, PDFs, Word or Excel files, CSV or text",
        )
    return detected


def _prepare(
    name: str, data: bytes, mime: str, pages: tuple[int, int | None] | None, source: str
) -> Prepared:
    notes: list[str] = []
    text: str | None = None
    count: int | None = None
    page_range: str | None = None
    try:
        if kinds.is_image(mime):
            from ba_tui.attachments import images

            data, mime, note = images.fit(data, mime, name)
            notes += [note] if note else []
        elif mime == kinds.PDF:
            data, text, count, page_range = _pdf(data, name, pages)
        elif mime == kinds.DOCX:
            from ba_tui.attachments.documents import docx_text

            text = docx_text(data, name)
        elif mime == kinds.XLSX:
            from ba_tui.attachments.documents import xlsx_text

            text = xlsx_text(data, name)
        else:
            text = _decoded(data, name, notes)
            if mime == kinds.CSV:
                from ba_tui.attachments.documents import csv_text

                text = csv_text(text)
    except Unreadable as exc:
        raise AttachmentError(exc.message, exc.hint) from None
    part = Attachment(
        name=name,
        mime=mime,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        pages=count,
        page_range=page_range,
        extracted=text is not None,
    )
    return Prepared(part, Blob(data, text), tuple(notes), source)


def _pdf(
    data: bytes, name: str, pages: tuple[int, int | None] | None
) -> tuple[bytes, str, int, str | None]:
    """(the PDF to send, its text, its page count, the range of the original it is)."""
    from ba_tui.attachments import documents

    reader = documents.pdf_reader(data, name)
    total = documents.pdf_pages(reader)
    if pages is None:
        return data, documents.pdf_text(reader), total, None
    first, last = pages[0], pages[1] or pages[0]
    if last > total:
        raise AttachmentError(
            f"{name} has {total} page{'s' * (total != 1)}; the range {first}-{last} goes "
            "past its end",
            f"pick pages within 1-{total}",
        )
    subset = documents.pdf_subset(reader, first, last)
    chosen = documents.pdf_reader(subset, name)
    label = f"{first}-{last}" if last != first else str(first)
    return subset, documents.pdf_text(chosen, first), last - first + 1, label


def _decoded(data: bytes, name: str, notes: list[str]) -> str:
    from ba_tui.sanitize import bytes_replaced, decode

    text, replaced = decode(data.removeprefix(b"\xef\xbb\xbf"))
    if replaced:
        notes.append(bytes_replaced(name, replaced))
    return text
