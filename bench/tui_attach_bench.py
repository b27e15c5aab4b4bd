"""TUI attachment benchmark: from choosing a big file to its chip being ready, and how
responsive the screen stays meanwhile.

    python bench/tui_attach_bench.py [--runs 3] [--megabytes 50]

Makes, in a temp dir, the files bench/attach_bench.py makes (a PDF of incompressible
scanned-like pages, about `--megabytes` in all, and a 5472×3648 JPEG, 20 MP), then runs
the real app headless (`App.run_test`, 120×36) against the fake server with Gemini as the
model (it reads PDFs natively up to 1,000 pages) and, median of `--runs`:
  photo            attach the photo -> chip ready (read, decode, downscale to 1568 px, hash);
  PDF 200 pages    attach a 200-page PDF -> chip ready (parse, extract 200 pages of text);
  PDF 400 pages    attach a 400-page PDF -> the page-range dialog (the page count only),
                   then `1-100` -> chip ready;
  send photo       Enter with the photo's chip -> the reply is on screen (the SDK is
                   imported before, as the app's warm-up does);
  send PDF         the same with the 200-page PDF's chip (stored, then sent inline or,
                   above Gemini's inline limit, uploaded through the Files API).
A 10 ms timer runs all along; "max gap" is the longest time between two of its ticks
(how long the event loop was kept from running: what a user feels as a freeze), next to
the same figure while the app sits idle. Prints seconds. Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from attach_bench import make_pdf, make_photo  # noqa: E402

from tests.conftest import make_env  # noqa: E402
from tests.servers import FakeServer, text_stream  # noqa: E402

TICK = 0.01


class Ticks:
    """The longest gap between a timer's ticks since `reset`."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.gap = 0.0

    def tick(self) -> None:
        now = time.perf_counter()
        self.gap = max(self.gap, now - self.last)
        self.last = now

    def reset(self) -> None:
        self.last, self.gap = time.perf_counter(), 0.0


async def until(pilot, condition: Callable[[], object], timeout: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"waited {timeout} s for {condition}")
        await pilot.pause(0.005)


async def measure(pilot, ticks: Ticks, act: Callable[[], Awaitable[None]]) -> tuple[float, float]:
    ticks.reset()
    started = time.perf_counter()
    await act()
    return time.perf_counter() - started, ticks.gap


async def one_run(home: Path, server: FakeServer, files: dict[str, Path]) -> dict[str, tuple]:
    from ba_tui.config import load_config
    from ba_tui.providers import adapter, get_spec
    from ba_tui.store import Store
    from ba_tui.tui.app import ChatApp
    from ba_tui.tui.widgets.attachment_bar import AttachmentBar

    results: dict[str, tuple] = {}
    config = load_config()
    adapter(get_spec("gemini", config))  # the SDK's import (once per app) is not timed here
    with Store.open(home / "ba-chat.db") as store:
        app = ChatApp(store=store, config=config, warm_up=False, first_run_check=False)
        async with app.run_test(size=(120, 36)) as pilot:
            ticks = Ticks()
            app.set_interval(TICK, ticks.tick)
            main = app.main
            main.set_model("gemini", "gemini-2.5-flash")
            bar = main.query_one(AttachmentBar)
            await pilot.pause(0.5)
            ticks.reset()
            await pilot.pause(1.0)
            results["idle (1 s)"] = (0.0, ticks.gap)

            async def attach(path: Path) -> None:
                main.attach([str(path)])
                await until(pilot, lambda: bar.ready and not bar.waiting)

            results["photo"] = await measure(pilot, ticks, lambda: attach(files["photo"]))

            async def send() -> None:
                server.queue(text_stream("gemini", "Noise, mostly."))
                main.query_one("#prompt").focus()
                before = main.leaf_id
                await pilot.press(*"what", "enter")
                await until(pilot, lambda: main.reply is None and main.leaf_id != before)

            results["send photo"] = await measure(pilot, ticks, send)
            results["PDF 200 pages"] = await measure(pilot, ticks, lambda: attach(files["pdf200"]))
            results["send PDF 200 pages"] = await measure(pilot, ticks, send)

            async def ask_pages() -> None:
                main.attach([str(files["pdf400"])])
                await until(pilot, lambda: app.screen.query("#pages"))

            results["PDF 400 pages: to the dialog"] = await measure(pilot, ticks, ask_pages)

            async def ranged() -> None:
                await pilot.press("ctrl+u", *"1-100", "enter")
                await until(pilot, lambda: bar.ready and not bar.waiting)

            results["PDF 400 pages: 1-100 to ready"] = await measure(pilot, ticks, ranged)
            bar.take()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--megabytes", type=float, default=50)
    given = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, FakeServer() as server:
        base = Path(folder)
        files = {
            "photo": base / "photo.jpg",
            "pdf200": base / "scan-200.pdf",
            "pdf400": base / "scan-400.pdf",
        }
        make_photo(files["photo"])
        make_pdf(files["pdf200"], 200, given.megabytes)
        make_pdf(files["pdf400"], 400, given.megabytes)
        print(
            f"photo: 5472×3648 JPEG, {files['photo'].stat().st_size / 1e6:.1f} MB; PDFs: "
            f"{files['pdf200'].stat().st_size / 1e6:.1f} MB (200 pages), "
            f"{files['pdf400'].stat().st_size / 1e6:.1f} MB (400 pages)"
        )
        runs = []
        for run in range(given.runs):
            home = base / f"home-{run}"
            home.mkdir()
            os.environ.update(make_env(server.url, home))
            runs.append(asyncio.run(one_run(home, server, files)))
        print(f"\nmedian of {given.runs} runs (headless app, {TICK * 1000:.0f} ms timer):")
        print(f"  {'':32} {'seconds':>8} {'max gap':>9}")
        for name in runs[0]:
            seconds = statistics.median(r[name][0] for r in runs)
            gap = statistics.median(r[name][1] for r in runs)
            print(f"  {name:<32} {seconds:8.3f} {gap * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
