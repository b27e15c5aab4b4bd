"""`ask --cache`: an identical request is answered from the store without a request to
the provider, says so, and costs nothing; anything that changes the answer misses."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ba_tui.cache import since, ttl_seconds
from ba_tui.store import Store
from tests.conftest import run_cli
from tests.servers.replies import text_stream


def test_a_second_identical_run_sends_no_request(server, env, home):
    server.queue(text_stream("openai", "Three risks: scope, staff, supplier."))
    first = run_cli("ask", "-p", "openai", "--cache", "--json", "list risks", env=env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["cached"] is False
    assert len(server.requests) == 1
    again = run_cli("ask", "-p", "openai", "--cache", "--json", "list risks", env=env)
    assert again.returncode == 0, again.stderr
    record = json.loads(again.stdout)
    assert record["cached"] is True and record["cost"] == 0
    assert record["text"] == "Three risks: scope, staff, supplier."
    assert len(server.requests) == 1  # nothing sent
    assert "answered from the store" in again.stderr
    plain = run_cli("ask", "-p", "openai", "--cache", "list risks", env=env)
    assert plain.stdout == "Three risks: scope, staff, supplier."
    with Store.open(home / "ba-chat.db") as store:
        assert len(store.list_threads()) == 3  # each run is saved as ask always does


def test_anything_that_changes_the_answer_misses(server, env):
    server.queue(*(text_stream("openai", f"answer {n}") for n in range(4)))
    run_cli("ask", "-p", "openai", "--cache", "list risks", env=env)
    for args in (
        ["--temperature", "0.2"],
        ["-s", "You are terse."],
        ["-m", "gpt-5-mini"],
    ):
        done = run_cli("ask", "-p", "openai", "--cache", *args, "list risks", env=env)
        assert done.returncode == 0, done.stderr
        assert "answered from the store" not in done.stderr
    assert len(server.requests) == 4
    # Without --cache the provider is always asked.
    server.queue(text_stream("openai", "fresh"))
    done = run_cli("ask", "-p", "openai", "list risks", env=env)
    assert done.stdout == "fresh" and len(server.requests) == 5


def test_config_turns_the_cache_on_and_ttl_limits_its_age(server, env, home):
    (home / "config.toml").write_text("cache = true\n")
    server.queue(text_stream("openai", "kept"), text_stream("openai", "new"))
    run_cli("ask", "-p", "openai", "q", env=env)
    done = run_cli("ask", "-p", "openai", "q", env=env)
    assert done.stdout == "kept" and len(server.requests) == 1
    with Store.open(home / "ba-chat.db") as store:  # make the kept answer a week old
        store._conn.execute("UPDATE messages SET created_at = '2026-01-01T00:00:00.000Z'")
        store._conn.commit()
    done = run_cli("ask", "-p", "openai", "--cache-ttl", "7d", "q", env=env)
    assert done.stdout == "new" and len(server.requests) == 2


def test_a_schema_answer_that_did_not_fit_is_never_reused(server, env):
    bad, good = "not json", json.dumps({"title": "t"})
    server.queue(text_stream("openai", bad), text_stream("openai", bad))
    done = run_cli("ask", "-p", "openai", "--cache", "--schema", "title", "s", env=env)
    assert done.returncode == 6
    server.queue(text_stream("openai", good))
    done = run_cli("ask", "-p", "openai", "--cache", "--schema", "title", "s", env=env)
    assert done.returncode == 0 and json.loads(done.stdout) == {"title": "t"}
    assert len(server.requests) == 3
    done = run_cli("ask", "-p", "openai", "--cache", "--schema", "title", "s", env=env)
    assert json.loads(done.stdout) == {"title": "t"} and len(server.requests) == 3


def test_cache_usage_errors(server, env):
    done = run_cli("ask", "-p", "openai", "--cache", "--no-save", "q", env=env)
    assert done.returncode == 2 and "drop --no-save" in done.stderr
    done = run_cli("ask", "-p", "openai", "--cache-ttl", "soon", "q", env=env)
    assert done.returncode == 2 and "90s, 30m, 12h, 7d or 2w" in done.stderr
    assert server.requests == []


def test_ttl_units_and_the_oldest_time_kept():
    assert [ttl_seconds(t) for t in ("90s", "30m", "12h", "7d", "2w")] == [
        90,
        1800,
        43200,
        604800,
        1209600,
    ]
    now = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
    assert since(86400, now) == "2026-12-06T12:00:00.000Z" and since(None) == ""


def test_a_cached_answer_keeps_the_prompts_attachments_in_its_thread(server, env, home):
    notes = home / "notes.txt"
    notes.write_text("Risk: the supplier is late.\n")
    server.queue(text_stream("openai", "One risk: the supplier."))
    args = ("ask", "-p", "openai", "--cache", "-a", str(notes), "--json", "risks?")
    assert run_cli(*args, env=env).returncode == 0
    again = run_cli(*args, env=env)
    assert json.loads(again.stdout)["cached"] is True and len(server.requests) == 1
    with Store.open(home / "ba-chat.db") as store:
        thread_id = json.loads(again.stdout)["thread_id"]
        user = next(m for m in store.messages(thread_id) if m.role == "user")
        assert [p.type for p in user.parts] == ["attachment", "text"]
        assert store.blobs([user.parts[0].sha256])  # the file's bytes are kept with it
