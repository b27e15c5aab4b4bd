"""Start-up and one-shot `ask` wall times, beside a bare SDK script making the same call.

Run: .venv/bin/python bench/startup_bench.py [--runs 7]
Prints a table of medians (seconds) and the overhead of ba-chat over the bare script.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import FakeServer  # noqa: E402

BARE = {
    "openai": """
import asyncio, os, sys
from openai import AsyncOpenAI
async def main():
    client = AsyncOpenAI(base_url=os.environ["OPENAI_BASE_URL"], max_retries=0)
    stream = await client.chat.completions.create(model="gpt-4o-mini", stream=True,
        stream_options={"include_usage": True}, messages=[{"role": "user", "content": "hi"}])
    async for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                sys.stdout.write(choice.delta.content); sys.stdout.flush()
asyncio.run(main())
""",
    "anthropic": """
import asyncio, sys
from anthropic import AsyncAnthropic
async def main():
    client = AsyncAnthropic(max_retries=0)
    async with client.messages.stream(model="claude-sonnet-4-5-20250929", max_tokens=1024,
            messages=[{"role": "user", "content": "hi"}]) as stream:
        async for text in stream.text_stream:
            sys.stdout.write(text); sys.stdout.flush()
asyncio.run(main())
""",
    "gemini": """
import asyncio, os, sys
from google import genai
from google.genai import types
async def main():
    client = genai.Client(http_options=types.HttpOptions(base_url=os.environ["GEMINI_BASE_URL"],
        api_version="v1beta"))
    async for chunk in await client.aio.models.generate_content_stream(
            model="gemini-2.5-flash", contents="hi"):
        if chunk.text:
            sys.stdout.write(chunk.text); sys.stdout.flush()
asyncio.run(main())
""",
}
MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-sonnet-4-5-20250929",
    "gemini": "gemini-2.5-flash",
}


def timed(cmd: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            cmd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        samples.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.strip()}")
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--providers", default="openai,anthropic,gemini")
    args = parser.parse_args()
    cli = str(Path(sys.executable).with_name("ba-chat"))
    with FakeServer() as server, tempfile.TemporaryDirectory() as home:
        env = dict(os.environ)
        env.update(
            BA_CHAT_HOME=home,
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
            ANTHROPIC_BASE_URL=server.url,
            ANTHROPIC_API_KEY="bench",
            OPENAI_BASE_URL=f"{server.url}/v1",
            OPENAI_API_KEY="bench",
            GEMINI_BASE_URL=server.url,
            GEMINI_API_KEY="bench",
            PYTHONWARNINGS="ignore",
        )
        rows = [("ba-chat --help", timed([cli, "--help"], env, args.runs), None)]
        rows.append(("ba-chat ask --help", timed([cli, "ask", "--help"], env, args.runs), None))
        for provider in args.providers.split(","):
            bare = timed([sys.executable, "-c", BARE[provider]], env, args.runs)
            ask = [cli, "ask", "--no-save", "-p", provider, "-m", MODELS[provider], "hi"]
            rows.append((f"bare {provider} SDK script", bare, None))
            rows.append((f"ba-chat ask --no-save -p {provider}", timed(ask, env, args.runs), bare))
            saved = [*ask[:2], *ask[3:]]
            rows.append((f"ba-chat ask -p {provider} (saved)", timed(saved, env, args.runs), bare))
    print(f"median of {args.runs} runs, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{'command':<42} {'seconds':>8} {'over bare':>10}")
    for name, seconds, bare in rows:
        over = f"{seconds - bare:+.3f}" if bare is not None else ""
        print(f"{name:<42} {seconds:>8.3f} {over:>10}")


if __name__ == "__main__":
    main()
