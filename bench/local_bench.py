"""The built-in offline model on this machine: load time, time to first token, tokens/s.

Run: .venv/bin/python bench/local_bench.py [--runs 3]
Prints medians over the runs. "start" is what a user waits for once per session: the
child process, the xllamacpp import and the model load; "load" is the model load alone.
Replies go through the real path (`run_turn` -> local adapter -> OpenAI adapter -> HTTP).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ba_tui.config import Config  # noqa: E402
from ba_tui.conversation import TurnOptions, run_turn  # noqa: E402
from ba_tui.providers import BUILTIN, ProviderSpec, Target, local  # noqa: E402

SPEC = BUILTIN.get("local") or ProviderSpec(
    "local", "Built-in offline model", "local", (), None, "", local.BUILTIN_MODEL, False
)
TARGET = Target(SPEC, local.BUILTIN_MODEL, "", None, "not needed")
REPLIES = {
    "short": ("Say hi", None),
    "~200 tokens": ("Write a long story about a fox who learns to sail.", 200),
}


_LOAD = """
import os, sys, time
import xllamacpp
params = xllamacpp.CommonParams()
params.model.path = sys.argv[1]
params.ui = False
params.verbosity = 0
params.cpuparams.n_threads = params.cpuparams_batch.n_threads = max(1, os.cpu_count() // 2)
started = time.perf_counter()
server = xllamacpp.Server(params)
print(time.perf_counter() - started, flush=True)
os._exit(0)  # destroying a Server right after creating it can hang (see local.py)
"""


def load_seconds(model: Path) -> float:
    """The model load alone, measured in a fresh process as the server's child does it."""
    done = subprocess.run(
        [sys.executable, "-c", _LOAD, str(model)], capture_output=True, text=True, check=True
    )
    return float(done.stdout)


async def one_run() -> dict[str, float]:
    local.stop()
    started = time.perf_counter()
    await local.warm_up({})
    numbers = {"start": time.perf_counter() - started}
    for name, (prompt, max_tokens) in REPLIES.items():
        turn = await run_turn(TARGET, prompt, options=TurnOptions(max_tokens=max_tokens))
        if turn.error is not None:
            raise SystemExit(f"local_bench: {turn.error.line()}")
        assert turn.ttft_ms is not None and turn.duration_ms is not None and turn.usage
        tokens = turn.usage.output_tokens or 0
        numbers[f"{name} ttft"] = turn.ttft_ms / 1000
        numbers[f"{name} tokens"] = tokens
        streaming = (turn.duration_ms - turn.ttft_ms) / 1000
        numbers[f"{name} tok/s"] = (tokens - 1) / streaming if tokens > 1 else float("nan")
    return numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ["BA_CHAT_HOME"] = tempfile.mkdtemp(prefix="ba-chat-bench-")
    before = os.getloadavg()[0]
    model = local.model_path(Config())
    if not local.available(Config()) or model is None:
        raise SystemExit(f"local_bench: the offline model is not installed; {local.INSTALL}")
    loads = [load_seconds(model) for _ in range(args.runs)]
    runs = [asyncio.run(one_run()) for _ in range(args.runs)]
    local.stop()

    print(f"model: {model.name} ({model.stat().st_size / 1e6:.0f} MB)")
    print(f"cpus: {os.cpu_count()}, load average before: {before:.2f}")
    print(f"medians of {args.runs} runs")
    print(f"  {'model load (xllamacpp)':<26} {statistics.median(loads):7.2f} s")
    for key in runs[0]:
        value = statistics.median(run[key] for run in runs)
        unit = "s" if key == "start" or key.endswith("ttft") else ""
        label = "server start (first use)" if key == "start" else key
        text = f"{value:7.0f}" if key.endswith(("tokens", "tok/s")) else f"{value:7.2f} {unit}"
        print(f"  {label:<26} {text}")


if __name__ == "__main__":
    main()
