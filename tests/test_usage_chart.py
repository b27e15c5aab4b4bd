"""`ba-chat usage --chart`: spend and tokens per day and per provider, drawn as bars."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

from tests.conftest import run_cli
from tests.servers import fixture

FULL = "█"


def _days_ago(n: int) -> str:
    return (datetime.now(UTC) - timedelta(days=n)).strftime("%Y-%m-%d")


def _section(text: str, title: str) -> dict[str, str]:
    """The rows under `title`: first word -> the whole line."""
    block = text.split(title, 1)[1].split("\n\n", 1)[0]
    return {line.split()[0]: line for line in block.splitlines()[2:] if line.strip()}


def test_chart_draws_spend_and_tokens_per_day_and_per_provider(server, env, home):
    for name, provider, model in [
        ("anthropic_stream_text.sse", "anthropic", "claude-sonnet-4-5-20250929"),
        ("openai_stream_usage.sse", "openai", "gpt-4o-mini"),
        ("openai_stream_usage.sse", "openai", "gpt-4o-mini"),
    ]:
        server.queue(fixture(name))
        done = run_cli("ask", "-p", provider, "-m", model, "hi", env=env)
        assert done.returncode == 0, done.stderr
    # The Anthropic reply was four days ago, one OpenAI reply yesterday, one today.
    with sqlite3.connect(home / "ba-chat.db") as db:
        ids = [row[0] for row in db.execute(
            "SELECT id FROM messages WHERE role = 'assistant' ORDER BY created_at"
        )]  # fmt: skip
        for message_id, day in zip(ids, [_days_ago(4), _days_ago(1)], strict=False):
            db.execute(
                "UPDATE messages SET created_at = ? || substr(created_at, 11) WHERE id = ?",
                (day, message_id),
            )
    table = {r["key"]: r for r in json.loads(run_cli("usage", "--json", env=env).stdout)}

    done = run_cli("usage", "--chart", "--since", "7d", env=env)
    assert done.returncode == 0, done.stderr
    days = _section(done.stdout, "Per day since")
    assert list(days) == [_days_ago(n) for n in (4, 3, 2, 1, 0)]  # every day, none left out
    for empty in (_days_ago(3), _days_ago(2)):
        assert days[empty].split() == [empty]  # no bar, no figures
    anthropic_tokens = table["anthropic"]["input_tokens"] + table["anthropic"]["output_tokens"]
    assert f"{anthropic_tokens:,}" in days[_days_ago(4)]
    assert "$" in days[_days_ago(1)] and "$" in days[_days_ago(0)]

    providers = _section(done.stdout, "Per provider")
    assert set(providers) == {"anthropic", "openai"}
    for name, line in providers.items():
        row = table[name]
        assert f"{row['input_tokens'] + row['output_tokens']:,}" in line
    # The bars are scaled to the largest value of the section: the biggest spender's cost
    # bar is full, the other's is shorter.
    costly = max(table, key=lambda name: table[name]["cost"])
    other = next(name for name in table if name != costly)
    assert providers[costly].count(FULL) > providers[other].count(FULL)


def test_chart_on_an_empty_store_says_so(env):
    done = run_cli("usage", "--chart", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("no replies since")


def test_chart_and_json_do_not_mix(env):
    done = run_cli("usage", "--chart", "--json", env=env)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "ba-chat: error: --chart draws; --json prints data; use one of them"
    )
