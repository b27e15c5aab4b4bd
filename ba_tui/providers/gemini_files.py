"""Gemini's Files API: the files of a request too large to send inline go by reference.

Which files is `attachments.fit.uploads` (the same rule the pre-flight check tells the user
about): inline data is limited per request and per file (see `_GEMINI` in models.py for
the documented numbers), the Files API takes a file up to 2 GB and keeps it 48 hours.

An upload is the resumable protocol google-genai speaks (`client.aio.files.upload`), then
a wait until the file is ACTIVE (Gemini refuses a file still PROCESSING); it is sent as
`file_data` with the file's URI. An upload belongs to the client that made it (a file
lives in the key's project), so it is kept with that client and reused while the client
is: the steps and retries of one turn, and a TUI session's turns, until an hour before
the file expires. A new process (`ask -c`) uploads a replayed file again.
"""

from __future__ import annotations

import asyncio
import io
import time
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from google import genai
from google.genai import types

from ba_tui import errors
from ba_tui.attachments.fit import Native, uploads
from ba_tui.models import Capabilities

# Gemini processes a PDF or an image in seconds; a file still PROCESSING after this long
# is reported rather than waited for without end.
READY_SECONDS = 120.0
_FIRST_LOOK = 0.05  # seconds before asking again, doubled up to _LONGEST_WAIT
_LONGEST_WAIT = 2.0
_MARGIN = timedelta(hours=1)  # an upload this close to expiring is made again
_DISPLAY_NAME = 512  # characters the API takes in a display name

_kept: weakref.WeakKeyDictionary[genai.Client, dict[tuple[str, str], types.File]]
_kept = weakref.WeakKeyDictionary()


def _sizes(pieces: Sequence[Native | str]) -> list[tuple[int, bool]]:
    return [
        (len(p.data), True) if isinstance(p, Native) else (len(p.encode()), False) for p in pieces
    ]


async def references(
    client: genai.Client, pieces: Sequence[Native | str], caps: Capabilities
) -> dict[tuple[str, str], types.Part]:
    """The `file_data` part for each file of the request that goes through the Files API,
    by (sha256, type); uploaded now unless this client has it already. Raises
    ProviderError when Gemini cannot make one ready (FAILED, or still processing)."""
    chosen = [pieces[i] for i in sorted(uploads(_sizes(pieces), caps))]
    parts: dict[tuple[str, str], types.Part] = {}
    for piece in chosen:
        if not isinstance(piece, Native):
            continue
        key = (piece.sha256, piece.mime)
        if key not in parts:
            file = await _upload(client, piece)
            parts[key] = types.Part.from_uri(file_uri=file.uri or "", mime_type=piece.mime)
    return parts


async def _upload(client: genai.Client, piece: Native) -> types.File:
    """The ACTIVE file for `piece`: this client's earlier upload if it is still good."""
    kept = _kept.setdefault(client, {})
    key = (piece.sha256, piece.mime)
    if (file := kept.get(key)) is not None and _fresh(file):
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
