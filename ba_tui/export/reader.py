"""Reading an export file back: our JSON and JSONL (format versions 1 and 2), or a
ChatGPT conversations.json (see chatgpt.py), every row checked before anything is written.

Version 1 files, whose messages had `content`, `reasoning` and `reasoning_signature`
instead of parts, still import. Importing preserves ids, so export -> import -> export is
identical apart from `exported_at`, and a second import adds nothing. Roles, statuses and
the types of a message's fields come from ba_tui.messages, the one definition.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ba_tui import messages as parts
from ba_tui.export.chatgpt import read_chatgpt
from ba_tui.export.format import FORMAT, VERSION, Bad, ExportError, ImportBatch
from ba_tui.messages import (
    FLOAT_FIELDS,
    INT_FIELDS,
    OBJECT_FIELDS,
    ROLES,
    STATUSES,
    TEXT_FIELDS,
)
from ba_tui.store.threads import checked_settings

_ID = re.compile(r"[!-~]{1,64}")


def read_file(path: Path) -> ImportBatch:
    """Every row of an export file, checked; ExportError (one line) if anything is wrong.
    The whole file is checked before anything is written."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ExportError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise ExportError(f"{path} is a folder, not an export file") from None
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExportError(f"{path} is not UTF-8 text, so not an export file") from None
    bad = Bad(path)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if _is_markdown(path, text):
            raise ExportError(
                f"cannot import {path}: a Markdown export is for reading, not importing",
                "import a json or jsonl export (ba-chat export -f json) "
                "or ChatGPT's conversations.json",
            ) from None
        if exc.msg != "Extra data":
            raise bad(f"not JSON (line {exc.lineno}: {exc.msg})") from None
        return _read_jsonl(text, bad)
    except RecursionError:
        raise bad("nested too deeply") from None
    if isinstance(document, dict) and document.get("format") == FORMAT:
        if "threads" not in document:
            return _read_jsonl(text, bad)  # a JSONL export holding no threads
        return _read_json(document, bad)
    if isinstance(document, list):
        return read_chatgpt(document, bad)
    raise bad("not a ba-chat export or a ChatGPT conversations.json")


def _is_markdown(path: Path, text: str) -> bool:
    """A file that is not JSON but looks like Markdown (by its suffix, or the `# title`
    every Markdown export starts with): it gets its own error, not a JSON parse error."""
    return path.suffix.lower() in (".md", ".markdown") or text.lstrip().startswith("# ")


def _check_version(header: dict[str, Any], bad: Bad) -> int:
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise bad(f"unknown format version {version!r}")
    if version > VERSION:
        raise bad(f"it was written by a newer ba-chat (format version {version})")
    return version


def _read_json(document: dict[str, Any], bad: Bad) -> ImportBatch:
    version = _check_version(document, bad)
    raw_threads = document.get("threads")
    if not isinstance(raw_threads, list):
        raise bad('"threads" is not a list')
    threads, messages, blobs = [], [], []
    for number, raw in enumerate(raw_threads, 1):
        where = f"thread {number}"
        thread = _thread(raw, bad, where)
        raw_blobs = raw.get("blobs", [])
        if not isinstance(raw_blobs, list):
            raise bad(f'{where}: "blobs" is not a list')
        blobs += [_blob(item, bad, f"{where}, blob {n}") for n, item in enumerate(raw_blobs, 1)]
        raw_messages = raw.get("messages", [])
        if not isinstance(raw_messages, list):
            raise bad(f'{where}: "messages" is not a list')
        for index, item in enumerate(raw_messages, 1):
            message = _message(item, bad, f"{where}, message {index}", version)
            if message["thread_id"] is None:
                message["thread_id"] = thread["id"]
            elif message["thread_id"] != thread["id"]:
                raise bad(f"{where}, message {index}: thread_id does not match its thread")
            messages.append(message)
        threads.append(thread)
    return ImportBatch("ba-chat JSON", threads, messages, blobs=blobs)


def _read_jsonl(text: str, bad: Bad) -> ImportBatch:
    threads, messages, blobs = [], [], []
    seen_threads: set[str] = set()
    header_seen = False
    version = VERSION
    # Split on newlines only: splitlines() also breaks at U+2028 and friends inside text.
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise bad(f"{where} is not JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise bad(f"{where} is not a JSON object")
        kind = record.get("type")
        if not header_seen:
            if record.get("format") != FORMAT:
                raise bad("not a ba-chat export or a ChatGPT conversations.json")
            version = _check_version(record, bad)
            header_seen = True
        elif kind == "thread":
            thread = _thread(record, bad, where)
            seen_threads.add(thread["id"])
            threads.append(thread)
        elif kind == "message":
            message = _message(record, bad, where, version)
            if message["thread_id"] not in seen_threads:
                raise bad(f"{where}: message comes before its thread's line")
            messages.append(message)
        elif kind == "blob":
            blobs.append(_blob(record, bad, where))
        else:
            raise bad(
                f'{where}: unknown record type {kind!r} (expected "thread", "message" or "blob")'
            )
    if not header_seen:
        raise bad("the file is empty")
    return ImportBatch("ba-chat JSONL", threads, messages, blobs=blobs)


def _blob(raw: Any, bad: Bad, where: str) -> tuple[str, str, parts.Blob]:
    """An attachment's content: base64 bytes that must hash to the sha256 it names."""
    import base64
    import binascii
    import hashlib

    if not isinstance(raw, dict):
        raise bad(f"{where} is not a JSON object")
    sha256 = _text(raw, "sha256", bad, where, required=True)
    mime = _text(raw, "mime", bad, where, required=True)
    encoded = _text(raw, "data", bad, where, required=True)
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise bad(f"{where}: data is not base64") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise bad(f"{where}: its data does not match its sha256 (the file was changed)")
    return sha256, mime, parts.Blob(data, _text(raw, "text", bad, where))


def _thread(raw: Any, bad: Bad, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise bad(f"{where} is not a JSON object")
    thread = {
        "id": _id(raw, "id", bad, where, required=True),
        "title": _text(raw, "title", bad, where) or "",
        "provider": _text(raw, "provider", bad, where, required=True),
        "model": _text(raw, "model", bad, where, required=True),
        "system": _text(raw, "system", bad, where),
        "persona": _text(raw, "persona", bad, where),
        "created_at": _text(raw, "created_at", bad, where, required=True),
        "updated_at": _text(raw, "updated_at", bad, where) or raw.get("created_at"),
        "origin": _text(raw, "origin", bad, where),
    }
    for name in ("pinned", "archived"):
        value = raw.get(name, False)
        if not isinstance(value, bool):
            raise bad(f"{where}: {name} is not true or false")
        thread[name] = value
    settings = raw.get("settings")
    if settings is not None and not isinstance(settings, dict):
        raise bad(f"{where}: settings is not a JSON object")
    try:
        thread["settings"] = checked_settings(settings)
    except ValueError as exc:
        raise bad(f"{where}: {exc}") from None
    return thread


def _message(raw: Any, bad: Bad, where: str, version: int) -> dict[str, Any]:
    """A message row for the store (the Message fields), checked field by field."""
    if not isinstance(raw, dict):
        raise bad(f"{where} is not a JSON object")
    message: dict[str, Any] = {
        "id": _id(raw, "id", bad, where, required=True),
        "thread_id": _id(raw, "thread_id", bad, where),
        "role": _text(raw, "role", bad, where, required=True),
        "status": _text(raw, "status", bad, where) or "complete",
        "created_at": _text(raw, "created_at", bad, where, required=True),
    }
    if message["role"] not in ROLES:
        raise bad(f"{where}: unknown role {message['role']!r}")
    if message["status"] not in STATUSES:
        raise bad(f"{where}: unknown status {message['status']!r}")
    message["parent_id"] = _id(raw, "parent_id", bad, where)
    for name in TEXT_FIELDS:
        message[name] = _text(raw, name, bad, where)
    message["parts"] = _parts(raw, bad, where, version, message["provider"])
    for name in INT_FIELDS:
        value = raw.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise bad(f"{where}: {name} is not a whole number")
        message[name] = value
    for name in FLOAT_FIELDS:
        value = raw.get(name)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise bad(f"{where}: {name} is not a number")
        message[name] = value
    for name in OBJECT_FIELDS:
        value = raw.get(name)
        if value is not None and not isinstance(value, dict):
            raise bad(f"{where}: {name} is not a JSON object")
        message[name] = value
    return message


def _parts(
    raw: dict[str, Any], bad: Bad, where: str, version: int, provider: str | None
) -> tuple[parts.Part, ...]:
    """Version 2 lists the parts; version 1 had text, reasoning and Anthropic's signature
    in fields of their own, which become the parts the store's migration makes of them."""
    if version == 1:
        return parts.reply_parts(
            _text(raw, "content", bad, where) or "",
            _text(raw, "reasoning", bad, where),
            provider,
            _text(raw, "reasoning_signature", bad, where),
        )
    items = raw.get("parts")
    if not isinstance(items, list):
        raise bad(f"{where}: parts is not a list")
    try:
        return tuple(parts.from_dict(item) for item in items)
    except ValueError as exc:
        raise bad(f"{where}: {exc}") from None


def _id(raw: dict[str, Any], name: str, bad: Bad, where: str, *, required: bool = False) -> Any:
    """Ids are printed and typed by people: printable ASCII without spaces, 64 at most."""
    value = _text(raw, name, bad, where, required=required)
    if value is not None and not _ID.fullmatch(value):
        raise bad(f"{where}: {name} is not a valid id")
    return value


def _text(raw: dict[str, Any], name: str, bad: Bad, where: str, *, required: bool = False) -> Any:
    value = raw.get(name)
    if value is None:
        if required:
            raise bad(f"{where} has no {name}")
        return None
    if not isinstance(value, str):
        raise bad(f"{where}: {name} is not text")
    if required and not value:
        raise bad(f"{where}: {name} is empty")
    return value
