"""The uploads a later process may reuse: kept per endpoint and file, never piling up."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from ba_tui import uploads
from ba_tui.events import Uploaded
from ba_tui.messages import Blob
from ba_tui.store import Store

URL = "https://generativelanguage.googleapis.com"
ELSEWHERE = "http://127.0.0.1:8080"
KEPT, EXPIRED, DELETED = "a" * 64, "b" * 64, "c" * 64


def upload(sha256: str, name: str, hours: float) -> Uploaded:
    expires = (datetime.now(UTC) + timedelta(hours=hours)).isoformat()
    return Uploaded(sha256, "application/pdf", name, f"{URL}/v1beta/{name}", expires)


def test_a_new_upload_replaces_the_old_and_expired_or_deleted_files_are_dropped(tmp_path):
    with Store.open(tmp_path / "ba-chat.db") as store:
        store.import_blobs([(s, "application/pdf", Blob(b"%PDF")) for s in (KEPT, EXPIRED)])
        earlier = [
            (URL, upload(KEPT, "files/old", 40)),
            (ELSEWHERE, upload(KEPT, "files/elsewhere", 40)),
            (URL, upload(EXPIRED, "files/expired", -1)),
            (URL, upload(DELETED, "files/gone", 40)),  # its thread deleted since
        ]
        records = [{"base_url": url, **asdict(u)} for url, u in earlier]
        store.set_kv(uploads.KEY, json.dumps(records))
        found = uploads.remembered(store, URL, {KEPT, EXPIRED, DELETED})
        assert [u.name for u in found] == ["files/old", "files/gone"]

        uploads.remember(store, URL, upload(KEPT, "files/new", 48))
        assert [(r["base_url"], r["name"]) for r in json.loads(store.get_kv(uploads.KEY))] == [
            (ELSEWHERE, "files/elsewhere"),
            (URL, "files/new"),
        ]
        (new,) = uploads.remembered(store, URL, {KEPT})
        assert (new.name, new.uri) == ("files/new", f"{URL}/v1beta/files/new")


def test_deleting_a_thread_forgets_the_uploads_of_its_files(server, env, home, tmp_path):
    """Nothing of a deleted file stays: not the record of its upload to Gemini either."""
    from tests import attachfiles
    from tests.conftest import run_cli
    from tests.servers import text_stream

    attachfiles.pdf(tmp_path / "spec.pdf", ["The login page"])
    server.queue(text_stream("anthropic", "Read."))
    done = run_cli("ask", "-p", "anthropic", "-a", str(tmp_path / "spec.pdf"), "x", env=env)
    assert done.returncode == 0, done.stderr
    with Store.open(home / "ba-chat.db") as store:
        [thread] = store.list_threads()
        [sha256] = [p.sha256 for p in store.messages(thread.id)[0].parts if p.type == "attachment"]
        uploads.remember(store, URL, upload(sha256, "files/spec", 40))
        assert uploads.remembered(store, URL, {sha256})
    deleted = run_cli("threads", "delete", thread.id, "--yes", env=env)
    assert deleted.returncode == 0, deleted.stderr
    with Store.open(home / "ba-chat.db") as store:
        assert store.get_kv(uploads.KEY) is None
