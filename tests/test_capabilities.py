"""What a model can do comes from one place (the catalogue and each provider's spec), and
every reader agrees with it: `ba-chat models`, doctor, pricing and the `--thinking` check."""

from __future__ import annotations

import json

from ba_tui import pricing
from ba_tui.events import Usage
from ba_tui.models import Capabilities, capabilities, tokens_label
from ba_tui.providers import BUILTIN
from tests.conftest import run_cli


def test_a_catalogue_entry_overrides_its_providers_defaults():
    gpt41 = capabilities("openai", "gpt-4.1")  # an alias finds the entry
    assert gpt41.context_window == 1_047_576 and not gpt41.reasoning and gpt41.vision
    assert capabilities("openai", "gpt-5.4-mini").reasoning
    reasoner = capabilities("deepseek", "r1")
    assert reasoner.reasoning and not reasoner.vision
    assert reasoner.structured_output == "json_object"


def test_an_unknown_model_gets_its_providers_defaults_and_a_custom_endpoint_little():
    assert capabilities("anthropic", "claude-someday-9") == capabilities(
        "anthropic", "claude-sonnet-5-5"
    )
    custom = capabilities("my-vllm", "qwen2.5-7b-instruct")
    assert custom == Capabilities(tools=True, structured_output="json_object")
    assert not custom.vision and custom.context_window is None
    assert BUILTIN["ollama"].capabilities("llama3.2") == capabilities("ollama", "llama")


def test_capability_words_and_token_labels():
    assert capabilities("local", "smollm2").summary() == "schema · 8k context"
    assert capabilities("my-vllm", "x").summary() == "tools, json · ? context"
    assert capabilities("gemini", "flash").names() == [
        "reasoning",
        "vision",
        "pdf",
        "tools",
        "schema",
    ]
    assert [tokens_label(n) for n in (8192, 200_000, 1_048_576, 40_960, None)] == [
        "8k",
        "200k",
        "1M",
        "40k",
        "?",
    ]


def test_price_comes_from_the_specs_price_id_and_local_models_are_free():
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert pricing.cost("ollama", "llama3.2", usage) == 0.0
    assert pricing.cost("local", "SmolLM2-135M-Instruct", usage) == 0.0
    priced = pricing.cost("anthropic", "claude-sonnet-4-6", usage)
    assert priced is not None and priced > 0
    rates = pricing.rates("anthropic", "claude-sonnet-4-6")
    assert rates is not None and abs(sum(rates) - priced) < 1e-9
    # A custom endpoint genai-prices does not know has no price, never a made-up one.
    assert pricing.rates("my-vllm", "qwen", base_url="http://127.0.0.1:1/v1") is None
    assert pricing.format_rates(None) == "?" and pricing.format_rates((0.0, 0.0)) == "free"
    assert pricing.format_rates((3.0, 15.0)) == "$3/$15"


def test_models_lists_context_capabilities_and_price(server, env):
    done = run_cli("models", "--refresh", "-p", "openai", "--json", env=env)
    assert done.returncode == 0, done.stderr
    rows = {row["model"]: row for row in json.loads(done.stdout)}
    gpt41 = rows["gpt-4.1-2025-04-14"]
    assert gpt41["context_window"] == 1_047_576
    assert "reasoning" not in gpt41["capabilities"] and "vision" in gpt41["capabilities"]
    assert gpt41["price_per_mtok"]["input"] > 0
    # A live model the catalogue lacks gets the provider's defaults; an alias its entry's.
    assert rows["gpt-5-mini"]["source"] == "live"
    assert rows["gpt-5-mini"]["capabilities"] == capabilities("openai", "-").names()
    assert rows["gpt-4.1"]["context_window"] == gpt41["context_window"]
    text = run_cli("models", "-p", "ollama", env=env).stdout.splitlines()
    assert any(line.split()[1:4] == ["llama3.2", "128k", "free"] for line in text), text


def test_thinking_is_ignored_by_a_model_without_a_budget_and_kept_by_one_with(server, env):
    done = run_cli("ask", "-p", "openai", "-m", "gpt-4.1", "--thinking", "2048", "hi", env=env)
    assert done.returncode == 0, done.stderr
    assert "--thinking is ignored: openai takes no thinking budget" in done.stderr
    done = run_cli("ask", "-p", "anthropic", "--thinking", "2048", "hi", env=env)
    assert done.returncode == 0 and "ignored" not in done.stderr
    body = json.loads(server.requests[-1].body)
    assert body["thinking"]["budget_tokens"] == 2048


def test_doctor_says_what_the_default_model_can_do_and_whether_a_local_server_has_it(server, env):
    done = run_cli("doctor", env=env)
    lines = done.stdout.splitlines()
    claude = [line for line in lines if "default model claude-sonnet-5-5" in line]
    assert claude and claude[0].startswith("✓") and "pdf" in claude[0] and "200k" in claude[0]
    # The fake Ollama has not "pulled" llama3.2: doctor warns and says how to fix it.
    ollama = [line for line in lines if "default model llama3.2" in line]
    assert ollama and ollama[0].startswith("!") and "ba-chat models -p ollama" in ollama[0]
