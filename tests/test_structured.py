"""`ask --schema`: each dialect is asked for JSON its own way, what comes back is checked,
one retry with the reason, then a documented exit code with the raw answer kept; stdout
carries only the data (JSON, JSON Lines or CSV)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from ba_tui import schemas
from ba_tui.errors import UsageError
from ba_tui.store import Store
from ba_tui.tabular import to_csv
from tests.conftest import run_cli
from tests.servers.replies import text_stream

STORY = {"title": "Reset password", "priority": 1, "criteria": ["link sent", "expires"]}
FIELDS = "title, priority int, criteria list"


def test_a_field_list_is_a_json_schema_with_every_field_required():
    schema = schemas.fields("title, priority int: 1 is highest, criteria list, ok bool")
    assert schema == {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "priority": {"type": "integer", "description": "1 is highest"},
            "criteria": {"type": "array", "items": {"type": "string"}},
            "ok": {"type": "boolean"},
        },
        "required": ["title", "priority", "criteria", "ok"],
    }
    # A comma inside a description does not start a field.
    risk = schemas.fields("likelihood: low, medium or high, owner")
    assert list(risk["properties"]) == ["likelihood", "owner"]
    assert risk["properties"]["likelihood"]["description"] == "low, medium or high"


def test_every_built_in_schema_reads_as_the_fields_it_names():
    fields = {name: list(schemas.parse(name).schema["properties"]) for name in schemas.BUILTIN}
    assert fields == {
        "user_stories": ["title", "as_a", "i_want", "so_that", "priority", "acceptance_criteria"],
        "acceptance_criteria": ["story", "criteria"],
        "risks": ["risk", "likelihood", "impact", "mitigation", "owner"],
    }


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("title, priority integr", "unknown type 'integr'"),
        ('{"type": "object", "properties": ', "not valid JSON"),
        ('{"type": "objekt"}', "not valid JSON Schema"),
        ("missing.json", "does not exist"),
        ("title, 9lives", "cannot read schema field"),
    ],
)
def test_a_bad_schema_is_one_line_before_anything_is_sent(server, env, given, words):
    done = run_cli("ask", "-p", "openai", "--schema", given, "hi", env=env)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in done.stderr
    assert server.requests == [] and done.stdout == ""


def _body(server):
    return json.loads(server.requests[-1].body)


def test_openai_gets_a_strict_json_schema_and_stdout_only_the_data(server, env):
    server.queue(text_stream("openai", json.dumps(STORY)))
    done = run_cli("ask", "-p", "openai", "--schema", FIELDS, "a story", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == STORY
    sent = _body(server)["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["strict"] is True
    assert sent["json_schema"]["schema"]["additionalProperties"] is False
    assert sent["json_schema"]["schema"]["required"] == ["title", "priority", "criteria"]


def test_anthropic_gets_its_output_format(server, env):
    server.queue(text_stream("anthropic", json.dumps(STORY)))
    done = run_cli("ask", "-p", "anthropic", "--schema", FIELDS, "a story", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == STORY
    form = _body(server)["output_config"]["format"]
    assert form["type"] == "json_schema"
    assert form["schema"]["properties"]["priority"] == {"type": "integer"}
    assert form["schema"]["additionalProperties"] is False


def test_gemini_gets_a_json_mime_type_and_the_schema(server, env):
    server.queue(text_stream("gemini", json.dumps(STORY)))
    done = run_cli("ask", "-p", "gemini", "--schema", FIELDS, "a story", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == STORY
    config = _body(server)["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"]["required"] == ["title", "priority", "criteria"]


def test_deepseek_gets_json_mode_with_the_schema_in_the_system_prompt(server, env):
    server.queue(text_stream("deepseek", "```json\n" + json.dumps(STORY) + "\n```"))
    done = run_cli(
        "ask", "-p", "deepseek", "-m", "deepseek-chat", "--schema", FIELDS, "a story", env=env
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == STORY  # a fenced answer is still read
    body = _body(server)
    assert body["response_format"] == {"type": "json_object"}
    system = body["messages"][0]
    assert system["role"] == "system" and '"criteria"' in system["content"]


def test_an_answer_that_does_not_fit_is_retried_once_with_the_reason(server, env, home):
    server.queue(
        text_stream("openai", json.dumps({"title": "x", "priority": "high", "criteria": []})),
        text_stream("openai", json.dumps(STORY)),
    )
    done = run_cli("ask", "-p", "openai", "--schema", FIELDS, "--json", "a story", env=env)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["data"] == STORY and record["valid"] and record["tries"] == 2
    retry = _body(server)["messages"]
    assert "priority: 'high' is not of type 'integer'" in retry[-1]["content"]
    assert [m["role"] for m in retry] == ["user", "assistant", "user"]
    with Store.open(home / "ba-chat.db") as store:
        (thread,) = store.list_threads()
        assert len(store.history(thread.id)) == 4


def test_an_answer_that_never_fits_exits_6_and_the_raw_answer_is_kept(server, env, home):
    bad = "Sure! Here are the stories: none."
    server.queue(text_stream("openai", bad), text_stream("openai", bad))
    done = run_cli("ask", "-p", "openai", "--schema", FIELDS, "a story", env=env)
    assert done.returncode == 6
    assert done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert "does not match the schema after 2 tries" in line and "thread" in line
    assert len(server.requests) == 2
    with Store.open(home / "ba-chat.db") as store:
        (thread,) = store.list_threads()
        assert store.history(thread.id)[-1].content == bad


def test_schema_multi_as_csv_and_jsonl(server, env):
    rows = [STORY, {"title": 'Say "hi"', "priority": 2, "criteria": []}]
    server.queue(text_stream("openai", json.dumps({"items": rows})))
    done = run_cli(
        "ask", "-p", "openai", "--schema-multi", FIELDS, "--output", "csv", "stories", env=env
    )
    assert done.returncode == 0, done.stderr
    table = list(csv.reader(io.StringIO(done.stdout)))
    assert table == [
        ["title", "priority", "criteria"],
        ["Reset password", "1", "link sent; expires"],
        ['Say "hi"', "2", ""],
    ]
    sent = _body(server)["response_format"]["json_schema"]["schema"]
    assert sent["properties"]["items"]["type"] == "array"
    server.queue(text_stream("openai", json.dumps({"items": rows})))
    done = run_cli(
        "ask", "-p", "openai", "--schema-multi", FIELDS, "--output", "jsonl", "s", env=env
    )
    assert [json.loads(line) for line in done.stdout.splitlines()] == rows


def test_named_schemas_from_config_and_built_in(server, env, home):
    (home / "config.toml").write_text('[schemas.story]\nfields = "title, points int"\n')
    server.queue(text_stream("openai", json.dumps({"title": "t", "points": 3})))
    done = run_cli("ask", "-p", "openai", "--schema", "story", "one story", env=env)
    assert done.returncode == 0, done.stderr
    assert _body(server)["response_format"]["json_schema"]["name"] == "story"
    risk = {"risk": "r", "likelihood": "low", "impact": "high", "mitigation": "m", "owner": "o"}
    server.queue(text_stream("openai", json.dumps({"items": [risk]})))
    done = run_cli("ask", "-p", "openai", "--schema-multi", "risks", "risks", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [risk]


def test_output_needs_a_schema_and_a_known_format(server, env):
    done = run_cli("ask", "-p", "openai", "--output", "csv", "hi", env=env)
    assert done.returncode == 2 and "--output needs a schema" in done.stderr
    done = run_cli("ask", "-p", "openai", "--schema", FIELDS, "--output", "xml", "hi", env=env)
    assert done.returncode == 2 and "json, jsonl, csv" in done.stderr
    assert server.requests == []


def test_csv_cells_flatten_lists_objects_and_booleans():
    text = to_csv([{"a": [1, "x"], "b": {"k": 1}, "c": True}, {"d": None}])
    assert list(csv.reader(io.StringIO(text))) == [
        ["a", "b", "c", "d"],
        ["1; x", '{"k": 1}', "true", ""],
        ["", "", "", ""],
    ]


def test_strict_mode_only_where_openai_takes_the_schema():
    assert schemas.strict_ok(schemas.fields(FIELDS))
    optional = {"type": "object", "properties": {"a": {"type": "string"}}, "required": []}
    assert not schemas.strict_ok(optional)
    with pytest.raises(UsageError):
        schemas.parse("[1, 2]")  # JSON, but not an object


def test_without_a_store_the_raw_answer_that_never_fits_goes_to_stderr(server, env):
    bad = "no JSON here"
    server.queue(text_stream("openai", bad), text_stream("openai", bad))
    done = run_cli("ask", "--no-save", "-p", "openai", "--schema", FIELDS, "x", env=env)
    assert done.returncode == 6 and done.stdout == ""
    line, raw = done.stderr.strip().splitlines()
    assert "not saved (--no-save)" in line and raw == bad
    # Without a store the retry still carries the exchange it corrects.
    assert [m["content"] for m in _body(server)["messages"][:2]] == ["x", bad]


def test_the_schema_and_whether_it_fit_are_stored_shown_and_exported(server, env, home):
    server.queue(
        text_stream("openai", "nope"),
        text_stream("openai", json.dumps(STORY)),
    )
    done = run_cli("ask", "-p", "openai", "--schema", FIELDS, "--json", "a story", env=env)
    thread_id = json.loads(done.stdout)["thread_id"]
    shown = json.loads(run_cli("threads", "show", thread_id, "--json", env=env).stdout)
    replies = [m for m in shown["messages"] if m["role"] == "assistant"]
    assert [r["schema"]["valid"] for r in replies] == [False, True]
    assert replies[0]["schema"]["problem"].startswith("not JSON")
    assert replies[1]["schema"]["schema"]["required"] == ["title", "priority", "criteria"]
    exported = json.loads(run_cli("export", "--all", "--format", "json", env=env).stdout)
    (thread,) = exported["threads"]
    kept = [m["schema"] for m in thread["messages"] if m["role"] == "assistant"]
    assert kept == [r["schema"] for r in replies]
    # ... and an import brings it back.
    path = home / "out.json"
    path.write_text(json.dumps(exported))
    other = env | {"BA_CHAT_HOME": str(home / "other")}
    assert run_cli("import", str(path), env=other).returncode == 0
    again = json.loads(run_cli("threads", "show", thread_id, "--json", env=other).stdout)
    assert [m["schema"] for m in again["messages"]] == [m["schema"] for m in shown["messages"]]


def test_ollama_gets_a_json_schema_through_its_openai_endpoint(server, env):
    server.queue(text_stream("openai", json.dumps(STORY)))
    done = run_cli("ask", "-p", "ollama", "--schema", FIELDS, "a story", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == STORY
    sent = _body(server)["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["schema"]["required"] == [
        "title",
        "priority",
        "criteria",
    ]


@pytest.mark.parametrize(
    ("provider", "dialect"),
    [
        ("openai", "openai"),
        ("anthropic", "anthropic"),
        ("gemini", "gemini"),
        ("deepseek", "deepseek"),
        ("ollama", "openai"),
    ],
)
def test_piped_notes_become_a_clean_csv_from_every_provider(server, env, provider, dialect):
    """README's example: `cat notes.md | ba-chat ask --schema-multi ... --output csv`."""
    rows = [STORY, {"title": "Export, to CSV", "priority": 2, "criteria": ["one row each"]}]
    server.queue(text_stream(dialect, json.dumps({"items": rows})))
    notes = "Meeting notes:\n- reset password\n- export to CSV\n"
    done = run_cli(
        "ask", "-p", provider, "--schema-multi", FIELDS, "--output", "csv", "Stories", env=env,
        input=notes,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert list(csv.reader(io.StringIO(done.stdout))) == [
        ["title", "priority", "criteria"],
        ["Reset password", "1", "link sent; expires"],
        ["Export, to CSV", "2", "one row each"],
    ]
    assert "Meeting notes:" in server.requests[-1].body.decode()
