"""`ba-chat ask` as a user runs it: a subprocess talking real HTTP to the fake providers."""

from __future__ import annotations

import json
import socket

import pytest

from tests.conftest import KEYS, run_cli
from tests.servers import drop, fixture, status, text_stream
from tests.wire import expected

STREAMS = [
    # provider, model, fixture, reasoning expected
    ("anthropic", "claude-sonnet-4-5-20250929", "anthropic_stream_text.sse", False),
    ("openai", "gpt-4o-mini", "openai_stream_usage.sse", False),
    ("gemini", "gemini-2.5-flash", "gemini_stream_text.sse", False),
    ("deepseek", "deepseek-reasoner", "deepseek_reasoner_stream.sse", True),
    ("ollama", "llama3.2", "ollama_stream_usage.sse", False),
]


@pytest.mark.parametrize(("provider", "model", "name", "reasons"), STREAMS)
def test_ask_streams_exact_answer_for_every_provider(server, env, provider, model, name, reasons):
    server.queue(fixture(name))
    done = run_cli("ask", "--no-save", "-p", provider, "-m", model, "Say hello", env=env)
    assert done.returncode == 0, done.stderr
    want = expected(name)
    assert done.stdout == want.text
    if reasons:
        assert want.reasoning and want.reasoning in done.stderr
    request = server.requests[-1]
    assert "Say hello" in json.dumps(request.json)


OPTIONS = ["-s", "Be brief", "--max-tokens", "300", "--temperature", "0.5", "--top-p", "0.9"]
OPTIONS += ["--stop", "END", "--stop", "###", "--thinking", "2048", "--json"]


@pytest.mark.parametrize(("provider", "model", "name", "reasons"), STREAMS)
def test_ask_sends_every_option_to_every_provider(server, env, provider, model, name, reasons):
    """Each generation option reaches the wire in the provider's own terms, whatever SDK
    version is installed; one a provider cannot take is named in one line, not dropped."""
    server.queue(fixture(name))
    done = run_cli("ask", "-p", provider, "-m", model, *OPTIONS, "Say hello", env=env)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["text"], out["status"]) == (expected(name).text, "complete")
    body = server.requests[-1].json
    ignored = f"--thinking is ignored: {provider} takes no thinking budget"
    if provider == "anthropic":
        assert (body["temperature"], body["top_p"]) == (0.5, 0.9)
        assert body["stop_sequences"] == ["END", "###"]
        assert body["system"][0]["text"] == "Be brief"
        assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
        assert body["max_tokens"] == 2048 + 1024  # room for the answer after the thinking
    elif provider == "gemini":
        config = body["generationConfig"]
        assert (config["temperature"], config["topP"]) == (0.5, 0.9)
        assert config["stopSequences"] == ["END", "###"]
        assert config["maxOutputTokens"] == 300
        thinking = config["thinkingConfig"]  # google-genai has sent either spelling
        assert thinking.get("thinkingBudget", thinking.get("thinking_budget")) == 2048
        assert body["systemInstruction"]["parts"][0]["text"] == "Be brief"
    else:
        assert (body["temperature"], body["top_p"]) == (0.5, 0.9)
        assert body["stop"] == ["END", "###"]
        limit = "max_completion_tokens" if provider == "openai" else "max_tokens"
        assert body[limit] == 300
        assert body["messages"][0] == {"role": "system", "content": "Be brief"}
    assert (ignored in done.stderr) == (provider not in ("anthropic", "gemini"))
    assert "Traceback" not in done.stderr


def test_ask_json_carries_usage_and_reasoning_anthropic(server, env):
    server.queue(fixture("anthropic_stream_thinking.sse"))
    done = run_cli(
        "ask", "--no-save", "-p", "anthropic", "--thinking", "2048", "--json", "x", env=env
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    want = expected("anthropic_stream_thinking.sse")
    assert out["text"] == want.text
    assert out["reasoning"] == want.reasoning
    assert out["usage"]["cache_write_tokens"] == 1843
    assert out["usage"]["output_tokens"] == 112
    assert out["finish_reason"] == "stop"
    assert out["ttft_ms"] > 0 and out["duration_ms"] >= out["ttft_ms"]
    body = server.requests[-1].json
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["max_tokens"] >= 2048


def test_ask_json_gemini_thoughts_and_usage(server, env):
    server.queue(fixture("gemini_stream_thinking.sse"))
    done = run_cli(
        "ask", "--no-save", "-p", "gemini", "-m", "gemini-2.5-flash", "--json", "q", env=env
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    want = expected("gemini_stream_thinking.sse")
    assert (out["text"], out["reasoning"]) == (want.text, want.reasoning)
    assert out["usage"]["reasoning_tokens"] == 212
    request = server.requests[-1]
    assert request.path.startswith("/v1beta/models/gemini-2.5-flash:streamGenerateContent")
    assert request.headers["x-goog-api-key"] == KEYS["GEMINI_API_KEY"]


def test_ask_json_openai_usage_and_deepseek_cache(server, env):
    server.queue(fixture("openai_stream_usage.sse"), fixture("deepseek_reasoner_stream.sse"))
    done = run_cli("ask", "--no-save", "-p", "openai", "-m", "gpt-4o-mini", "--json", "q", env=env)
    usage = json.loads(done.stdout)["usage"]
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert server.requests[-1].json["stream_options"] == {"include_usage": True}
    assert server.requests[-1].headers["authorization"] == f"Bearer {KEYS['OPENAI_API_KEY']}"
    done = run_cli("ask", "--no-save", "-p", "deepseek", "-m", "reasoner", "--json", "q", env=env)
    out = json.loads(done.stdout)
    assert out["model"] == "deepseek-reasoner"  # the alias resolved to the pinned id
    assert out["usage"]["cache_read_tokens"] == 1024
    assert out["usage"]["reasoning_tokens"] == 17
    assert out["reasoning"] == expected("deepseek_reasoner_stream.sse").reasoning


def test_ask_without_usage_reports_null_not_zero(server, env):
    # A server that never sends usage, even when asked to.
    server.queue(text_stream("openai", "plain answer", usage=False))
    done = run_cli("ask", "--no-save", "-p", "ollama", "-m", "m", "--json", "q", env=env)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["text"] == "plain answer"
    assert out["usage"] is None


def test_server_refusing_stream_options_still_works(server, env):
    server.queue(
        status(
            400, {"error": {"message": "Unrecognized request argument supplied: stream_options"}}
        )
    )
    server.queue(fixture("llamacpp_stream_usage.sse"))
    done = run_cli("ask", "--no-save", "-p", "ollama", "-m", "smollm2", "hi", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected("llamacpp_stream_usage.sse").text
    assert "stream_options" in server.requests[0].json
    assert "stream_options" not in server.requests[1].json


def test_system_prompt_goes_where_each_provider_wants_it(server, env):
    server.queue(
        fixture("anthropic_stream_text.sse"),
        fixture("openai_stream_usage.sse"),
        fixture("gemini_stream_text.sse"),
    )
    for provider in ("anthropic", "openai", "gemini"):
        done = run_cli("ask", "--no-save", "-p", provider, "-s", "Be terse.", "hi", env=env)
        assert done.returncode == 0, done.stderr
    anthropic_body, openai_body, gemini_body = (r.json for r in server.requests)
    assert anthropic_body["system"] == [
        {"type": "text", "text": "Be terse.", "cache_control": {"type": "ephemeral"}}
    ]
    assert anthropic_body["max_tokens"] > 0
    assert openai_body["messages"][0] == {"role": "system", "content": "Be terse."}
    assert gemini_body["systemInstruction"]["parts"][0]["text"] == "Be terse."


def test_piped_stdin_is_joined_with_the_prompt(server, env):
    server.queue(fixture("openai_stream_usage.sse"))
    done = run_cli(
        "ask", "--no-save", "-p", "openai", "summarise", env=env, input="meeting notes\n"
    )
    assert done.returncode == 0, done.stderr
    content = server.requests[-1].json["messages"][-1]["content"]
    assert "meeting notes" in content and "summarise" in content


def test_a_thread_of_piped_text_is_titled_by_the_typed_prompt(server, env, home):
    from ba_tui.store import Store

    notes = "Meeting notes:\n- the export is slow\n- users want dark mode\n"
    prompt = "Summarise these as user stories"
    asks = [
        ("ask", "-p", "openai", "-m", "gpt-4o-mini", prompt),
        ("ask", "-p", "openai", "-m", "gpt-4o-mini"),  # nothing typed: the piped text names it
        ("ask", "--compare", "openai:gpt-4o-mini", "--compare", "anthropic", prompt),
    ]
    for args in asks:
        done = run_cli(*args, env=env, input=notes)
        assert done.returncode == 0, done.stderr
    with Store.open(home / "ba-chat.db") as store:
        titles = sorted(thread.title for thread in store.list_threads())
    assert titles == sorted([prompt, "Meeting notes:", prompt])


def test_empty_stdin_is_no_input_and_no_prompt_is_a_usage_error(server, env):
    done = run_cli("ask", "--no-save", "-p", "openai", env=env, input="")
    assert done.returncode == 2
    assert "no prompt" in done.stderr and "Traceback" not in done.stderr
    assert server.requests == []


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


ERRORS = [
    ("anthropic", "anthropic_error_401_authentication.json", 3, "rejected the API key"),
    ("openai", "openai_error_401_invalid_api_key.json", 3, "rejected the API key"),
    ("gemini", "gemini_error_400_api_key_invalid.json", 3, "rejected the API key"),
    ("anthropic", "anthropic_error_404_not_found_model.json", 4, "ba-chat models -p anthropic"),
    ("openai", "openai_error_404_model_not_found.json", 4, "ba-chat models -p openai"),
    ("gemini", "gemini_error_404_model_not_found.json", 4, "ba-chat models -p gemini"),
    ("anthropic", "anthropic_error_429_rate_limit.json", 4, "rate limited by anthropic"),
    ("openai", "openai_error_429_rate_limit.json", 4, "rate limited by openai"),
    ("gemini", "gemini_error_429_resource_exhausted.json", 4, "rate limited by gemini"),
    ("anthropic", "anthropic_error_529_overloaded.json", 4, "overloaded"),
    ("gemini", "gemini_error_503_unavailable.json", 4, "overloaded"),
]


@pytest.mark.parametrize(("provider", "name", "code", "words"), ERRORS)
def test_provider_errors_are_one_line_and_an_exit_code(server, env, provider, name, code, words):
    server.queue(fixture(name))
    done = run_cli("ask", "--no-save", "--retries", "0", "-p", provider, "hi", env=env)
    assert done.returncode == code, done.stderr
    line = _one_line(done.stderr)
    assert line.startswith("ba-chat: error:") and words in line
    assert done.stdout == ""
    for key in KEYS.values():
        assert key not in done.stderr


@pytest.mark.parametrize(
    ("provider", "name", "cut"),
    [
        ("anthropic", "anthropic_stream_text.sse", 6),
        ("openai", "openai_stream_usage.sse", 6),
        ("gemini", "gemini_stream_text.sse", 4),
    ],
)
def test_dropped_connection_keeps_printed_text_and_exits_5(server, env, provider, name, cut):
    server.queue(fixture(name, cut_after=cut))
    done = run_cli("ask", "--no-save", "-p", provider, "hi", env=env)
    assert done.returncode == 5, done.stderr
    assert done.stdout and expected(name).text.startswith(done.stdout)
    assert done.stdout != expected(name).text
    line = _one_line(done.stderr)
    # What broke, and how much of the reply arrived: not "could not reach", which would
    # send the user to check a network that carried most of it.
    assert f"the connection to {provider} dropped after {len(done.stdout)} characters" in line
    assert "partial reply is kept" in line and "could not reach" not in line
    assert len(server.requests) == 1  # text had streamed: never retried


@pytest.mark.parametrize("provider", ["anthropic", "openai", "gemini"])
def test_stream_closed_before_its_end_says_so_and_exits_5(server, env, provider):
    """The server ends the body cleanly after a few events, without the reply's end."""
    text = "The first words arrive, then nothing more of this reply."
    reply = text_stream(provider, text)
    reply.events = (reply.events or [])[:5]
    server.queue(reply)
    done = run_cli("ask", "-p", provider, "hi", env=env)
    assert done.returncode == 5, done.stderr
    assert done.stdout and text.startswith(done.stdout) and done.stdout != text
    line = _one_line(done.stderr)
    chars = len(done.stdout)
    assert f"{provider} closed the stream after {chars} characters, before the reply" in line
    assert "partial reply is kept" in line


def test_mid_stream_error_event_names_what_the_provider_said(server, env):
    server.queue(fixture("anthropic_stream_error_overloaded.sse"))
    done = run_cli("ask", "--no-save", "-p", "anthropic", "hi", env=env)
    assert done.returncode == 5
    assert done.stdout == expected("anthropic_stream_error_overloaded.sse").text
    assert "overloaded" in _one_line(done.stderr).lower()


def test_rate_limit_is_retried_after_retry_after_then_succeeds(server, env):
    server.queue(fixture("openai_error_429_rate_limit.json"), fixture("openai_stream_usage.sse"))
    done = run_cli("ask", "--no-save", "-p", "openai", "hi", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected("openai_stream_usage.sse").text
    assert "rate limited by openai, retrying in 1 s (1/2)" in done.stderr
    assert len(server.requests) == 2


def test_server_error_before_first_token_is_retried(server, env):
    server.queue(drop(), fixture("gemini_stream_text.sse"))
    done = run_cli("ask", "--no-save", "-p", "gemini", "hi", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected("gemini_stream_text.sse").text
    assert len(server.requests) == 2


def test_unreachable_provider_exits_4(home, env):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env["OPENAI_BASE_URL"] = f"http://127.0.0.1:{port}/v1"
    done = run_cli("ask", "--no-save", "--retries", "0", "-p", "openai", "hi", env=env)
    assert done.returncode == 4
    assert "could not reach openai" in _one_line(done.stderr)


def test_missing_key_names_the_variable_and_keys_set(env):
    del env["ANTHROPIC_API_KEY"]
    done = run_cli("ask", "--no-save", "-p", "anthropic", "hi", env=env)
    assert done.returncode == 3
    line = _one_line(done.stderr)
    assert "ANTHROPIC_API_KEY" in line and "ba-chat keys set anthropic" in line


def test_unknown_provider_lists_the_valid_ones(env):
    done = run_cli("ask", "--no-save", "-p", "nope", "hi", env=env)
    assert done.returncode == 2
    line = _one_line(done.stderr)
    assert "nope" in line and "anthropic" in line and "gemini" in line and "ollama" in line


def test_default_provider_comes_from_config_then_first_key(server, env, home):
    server.queue(fixture("gemini_stream_text.sse"), fixture("anthropic_stream_text.sse"))
    (home / "config.toml").write_text('default_provider = "gemini"\ndefault_model = "flash"\n')
    done = run_cli("ask", "--no-save", "--json", "hi", env=env)
    assert json.loads(done.stdout)["model"] == "gemini-3.5-flash"
    (home / "config.toml").unlink()
    done = run_cli("ask", "--no-save", "--json", "hi", env=env)
    assert json.loads(done.stdout)["provider"] == "anthropic"


def test_custom_openai_compatible_endpoint_from_config(server, env, home):
    (home / "config.toml").write_text(
        f'[providers.lmstudio]\nkind = "openai-compatible"\nbase_url = "{server.url}/v1"\n'
        'models = ["qwen2.5-7b-instruct"]\n'
    )
    server.queue(fixture("llamacpp_stream_usage.sse"))
    done = run_cli("ask", "--no-save", "-p", "lmstudio", "hi", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected("llamacpp_stream_usage.sse").text
    assert server.requests[-1].json["model"] == "qwen2.5-7b-instruct"


def test_malformed_config_names_file_and_line(env, home):
    (home / "config.toml").write_text('default_provider = "gemini"\nbroken = \n')
    done = run_cli("ask", "--no-save", "hi", env=env)
    assert done.returncode == 2
    line = _one_line(done.stderr)
    assert "config.toml" in line and "line 2" in line
    assert (home / "config.toml").read_text() == 'default_provider = "gemini"\nbroken = \n'


def test_models_lists_catalogue_and_live_list(server, env):
    done = run_cli("models", "-p", "anthropic", env=env)
    assert done.returncode == 0
    assert "claude-sonnet-5-5" in done.stdout and "sonnet" in done.stdout
    done = run_cli("models", "-p", "gemini", "--refresh", "--json", env=env)
    assert done.returncode == 0, done.stderr
    live = [row["model"] for row in json.loads(done.stdout) if row["source"] == "live"]
    # The live list adds what the catalogue lacks; embedding models cannot chat.
    assert "gemini-2.5-flash-lite" in live and "gemini-embedding-001" not in live


def test_live_model_lists_leave_out_models_that_cannot_chat(server, env):
    done = run_cli("models", "-p", "openai", "--refresh", "--json", env=env)
    assert done.returncode == 0, done.stderr
    live = [row["model"] for row in json.loads(done.stdout) if row["source"] == "live"]
    assert "gpt-4o-mini" in live and "text-embedding-3-small" not in live
    shown = run_cli("models", "-p", "openai", "--refresh", env=env).stdout
    assert "gpt-5-mini" in shown and "embedding" not in shown


def test_can_chat_knows_the_non_chat_model_families():
    from ba_tui.models import can_chat

    chat = ["gpt-4o-mini", "o3-mini", "claude-sonnet-4-5", "deepseek-chat", "qwen3:8b", "llava"]
    other = [
        "text-embedding-3-small",
        "nomic-embed-text",
        "omni-moderation-latest",
        "tts-1-hd",
        "gpt-4o-mini-tts",
        "whisper-1",
        "gpt-4o-transcribe",
        "dall-e-3",
        "gpt-image-1",
        "imagen-4.0-generate-001",
        "bge-reranker-v2-m3",
        "gpt-realtime",
    ]
    assert [m for m in chat if not can_chat(m)] == []
    assert [m for m in other if can_chat(m)] == []


def test_ctrl_c_keeps_printed_text_and_exits_130(server, env):
    import signal
    import subprocess
    import sys
    import time

    server.queue(text_stream("openai", "word " * 400, chunk_size=5, delay=0.02))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ba_tui", "ask", "--no-save", "-p", "openai", "go"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stdout.read(5)  # the answer has started
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    printed = first + rest
    assert printed.startswith("word ") and len(printed) < len("word " * 400)
    assert "interrupted" in err and "Traceback" not in err


def test_a_key_echoed_by_the_provider_is_redacted(server, env):
    key = env["OPENAI_API_KEY"]
    server.queue(
        status(401, {"error": {"message": f"Incorrect API key provided: {key}", "code": "x"}})
    )
    done = run_cli("ask", "--no-save", "-p", "openai", "hi", env=env)
    assert done.returncode == 3
    assert key not in done.stderr and "[redacted]" in done.stderr


def test_rejected_env_key_points_at_the_variable(server, env):
    server.queue(fixture("anthropic_error_401_authentication.json"))
    done = run_cli("ask", "--no-save", "-p", "anthropic", "hi", env=env)
    assert done.returncode == 3
    assert "check ANTHROPIC_API_KEY" in _one_line(done.stderr)


# --- text that is not valid UTF-8 ---------------------------------------------------------


def run_bytes(*args: str | bytes, env: dict[str, str], input: bytes = b""):
    """`ba-chat ARGS` with raw bytes in argv and on stdin, as a shell pipe gives them."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "ba_tui", *args], env=env, input=input, capture_output=True
    )


def stored_turns(home) -> list[tuple[str, str]]:
    from ba_tui.store import Store

    with Store.open(home / "ba-chat.db") as store:
        (thread,) = store.list_threads()
        return [(m.role, m.content) for m in store.history(thread.id)]


@pytest.mark.parametrize("save", [True, False], ids=["saved", "no-save"])
@pytest.mark.parametrize("io", ["", "utf-8:strict"], ids=["c-locale", "strict"])
def test_invalid_utf8_on_stdin_is_replaced_and_said_once(server, env, home, save, io):
    """A C locale hands Python the bad bytes as lone surrogates; a strict one refuses them."""
    if io:
        env["PYTHONIOENCODING"] = io
    server.queue(text_stream("openai", "Seen."))
    args = ["ask", "-p", "openai"] + ([] if save else ["--no-save"])
    done = run_bytes(*args, env=env, input=b"\xff\xfe hi")
    assert done.returncode == 0, done.stderr
    assert done.stderr.decode().splitlines() == [
        "stdin was not valid UTF-8; 2 bytes replaced with \ufffd"
    ]
    assert done.stdout == b"Seen."
    assert server.requests[-1].json["messages"][-1]["content"] == "\ufffd\ufffd hi"
    if save:
        assert stored_turns(home) == [("user", "\ufffd\ufffd hi"), ("assistant", "Seen.")]
    last = json.loads((home / "ba-chat.log").read_text(encoding="utf-8").splitlines()[-1])
    assert (last["event"], last["status"]) == ("turn", "complete")


def test_invalid_utf8_in_arguments_is_replaced_and_said(server, env, home):
    server.queue(text_stream("openai", "Seen."))
    done = run_bytes("ask", "-p", "openai", "-s", b"be \xff", b"\xe9t\xe9", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.decode().splitlines() == [
        "--system was not valid UTF-8; 1 byte replaced with \ufffd",
        "the prompt was not valid UTF-8; 2 bytes replaced with \ufffd",
    ]
    sent = server.requests[-1].json["messages"]
    assert (sent[0]["content"], sent[-1]["content"]) == ("be \ufffd", "\ufffdt\ufffd")
    assert stored_turns(home)[0] == ("user", "\ufffdt\ufffd")

    from ba_tui.store import Store

    with Store.open(home / "ba-chat.db") as store:
        (thread,) = store.list_threads()
    renamed = run_bytes("threads", "rename", thread.id, b"caf\xe9", env=env)
    assert renamed.returncode == 0, renamed.stderr
    assert b"the title was not valid UTF-8; 1 byte replaced" in renamed.stderr
    found = run_bytes("search", b"\xe9t", env=env)
    assert found.returncode == 0 and b"Traceback" not in found.stderr
    server.queue(text_stream("openai", "Seen."))
    spare = run_bytes(
        "ask", "--no-save", "-p", "openai", "--fallback", b"openai:\xff", "hi", env=env
    )
    assert (spare.returncode, spare.stdout) == (0, b"Seen."), spare.stderr
    assert spare.stderr.decode() == "--fallback was not valid UTF-8; 1 byte replaced with \ufffd\n"
    missing = run_bytes("threads", "show", b"\xff", env=env)
    assert missing.returncode == 2 and missing.stderr.decode().splitlines() == [
        "the thread id was not valid UTF-8; 1 byte replaced with \ufffd",
        "ba-chat: error: no thread \ufffd; list them with `ba-chat threads list`",
    ]


def _with_lone_surrogate(reply):
    """The reply with its "AAAA" replaced by a JSON escape of a lone surrogate."""
    reply.events = [event.replace(b"AAAA", b"x\\ud800y") for event in reply.events]
    return reply


@pytest.mark.parametrize("dialect", ["openai", "anthropic", "gemini"])
def test_a_lone_surrogate_from_the_server_is_replaced(server, env, home, dialect):
    server.queue(_with_lone_surrogate(text_stream(dialect, "AAAA and more")))
    done = run_bytes("ask", "-p", dialect, "hi", env=env)
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout.decode() == "x\ufffdy and more"
    assert stored_turns(home)[1] == ("assistant", "x\ufffdy and more")


def test_a_lone_surrogate_in_an_error_body_is_replaced(server, env, home):
    body = '{"error": {"message": "bad \\ud800 input", "type": "invalid_request_error"}}'
    server.queue(status(400, body))
    done = run_bytes("ask", "-p", "openai", "--retries", "0", "hi", env=env)
    assert done.returncode == 4
    assert done.stderr.decode().splitlines() == [
        "ba-chat: error: openai refused the request (openai said: bad \ufffd input)"
    ]
    log = (home / "ba-chat.log").read_text(encoding="utf-8")
    assert "bad \\ufffd input" in log or "bad \ufffd input" in log
