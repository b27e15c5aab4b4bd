"""Gemini's Files API: the files of a request too large to send inline go by reference.

Which files is `attachments.fit.uploads` (the same rule the pre-flight check tells the user
about): inline data is limited per request and per file (see `_GEMINI` in models.py for
the documented numbers), the Files API takes a file up to 2 GB and keeps it 48 hours.

An upload is the resumable protocol google-genai speaks (`client.aio.files.upload`), then
a wait until the file is ACTIVE (Gemini refuses a file still PROCESSING); it is sent as
`file_data` with the file's URI. An upload is kept with the client that made it, for the
steps and retries of one turn and a TUI session's turns, until an hour before the file
expires (`_MARGIN`).

Each new upload is reported (an `Uploaded` event) and the turn runner stores it, so a
later process (`ask -c`, the TUI opened again) gets it back in `ChatRequest.uploads`
rather than uploading the same file again. A file lives in the project of the key that
uploaded it, and the record holds nothing of the key: before its first use by a client,
one `files.get` checks the file is still there and ACTIVE. Gemini answers 403 for a file
of another key's project (or one deleted; 404 is taken the same way): the file is then
uploaded again and the new upload replaces the record. Any other failure of the check
is the turn's error, as a failed upload is.
"""

from __future__ import annotations

import asyncio
import io
import time
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from ba_tui import errors
from ba_tui.attachments.fit import Native, uploads
from ba_tui.events import Uploaded
from ba_tui.models import Capabilities

# Gemini processes a PDF or an image in seconds; a file still PROCESSING after this long
# is reported rather than waited for without end.
READY_SECONDS = 120.0
_FIRST_LOOK = 0.05  # seconds before asking again, doubled up to _LONGEST_WAIT
_LONGEST_WAIT = 2.0
_MARGIN = timedelta(hours=1)  # an upload this close to expiring is made again
_DISPLAY_NAME = 512  # characters the API takes in a display name
_GONE = (403, 404)  # what files.get answers for a file this key cannot use (any more)

_kept: weakref.WeakKeyDictionary[genai.Client, dict[tuple[str, str], types.File]]
_kept = weakref.WeakKeyDictionary()


def _sizes(pieces: Sequence[Native | str]) -> list[tuple[int, bool]]:
    return [
        (len(p.data), True) if isinstance(p, Native) else (len(p.encode()), False) for p in pieces
    ]


async def references(
    client: genai.Client,
    pieces: Sequence[Native | str],
    caps: Capabilities,
    earlier: Sequence[Uploaded] = (),
    made: list[Uploaded] | None = None,
) -> dict[tuple[str, str], types.Part]:
    """The `file_data` part for each file of the request that goes through the Files API,
    by (sha256, type): this client's upload, else one of `earlier` still good, else one
    uploaded now (added to `made`). Raises ProviderError when Gemini cannot make one
    ready (FAILED, or still processing)."""
    chosen = [pieces[i] for i in sorted(uploads(_sizes(pieces), caps))]
    known = {(u.sha256, u.mime): u for u in earlier}
    parts: dict[tuple[str, str], types.Part] = {}
    for piece in chosen:
        if not isinstance(piece, Native):
            continue
        key = (piece.sha256, piece.mime)
        if key not in parts:
            file = await _upload(client, piece, known.get(key), made)
            parts[key] = types.Part.from_uri(file_uri=file.uri or "", mime_type=piece.mime)
    return parts


async def _upload(
    client: genai.Client, piece: Native, earlier: Uploaded | None, made: list[Uploaded] | None
) -> types.File:
    """The ACTIVE file for `piece`: this client's earlier upload or `earlier` if still good."""
    kept = _kept.setdefault(client, {})
    key = (piece.sha256, piece.mime)
    if (file := kept.get(key)) is not None and _fresh(file):
        return file
    if earlier is not None and (file := await _still_there(client, earlier)) is not None:
        kept[key] = file
        return file
    file = await client.aio.files.upload(
        file=io.BytesIO(piece.data),
        config=types.UploadFileConfig(
            mime_type=piece.mime, display_name=piece.name[:_DISPLAY_NAME]
        ),
    )
    file = await _ready(client, file, piece.name)
    if piece.sha256:  # (a piece without one cannot be recognised again)
        kept[key] = file
        if made is not None and file.name and file.uri:
            expires = file.expiration_time
            made.append(
                Uploaded(
                    piece.sha256,
                    piece.mime,
                    file.name,
                    file.uri,
                    expires.astimezone(UTC).isoformat() if expires else None,
                )
            )
    return file


async def _still_there(client: genai.Client, earlier: Uploaded) -> types.File | None:
    """The file of an earlier process's upload, if this key can still use it for a while."""
    if earlier.expires is not None:
        try:
            expires = datetime.fromisoformat(earlier.expires)
        except ValueError:
            return None
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        if expires - datetime.now(UTC) <= _MARGIN:
            return None
    try:
        file = await client.aio.files.get(name=earlier.name)
    except genai_errors.ClientError as exc:
        if exc.code in _GONE:
            return None
        raise
    if file.state != types.FileState.ACTIVE or not _fresh(file) or file.uri != earlier.uri:
        return None
    return file


async def _ready(client: genai.Client, file: types.File, name: str) -> types.File:
    """`file` once Gemini has processed it, asking again after a short, growing wait."""
    deadline = time.monotonic() + READY_SECONDS
    wait = _FIRST_LOOK
    while file.state != types.FileState.ACTIVE:
        if file.state == types.FileState.FAILED:
            why = file.error.message if file.error and file.error.message else "no reason given"
            raise errors.ProviderError(
                f"gemini could not process {name} in its Files API ({why})",
                "try again; if it fails again, attach a range of pages or a smaller file",
                provider="gemini",
            )
        if time.monotonic() + wait > deadline:
            raise errors.ProviderError(
                f"gemini's Files API was still processing {name} after {READY_SECONDS:.0f} s",
                "try again in a few minutes",
                provider="gemini",
            )
        await asyncio.sleep(wait)
        wait = min(wait * 2, _LONGEST_WAIT)
        file = await client.aio.files.get(name=file.name or "")
    return file


def _fresh(file: types.File) -> bool:
    expires = file.expiration_time
    return expires is None or expires - datetime.now(UTC) > _MARGIN
