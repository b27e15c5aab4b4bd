"""Draw screenshots/*.svg with the real TUI, talking to the local fake provider server.

    python bench/screenshots.py            # writes screenshots/*.svg

Every reply on the pictures was streamed by the app from tests/servers over HTTP, through
the same turn runner `ba-chat ask` uses; nothing is painted by hand.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "screenshots"
SIZE = (120, 36)

PLAN = """\
Here is a migration plan that keeps the old database serving reads until the very end.

## Steps

1. **Snapshot** the schema with `pg_dump --schema-only` and review the types.
2. Copy the data in batches of 50,000 rows, oldest first.
3. Replay the changes made during the copy from the binlog.
4. Switch traffic, keep MySQL read-only for a week.

```sql
SELECT count(*), max(updated_at) FROM orders;
```

| table  | rows      | estimate |
|--------|-----------|----------|
| orders | 412 M     | 5 h      |
| users  | 3.1 M     | 4 min    |

Want me to write the batch copier?
"""

REASONING = (
    "The user has 2 TB in MySQL. Downtime matters more than speed, so the plan should "
    "copy while the old database keeps serving, then replay what changed."
)

HAIKU = "One file holds it all,\nrows wait quietly on disk,\nno server to wake.\n"


def setup() -> tuple[object, Path]:
    from tests.conftest import make_env
    from tests.servers import FakeServer

    server = FakeServer().start()
    home = Path(tempfile.mkdtemp(prefix="ba-screens-"))
    for name in [k for k in os.environ if k.startswith(("ANTHROPIC_", "OPENAI_", "GEMINI_"))]:
        del os.environ[name]
    os.environ.update(make_env(server.url, home))
    # The fake server answers a title request with its canned reply: keep the prompts'
    # own first lines as the titles on the pictures.
    (home / "config.toml").write_text('auto_title = "off"\n')
    return server, home


async def wait_reply(app, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while app.main.reply is not None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)


async def send(pilot, text: str) -> None:
    """Type `text` and press Enter (without waiting for the screen to go idle: a pilot
    key press would wait for the whole reply)."""
    await pilot.click("#prompt")
    await pilot.press(*text)
    pilot.app.main.query_one("#prompt").action_submit()


async def shoot() -> None:
    from tests.servers import fixture, text_stream

    server, _home = setup()
    from ba_tui.tui.app import ChatApp

    OUT.mkdir(exist_ok=True)
    app = ChatApp(warm_up=True, first_run_check=False)
    async with app.run_test(size=SIZE) as pilot:
        # Two earlier threads, each a real turn against the fake server.
        app.main.set_model("openai", "gpt-5.4-mini-2026-03-17")
        server.queue(text_stream("openai", HAIKU, chunk_size=6))
        await send(pilot, "A haiku about SQLite, please.")
        await wait_reply(app)
        await app.main.new_thread("gemini", "gemini-3.5-flash")
        server.queue(fixture("anthropic_stream_error_overloaded.sse"))
        app.main.set_model("anthropic", "claude-sonnet-5-5")
        await send(pilot, "Summarise the incident report in three bullets")
        await wait_reply(app)
        app.save_screenshot(filename="error.svg", path=str(OUT))

        # The main picture: a new thread, reasoning then a Markdown answer.
        await app.main.new_thread("anthropic", "claude-sonnet-5-5")
        server.queue(text_stream("anthropic", PLAN, chunk_size=5, reasoning=REASONING, delay=0.01))
        await send(pilot, "How do I migrate 2 TB from MySQL to Postgres without downtime?")
        await asyncio.sleep(1.0)  # mid-stream: reasoning shown, the answer arriving
        app.save_screenshot(filename="streaming.svg", path=str(OUT))
        await wait_reply(app)
        app.save_screenshot(filename="main.svg", path=str(OUT))

        await pilot.press("ctrl+o")
        await asyncio.sleep(0.5)
        app.save_screenshot(filename="picker.svg", path=str(OUT))
        await pilot.press("enter")
        await asyncio.sleep(0.3)
        app.save_screenshot(filename="picker-models.svg", path=str(OUT))
        await pilot.press("escape")

        await pilot.press("ctrl+s")
        await asyncio.sleep(0.8)
        app.save_screenshot(filename="settings.svg", path=str(OUT))
        await pilot.press("escape")

        # Compare: one prompt, three models side by side (their default answers).
        from ba_tui.tui.screens.compare_setup import LAST_CHOICE

        app.store.set_kv(
            LAST_CHOICE,
            "anthropic:claude-sonnet-5-5\nopenai:gpt-5.4-mini-2026-03-17\ngemini:gemini-3.5-flash",
        )
        await app.main.new_thread("anthropic", "claude-sonnet-5-5")
        await pilot.click("#prompt")
        await pilot.press(*"What is a user story?", "ctrl+t")
        await asyncio.sleep(1.0)
        app.save_screenshot(filename="compare-setup.svg", path=str(OUT))
        await pilot.press("enter")
        deadline = time.monotonic() + 30
        while getattr(app.screen, "state", "done") != "done" and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        app.save_screenshot(filename="compare.svg", path=str(OUT))
        await pilot.press("escape")
        await asyncio.sleep(0.5)
        await shoot_attachments(app, pilot)
    server.stop()  # type: ignore[attr-defined]
    app.store.close()
    for svg in sorted(OUT.glob("*.svg")):
        print(svg.relative_to(ROOT))


async def shoot_attachments(app, pilot) -> None:
    """The file picker narrowed to a PDF, then a screenshot and a requirements PDF as chips
    over the prompt box, their size and tokens in the status line."""
    import shutil

    from tests import attachfiles

    folder = Path(tempfile.gettempdir()) / "checkout-project"  # a fixed name on the picture
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "docs").mkdir(parents=True)
    (folder / "notes").mkdir()
    pages = [f"REQ-{n}: the checkout keeps the cart for 30 days" for n in range(1, 13)]
    attachfiles.pdf(folder / "docs" / "requirements.pdf", pages)
    attachfiles.pdf(folder / "docs" / "release-plan.pdf", ["Q3 release plan"])
    attachfiles.png(folder / "checkout-form.png", 1280, 800, "lightgray")
    for name in ("meeting-2026-11-20.md", "stakeholders.md", "open-questions.md"):
        (folder / "notes" / name).write_text(f"# {name}\n")
    await app.main.new_thread("anthropic", "claude-sonnet-5-5")
    app.main.root = folder
    await pilot.press("ctrl+l")
    await asyncio.sleep(0.5)
    await pilot.press(*"req")
    await asyncio.sleep(0.5)
    app.save_screenshot(filename="attach-picker.svg", path=str(OUT))
    await pilot.press("enter")
    app.main.attach([str(folder / "checkout-form.png")])
    await pilot.press(*"Which requirements does this form break?")
    await asyncio.sleep(1.5)
    app.save_screenshot(filename="attach.svg", path=str(OUT))


if __name__ == "__main__":
    asyncio.run(shoot())
