"""`ask --compare ... --consensus`: with a schema the majority per field, the fields the
models disagreed on reported; without one a judge merges the answers. Every answer stays
in the thread, and the cost is the sum."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from ba_tui.consensus import vote
from ba_tui.store import Store
from tests.conftest import run_cli
from tests.servers import FakeServer
from tests.servers.replies import text_stream

FIELDS = "title, priority int, criteria list"
MODELS = ["openai:gpt-4o-mini", "anthropic:claude-sonnet-4-5", "gemini:gemini-2.5-flash"]


@pytest.fixture
def three(env) -> Iterator[tuple[dict[str, str], dict[str, FakeServer]]]:
    """One fake server per provider, so each model's reply is known whatever the order
    in which the three requests arrive."""
    with ExitStack() as stack:
        servers = {name: stack.enter_context(FakeServer()) for name in ("o", "a", "g")}
        env = env | {
            "OPENAI_BASE_URL": f"{servers['o'].url}/v1",
            "ANTHROPIC_BASE_URL": servers["a"].url,
            "GEMINI_BASE_URL": servers["g"].url,
        }
        yield env, servers


def test_the_majority_wins_field_by_field_and_ties_go_to_the_first():
    result = vote(
        [
            ("a", {"title": "T", "priority": 1, "tags": ["x"]}),
            ("b", {"title": "T", "priority": 2, "tags": ["x"]}),
            ("c", {"title": "U", "priority": 2, "tags": ["y"]}),
        ]
    )
    assert result.data == {"title": "T", "priority": 2, "tags": ["x"]}
    assert set(result.disagreed) == {"title", "priority", "tags"}
    assert result.fields["priority"].votes == 2 and result.fields["priority"].of == 3
    tie = vote([("a", {"n": 1}), ("b", {"n": 2})])
    assert tie.data == {"n": 1}
    # Lists of records are compared record by record.
    rows = vote(
        [("a", [{"k": 1}, {"k": 2}]), ("b", [{"k": 1}, {"k": 3}]), ("c", [{"k": 1}, {"k": 3}])]
    )
    assert rows.data == [{"k": 1}, {"k": 3}] and list(rows.disagreed) == ["1.k"]


def test_three_models_that_disagree_on_one_field(three, home):
    env, servers = three
    base = {"title": "Reset password", "criteria": ["link sent"]}
    for _ in range(2):  # this run and the --json one
        servers["o"].queue(text_stream("openai", json.dumps(base | {"priority": 1})))
        servers["a"].queue(text_stream("anthropic", json.dumps(base | {"priority": 2})))
        servers["g"].queue(text_stream("gemini", json.dumps(base | {"priority": 1})))
    args = [arg for model in MODELS for arg in ("--compare", model)]
    done = run_cli("ask", *args, "--consensus", "--schema", FIELDS, "a story", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == base | {"priority": 1}
    disagreed = [line for line in done.stderr.splitlines() if "disagree" in line]
    assert len(disagreed) == 1 and "priority: 2 of 3 say 1" in disagreed[0]
    assert "anthropic:claude-sonnet-4-5 says 2" in disagreed[0]
    # Each API was asked in its own terms.
    assert "response_format" in json.loads(servers["o"].requests[-1].body)
    assert "output_config" in json.loads(servers["a"].requests[-1].body)
    done_json = run_cli("ask", *args, "--consensus", "--schema", FIELDS, "--json", "again", env=env)
    record = json.loads(done_json.stdout)
    assert record["agreement"]["priority"]["agreed"] is False
    assert record["agreement"]["title"] == {
        "value": "Reset password",
        "votes": 3,
        "of": 3,
        "agreed": True,
        "answers": {m: "Reset password" for m in MODELS},
    }
    costs = [answer["cost"] for answer in record["answers"]]
    assert record["cost"] == pytest.approx(sum(costs))
    with Store.open(home / "ba-chat.db") as store:
        thread = store.list_threads()[-1]
        replies = [m for m in store.messages(thread.id) if m.role == "assistant"]
        assert len(replies) == 3  # every model's own answer, a variant each


def test_an_answer_that_does_not_fit_is_left_out_of_the_vote(three):
    env, servers = three
    servers["o"].queue(
        text_stream("openai", json.dumps({"title": "A", "priority": 1, "criteria": []}))
    )
    servers["a"].queue(text_stream("anthropic", "I cannot answer in JSON."))
    servers["g"].queue(
        text_stream("gemini", json.dumps({"title": "A", "priority": 1, "criteria": []}))
    )
    args = [arg for model in MODELS for arg in ("--compare", model)]
    done = run_cli("ask", *args, "--consensus", "--schema", FIELDS, "--no-save", "x", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["title"] == "A"
    assert "anthropic:claude-sonnet-4-5's answer left out" in done.stderr


def test_without_a_schema_a_judge_merges_and_sees_every_answer(three, home):
    env, servers = three
    servers["o"].queue(text_stream("openai", "Deadline is Friday."))
    servers["a"].queue(text_stream("anthropic", "Deadline is Monday."))
    servers["g"].queue(text_stream("gemini", "Friday, says the plan."))
    servers["a"].queue(text_stream("anthropic", "Friday.\n\nWhere they differed: Monday."))
    args = [arg for model in MODELS for arg in ("--compare", model)]
    done = run_cli(
        "ask", *args, "--consensus", "--judge", "anthropic:claude-sonnet-4-5", "when?", env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Friday.\n\nWhere they differed: Monday.\n"
    assert "merged by anthropic:claude-sonnet-4-5" in done.stderr
    judge = json.loads(servers["a"].requests[-1].body)
    system = judge["system"][0]["text"]
    assert all(
        text in system
        for text in ("Deadline is Friday.", "Deadline is Monday.", "Friday, says the plan.")
    )
    assert judge["messages"][-1]["role"] == "user"
    with Store.open(home / "ba-chat.db") as store:
        (thread,) = store.list_threads()
        replies = [m for m in store.messages(thread.id) if m.role == "assistant"]
        assert len(replies) == 4 and len({m.parent_id for m in replies}) == 1


def test_consensus_usage_errors(server, env):
    for args, words in [
        (["--consensus"], "--consensus needs several models"),
        (["--compare", "openai", "--compare", "gemini", "--schema", FIELDS], "needs --consensus"),
        (["--compare", "openai", "--compare", "gemini", "--consensus", "--fastest"], "do not mix"),
    ]:
        done = run_cli("ask", *args, "hi", env=env)
        assert done.returncode == 2 and words in done.stderr, done.stderr
    assert server.requests == []
