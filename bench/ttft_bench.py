"""What the turn runner and the store add to time to first token, in-process and warm.

Run: .venv/bin/python bench/ttft_bench.py [--iterations 200] [--providers openai,anthropic,gemini]

Against the local fake server (real wire transcripts, first byte at once) each iteration
times three ways of getting the first text delta, interleaved:
  bare      the SDK's own stream loop: build a client, make the call, iterate to the
            first text (what an adapter does, with nothing around it);
  no store  `conversation.run_turn` from the call to the first TextDelta in on_event;
  store     the same with a real Store in a temp dir (the user's message saved, the reply
            row opened, the breaker read, all before the request goes out).
A new thread is created outside the timed span. Every stream is read to its end before
the next iteration. Prints medians and p90 in ms and the overhead over bare.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import make_env  # noqa: E402
from tests.servers import FakeServer  # noqa: E402

BUDGET_MS = 5.0
MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-sonnet-4-5-20250929",
    "gemini": "gemini-2.5-flash",
}


def bare_openai(url: str) -> Callable[[], Awaitable[float]]:
    from openai import AsyncOpenAI

    async def first() -> float:
        start = time.perf_counter()
        ttft = None
        client = AsyncOpenAI(base_url=f"{url}/v1", api_key="bench", max_retries=0)
        stream = await client.chat.completions.create(
            model=MODELS["openai"],
            stream=True,
            stream_options={"include_usage": True},
            messages=[{"role": "user", "content": "hi"}],
        )
        async for chunk in stream:
            for choice in chunk.choices:
                if choice.delta.content and ttft is None:
                    ttft = time.perf_counter() - start
        await client.close()
        return ttft

    return first


def bare_anthropic(url: str) -> Callable[[], Awaitable[float]]:
    from anthropic import AsyncAnthropic

    async def first() -> float:
        start = time.perf_counter()
        ttft = None
        client = AsyncAnthropic(base_url=url, api_key="bench", max_retries=0)
        async with client.messages.stream(
            model=MODELS["anthropic"],
            max_tokens=1024,
            messages=[{"role": "user", "content": "hi"}],
        ) as stream:
            async for text in stream.text_stream:
                if text and ttft is None:
                    ttft = time.perf_counter() - start
        await client.close()
        return ttft

    return first


def bare_gemini(url: str) -> Callable[[], Awaitable[float]]:
    from google import genai
    from google.genai import types

    async def first() -> float:
        start = time.perf_counter()
        ttft = None
        client = genai.Client(
            api_key="bench", http_options=types.HttpOptions(base_url=url, api_version="v1beta")
        )
        async for chunk in await client.aio.models.generate_content_stream(
            model=MODELS["gemini"], contents="hi"
        ):
            if chunk.text and ttft is None:
                ttft = time.perf_counter() - start
        await client.aio.aclose()
        return ttft

    return first


BARE = {"openai": bare_openai, "anthropic": bare_anthropic, "gemini": bare_gemini}


def through_run_turn(provider: str, store: object | None) -> Callable[[], Awaitable[float]]:
    from ba_tui.config import load_config
    from ba_tui.conversation import run_turn
    from ba_tui.events import TextDelta
    from ba_tui.providers import resolve

    target = resolve(provider, MODELS[provider], load_config())

    async def first() -> float:
        thread_id = None
        if store is not None:
            thread_id = store.create_thread(
                title="bench", provider=target.provider, model=target.model, system=None
            ).id
        ttft = None

        def on_event(event: object) -> None:
            nonlocal ttft
            if ttft is None and isinstance(event, TextDelta) and event.text:
                ttft = time.perf_counter() - start

        start = time.perf_counter()
        turn = await run_turn(target, "hi", on_event=on_event, store=store, thread_id=thread_id)
        if turn.error is not None:
            raise SystemExit(f"{provider}: {turn.error.line()}")
        return ttft

    return first


def kept_client(first: Callable[[], Awaitable[float]]) -> Callable[[], Awaitable[float]]:
    """`first` as the TUI runs it: the SDK client (and its connection) is kept from one
    round to the next. Keeping is switched on only around this path's rounds, so the other
    paths still build a client per turn."""
    from ba_tui.providers import clients

    pool: dict = {}

    async def timed() -> float:
        loop = asyncio.get_running_loop()
        clients._kept[loop] = pool
        try:
            return await first()
        finally:
            del clients._kept[loop]

    return timed


def stats(samples: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1000 for s in samples)
    return statistics.median(ms), ms[int(len(ms) * 0.9) - 1]


async def bench(provider: str, url: str, store: object, iterations: int) -> dict[str, list]:
    ways = {
        "bare SDK loop": BARE[provider](url),
        "run_turn, no store": through_run_turn(provider, None),
        "run_turn + store": through_run_turn(provider, store),
        "+ kept client (TUI)": kept_client(through_run_turn(provider, store)),
    }
    samples: dict[str, list[float]] = {name: [] for name in ways}
    for index in range(iterations + 20):  # 20 warm-up rounds: imports, price tables, caches
        for name, first in ways.items():
            ttft = await first()
            if index >= 20:
                samples[name].append(ttft)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--providers", default="openai,anthropic,gemini")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with FakeServer() as server, tempfile.TemporaryDirectory() as home:
        # The tests' environment: fake keys, every provider at the fake server, a temp home.
        os.environ.update(make_env(server.url, Path(home)))
        from ba_tui.store import Store

        load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
        results = {}
        with Store.open() as store:
            for provider in args.providers.split(","):
                results[provider] = asyncio.run(bench(provider, server.url, store, args.iterations))
                server.reset()
                gc.collect()
        load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"time to first text delta, {args.iterations} interleaved iterations after 20 warm-up, "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load average {load_before} -> {load_after}"
    )
    print(f"{'provider':<10} {'path':<20} {'median ms':>9} {'p90 ms':>7} {'over bare':>9}  budget")
    for provider, samples in results.items():
        bare_median = stats(samples["bare SDK loop"])[0]
        for name, values in samples.items():
            median, p90 = stats(values)
            over = budget = ""
            if name != "bare SDK loop":
                over = f"{median - bare_median:+.2f}"
                budget = f"<= +{BUDGET_MS:.0f} ms"
            print(f"{provider:<10} {name:<20} {median:>9.2f} {p90:>7.2f} {over:>9}  {budget}")


if __name__ == "__main__":
    main()
