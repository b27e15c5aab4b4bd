"""Start-up and one-shot `ask` wall times, beside a bare SDK script making the same call and
beside the peer `llm` (Simon Willison's) making it too.

Run: .venv/bin/python bench/startup_bench.py [--runs 9] [--llm /path/to/llm]
Prints medians of whole processes (wall and CPU seconds), the overhead over the bare
script, ratios, and each row's budget. Commands run interleaved, round by round, so a
change in machine load hits every column alike; one untimed warm-up run of each command
first writes bytecode caches, as an installed package has them.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import make_env  # noqa: E402
from tests.servers import FakeServer  # noqa: E402

DEFAULT_LLM = Path("/work/bench-peers/llm/bin/llm")
HELP_BUDGET = 0.150  # seconds, `ba-chat --help`
ASK_BUDGET = 0.150  # seconds over the bare SDK script

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
# llm's OpenAI plugin reads extra models from this file in LLM_USER_PATH.
LLM_MODEL_ID = "bench-gpt-4o-mini"
LLM_MODELS_YAML = """- model_id: {model_id}
  model_name: gpt-4o-mini
  api_base: {base}
"""


@dataclass
class Row:
    name: str
    cmd: list[str]
    env: dict[str, str]
    bare: Row | None = None  # the floor this row is compared with
    frozen: Row | None = None  # the same floor, exiting as ba-chat does
    budget: str = ""
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)

    def run(self, record: bool) -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            self.cmd, env=self.env, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0 or (self.bare is not None and not done.stdout.strip()):
            raise SystemExit(f"{self.name} failed ({done.returncode}): {done.stderr.strip()}")
        if record:
            self.walls.append(wall)
            self.cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--providers", default="openai,anthropic,gemini")
    parser.add_argument(
        "--llm", type=Path, default=DEFAULT_LLM, help=f"the peer's executable ({DEFAULT_LLM})"
    )
    parser.add_argument(
        "--ba-chat", type=Path, help="the ba-chat to time (default: the one beside this Python)"
    )
    args = parser.parse_args()
    cli = str(args.ba_chat or Path(sys.executable).with_name("ba-chat"))
    llm = args.llm if args.llm.exists() else None
    if llm is None:
        print(
            f"note: no `llm` at {args.llm}; its column is skipped "
            "(install: see bench/README.md, or pass --llm PATH)"
        )
    with (
        FakeServer() as server,
        tempfile.TemporaryDirectory() as home,
        tempfile.TemporaryDirectory() as llm_home,
    ):
        # The tests' environment: fake keys, every provider at the fake server, a temp home.
        env = make_env(server.url, Path(home), PYTHONWARNINGS="ignore")
        # An installed package has its bytecode cached; let every process write and use it.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        llm_env = dict(env, LLM_USER_PATH=llm_home)
        Path(llm_home, "extra-openai-models.yaml").write_text(
            LLM_MODELS_YAML.format(model_id=LLM_MODEL_ID, base=f"{server.url}/v1")
        )
        budget = f"<= {HELP_BUDGET:.3f}"
        rows = [
            Row("python -c pass", [sys.executable, "-c", "pass"], env),
            Row("ba-chat --help", [cli, "--help"], env, budget=budget),
            Row("ba-chat ask --help", [cli, "ask", "--help"], env),
        ]
        if llm:
            rows.append(Row("llm --help", [str(llm), "--help"], llm_env))
        for provider in args.providers.split(","):
            bare = Row(f"bare {provider} SDK script", [sys.executable, "-c", BARE[provider]], env)
            # ba-chat freezes the heap at exit (entry.py); so can a script. Beside this
            # floor the overhead is ba-chat's own work, not the exit it skips.
            frozen = Row(
                f"bare {provider} + gc.freeze() at exit",
                [sys.executable, "-c", BARE[provider] + "import gc; gc.freeze()\n"],
                env,
            )
            ask = [cli, "ask", "--no-save", "-p", provider, "-m", MODELS[provider], "hi"]
            over = f"bare + {ASK_BUDGET:.3f}"
            saved = [*ask[:2], *ask[3:]]
            rows += [
                bare,
                frozen,
                Row(f"ba-chat ask --no-save -p {provider}", ask, env, bare, frozen, over),
                Row(f"ba-chat ask -p {provider} (saved)", saved, env, bare, frozen, over),
            ]
            if llm and provider == "openai":
                llm_ask = [str(llm), "-m", LLM_MODEL_ID, "--no-log", "hi"]
                rows.append(Row(f"llm -m {LLM_MODEL_ID} --no-log", llm_ask, llm_env, bare, frozen))
        load_before = load()
        for round_ in range(args.runs + 1):
            for row in rows:
                row.run(record=round_ > 0)
        load_after = load()
    print(
        f"median of {args.runs} interleaved runs, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, load average {load_before} -> {load_after}"
    )
    print(
        f"{'command':<40} {'wall s':>7} {'cpu s':>6} {'over bare':>9} {'x bare':>6} "
        f"{'over frozen':>11}  budget"
    )
    for row in rows:
        over = ratio = over_frozen = ""
        if row.bare is not None:
            over = f"{row.wall - row.bare.wall:+.3f}"
            ratio = f"{row.wall / row.bare.wall:.2f}"
        if row.frozen is not None:
            over_frozen = f"{row.wall - row.frozen.wall:+.3f}"
        print(
            f"{row.name:<40} {row.wall:>7.3f} {row.cpu:>6.3f} {over:>9} {ratio:>6} "
            f"{over_frozen:>11}  {row.budget}"
        )
    if shutil.which("uptime"):
        subprocess.run(["uptime"])


if __name__ == "__main__":
    main()
