"""Cost on every answer, and compare mode, against the fake providers."""

from __future__ import annotations

import json
from decimal import Decimal

from ba_tui import pricing
from ba_tui.events import Usage
from tests.conftest import run_cli
from tests.servers import FakeServer, fixture


def _store(home):
    from ba_tui.store import Store

    return Store.open(home / "ba-chat.db")


def _genai_price(provider_id: str, model: str, **usage: int) -> float:
    from genai_prices import Usage as PriceUsage
    from genai_prices import calc_price

    return float(calc_price(PriceUsage(**usage), model, provider_id=provider_id).total_price)


def test_stored_cost_matches_genai_prices_with_cached_rate(server, env, home):
    server.queue(fixture("anthropic_stream_text.sse"))
    done = run_cli("ask", "-p", "anthropic", "-m", "claude-sonnet-4-5-20250929", "hi", env=env)
    assert done.returncode == 0, done.stderr
    store = _store(home)
    reply = store.messages(store.latest_thread().id)[-1]
    store.close()
    # message_start: input 21 uncached + 1843 cache reads; output 38.
    assert (reply.input_tokens, reply.cache_read_tokens, reply.output_tokens) == (1864, 1843, 38)
    want = _genai_price(
        "anthropic",
        "claude-sonnet-4-5",
        input_tokens=1864,
        cache_read_tokens=1843,
        output_tokens=38,
    )
    assert reply.cost == want
    uncached = _genai_price("anthropic", "claude-sonnet-4-5", input_tokens=1864, output_tokens=38)
    assert reply.cost < uncached  # the cache reads were priced at the cached rate


def test_unknown_model_costs_null_local_is_free():
    usage = Usage(input_tokens=100, output_tokens=10)
    assert pricing.cost("openai", "no-such-model-xyz", usage) is None
    assert pricing.cost("anthropic", "claude-sonnet-4-5", None) is None
    assert pricing.cost("ollama", "llama3.2", usage) == 0.0
    assert pricing.cost("gemini", "gemini-2.5-flash", usage) == float(
        Decimal(str(_genai_price("google", "gemini-2.5-flash", input_tokens=100, output_tokens=10)))
    )


def test_compare_three_providers_one_failing(server, env, home):
    done = run_cli(
        "ask",
        "--json",
        "--retries",
        "0",
        "--compare",
        "anthropic:claude-sonnet-4-5-20250929",
        "--compare",
        "openai:gpt-4o-mini",
        "--compare",
        "gemini:overloaded-model",
        "compare this",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["provider"], r["status"]) for r in rows] == [
        ("anthropic", "complete"),
        ("openai", "complete"),
        ("gemini", "error"),
    ]
    assert rows[0]["cost"] > 0 and rows[0]["ttft_ms"] > 0
    assert "overloaded" in rows[2]["error"]
    store = _store(home)
    messages = store.messages(store.latest_thread().id)
    store.close()
    user = [m for m in messages if m.role == "user"]
    replies = [m for m in messages if m.role == "assistant"]
    assert len(user) == 1 and len(replies) == 3
    assert {m.parent_id for m in replies} == {user[0].id}  # siblings under one prompt
    assert sum("compare this" in json.dumps(r.json) for r in server.requests) == 3


def test_compare_piped_prints_titled_blocks_in_order(server, env):
    done = run_cli(
        "ask",
        "--no-save",
        "--compare",
        "openai:gpt-4o-mini",
        "--compare",
        "anthropic",
        "q",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    first = done.stdout.index("=== openai · gpt-4o-mini ===")
    second = done.stdout.index("=== anthropic · claude-sonnet-5-5 ===")
    assert first < second


def _race(env, *args):
    """anthropic (slow) against openai (quick), first answer wins."""
    with FakeServer() as slow:
        slow.delay = 0.2  # every event of its default streams is 0.2 s apart
        env["ANTHROPIC_BASE_URL"] = slow.url
        return run_cli(
            "ask",
            *args,
            "--fastest",
            "--compare",
            "anthropic",
            "--compare",
            "openai:gpt-4o-mini",
            "race",
            env=env,
        )


def test_compare_fastest_cancels_the_rest(server, env, home):
    done = _race(env, "--json")
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout)  # the winner's object alone, as `ask --json` prints one
    assert (row["provider"], row["model"], row["status"]) == ("openai", "gpt-4o-mini", "complete")
    store = _store(home)
    statuses = sorted(m.status for m in store.messages(store.latest_thread().id))
    store.close()
    assert statuses == ["cancelled", "complete", "complete"]  # user, and both replies kept


def test_compare_fastest_piped_prints_only_the_winner(server, env):
    done = _race(env, "--no-save")
    assert done.returncode == 0, done.stderr
    server.queue(fixture("openai_stream_usage.sse"))
    alone = run_cli("ask", "--no-save", "-p", "openai", "-m", "gpt-4o-mini", "race", env=env)
    assert done.stdout.rstrip("\n") == alone.stdout.rstrip("\n") != ""
    assert "===" not in done.stdout and "anthropic" not in done.stdout
    assert done.stderr.strip().splitlines()[-1] == (
        "ba-chat: openai:gpt-4o-mini answered first; anthropic:claude-sonnet-5-5 stopped"
    )


def test_anthropic_cache_breakpoints_over_a_ten_turn_thread(server, env, home):
    first = run_cli("ask", "-p", "anthropic", "-s", "You are a BA.", "turn 0", env=env)
    assert first.returncode == 0, first.stderr
    for turn in range(1, 10):
        done = run_cli("ask", "-c", f"turn {turn}", env=env)
        assert done.returncode == 0, done.stderr
    body = server.requests[-1].json
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    messages = body["messages"]
    assert len(messages) == 19  # ten prompts, nine earlier answers
    marked = [i for i, m in enumerate(messages) if isinstance(m["content"], list)]
    assert marked == [16, 18]  # the last two user turns carry the breakpoints
    assert all(
        m["content"][-1]["cache_control"] == {"type": "ephemeral"}
        for m in (messages[i] for i in marked)
    )
    assert messages[18]["content"][0]["text"] == "turn 9"
    store = _store(home)
    replies = [m for m in store.messages(store.latest_thread().id) if m.role == "assistant"]
    store.close()
    assert len(replies) == 10
    assert all(r.cache_read_tokens == 1843 and r.cost is not None for r in replies)


def test_usage_totals_by_provider_and_model(server, env, home):
    server.queue(fixture("anthropic_stream_text.sse"), fixture("openai_stream_usage.sse"))
    run_cli("ask", "-p", "anthropic", "-m", "claude-sonnet-4-5-20250929", "a", env=env)
    run_cli("ask", "-p", "openai", "-m", "gpt-4o-mini", "b", env=env)
    server.queue(fixture("openai_stream_usage.sse"))
    run_cli("ask", "-p", "openai", "-m", "no-such-model-xyz", "c", env=env)
    done = run_cli("usage", "--json", "--since", "7d", env=env)
    assert done.returncode == 0, done.stderr
    rows = {row["key"]: row for row in json.loads(done.stdout)}
    assert rows["anthropic"]["requests"] == 1
    assert rows["anthropic"]["cache_read_tokens"] == 1843
    assert rows["openai"]["requests"] == 2 and rows["openai"]["priced"] == 1
    store = _store(home)
    costs = [m.cost for t in store.list_threads() for m in store.messages(t.id) if m.cost]
    store.close()
    assert abs(sum(r["cost"] for r in rows.values()) - sum(costs)) < 1e-12
    by_model = run_cli("usage", "--by", "model", env=env)
    assert "openai · no-such-model-xyz" in by_model.stdout and "unknown" in by_model.stdout
    bad = run_cli("usage", "--since", "last tuesday", env=env)
    assert bad.returncode == 2 and "7d" in bad.stderr


def test_usage_total_row_sums_tokens_and_keeps_the_unknown_part(server, env):
    server.queue(fixture("anthropic_stream_text.sse"), fixture("openai_stream_usage.sse"))
    run_cli("ask", "-p", "anthropic", "-m", "claude-sonnet-4-5-20250929", "a", env=env)
    run_cli("ask", "-p", "openai", "-m", "no-such-model-xyz", "b", env=env)
    rows = json.loads(run_cli("usage", "--json", env=env).stdout)
    table = run_cli("usage", env=env)
    assert table.returncode == 0, table.stderr
    total = table.stdout.splitlines()[-1].split()
    assert total[0] == "total" and int(total[1]) == 2
    for column, name in ((2, "input_tokens"), (3, "output_tokens"), (4, "cache_read_tokens")):
        assert int(total[column].replace(",", "")) == sum(row[name] for row in rows) > 0
    assert total[5] == pricing.format_cost(sum(row["cost"] or 0 for row in rows)) + "+?"


def test_usage_total_is_unknown_when_no_reply_has_a_price(server, env):
    run_cli("ask", "-p", "openai", "-m", "no-such-model-xyz", "b", env=env)
    [row] = json.loads(run_cli("usage", "--json", env=env).stdout)
    total = run_cli("usage", env=env).stdout.splitlines()[-1].split()
    tokens = [f"{row[name]:,}" for name in ("input_tokens", "output_tokens", "cache_read_tokens")]
    assert total[:6] == ["total", "1", *tokens, "unknown"] and row["input_tokens"] > 0


def test_monthly_budget_warns_once_exceeded(server, env, home):
    (home / "config.toml").write_text("monthly_budget_usd = 0.0001\n")
    server.queue(fixture("anthropic_stream_text.sse"))
    done = run_cli("ask", "-p", "anthropic", "-m", "claude-sonnet-4-5-20250929", "x", env=env)
    assert done.returncode == 0
    assert "over your budget of $0.00" in done.stderr
