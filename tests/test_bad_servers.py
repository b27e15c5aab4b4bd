"""Servers that break the protocol or never stop: what `ask` prints, exits with and stores.

A 200 reply that is not the protocol (a proxy's HTML page, invalid JSON, garbled events) is
the provider's fault, said in one line and retried before the first token; a reply that
ignores max_tokens or never ends is stopped, and what arrived is kept with the reason.
"""

from __future__ import annotations

import pytest

from ba_tui.config import problems
from tests.conftest import KEYS, run_cli
from tests.servers import drip, html_page, malformed, runaway

PROVIDERS = ("anthropic", "openai", "gemini")


def _reply(home):
    from ba_tui.store import Store

    store = Store.open(home / "ba-chat.db")
    try:
        return store.messages(store.latest_thread().id)[-1]
    finally:
        store.close()


def _error_line(stderr: str) -> str:
    """The one error line; any other lines on stderr must be retry notices."""
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ba-chat: error:")]
    assert len(errors) == 1, stderr
    assert all("retrying in" in line for line in lines if line not in errors), stderr
    for key in KEYS.values():
        assert key not in stderr
    return errors[0]


# -- malformed replies -------------------------------------------------------------------


def _base_url(server, provider: str) -> str:
    return f"{server.url}/v1" if provider == "openai" else server.url


MALFORMED = [
    *((p, "json") for p in PROVIDERS),
    *((p, "garbage") for p in PROVIDERS),
    ("openai", "no-choices"),
]


@pytest.mark.parametrize(("provider", "kind"), MALFORMED)
def test_malformed_reply_is_the_providers_fault_and_retried(server, env, home, provider, kind):
    server.queue(malformed(kind, provider), malformed(kind, provider))
    done = run_cli("ask", "--retries", "1", "-p", provider, "hi", env=env)
    assert done.returncode == 4, done.stderr
    line = _error_line(done.stderr)
    assert f"{provider} at {_base_url(server, provider)} sent a reply ba-chat could not read" in (
        line
    )
    assert "internal error" not in line
    assert f"{provider} sent a reply ba-chat could not read, retrying in" in done.stderr
    assert len(server.requests) == 2  # retried: nothing had reached the user
    reply = _reply(home)
    assert reply.status == "error" and reply.content == ""
    assert "could not read" in reply.error and "internal error" not in reply.error


@pytest.mark.parametrize("provider", PROVIDERS)
def test_html_page_with_status_200_is_named_by_its_title(server, env, home, provider):
    server.queue(html_page(200), html_page(200))
    done = run_cli("ask", "--retries", "1", "-p", provider, "hi", env=env)
    assert done.returncode == 4, done.stderr
    line = _error_line(done.stderr)
    assert "<" not in done.stderr and ">" not in done.stderr
    assert "sent a reply ba-chat could not read" in line and "an HTML page" in line
    if provider != "gemini":  # google-genai keeps only the page's first line: no title
        assert "'502 Bad Gateway'" in line
    assert len(server.requests) == 2
    reply = _reply(home)
    assert reply.status == "error" and "HTML page" in reply.error and "<" not in reply.error


@pytest.mark.parametrize("provider", PROVIDERS)
def test_html_502_shows_status_and_title_and_the_retry_says_server_error(
    server, env, home, provider
):
    server.queue(html_page(502), html_page(502))
    done = run_cli("ask", "--retries", "1", "-p", provider, "hi", env=env)
    assert done.returncode == 4, done.stderr
    line = _error_line(done.stderr)
    assert "<" not in done.stderr and ">" not in done.stderr
    assert "HTTP 502 with an HTML page ('502 Bad Gateway')" in line
    assert f"{provider} server error 502, retrying in" in done.stderr
    assert "unreachable" not in done.stderr
    assert len(server.requests) == 2
    assert "<" not in _reply(home).error


@pytest.mark.parametrize("provider", PROVIDERS)
def test_garbage_after_text_keeps_the_partial_and_exits_5(server, env, home, provider):
    server.queue(malformed("garbage-after-text", provider))
    done = run_cli("ask", "-p", provider, "hi", env=env)
    assert done.returncode == 5, done.stderr
    line = _error_line(done.stderr)
    assert "cut off" in line and "could not read" in line and "internal error" not in line
    assert done.stdout and "Hello there, this reply breaks off soon.".startswith(done.stdout)
    assert len(server.requests) == 1  # text had reached the user: never retried
    reply = _reply(home)
    assert reply.status == "partial" and reply.content == done.stdout
    assert "could not read" in reply.error


# -- replies that never stop -------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_reply_far_past_max_tokens_is_stopped_and_the_start_kept(server, env, home, provider):
    server.queue(runaway(provider, megabytes=4))
    done = run_cli("ask", "-p", provider, "--max-tokens", "10", "hi", env=env)
    assert done.returncode == 5, done.stderr
    line = _error_line(done.stderr)
    assert f"stopped reading: {provider} sent far more than the 10 tokens asked for" in line
    reply = _reply(home)
    assert reply.status == "partial" and "stopped reading" in reply.error
    assert reply.content == done.stdout
    assert reply.content.startswith("runaway runaway")
    # 10 tokens is at most a few hundred characters of real text; 4 MB were on offer.
    assert len(reply.content) < 10_000


def test_reply_without_max_tokens_is_capped_by_what_the_adapter_asked(server, env, home):
    # ba-chat asks Anthropic for 8192 tokens when --max-tokens is not given.
    server.queue(runaway("anthropic", megabytes=4))
    done = run_cli("ask", "-p", "anthropic", "hi", env=env)
    assert done.returncode == 5, done.stderr
    assert "far more than the 8192 tokens asked for" in _error_line(done.stderr)
    reply = _reply(home)
    assert reply.status == "partial" and 8192 < len(reply.content) < 1_000_000


@pytest.mark.parametrize("provider", PROVIDERS)
def test_dripping_reply_stops_at_max_reply_seconds_and_keeps_the_partial(
    server, env, home, provider
):
    (home / "config.toml").write_text("max_reply_seconds = 2\n")
    server.queue(drip(provider, every=0.2))
    done = run_cli("ask", "-p", provider, "hi", env=env)
    assert done.returncode == 5, done.stderr
    line = _error_line(done.stderr)
    assert f"the reply from {provider} took longer than max_reply_seconds (2 s)" in line
    reply = _reply(home)
    assert reply.status == "partial" and reply.content == done.stdout
    assert reply.content.startswith("drip")
    assert "max_reply_seconds" in reply.error
    assert len(server.requests) == 1


def test_keep_alives_without_text_time_out_without_retry_or_fallback(server, env, home):
    (home / "config.toml").write_text("max_reply_seconds = 2\n")
    server.queue(drip("openai", every=0.2, text=False))
    done = run_cli("ask", "-p", "openai", "--fallback", "gemini", "hi", env=env)
    assert done.returncode == 4, done.stderr
    line = _error_line(done.stderr)
    assert "took longer than max_reply_seconds (2 s)" in line
    assert "falling back" not in done.stderr
    assert len(server.requests) == 1
    reply = _reply(home)
    assert reply.status == "error" and "max_reply_seconds" in reply.error


def test_max_reply_seconds_is_a_known_setting_with_limits():
    assert problems({"max_reply_seconds": 120}) == []
    assert problems({"max_reply_seconds": 0}) == ["max_reply_seconds must be between 1 and 86400"]
    assert problems({"max_reply_seconds": "soon"}) == ["max_reply_seconds must be a number"]
