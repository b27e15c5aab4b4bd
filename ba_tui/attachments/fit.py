"""What each model gets of an attachment, and whether it can take it at all.

A model reads images natively when its capabilities say `vision`, PDFs when they say
`pdf`; everything else goes as text: a PDF's extracted text, Word and Excel files as
Markdown, text files as they are, each fenced under its name. An image cannot become
text, so a model that cannot see refuses it, naming models that can. Limits (a request's
size, a PDF's pages, the context window) are checked here too, before anything is sent
or stored: a clear line instead of a provider's 400. Where the provider has a file service
(Gemini's Files API), a file too large to go inline is uploaded there instead of refused
(`uploads` decides which, for the check and the adapter alike), and the user is told.

Adapters call `sendable` for each attachment part; the session calls `check` first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ba_tui.attachments import kinds
from ba_tui.attachments.images import MAX_EDGE
from ba_tui.errors import UsageError
from ba_tui.messages import Attachment, Blob, Part, Text, size_label
from ba_tui.models import CATALOG, Capabilities, capabilities, tokens_label

CHARS_PER_TOKEN = 4  # how text is estimated in tokens before sending (English prose)
# Files a model reads natively, estimated as providers document them: Anthropic counts an
# image as width×height/750 tokens (OpenAI's 512 px tiles and Gemini's 258-token tiles come
# to about the same for the ≤1568 px images ba-chat sends), and a PDF page as its text
# plus the page as a picture (about 1,600 tokens for a letter page at that scale).
IMAGE_PIXELS_PER_TOKEN = 750
PDF_PAGE_TOKENS = 1_600
# What a model is told in place of an image it cannot see (only ever in a thread's
# history: a new image to such a model is refused).
LEFT_OUT = "[image {name} left out: this model cannot see images]"


class Refused(UsageError):
    """A model cannot take an attachment: nothing is sent or stored."""


@dataclass(frozen=True)
class Native:
    """An attachment sent as the file itself (an image, a PDF)."""

    name: str
    mime: str
    data: bytes
    sha256: str = ""  # the store's key for the bytes (an upload is reused by it)


def native(part: Attachment, caps: Capabilities) -> bool:
    """Whether this model reads the attachment as the file itself."""
    return (kinds.is_image(part.mime) and caps.vision) or (part.mime == kinds.PDF and caps.pdf)


def sendable(part: Attachment, blob: Blob | None, caps: Capabilities) -> Native | str:
    """The attachment as this model gets it: the file, or text."""
    if blob is None:  # a store that lost the blob: say so rather than send nothing
        return f"[attachment {part.name} is missing from ba-chat's store]"
    if native(part, caps):
        return Native(part.name, part.mime, blob.data, part.sha256)
    if kinds.is_image(part.mime):
        return LEFT_OUT.format(name=part.name)
    return fenced(part, blob.text or "")


def fenced(part: Attachment, text: str) -> str:
    """Text under the file's name in a fence longer than any backtick run inside it."""
    run, longest = 0, 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    pages = f" (pages {part.page_range})" if part.page_range else ""
    return f"{part.name}{pages}:\n{fence}\n{text.rstrip()}\n{fence}"


def able(flag: str, *, tui: bool = False) -> str:
    """Models that can do `flag` (`vision`, `pdf`), one per provider, as `-p P -m M`
    (or as the TUI's model picker shows them, `P · M`)."""
    found = []
    for provider, entries in CATALOG.items():
        for entry in entries:
            if getattr(capabilities(provider, entry.id), flag):
                model = entry.aliases[0] if entry.aliases else entry.id
                found.append(f"{provider} · {model}" if tui else f"-p {provider} -m {model}")
                break
    return ", ".join(found)


def estimated_tokens(
    part: Attachment, blob: Blob, caps: Capabilities, pixels: tuple[int, int] | None = None
) -> int:
    """About how many input tokens the attachment costs this model, before sending (the
    provider counts for real). Text (a document the model reads as text) is counted as
    `check` counts it against the context window, CHARS_PER_TOKEN characters a token. A
    file read natively follows the providers' published rules of thumb: an image about
    one token per IMAGE_PIXELS_PER_TOKEN pixels (`pixels` is its width and height; unknown,
    the largest ba-chat sends), a PDF its text plus PDF_PAGE_TOKENS for each page's
    picture."""
    if not native(part, caps):
        if kinds.is_image(part.mime):  # left out in history; a new one is refused
            return len(LEFT_OUT.format(name=part.name)) // CHARS_PER_TOKEN
        return len(blob.text or "") // CHARS_PER_TOKEN
    if kinds.is_image(part.mime):
        width, height = pixels or (MAX_EDGE, MAX_EDGE)
        return max(1, width * height // IMAGE_PIXELS_PER_TOKEN)
    return len(blob.text or "") // CHARS_PER_TOKEN + (part.pages or 1) * PDF_PAGE_TOKENS


def _why_text(part: Attachment, model: str) -> str | None:
    """The note for an attachment sent as text, or None for a text file."""
    if part.mime == kinds.PDF:
        return f"{part.name} goes to {model} as extracted text: it does not read PDFs"
    if part.mime in (kinds.DOCX, kinds.XLSX):
        what = kinds.label(part.mime)
        return f"{part.name} goes to {model} as text (Markdown): models do not read {what}s"
    return None


def check(
    new: Sequence[tuple[Attachment, Blob]],
    model: str,
    caps: Capabilities,
    *,
    history: Iterable[tuple[Attachment, Blob]] = (),
    sources: Sequence[str] = (),
) -> list[str]:
    """The lines to tell the user about what `model` gets (documents as text, images
    left out of history); `Refused` if it cannot take one of the `new` attachments or the
    request would break a limit. `sources` are the user's names for `new` (for hints)."""
    notes: list[str] = []
    for index, (part, _) in enumerate(new):
        source = sources[index] if index < len(sources) else part.name
        if kinds.is_image(part.mime) and not caps.vision:
            raise Refused(
                f"{model} cannot see images, so {part.name} cannot be sent to it",
                f"use a model that can: {able('vision')}",
                tui_hint=f"choose one that can with Ctrl+O: {able('vision', tui=True)}",
            )
        if native(part, caps) and caps.pdf_pages and (part.pages or 0) > caps.pdf_pages:
            raise Refused(
                f"{part.name} has {part.pages} pages; {model} reads at most "
                f"{caps.pdf_pages} pages of a PDF",
                f"attach a range of pages, e.g. -a '{source.split('#')[0]}#p=1-{caps.pdf_pages}'",
                tui_hint=f"remove it and attach it again to choose at most {caps.pdf_pages} "
                "pages, or choose another model with Ctrl+O",
            )
        if not native(part, caps) and (why := _why_text(part, model)) is not None:
            notes.append(why)
    old = list(history)
    notes += [
        f"{part.name}, an image earlier in this thread, is left out: {model} cannot see images"
        for part, _ in old
        if kinds.is_image(part.mime) and not caps.vision
    ]
    for index in sorted(_check_size([*new, *old], model, caps, new, sources)):
        notes.append(_upload_note(new[index][0], model, caps))
    return notes


def uploads(items: Sequence[tuple[int, bool]], caps: Capabilities) -> set[int]:
    """Which of a request's pieces, given as (bytes, is a file), go to the provider's file
    service rather than inline: every file larger than `inline_file_bytes`, then the
    largest others until what stays inline (files in base64) fits `request_bytes`. None
    without a file service: there, too large is refused."""
    if caps.file_service is None:
        return set()
    files = [i for i, (size, is_file) in enumerate(items) if is_file]
    each = caps.inline_file_bytes
    chosen = {i for i in files if each is not None and items[i][0] > each}
    inline = sum(_inline_bytes(*item) for i, item in enumerate(items) if i not in chosen)
    for i in sorted(set(files) - chosen, key=lambda i: items[i][0], reverse=True):
        if caps.request_bytes is None or inline <= caps.request_bytes:
            break
        chosen.add(i)
        inline -= _inline_bytes(*items[i])
    return chosen


def _inline_bytes(size: int, is_file: bool) -> int:
    """What a piece adds to a request's body: base64 for a file."""
    return (size + 2) // 3 * 4 if is_file else size


def _upload_note(part: Attachment, model: str, caps: Capabilities) -> str:
    service = caps.file_service
    assert service is not None  # only a service's uploads get a note
    return (
        f"{part.name} ({size_label(part.size)}) goes to {model} through {service.name} "
        f"(too large to send inline), which keeps a copy for {service.keeps}"
    )


def _check_size(
    every: Sequence[tuple[Attachment, Blob]],
    model: str,
    caps: Capabilities,
    new: Sequence[tuple[Attachment, Blob]],
    sources: Sequence[str],
) -> set[int]:
    """The request's size and the text's tokens against the model's limits; the indices
    of the `new` files that go through the provider's file service."""
    sizes = [_wire_bytes(part, blob, caps) for part, blob in every]
    files = [native(part, caps) for part, _ in every]
    uploaded = uploads(
        [(len(blob.data) if file else size, file) for (_, blob), size, file in
         zip(every, sizes, files, strict=True)],
        caps,
    )  # fmt: skip
    sizes = [0 if i in uploaded else size for i, size in enumerate(sizes)]
    tokens = sum(len(blob.text or "") for part, blob in every if not native(part, caps))
    tokens //= CHARS_PER_TOKEN
    biggest = max(range(len(new)), key=lambda i: sizes[i], default=None)
    name = new[biggest][0].name if biggest is not None else "the attachments"
    pdf = biggest is not None and new[biggest][0].mime == kinds.PDF
    hint = (
        f"attach a range of pages, e.g. -a '{_source(new, sources, biggest)}#p=1-20'"
        if pdf
        else "attach fewer or smaller files"
    )
    tui_hint = (
        "remove it and attach it again to choose fewer pages"
        if pdf
        else "remove an attachment (click it) or attach smaller files"
    )
    if caps.request_bytes and sum(sizes) > caps.request_bytes:
        raise Refused(
            f"{name} makes the request {size_label(sum(sizes))}, more than the "
            f"{size_label(caps.request_bytes)} {model} takes",
            hint,
            tui_hint=tui_hint,
        )
    if caps.context_window and tokens > caps.context_window:
        raise Refused(
            f"{name} as text is about {tokens_label(tokens)} tokens, more than "
            f"{model}'s {tokens_label(caps.context_window)} context window",
            hint,
            tui_hint=tui_hint,
        )
    service = caps.file_service
    new_uploads = {i for i in uploaded if i < len(new)}
    for i in sorted(new_uploads):
        part, blob = new[i]
        if service is not None and len(blob.data) > service.max_bytes:
            pages = f"attach a range of pages, e.g. -a '{_source(new, sources, i)}#p=1-100'"
            raise Refused(
                f"{part.name} is {size_label(len(blob.data))}, more than the "
                f"{size_label(service.max_bytes)} {service.name} takes",
                pages if part.mime == kinds.PDF else "attach a smaller file",
            )
    return new_uploads


def _source(new: Sequence[tuple[Attachment, Blob]], sources: Sequence[str], i: int | None) -> str:
    if i is None:
        return "FILE"
    return (sources[i] if i < len(sources) else new[i][0].name).split("#")[0]


def _wire_bytes(part: Attachment, blob: Blob, caps: Capabilities) -> int:
    """What the attachment adds to the request body: base64 for a file, else its text."""
    if native(part, caps):
        return (len(blob.data) + 2) // 3 * 4
    if kinds.is_image(part.mime):
        return len(LEFT_OUT) + len(part.name)
    return len((blob.text or "").encode())


def pieces(
    parts: Iterable[Part], files: Mapping[str, Blob], caps: Capabilities
) -> list[Native | str]:
    """A message's text and attachments as this model gets them, in order, texts next to
    each other joined by a blank line (so a model reading everything as text gets one
    string, as a message without attachments is sent)."""
    out: list[Native | str] = []
    for part in parts:
        if isinstance(part, Attachment):
            piece: Native | str = sendable(part, files.get(part.sha256), caps)
        elif isinstance(part, Text):
            piece = part.text
        else:
            continue
        if isinstance(piece, str) and out and isinstance(out[-1], str):
            out[-1] = f"{out[-1]}\n\n{piece}"
        else:
            out.append(piece)
    return out
