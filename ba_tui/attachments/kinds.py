"""What a file is: its type from its first bytes (and its name when the bytes do not say).

Content wins over the name: a PNG saved as `shot.jpg` is sent as a PNG, because providers
check the bytes against the type they are told. Office files are ZIP archives; the part
names inside say whether it is a Word or an Excel file.
"""

from __future__ import annotations

import io

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
# The image types every provider with vision takes.
IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")
# Types that are text although their names do not start with text/.
TEXT_LIKE = (
    "application/json",
    "application/xml",
    "application/x-yaml",
    "application/yaml",
    "application/toml",
    "application/javascript",
    "application/x-sh",
    "application/sql",
)
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", PDF),
)
# Extensions mimetypes may not know (it reads the system's tables, which vary).
_EXTENSIONS = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".csv": CSV,
    ".tsv": "text/tab-separated-values",
    ".json": "application/json",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".toml": "application/toml",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".docx": DOCX,
    ".xlsx": XLSX,
    ".pdf": PDF,
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
SNIFF_BYTES = 8192


def supported(mime: str) -> bool:
    """Whether ba-chat can send a file of this type to some model."""
    return mime in IMAGES or mime in (PDF, DOCX, XLSX) or is_text(mime)


def is_text(mime: str) -> bool:
    return mime.startswith("text/") or mime in TEXT_LIKE


def is_image(mime: str) -> bool:
    return mime in IMAGES


def by_name(name: str) -> str | None:
    """The type a file's extension suggests, or None."""
    lowered = name.lower()
    for extension, mime in _EXTENSIONS.items():
        if lowered.endswith(extension):
            return mime
    import mimetypes  # reads the system's tables: only when a name is not in ours

    return mimetypes.guess_type(lowered)[0]


def detect(data: bytes, name: str) -> str | None:
    """The file's type: from its bytes where they are decisive, else from its name, else
    text if it decodes as UTF-8; None when it is none of the types ba-chat sends."""
    head = data[:SNIFF_BYTES]
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"PK\x03\x04"):
        return _office(data) or None
    named = by_name(name)
    if _looks_like_text(head):
        return named if named and is_text(named) else "text/plain"
    return None


def _office(data: bytes) -> str | None:
    """A Word or Excel file by the parts its ZIP holds; None for any other archive."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sniff window is still text.
        return exc.start >= len(head) - 3
    return True


def label(mime: str) -> str:
    """A type as people name it: `PNG image`, `PDF`, `Word document`."""
    if mime in IMAGES:
        return f"{mime.split('/')[1].upper()} image"
    return {PDF: "PDF", DOCX: "Word document", XLSX: "Excel workbook", CSV: "CSV file"}.get(
        mime, "text file" if is_text(mime) else mime
    )
