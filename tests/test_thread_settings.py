"""Threads can be pinned, archived and given their own settings, from the CLI (the TUI uses
the same store calls); a thread's settings go with each of its turns unless `ask` says
otherwise, and exports carry them."""

from __future__ import annotations

import json

from ba_tui.store import Store
from tests.conftest import run_cli
from tests.servers.replies import text_stream


def _ids(env, *args):
    done = run_cli("threads", "list", "--json", *args, env=env)
    assert done.returncode == 0, done.stderr
    return [t["id"] for t in json.loads(done.stdout)]


def test_pinned_threads_come_first_and_archived_ones_only_when_asked(server, env, home):
    for prompt in ("first", "second", "third"):
        run_cli("ask", "-p", "openai", prompt, env=env)
    newest_first = _ids(env)
    oldest = newest_first[-1]
    assert run_cli("threads", "pin", oldest[:10], env=env).returncode == 0
    assert _ids(env)[0] == oldest
    archived = newest_first[0]
    done = run_cli("threads", "archive", archived, env=env)
    assert done.returncode == 0 and done.stdout.startswith("archived ")
    assert archived not in _ids(env)
    assert _ids(env, "--archived") == [archived]
    assert set(_ids(env, "--all")) == set(newest_first)
    run_cli("threads", "unpin", oldest, env=env)
    run_cli("threads", "unarchive", archived, env=env)
    assert _ids(env) == newest_first  # pinning and archiving did not touch updated_at
    listed = run_cli("threads", "list", env=env).stdout
    assert "📌" not in listed


def test_a_threads_settings_go_with_its_turns_unless_ask_says_otherwise(server, env):
    run_cli("ask", "-p", "openai", "hello", env=env)
    (thread_id,) = _ids(env)
    done = run_cli("threads", "set", thread_id, "temperature", "0.3", env=env)
    assert done.returncode == 0 and "temperature = 0.3" in done.stdout
    run_cli("threads", "set", thread_id, "max_tokens", "500", env=env)
    run_cli("ask", "--thread", thread_id, "again", env=env)
    body = json.loads(server.requests[-1].body)
    assert body["temperature"] == 0.3 and body["max_completion_tokens"] == 500
    run_cli("ask", "--thread", thread_id, "--temperature", "1.1", "once more", env=env)
    assert json.loads(server.requests[-1].body)["temperature"] == 1.1
    run_cli("threads", "set", thread_id, "temperature", env=env)  # no value: unset
    run_cli("ask", "--thread", thread_id, "and again", env=env)
    assert "temperature" not in json.loads(server.requests[-1].body)


def test_a_thread_with_a_schema_answers_as_data(server, env):
    run_cli("ask", "-p", "openai", "hello", env=env)
    (thread_id,) = _ids(env)
    assert (
        run_cli("threads", "set", thread_id, "schema", "title, points int", env=env).returncode == 0
    )
    server.queue(text_stream("openai", json.dumps({"title": "t", "points": 3})))
    done = run_cli("ask", "-c", "a story", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"title": "t", "points": 3}
    assert "response_format" in json.loads(server.requests[-1].body)


def test_bad_thread_settings_are_one_line(server, env):
    run_cli("ask", "-p", "openai", "hello", env=env)
    (thread_id,) = _ids(env)
    for args, words in [
        (["colour", "red"], "unknown thread setting 'colour'"),
        (["temperature", "hot"], "temperature must be a number"),
        (["temperature", "5"], "between 0 and 2"),
        (["schema", "title, n integr"], "unknown type 'integr'"),
    ]:
        done = run_cli("threads", "set", thread_id, *args, env=env)
        assert done.returncode == 2 and words in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_pins_and_settings_survive_export_and_import(server, env, home):
    run_cli("ask", "-p", "openai", "hello", env=env)
    (thread_id,) = _ids(env)
    run_cli("threads", "pin", thread_id, env=env)
    run_cli("threads", "set", thread_id, "top_p", "0.5", env=env)
    exported = run_cli("export", "--all", "--format", "jsonl", env=env).stdout
    path = home / "out.jsonl"
    path.write_text(exported)
    other = env | {"BA_CHAT_HOME": str(home / "other")}
    assert run_cli("import", str(path), env=other).returncode == 0
    with Store.open(home / "other" / "ba-chat.db") as store:
        thread = store.get_thread(thread_id)
    assert thread.pinned and thread.settings == {"top_p": 0.5} and thread.origin == "ask"
