"""Files a provider's file service holds for ba-chat (Gemini's Files API), remembered in
the store so that a later process (`ask -c`, the TUI opened again) sends a file by
reference instead of uploading it again.

One kv entry holds them all: a JSON list of {base_url, sha256, mime, name, uri, expires}.
Nothing of the key: a file lives in the key's project, so the adapter asks the provider
whether the key in use can still use a file before sending it (see gemini_files). The list
stays short (each is a file over the inline limit, kept 48 hours): whenever one is written,
the expired ones and those whose attachment is no longer stored are dropped. Two processes
writing at once may lose one record; that costs one upload later, nothing more.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from ba_tui.events import Uploaded

KEY = "uploads"


class _Store(Protocol):
    def get_kv(self, key: str) -> str | None: ...
    def set_kv(self, key: str, value: str | None) -> None: ...
    def stored_blobs(self, sha256s: Iterable[str]) -> set[str]: ...


def remembered(store: _Store, base_url: str, sha256s: Collection[str]) -> tuple[Uploaded, ...]:
    """The unexpired uploads to `base_url` of these files."""
    return tuple(
        Uploaded(r["sha256"], r["mime"], r["name"], r["uri"], r["expires"])
        for r in _records(store)
        if r["base_url"] == base_url and r["sha256"] in sha256s
    )


def remember(store: _Store, base_url: str, upload: Uploaded) -> None:
    """Keep `upload` in place of any earlier upload of the same file to `base_url`."""
    same = (base_url, upload.sha256, upload.mime)
    kept = [r for r in _records(store) if (r["base_url"], r["sha256"], r["mime"]) != same]
    kept.append(
        {
            "base_url": base_url,
            "sha256": upload.sha256,
            "mime": upload.mime,
            "name": upload.name,
            "uri": upload.uri,
            "expires": upload.expires,
        }
    )
    _save(store, kept)


def forget_deleted(store: _Store) -> None:
    """Drop the records of files no longer stored (after a thread is deleted), and of
    expired uploads: nothing of a deleted file stays behind, not even its name at Google."""
    _save(store, _records(store))


def _save(store: _Store, records: list[dict[str, Any]]) -> None:
    """Keep `records`, less those whose file is no longer stored; nothing is written when
    that changes nothing."""
    stored = store.stored_blobs({r["sha256"] for r in records}) if records else set()
    kept = [r for r in records if r["sha256"] in stored]
    value = json.dumps(kept) if kept else None
    if value != store.get_kv(KEY):
        store.set_kv(KEY, value)


def _records(store: _Store) -> list[dict[str, Any]]:
    """The unexpired records; a damaged entry counts as none (the files are uploaded again)."""
    try:
        found = json.loads(store.get_kv(KEY) or "[]")
        now = datetime.now(UTC)
        return [r for r in found if _expires(r) > now]
    except (ValueError, TypeError, AttributeError, KeyError):
        return []


def _expires(record: dict[str, Any]) -> datetime:
    """When the file expires; a record without an expiry (Gemini always gives one) lasts
    until it is replaced or its attachment deleted."""
    if not isinstance(record["name"], str) or not isinstance(record["uri"], str):
        raise ValueError(record)
    if record["expires"] is None:
        return datetime.max.replace(tzinfo=UTC)
    moment = datetime.fromisoformat(record["expires"])
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
