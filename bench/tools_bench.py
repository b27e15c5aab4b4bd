"""What the tool loop adds per step, beside the provider's own time for the same request.

Run: .venv/bin/python bench/tools_bench.py [--iterations 20] [--steps 4]

In-process and warm, against the fake server on 127.0.0.1 (OpenAI dialect), with a real
Store in a temp dir. For each iteration, one turn whose model calls `current_time` on
`--steps` steps before answering, and one plain turn; the loop's own work is timed from
the end of each step's stream (its Finished event) to the next request arriving at the
server: the approval, running the tool, saving the result, building the next request.
"Provider time" is one plain turn's whole request, for scale. Prints medians and p90s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import make_env  # noqa: E402
from tests.servers import FakeServer, text_stream, tool_stream  # noqa: E402
from tests.servers.server import Recorded  # noqa: E402


def stats(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.9) - 1]


async def bench(server: FakeServer, store: object, iterations: int, steps: int) -> dict:
    from ba_tui.config import load_config
    from ba_tui.conversation import run_turn
    from ba_tui.events import Finished
    from ba_tui.providers import resolve
    from ba_tui.tools import Toolbox
    from ba_tui.tools.builtin import BUILTIN

    target = resolve("openai", "gpt-4o-mini", load_config())
    tools = Toolbox.of([BUILTIN["current_time"]], "all")
    arrivals: list[float] = []
    original = server._receive

    def receive(request: Recorded):  # when each request arrives
        arrivals.append(time.perf_counter())
        return original(request)

    server._receive = receive  # type: ignore[method-assign]
    samples: dict[str, list[float]] = {"loop work per step": [], "provider time per request": []}
    for _ in range(iterations + 5):
        thread = store.create_thread(title="b", provider="openai", model=target.model, system=None)
        server.queue(
            *[tool_stream("openai", [(f"c{i}", "current_time", {})]) for i in range(steps)],
            text_stream("openai", "It is late."),
        )
        finished: list[float] = []
        arrivals.clear()

        def on_event(event: object, finished: list[float] = finished) -> None:
            if isinstance(event, Finished):
                finished.append(time.perf_counter())

        await run_turn(
            target, "time?", store=store, thread_id=thread.id, tools=tools, on_event=on_event
        )
        gaps = [arrivals[i + 1] - finished[i] for i in range(steps)]
        server.queue(text_stream("openai", "It is late."))
        start = time.perf_counter()
        await run_turn(target, "time?", store=store, thread_id=thread.id)
        plain = time.perf_counter() - start
        if _ >= 5:  # warm-up left out
            samples["loop work per step"] += [gap * 1000 for gap in gaps]
            samples["provider time per request"].append(plain * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with FakeServer() as server, tempfile.TemporaryDirectory() as home:
        os.environ.update(make_env(server.url, Path(home)))
        from ba_tui.store import Store

        with Store.open() as store:
            samples = asyncio.run(bench(server, store, args.iterations, args.steps))
    print(
        f"tool loop, {args.iterations} turns of {args.steps} tool steps after 5 warm-up, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    print(f"{'':<28} {'median ms':>9} {'p90 ms':>7}")
    for name, values in samples.items():
        median, p90 = stats(values)
        print(f"{name:<28} {median:>9.2f} {p90:>7.2f}")


if __name__ == "__main__":
    main()
