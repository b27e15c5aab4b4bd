"""Documents as models read them: a PDF's pages and text, Word and Excel files as text.

pypdf, python-docx and openpyxl are imported inside the function that reads their type
(0.1-0.35 s each), so start-up and `--help` never pay for them.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ba_tui.errors import UsageError

if TYPE_CHECKING:
    from pypdf import PdfReader


class Unreadable(UsageError):
    """A file that claims a type but cannot be read as it (damaged, encrypted)."""


def pdf_reader(data: bytes, name: str) -> PdfReader:
    """A pypdf reader over the bytes, or Unreadable naming the file."""
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs what it repairs to the root logger's stderr; the one line is ours.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable(
                f"{name} is a password-protected PDF", "save an unprotected copy and attach that"
            )
        len(reader.pages)  # reads the page tree: a broken file fails here, not later
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise Unreadable(
            f"{name} is not a PDF ba-chat can read ({exc})", "check the file, or re-export it"
        ) from None
    return reader


def pdf_pages(reader: PdfReader) -> int:
    return len(reader.pages)


def pdf_subset(reader: PdfReader, first: int, last: int) -> bytes:
    """Pages `first`..`last` (1-based, inclusive) as a PDF of their own."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for index in range(first - 1, last):
        writer.add_page(reader.pages[index])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_text(reader: PdfReader, first: int = 1) -> str:
    """The text of every page, each under a `[page N]` line (numbered as in the original
    file, from `first`), so a model can cite pages."""
    pages = []
    for number, page in enumerate(reader.pages, start=first):
        try:
            text = page.extract_text() or ""
        except Exception:  # pypdf raises many types on odd pages; one bad page is skipped
            text = ""
        pages.append(f"[page {number}]\n{text.strip()}")
    return "\n\n".join(pages)


def docx_text(data: bytes, name: str) -> str:
    """A Word file's paragraphs and tables, in document order, tables as Markdown."""
    from docx import Document

    try:
        document = Document(io.BytesIO(data))
    except Exception as exc:  # python-docx wraps zip and XML errors in several types
        raise Unreadable(
            f"{name} is not a Word file ba-chat can read ({exc})", "check the file"
        ) from None
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    blocks: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            if text := block.text.strip():
                heading = block.style is not None and (block.style.name or "").startswith("Heading")
                blocks.append(f"## {text}" if heading else text)
        elif isinstance(block, Table):
            rows = [[cell.text.strip() for cell in row.cells] for row in block.rows]
            if rows:
                blocks.append(markdown_table(rows))
    return "\n\n".join(blocks)


def xlsx_text(data: bytes, name: str) -> str:
    """Every sheet of an Excel workbook as a Markdown table under its name (values, not
    formulas: what the user sees in Excel)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zip, XML and openpyxl's own errors
        raise Unreadable(
            f"{name} is not an Excel file ba-chat can read ({exc})", "check the file"
        ) from None
    sheets = []
    try:
        for sheet in book.worksheets:
            rows = [
                ["" if value is None else str(value) for value in row]
                for row in sheet.iter_rows(values_only=True)
            ]
            rows = [row for row in rows if any(row)]
            sheets.append(f"## {sheet.title}\n\n{markdown_table(rows) if rows else '(empty)'}")
    finally:
        book.close()
    return "\n\n".join(sheets)


def csv_text(text: str) -> str:
    """A CSV file as a Markdown table (its dialect sniffed: commas, semicolons, tabs)."""
    import csv

    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096])
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(row)]
    return markdown_table(rows) if rows else ""


def markdown_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows as a Markdown table, the first row as its header; ragged rows are padded."""
    width = max(len(row) for row in rows)

    def line(cells: Iterable[str]) -> str:
        cleaned = [" ".join(c.split()).replace("|", "\\|") for c in cells]
        return "| " + " | ".join(cleaned + [""] * (width - len(cleaned))) + " |"

    header, *body = rows
    return "\n".join([line(header), "|" + " --- |" * width, *(line(row) for row in body)])
