"""Old data comes through the move to message parts intact: a database and a version 1
export that ba-chat wrote on 2026-12-07 (before parts), opened and imported by today's code.

tests/data/store-2026-12-07.db was made by that day's `ba-chat ask` against the fake
servers (threads from every provider, a continued thread, Claude's signed thinking,
DeepSeek's reasoning, a cut stream, an unknown model, a comparison, and a cancelled reply
with a second variant), and tests/data/export-v1-2026-12-07.json is its `export --all -f
json` from the same code: the oracle for what the migrated store must still hold.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ba_tui.export import import_file, write_json
from ba_tui.store import Store
from ba_tui.store.migrations import MIGRATIONS

DATA = Path(__file__).parent / "data"
OLD_DB = DATA / "store-2026-12-07.db"
OLD_EXPORT = json.loads((DATA / "export-v1-2026-12-07.json").read_text())
# Version 1 kept these three in fields of their own; version 2 keeps them in the parts.
IN_PARTS = ("content", "reasoning", "reasoning_signature")


def _export(store: Store) -> dict:
    from io import StringIO

    out = StringIO()
    write_json(store, store.thread_ids(), out, "2026-12-07T00:00:00.000Z")
    return json.loads(out.getvalue())


def _signature(message: dict) -> str | None:
    metas = [p.get("meta") or {} for p in message["parts"] if p["type"] == "reasoning"]
    return next((meta["signature"] for meta in metas if "signature" in meta), None)


def _same_as_the_old_export(document: dict) -> None:
    """Every thread and message of the old export, field for field, in the new one."""
    assert document["version"] == 2
    old_threads = {t["id"]: t for t in OLD_EXPORT["threads"]}
    new_threads = {t["id"]: t for t in document["threads"]}
    assert new_threads.keys() == old_threads.keys()
    for thread_id, old in old_threads.items():
        new = new_threads[thread_id]
        assert {k: v for k, v in new.items() if k in old and k != "messages"} == {
            k: v for k, v in old.items() if k != "messages"
        }
        # What later versions added to a thread has its "nothing yet" value.
        added = {k: new[k] for k in new if k not in old}
        assert added == {"pinned": False, "archived": False, "settings": None, "origin": None}
        assert [m["id"] for m in new["messages"]] == [m["id"] for m in old["messages"]]
        for before, after in zip(old["messages"], new["messages"], strict=True):
            for name, value in before.items():
                if name not in IN_PARTS:
                    assert after[name] == value, (thread_id, before["id"], name)
            assert after["content"] == before["content"]
            assert after["reasoning"] == before["reasoning"]
            assert _signature(after) == before["reasoning_signature"]
            text = "".join(p["text"] for p in after["parts"] if p["type"] == "text")
            assert text == before["content"]


@pytest.fixture
def old_store(tmp_path: Path):
    db = tmp_path / "ba-chat.db"
    shutil.copy(OLD_DB, db)
    with Store.open(db) as store:
        yield store


def test_the_fixture_covers_what_the_migration_must_keep():
    messages = [m for t in OLD_EXPORT["threads"] for m in t["messages"]]
    statuses = {m["status"] for m in messages}
    assert statuses >= {"complete", "partial", "error", "cancelled"}
    assert any(m["reasoning_signature"] for m in messages)
    assert any(m["reasoning"] and not m["reasoning_signature"] for m in messages)
    parents = [m["parent_id"] for m in messages if m["role"] == "assistant"]
    assert len(parents) > len(set(parents))  # variants: two replies to one prompt
    replies = [m for m in messages if m["role"] == "assistant" and m["status"] == "complete"]
    assert all(m[k] is not None for m in replies for k in
               ("input_tokens", "output_tokens", "cost", "ttft_ms", "duration_ms"))  # fmt: skip


def test_an_old_database_opens_with_everything_in_it(old_store: Store):
    assert old_store.schema_version() == len(MIGRATIONS)
    assert old_store.integrity_check() == "ok"
    _same_as_the_old_export(_export(old_store))
    assert old_store.allowed_tools() == []  # no tool allowed "always" yet


def test_the_migrated_messages_read_back_as_parts(old_store: Store):
    messages = [m for thread_id in old_store.thread_ids() for m in old_store.messages(thread_id)]
    signed = [m for m in messages if m.reasoning_signature]
    assert len(signed) == 1
    thinking = signed[0].parts[0]
    assert (thinking.type, thinking.provider) == ("reasoning", "anthropic")
    assert signed[0].parts[1].type == "text" and signed[0].content
    empty = [m for m in messages if m.status == "error"]
    assert empty and all(m.parts == () and m.content == "" for m in empty)
    users = [m for m in messages if m.role == "user"]
    assert all([p.type for p in m.parts] == ["text"] for m in users)


def test_search_still_finds_old_messages(old_store: Store):
    hits = old_store.search("story")
    assert "What is a user story?" in {hit.thread_title for hit in hits}
    assert any("[story]" in hit.snippet for hit in hits)


def test_old_messages_are_found_by_other_forms_of_their_words(old_store: Store):
    """m003 rebuilt the search index with a stemmer; the integrity check (rank 1) holds
    the index against every stored message."""
    hits = old_store.search("stories")
    assert "What is a user story?" in {hit.thread_title for hit in hits}
    assert any("story" in hit.matched for hit in hits)
    assert old_store.integrity_check() == "ok"


def test_a_turn_added_after_the_migration_sits_beside_the_old_ones(old_store: Store):
    thread_id = OLD_EXPORT["threads"][0]["id"]
    before = len(old_store.messages(thread_id))
    old_store.add_message(thread_id, role="user", content="One more", parent_id=None)
    assert len(old_store.messages(thread_id)) == before + 1
    assert old_store.search("One more")[0].thread_id == thread_id


def test_an_old_thread_takes_an_attachment_after_the_migration(old_store: Store):
    """The attachments step adds its tables and changes no old row: an old thread then
    stores a file like a new one, and its words are found."""
    from ba_tui.messages import Attachment, Blob, Text

    thread_id = OLD_EXPORT["threads"][0]["id"]
    blob = Blob(b"%PDF-1.4 fake", "Acceptance criteria for the quokka report")
    part = Attachment("criteria.pdf", "application/pdf", len(blob.data), "ab" * 32, 1)
    message = old_store.add_message(
        thread_id,
        role="user",
        parts=(part, Text("Read this")),
        parent_id=None,
        blobs=[(part, blob)],
    )
    assert old_store.get_message(message.id).parts == (part, Text("Read this"))
    assert old_store.blobs([part.sha256]) == {part.sha256: blob}
    assert [hit.message_id for hit in old_store.search("quokka")] == [message.id]
    _same_as_the_old_export(_without(_export(old_store), message.id))


def _without(document: dict, message_id: str) -> dict:
    """The export with that message and its attachment left out (and its thread's
    `updated_at` as before: adding the message moved it on)."""
    old = {t["id"]: t for t in OLD_EXPORT["threads"]}
    for thread in document["threads"]:
        if any(m["id"] == message_id for m in thread["messages"]):
            thread["updated_at"] = old[thread["id"]]["updated_at"]
        thread["messages"] = [m for m in thread["messages"] if m["id"] != message_id]
        thread.pop("blobs", None)
    return document


def test_a_version_1_export_still_imports(tmp_path: Path):
    with Store.open(tmp_path / "ba-chat.db") as store:
        result = import_file(store, DATA / "export-v1-2026-12-07.json")
        assert (result.threads, result.messages) == (9, 22)
        _same_as_the_old_export(_export(store))


def test_a_version_2_export_round_trips(old_store: Store, tmp_path: Path):
    first = _export(old_store)
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(first))
    with Store.open(tmp_path / "again.db") as again:
        import_file(again, path)
        assert _export(again) == first


def test_json_output_has_one_shape(old_store: Store):
    """`threads show --json` (Python) and exports (SQL) write a message the same way."""
    from ba_tui.messages import message_dict

    exported = {m["id"]: m for t in _export(old_store)["threads"] for m in t["messages"]}
    for thread_id in old_store.thread_ids():
        for message in old_store.messages(thread_id):
            shown = message_dict(message)
            assert shown.keys() == exported[message.id].keys()
            for name in ("parts", "content", "reasoning", "status", "parent_id", "role"):
                assert shown[name] == exported[message.id][name], name


def test_a_slow_upgrade_of_a_large_history_says_so_first(tmp_path: Path, capfd):
    """m003 rebuilds the search index: minutes on a large history. The user is told
    before it starts, and a small database opens without a word."""
    import sqlite3

    path = tmp_path / "big.db"
    Store.open(path).close()
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO threads (id, title, provider, model, created_at, updated_at)"
            " VALUES ('t', 'T', 'openai', 'm', '', '')"
        )
        db.executemany(
            "INSERT INTO messages (id, thread_id, role, content, created_at, status)"
            " VALUES (?, 't', 'user', 'risks and more risks', '', 'complete')",
            [(f"m{i}",) for i in range(20_000)],
        )
        db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm003_search_word_forms'")
    capfd.readouterr()
    with Store.open(path) as store:
        assert len(store.search("risk", limit=5)) == 5  # the index was rebuilt
    err = capfd.readouterr().err
    assert err.startswith("ba-chat: updating the search index of 20,000 messages")
    assert err.count("\n") == 1
    Store.open(path).close()  # done once: nothing to say the next time
    assert capfd.readouterr().err == ""
