"""How soon the TUI's approval card is on screen once the model has asked for a tool.

Run: .venv/bin/python bench/tool_card_bench.py [--iterations 10]

The real app, headless (Textual's pilot, 100×40), against the fake server on 127.0.0.1
(Anthropic dialect), with `[tools] enabled = ["read_file"]` in a temp home. Each
iteration sends a prompt whose reply calls read_file. Two clocks, both stopped when the
frame holding the card has been drawn (`call_after_refresh` on the mounted card):
from the call's ToolCallDone event reaching the screen's reply (the stream is still
closing then), and from the tool loop asking the screen (`MainScreen.approve`).
Prints medians and maxima.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import make_env  # noqa: E402
from tests.servers import FakeServer, text_stream, tool_stream  # noqa: E402


async def _iteration(app_class, server, store, config, marks) -> None:
    from ba_tui.tui.widgets.approval_card import ApprovalCard

    server.queue(
        tool_stream("anthropic", [("toolu_1", "read_file", {"path": "notes.txt"})]),
        text_stream("anthropic", "It says hello."),
    )
    app = app_class(store=store, config=config, warm_up=False, first_run_check=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.click("#prompt")
        await pilot.press(*"read my notes", "enter")
        deadline = time.monotonic() + 30
        while "drawn" not in marks:
            assert time.monotonic() < deadline, "no card"
            await pilot.pause(0.01)
        app.main.query_one(ApprovalCard)
        await pilot.press("y")
        while app.main.reply is not None:
            await pilot.pause(0.01)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=10)
    iterations = parser.parse_args().iterations

    home = Path(tempfile.mkdtemp())
    work = home / "work"
    work.mkdir()
    (work / "notes.txt").write_text("hello\n")
    os.chdir(work)
    (home / "config.toml").write_text('auto_title = "off"\n[tools]\nenabled = ["read_file"]\n')
    with FakeServer() as server:
        os.environ.update(make_env(server.url, home))
        from ba_tui.config import load_config
        from ba_tui.events import ToolCallDone
        from ba_tui.store import Store
        from ba_tui.tui.app import ChatApp
        from ba_tui.tui.screens import main as main_screen
        from ba_tui.tui.widgets.message import AssistantMessage

        marks: dict[str, float] = {}
        sink, approve, ask = (
            main_screen.Reply.sink,
            main_screen.MainScreen.approve,
            AssistantMessage.ask,
        )

        def timed_sink(self, event):  # type: ignore[no-untyped-def]
            if isinstance(event, ToolCallDone):
                marks["done"] = time.perf_counter()
            return sink(self, event)

        async def timed_approve(self, call, tool):  # type: ignore[no-untyped-def]
            marks["asked"] = time.perf_counter()
            return await approve(self, call, tool)

        async def timed_ask(self, asking):  # type: ignore[no-untyped-def]
            card = await ask(self, asking)
            card.call_after_refresh(lambda: marks.setdefault("drawn", time.perf_counter()))
            return card

        main_screen.Reply.sink = timed_sink  # type: ignore[method-assign]
        main_screen.MainScreen.approve = timed_approve  # type: ignore[method-assign]
        AssistantMessage.ask = timed_ask  # type: ignore[method-assign]

        from_done, from_asked = [], []
        with Store.open(home / "ba-chat.db") as store:
            config = load_config()
            for _ in range(iterations + 1):  # the first warms imports up: not counted
                marks.clear()
                asyncio.run(_iteration(ChatApp, server, store, config, marks))
                from_done.append((marks["drawn"] - marks["done"]) * 1000)
                from_asked.append((marks["drawn"] - marks["asked"]) * 1000)
    for label, values in (
        ("ToolCallDone -> card drawn", from_done[1:]),
        ("approve() asked -> card drawn", from_asked[1:]),
    ):
        print(
            f"{label:32} median {statistics.median(values):6.1f} ms   max {max(values):6.1f} ms"
            f"   ({len(values)} runs)"
        )


if __name__ == "__main__":
    main()
