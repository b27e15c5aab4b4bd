"""Gemini's Files API on the fake server, as google-genai speaks it (files.py `upload`,
_api_client.py `_async_upload_fd`, both read in google-genai 3.6.1):

  POST /upload/v1beta/files         X-Goog-Upload-Protocol: resumable, -Command: start,
                                    -Header-Content-Length/-Type, body {"file": {...}}
    -> 200, empty body, X-Goog-Upload-URL (where the bytes go), -Status: active,
       -Chunk-Granularity: 8388608
  POST <upload URL>                 -Command: upload (8 MB chunks), then "upload, finalize"
                                    on the last, each with -Offset
    -> 200 "X-Goog-Upload-Status: active" per chunk; on finalize "final" and
       {"file": File} (state PROCESSING)
  GET  /v1beta/files/NAME           the File: PROCESSING on the first look, ACTIVE after
                                    (FAILED, with `error`, when its display name holds
                                    `fail-processing`; PROCESSING for ever with
                                    `stay-processing`); for a file it does not hold (never
                                    uploaded, deleted, expired, or another key's project)
                                    403 PERMISSION_DENIED, as the API answers

A File is {name, displayName, mimeType, sizeBytes (a string: int64), createTime,
updateTime, expirationTime (48 h later), sha256Hash, uri, state, source}. A generate
request whose fileData names a file that is not ACTIVE gets the API's 400, so a client
that does not wait for ACTIVE fails here as it would there.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.servers.replies import Reply, status

CHUNK_GRANULARITY = 8 * 1024 * 1024
FAIL_WORD = "fail-processing"  # in a display name: the file ends FAILED
STUCK_WORD = "stay-processing"  # in a display name: the file is never ready
_JSON = {"Content-Type": "application/json; charset=UTF-8"}


@dataclass
class _Upload:
    metadata: dict[str, Any]
    size: int
    mime: str
    data: bytearray = field(default_factory=bytearray)


@dataclass
class StoredFile:
    """A file the fake Files API holds: its resource and the bytes it received."""

    resource: dict[str, Any]
    data: bytes
    looks: int = 0  # GETs so far: the first one still sees PROCESSING


class FilesAPI:
    """The Files API's state: uploads under way and the files they made."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._uploads: dict[str, _Upload] = {}
        self.files: dict[str, StoredFile] = {}  # by name, "files/..."
        self._failing: list[Reply] = []

    def handles(self, method: str, path: str) -> bool:
        if method == "POST" and path == "/upload/v1beta/files":
            return True
        return method == "GET" and path.startswith("/v1beta/files/")

    def reply(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes,
              base: str) -> Reply:  # fmt: skip
        """The answer to one Files API request (`base`: the server's own URL)."""
        if method == "GET":
            return self._get(path.split("/files/", 1)[1])
        command = headers.get("x-goog-upload-command", "")
        if command == "start":
            return self._start(path, headers, body, base)
        return self._chunk(query, command, headers, body)

    def uploaded(self) -> dict[str, bytes]:
        """The bytes each finished upload received, by file name."""
        with self._lock:
            return {name: stored.data for name, stored in self.files.items()}

    def forget(self, name: str) -> None:
        """Lose a file, as Google does once it expires or is deleted."""
        with self._lock:
            del self.files[name]

    def fail_next_look(self, code: int, message: str, state: str) -> None:
        """Answer the next GET of a file with this error (an outage, not a lost file)."""
        with self._lock:
            self._failing.append(_error(code, message, state))

    def _start(self, path: str, headers: dict[str, str], body: bytes, base: str) -> Reply:
        if headers.get("x-goog-upload-protocol") != "resumable":
            return _error(400, "Upload protocol must be resumable", "INVALID_ARGUMENT")
        try:
            metadata = (json.loads(body) if body else {}).get("file") or {}
            size = int(headers["x-goog-upload-header-content-length"])
        except (ValueError, KeyError):
            return _error(400, "Invalid upload start request", "INVALID_ARGUMENT")
        # google-genai 3.6 writes the metadata in snake_case; the API takes both spellings.
        metadata = {_camel(key): value for key, value in metadata.items()}
        mime = headers.get("x-goog-upload-header-content-type") or metadata.get("mimeType", "")
        with self._lock:
            upload_id = f"fake-upload-{next(self._ids)}"
            self._uploads[upload_id] = _Upload(metadata, size, mime)
        url = f"{base}{path}?upload_id={upload_id}&upload_protocol=resumable"
        return Reply(
            headers={
                "Content-Type": "text/plain; charset=utf-8",
                "X-Goog-Upload-Status": "active",
                "X-Goog-Upload-URL": url,
                "X-Goog-Upload-Control-URL": url,
                "X-Goog-Upload-Chunk-Granularity": str(CHUNK_GRANULARITY),
            },
            label="files: upload started",
        )

    def _chunk(self, query: str, command: str, headers: dict[str, str], body: bytes) -> Reply:
        params = dict(pair.partition("=")[::2] for pair in query.split("&") if pair)
        with self._lock:
            upload = self._uploads.get(params.get("upload_id", ""))
            if upload is None:
                return _error(404, "Upload session not found", "NOT_FOUND")
            if int(headers.get("x-goog-upload-offset", "-1")) != len(upload.data):
                return _error(400, "Upload offset does not match", "INVALID_ARGUMENT")
            upload.data += body
            if "finalize" not in command:
                return Reply(headers={"X-Goog-Upload-Status": "active"}, label="files: chunk")
            del self._uploads[params["upload_id"]]
            if len(upload.data) != upload.size:
                return _error(400, "Upload size does not match its start", "INVALID_ARGUMENT")
            stored = self._make(upload)
        body = json.dumps({"file": stored.resource}, indent=2).encode()
        return Reply(
            headers={**_JSON, "X-Goog-Upload-Status": "final"}, body=body, label="files: final"
        )

    def _make(self, upload: _Upload) -> StoredFile:
        file_id = f"fake{next(self._ids):08d}"
        name = f"files/{file_id}"
        now = datetime.now(UTC)
        digest = hashlib.sha256(upload.data).hexdigest()
        resource = {
            "name": name,
            "displayName": upload.metadata.get("displayName", ""),
            "mimeType": upload.mime,
            "sizeBytes": str(len(upload.data)),
            "createTime": _time(now),
            "updateTime": _time(now),
            "expirationTime": _time(now + timedelta(hours=48)),
            "sha256Hash": base64.b64encode(digest.encode()).decode(),
            "uri": f"https://generativelanguage.googleapis.com/v1beta/{name}",
            "state": "PROCESSING",
            "source": "UPLOADED",
        }
        if not resource["displayName"]:
            del resource["displayName"]
        stored = StoredFile(resource, bytes(upload.data))
        self.files[name] = stored
        return stored

    def _get(self, file_id: str) -> Reply:
        with self._lock:
            if self._failing:
                return self._failing.pop(0)
            stored = self.files.get(f"files/{file_id}")
            if stored is None:
                return _error(
                    403,
                    f"You do not have permission to access the File {file_id} or it may not exist.",
                    "PERMISSION_DENIED",
                )
            stored.looks += 1
            stuck = STUCK_WORD in stored.resource.get("displayName", "")
            if stored.looks > 1 and stored.resource["state"] == "PROCESSING" and not stuck:
                failed = FAIL_WORD in stored.resource.get("displayName", "")
                stored.resource["state"] = "FAILED" if failed else "ACTIVE"
                if failed:
                    stored.resource["error"] = {"code": 3, "message": "File processing failed."}
            resource = dict(stored.resource)
        return Reply(headers=dict(_JSON), body=json.dumps(resource, indent=2).encode())

    def not_active(self, body: Any) -> Reply | None:
        """The API's 400 for a generate request naming a file that is not ACTIVE."""
        for uri in _file_uris(body):
            name = "files/" + uri.rsplit("/files/", 1)[-1]
            with self._lock:
                stored = self.files.get(name)
                state = stored.resource["state"] if stored else None
            if state != "ACTIVE":
                file_id = name.removeprefix("files/")
                message = (
                    f"The File {file_id} is not in an ACTIVE state and usage is not allowed."
                    if stored
                    else f"File {file_id} not found."
                )
                return _error(400, message, "FAILED_PRECONDITION" if stored else "NOT_FOUND")
        return None


def _file_uris(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    # google-genai 3.6 sends fileData's keys in snake_case; the API takes both spellings.
    found = [
        part.get("fileData") or part.get("file_data")
        for content in body.get("contents") or []
        for part in content.get("parts") or []
    ]
    return [str(d.get("fileUri") or d.get("file_uri")) for d in found if isinstance(d, dict)]


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word.title() for word in rest)


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def _error(code: int, message: str, state: str) -> Reply:
    return status(
        code, json.dumps({"error": {"code": code, "message": message, "status": state}}, indent=2)
    )
