"""The store against real SQLite files: durable turns, branches, search, recovery, bad files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from ba_tui.errors import BaChatError
from ba_tui.messages import reply_parts
from ba_tui.store import (
    INTERRUPTED_ERROR,
    MessageNotFound,
    Store,
    StoreError,
    ThreadNotFound,
    fts_query,
)
from ba_tui.store.migrations import MIGRATIONS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "home" / "ba-chat.db"


@pytest.fixture
def store(db: Path):
    with Store.open(db) as opened:
        yield opened


def _turn(store: Store, thread_id: str, prompt: str, answer: str, parent: str | None = None):
    user = store.add_message(thread_id, role="user", content=prompt, parent_id=parent)
    reply = store.start_reply(thread_id, parent_id=user.id, provider="openai", model="gpt-4o")
    return user, store.finish_reply(replace(
        reply, status="complete", parts=reply_parts(answer, None, "openai"), input_tokens=10,
        output_tokens=5,
    ))  # fmt: skip


def test_open_creates_folder_schema_wal_and_is_healthy(db: Path) -> None:
    with Store.open(db) as store:
        assert db.exists()
        assert store.path == db
        assert store.schema_version() == len(MIGRATIONS)
        assert store.integrity_check() == "ok"
        assert store.db.journal_mode == "wal"
        assert store._conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with Store.open(db) as again:  # reopening applies nothing twice
        assert again.schema_version() == len(MIGRATIONS)


def test_open_defaults_to_ba_chat_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BA_CHAT_HOME", str(tmp_path / "elsewhere"))
    with Store.open() as store:
        assert store.path == tmp_path / "elsewhere" / "ba-chat.db"


def test_thread_round_trip_with_every_reply_field(store: Store, db: Path) -> None:
    thread = store.create_thread(
        title="Tides", provider="anthropic", model="claude", system="Be brief.", persona="sailor"
    )
    assert len(thread.id) == 26 and thread.created_at.endswith("Z")
    user = store.add_message(thread.id, role="user", content="Why tides?", parent_id=None)
    reply = store.start_reply(thread.id, parent_id=user.id, provider="anthropic", model="claude")
    assert (reply.status, reply.pid, reply.content) == ("streaming", os.getpid(), "")
    store.checkpoint(reply.id, reply_parts("The moon", "thinking…", "anthropic"))
    done = store.finish_reply(replace(
        reply, status="complete",
        parts=reply_parts("The moon pulls.", "thinking about it", "anthropic", "sig=="),
        input_tokens=100, output_tokens=20, reasoning_tokens=8,
        cache_read_tokens=50, cache_write_tokens=0, cost=0.0125, ttft_ms=412.5,
        duration_ms=2300.0, finish_reason="stop",
    ))  # fmt: skip
    store.close()

    with Store.open(db) as reopened:
        again = reopened.get_thread(thread.id)
        assert (again.title, again.system, again.persona) == ("Tides", "Be brief.", "sailor")
        assert (again.message_count, again.total_tokens) == (2, 120)
        first, second = reopened.messages(thread.id)
        assert first == user
        assert second == done
        assert second.pid is None and second.cache_write_tokens == 0  # 0 is kept, not None
        assert second.cost == 0.0125 and second.reasoning_signature == "sig=="
        assert first.input_tokens is None  # not reported stays None
        assert again.updated_at >= second.created_at


def test_checkpoint_after_finish_changes_nothing(store: Store) -> None:
    thread = store.create_thread(title="t", provider="openai", model="m")
    reply = store.start_reply(thread.id, parent_id=None, provider="openai", model="m")
    store.finish_reply(
        replace(reply, status="cancelled", parts=reply_parts("kept", None, "openai"))
    )
    store.checkpoint(reply.id, reply_parts("late", None, "openai"))
    assert store.get_message(reply.id).content == "kept"


def test_error_text_is_one_line_with_keys_masked(store: Store) -> None:
    thread = store.create_thread(title="t", provider="openai", model="m")
    reply = store.start_reply(thread.id, parent_id="", provider="openai", model="m")
    assert reply.parent_id is None  # "" means no parent
    error = BaChatError("openai rejected sk-live-abcdef1234567890", "check the key")
    closed = store.finish_reply(replace(reply, status="error", parts=(), error=error.line()))
    assert "abcdef1234567890" not in closed.error and "[redacted]" in closed.error
    assert closed.error.endswith("check the key")


def test_order_is_creation_order_even_within_one_millisecond(store: Store) -> None:
    thread = store.create_thread(title="fast", provider="openai", model="m")
    parent = None
    for number in range(50):
        parent = store.add_message(thread.id, role="user", content=str(number), parent_id=parent).id
    assert [m.content for m in store.messages(thread.id)] == [str(n) for n in range(50)]


def test_history_follows_the_branch(store: Store) -> None:
    thread = store.create_thread(title="branches", provider="openai", model="m")
    q1, a1 = _turn(store, thread.id, "q1", "a1")
    q2, a2 = _turn(store, thread.id, "q2", "a2", parent=a1.id)
    # The user edits q2: a sibling branch from a1.
    _turn(store, thread.id, "q2 edited", "a2 edited", parent=a1.id)
    assert [m.content for m in store.history(thread.id)] == ["q1", "a1", "q2 edited", "a2 edited"]
    assert [m.id for m in store.history(thread.id, a2.id)] == [q1.id, a1.id, q2.id, a2.id]
    assert len(store.messages(thread.id)) == 6
    with pytest.raises(MessageNotFound):
        store.history(thread.id, "nope")
    assert store.history("no-such-thread") == []


def test_threads_list_newest_first_with_counts(store: Store) -> None:
    old = store.create_thread(title="old", provider="openai", model="m")
    new = store.create_thread(title="new", provider="openai", model="m")
    _turn(store, old.id, "hi", "hello")  # touching `old` makes it the newest
    listed = store.list_threads()
    assert [t.title for t in listed] == ["old", "new"]
    assert (listed[0].message_count, listed[0].total_tokens) == (2, 15)
    assert (listed[1].message_count, listed[1].total_tokens) == (0, None)
    assert store.latest_thread().id == old.id
    assert [t.id for t in store.list_threads(limit=1, offset=1)] == [new.id]


def test_threads_list_by_title_and_without_one_origin(store: Store) -> None:
    plain = store.create_thread(title="Budget 2027", provider="p", model="m", origin="tui")
    odd = store.create_thread(title="100% done_now", provider="p", model="m", origin="ask")
    old = store.create_thread(title="budget notes", provider="p", model="m")
    assert [t.id for t in store.list_threads(title="BUDGET")] == [old.id, plain.id]
    # % and _ are the user's characters, not LIKE wildcards
    assert [t.id for t in store.list_threads(title="0% done_")] == [odd.id]
    assert store.list_threads(title="0%_done") == []
    assert [t.id for t in store.list_threads(hide_origin="ask")] == [old.id, plain.id]
    store.update_thread(old.id, archived=True)
    assert store.latest_thread().id == old.id  # as before: any thread
    latest = store.latest_thread(archived=False, hide_origin="ask")
    assert latest is not None and latest.id == plain.id


def test_get_thread_by_unique_prefix(store: Store) -> None:
    first = store.create_thread(title="a", provider="p", model="m")
    second = store.create_thread(title="b", provider="p", model="m")
    shared = first.id[
        : next(i for i, (a, b) in enumerate(zip(first.id, second.id, strict=True)) if a != b)
    ]
    assert store.get_thread(first.id[: len(shared) + 1]).id == first.id
    assert store.get_thread(second.id.upper()).id == second.id
    with pytest.raises(ThreadNotFound, match="more than one thread"):
        store.get_thread(shared)
    with pytest.raises(ThreadNotFound) as missing:
        store.get_thread("zzzz")
    assert missing.value.exit_code == 2
    assert missing.value.line() == "no thread zzzz; list them with `ba-chat threads list`"
    short = store.short_ids([first.id, second.id])
    assert len(set(short.values())) == 2 and all(len(s) >= 8 for s in short.values())
    assert store.get_thread(short[first.id]).id == first.id


def test_update_and_delete_thread(store: Store) -> None:
    thread = store.create_thread(title="before", provider="openai", model="m")
    updated = store.update_thread(thread.id, title="after", model="m2", persona=None)
    assert (updated.title, updated.model) == ("after", "m2")
    assert updated.updated_at >= thread.updated_at
    with pytest.raises(TypeError):
        store.update_thread(thread.id, pid=3)
    with pytest.raises(ThreadNotFound):
        store.update_thread("missing", title="x")
    with pytest.raises(ThreadNotFound):
        store.add_message("missing", role="user", content="x", parent_id=None)


def test_delete_removes_messages_and_their_search_rows(store: Store) -> None:
    keep = store.create_thread(title="keep", provider="openai", model="m")
    drop = store.create_thread(title="drop", provider="openai", model="m")
    _turn(store, keep.id, "shared word pelican", "kept answer")
    _turn(store, drop.id, "shared word flamingo", "dropped answer")
    store.delete_thread(drop.id)
    with pytest.raises(ThreadNotFound):
        store.get_thread(drop.id)
    assert store.messages(drop.id) == []
    assert [h.thread_id for h in store.search("shared word")] == [keep.id]
    conn = store._conn
    conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, messages_fts, 'row')")
    terms = {row[0] for row in conn.execute("SELECT term FROM temp.vocab")}
    assert "pelican" in terms and "flamingo" not in terms and "dropped" not in terms
    assert store.integrity_check() == "ok"
    with pytest.raises(ThreadNotFound):
        store.delete_thread(drop.id)


def test_search_finds_words_with_snippets_and_names_the_thread(store: Store) -> None:
    thread = store.create_thread(title="Birds", provider="openai", model="m")
    user, reply = _turn(store, thread.id, "Tell me about the albatross", "The albatross glides.")
    hits = store.search("albatross")
    assert {h.message_id for h in hits} == {user.id, reply.id}
    hit = next(h for h in hits if h.message_id == reply.id)
    assert (hit.thread_id, hit.thread_title, hit.role) == (thread.id, "Birds", "assistant")
    assert hit.snippet == "The [albatross] glides."
    assert store.search("ALBATROSS glides")[0].message_id == reply.id
    assert store.search("albatross", limit=1) and len(store.search("albatross", limit=1)) == 1
    marked = store.search("glides", highlight=("<b>", "</b>"))
    assert marked[0].snippet == "The albatross <b>glides</b>."


def test_search_finds_other_forms_of_a_word_and_marks_them(store: Store) -> None:
    thread = store.create_thread(title="Plans", provider="openai", model="m")
    user, reply = _turn(store, thread.id, "Which risks remain?", "Two stories: a risky quokka.")
    hits = store.search("risk")
    assert {h.message_id for h in hits} == {user.id, reply.id}
    asked = next(h for h in hits if h.message_id == user.id)
    assert asked.snippet == "Which [risks] remain?" and asked.matched == ("risks",)
    answered = next(h for h in hits if h.message_id == reply.id)
    assert answered.matched == ("risky",)  # the last word is a prefix too
    assert [h.message_id for h in store.search("story")] == [reply.id]
    assert store.search("story risk")[0].matched == ("stories", "risky")


def test_the_last_word_is_a_prefix_from_three_letters(store: Store) -> None:
    thread = store.create_thread(title="Animals", provider="openai", model="m")
    quokka = store.add_message(thread.id, role="user", content="A quokka smiles", parent_id=None)
    assert [(h.message_id, h.matched) for h in store.search("quo")] == [(quokka.id, ("quokka",))]
    assert store.search("qu") == []  # two letters would match half the language
    assert store.search("quo smiles") == []  # only the last word is a prefix
    assert fts_query("a qu quo") == '"a" "qu" "quo"*'


HOSTILE = ['"', '""', "*", "NEAR(", "NEAR(a b", "-", "AND", "OR", "NOT", "a OR", "^", ":",
           "content:x", "(", ")", "a\"b", "x*", "\x00", "", "   ", "'; DROP TABLE messages; --",
           "{content}", "🙂", "a" * 5000]  # fmt: skip


@pytest.mark.parametrize("query", HOSTILE)
def test_any_text_is_a_valid_query(store: Store, query: str) -> None:
    thread = store.create_thread(title="syntax", provider="openai", model="m")
    store.add_message(
        thread.id, role="user", content='use AND, OR and NEAR( in a "query" - x*', parent_id=None
    )
    store.search(query)  # never raises
    assert store.integrity_check() == "ok"


def test_fts_words_are_searched_literally(store: Store) -> None:
    thread = store.create_thread(title="syntax", provider="openai", model="m")
    message = store.add_message(
        thread.id, role="user", content="cats AND dogs, NOT birds", parent_id=None
    )
    assert [h.message_id for h in store.search("AND")] == [message.id]
    assert [h.message_id for h in store.search("NOT birds")] == [message.id]
    assert store.search("cats OR fish") == []  # OR is a word here, and it is not in the text
    assert fts_query('say "hi"') == '"say" """hi"""'


KILLED_WRITER = """
import sys, time
from pathlib import Path
from ba_tui.messages import reply_parts
from ba_tui.store import Store

store = Store.open(Path(sys.argv[1]))
thread = store.create_thread(title="doomed", provider="openai", model="m")
user = store.add_message(thread.id, role="user", content="long story please", parent_id=None)
reply = store.start_reply(thread.id, parent_id=user.id, provider="openai", model="m")
store.checkpoint(reply.id, reply_parts("Once upon a time", "plotting", "openai"))
print(reply.id, flush=True)
time.sleep(60)
"""


def test_reply_of_a_killed_process_becomes_interrupted_with_its_text(db: Path) -> None:
    with Store.open(db):
        pass
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(db)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        reply_id = child.stdout.readline().strip()
        # Still running: another process opening the store leaves its reply alone.
        with Store.open(db) as watcher:
            assert watcher.get_message(reply_id).status == "streaming"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    with Store.open(db) as store:
        reply = store.get_message(reply_id)
        assert (reply.status, reply.content, reply.reasoning) == (
            "interrupted",
            "Once upon a time",
            "plotting",
        )
        assert reply.pid is None and reply.error == INTERRUPTED_ERROR
        assert [m.role for m in store.history(reply.thread_id)] == ["user", "assistant"]


def test_reply_streamed_by_this_process_is_not_interrupted(db: Path) -> None:
    with Store.open(db) as first:
        thread = first.create_thread(title="live", provider="openai", model="m")
        reply = first.start_reply(thread.id, parent_id=None, provider="openai", model="m")
        with Store.open(db) as second:
            assert second.get_message(reply.id).status == "streaming"


def test_locked_database_waits_then_fails_with_a_clear_line(db: Path) -> None:
    with Store.open(db) as store:
        thread = store.create_thread(title="t", provider="openai", model="m")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with Store.open(db, busy_timeout=0.3) as store:
            assert store.get_thread(thread.id).title == "t"  # WAL: reading still works
            start = time.monotonic()
            with pytest.raises(StoreError) as locked:
                store.add_message(thread.id, role="user", content="hi", parent_id=None)
            assert time.monotonic() - start >= 0.25
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert locked.value.exit_code == 1
    assert locked.value.line() == (
        f"database is locked by another ba-chat process: {db}; close it and try again"
    )
    with Store.open(db) as store:  # and nothing was half-written
        assert store.get_thread(thread.id).message_count == 0


def test_locked_fresh_database_fails_at_open(db: Path) -> None:
    db.parent.mkdir(parents=True)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked by another ba-chat process"):
            Store.open(db, busy_timeout=0.1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize(
    "content",
    [b"not a database\n" * 200, b"SQLite format 2\x00" + bytes(4000), b"{}", b"\x00" * 10],
    ids=["text", "other-header", "tiny", "zeros"],
)
def test_a_file_that_is_not_sqlite_is_reported_and_left_alone(db: Path, content: bytes) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(content)
    with pytest.raises(StoreError) as refused:
        Store.open(db)
    assert refused.value.line() == (
        f"{db} is not a ba-chat database (corrupt or another file);"
        " move it away or set BA_CHAT_HOME"
    )
    assert db.read_bytes() == content
    assert sorted(p.name for p in db.parent.iterdir()) == ["ba-chat.db"]


def test_another_apps_sqlite_database_is_left_alone(db: Path) -> None:
    db.parent.mkdir(parents=True)
    other = sqlite3.connect(db)
    other.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)")
    other.commit()
    other.close()
    before = db.read_bytes()
    with pytest.raises(StoreError, match="is not a ba-chat database"):
        Store.open(db)
    assert db.read_bytes() == before


def test_a_corrupt_database_is_reported_not_repaired(db: Path) -> None:
    with Store.open(db) as store:
        thread = store.create_thread(title="t", provider="openai", model="m")
        _turn(store, thread.id, "x" * 3000, "y" * 3000)
    damaged = bytearray(db.read_bytes())
    damaged[100:4096] = b"\xa5" * (4096 - 100)  # the schema page
    db.write_bytes(bytes(damaged))
    with pytest.raises(StoreError, match="is not a ba-chat database"):
        Store.open(db)
    assert db.read_bytes() == bytes(damaged)


def test_a_newer_schema_is_refused(db: Path) -> None:
    with Store.open(db):
        pass
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
        " VALUES ('ba-chat', 'm999_from_the_future', 'x')"
    )
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer ba-chat"):
        Store.open(db)


def test_a_folder_in_the_way_is_reported(tmp_path: Path) -> None:
    (tmp_path / "ba-chat.db").mkdir()
    with pytest.raises(StoreError, match="is a folder"):
        Store.open(tmp_path / "ba-chat.db")


def test_unknown_role_or_status_is_a_bug_not_data(store: Store) -> None:
    thread = store.create_thread(title="t", provider="openai", model="m")
    with pytest.raises(ValueError):
        store.add_message(thread.id, role="tool", content="x", parent_id=None)
    reply = store.start_reply(thread.id, parent_id=None, provider="openai", model="m")
    with pytest.raises(ValueError):
        store.finish_reply(replace(reply, status="streaming", parts=()))


def test_store_is_shared_safely_between_threads(store: Store) -> None:
    import threading

    thread = store.create_thread(title="t", provider="openai", model="m")

    def write(n: int) -> None:
        for i in range(20):
            store.add_message(thread.id, role="user", content=f"{n}-{i}", parent_id=None)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert store.get_thread(thread.id).message_count == 80


OPENER = """
import sys
from pathlib import Path
from ba_tui.store import Store

with Store.open(Path(sys.argv[1])) as store:
    store.create_thread(title=sys.argv[2], provider="openai", model="m")
"""


def test_processes_creating_the_database_at_once(db: Path) -> None:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, str(db), str(n)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    outcomes = [(child.wait(timeout=30), child.stderr.read()) for child in children]
    assert [code for code, _ in outcomes] == [0, 0, 0, 0], outcomes
    with Store.open(db) as store:
        assert sorted(t.title for t in store.list_threads()) == ["0", "1", "2", "3"]
        assert store.schema_version() == len(MIGRATIONS)


def test_kv_is_shared_between_processes_and_none_removes(db: Path) -> None:
    with Store.open(db) as store:
        assert store.get_kv("breaker:openai") is None
        store.set_kv("breaker:openai", '{"failures": 1}')
        store.set_kv("breaker:openai", '{"failures": 2}')
    with Store.open(db) as other:
        assert other.get_kv("breaker:openai") == '{"failures": 2}'
        other.set_kv("breaker:openai", None)
        assert other.get_kv("breaker:openai") is None


def test_data_version_changes_when_another_connection_commits(db):
    with Store.open(db) as mine, Store.open(db) as other:
        before = mine.data_version()
        mine.create_thread(title="mine", provider="openai", model="gpt-4.1")
        assert mine.data_version() == before  # its own writes are already known to it
        other.create_thread(title="theirs", provider="openai", model="gpt-4.1")
        assert mine.data_version() != before
