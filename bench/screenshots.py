"""Draw screenshots/*.svg with the real TUI, talking to the local fake provider server.

    python bench/screenshots.py            # writes every screenshots/*.svg
    python bench/screenshots.py attachments  # only attachments.svg, compare-attachments.svg
    python bench/screenshots.py tools      # only the tool pictures (tool-card, tool-calls)

Every reply on the pictures was streamed by the app from tests/servers over HTTP, through
the same turn runner `ba-chat ask` uses; nothing is painted by hand.
"""

from __future__ import annotations

import asyncio
import json
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

STORY = {
    "title": "Reset a forgotten password",
    "as_a": "registered customer",
    "i_want": "a reset link sent to my email",
    "so_that": "I can sign in again without calling support",
    "priority": "must",
    "acceptance_criteria": [
        "Given a known email, when I ask for a reset, then a link is sent within a minute",
        "Given a link older than 30 minutes, when I open it, then I am asked to request again",
    ],
}

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
    started = time.monotonic() + 2  # the send was not awaited: let the reply begin
    while app.main.reply is None and time.monotonic() < started:
        await asyncio.sleep(0.02)
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

        # Answers as data: a thread whose settings ask for user stories.
        thread = app.store.create_thread(
            title="Password reset stories",
            provider="openai",
            model="gpt-5.4-mini-2026-03-17",
            settings={"schema": "user_stories"},
        )
        await app.main.open_thread(thread.id)
        server.queue(text_stream("openai", json.dumps(STORY), chunk_size=12))
        await send(pilot, "One user story for resetting a forgotten password")
        await wait_reply(app)
        app.save_screenshot(filename="schema.svg", path=str(OUT))
        await pilot.press("ctrl+g")
        await asyncio.sleep(0.8)
        app.save_screenshot(filename="thread-settings.svg", path=str(OUT))
        await pilot.press("escape")
        await asyncio.sleep(0.3)

        # Spend and tokens per day and per provider, from the palette.
        await pilot.press("ctrl+p")
        await pilot.press(*"Usage")
        await asyncio.sleep(0.5)
        await pilot.press("enter")
        await asyncio.sleep(0.3)
        await pilot.press("a")
        await asyncio.sleep(0.8)
        app.save_screenshot(filename="usage.svg", path=str(OUT))
        await pilot.press("escape")
        await asyncio.sleep(0.3)

        await shoot_attach_prompt(app, pilot)
    server.stop()  # type: ignore[attr-defined]
    app.store.close()
    for svg in sorted(OUT.glob("*.svg")):
        print(svg.relative_to(ROOT))


def form_picture(path: Path) -> Path:
    """A screenshot of a sign-up form (drawn here: a title bar, three fields, a button)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 400), (236, 239, 244))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 640, 56), fill=(46, 52, 64))
    for row in range(3):
        top = 90 + row * 80
        draw.rectangle((60, top, 580, top + 44), fill="white", outline=(129, 161, 193), width=3)
    draw.rectangle((420, 330, 580, 376), fill=(94, 129, 172))
    image.save(path)
    return path


async def shoot_attachments() -> None:
    """A thread made as `ba-chat ask -a form.png -a requirements.pdf` makes it, opened in
    the TUI with the prompt selected; then the same files compared across a model that
    sees and reads PDFs and one that does neither."""
    from ba_tui.attachments import load
    from ba_tui.config import load_config
    from ba_tui.session import ChatSession, NewThread
    from ba_tui.store import Store
    from ba_tui.tui.app import ChatApp
    from ba_tui.tui.screens.compare import CompareScreen
    from tests import attachfiles

    server, home = setup()
    files = home / "files"
    files.mkdir()
    png = form_picture(files / "signup-form.png")
    pdf = attachfiles.pdf(
        files / "requirements.pdf",
        ["The sign-up form asks for a name, an email and a password", "Passwords: 12+ chars"],
    )
    attached = [load(str(png)), load(str(pdf))]
    with Store.open() as store:
        session = ChatSession(load_config(), store, new=NewThread(origin="ask"))
        target = session.target("anthropic", "claude-sonnet-5-5")
        await session.send("Does this form meet the requirements?", target, attached=attached)
    OUT.mkdir(exist_ok=True)
    app = ChatApp(warm_up=False, first_run_check=False)
    async with app.run_test(size=SIZE) as pilot:
        await asyncio.sleep(1.0)  # the picture decodes off the UI thread
        await pilot.press("ctrl+up", "up")
        await asyncio.sleep(0.3)
        app.save_screenshot(filename="attachments.svg", path=str(OUT))
        screen = CompareScreen(
            [("anthropic", "claude-sonnet-5-5"), ("deepseek", "deepseek-chat")],
            "Does this form meet the requirements?",
            session=app.main.session(),
            parent_id=None,
            store=app.store,
            attached=attached,
        )
        await app.push_screen(screen)
        deadline = time.monotonic() + 30
        while screen.state != "done" and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        app.save_screenshot(filename="compare-attachments.svg", path=str(OUT))
    server.stop()  # type: ignore[attr-defined]
    app.store.close()
    for name in ("attachments.svg", "compare-attachments.svg"):
        print((OUT / name).relative_to(ROOT))


async def shoot_tools() -> None:
    """The approval card at 80×24 under a reply that calls read_file, then the answer
    with its call folded to one row."""
    from tests.servers import text_stream, tool_stream

    server, home = setup()
    work = home / "work"
    work.mkdir()
    (work / "notes.txt").write_text("Buy milk\nCall the plumber about the leak\nRenew passport\n")
    os.chdir(work)
    (home / "config.toml").write_text('auto_title = "off"\n[tools]\nenabled = ["read_file"]\n')
    from ba_tui.tui.app import ChatApp

    OUT.mkdir(exist_ok=True)
    app = ChatApp(warm_up=True, first_run_check=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.main.set_model("anthropic", "claude-sonnet-5-5")
        call = ("toolu_1", "read_file", {"path": "notes.txt"})
        server.queue(
            tool_stream("anthropic", [call]),
            text_stream(
                "anthropic",
                "Three things on your list:\n\n1. Buy milk\n2. Call the plumber about the "
                "leak\n3. Renew your passport",
                chunk_size=6,
            ),
        )
        await send(pilot, "What is on my to-do list in notes.txt?")
        deadline = time.monotonic() + 20
        while not app.main.query(".approval-card") and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        app.save_screenshot(filename="tool-card.svg", path=str(OUT))
        await pilot.press("y")
        await wait_reply(app)
        app.save_screenshot(filename="tool-calls.svg", path=str(OUT))
    server.stop()  # type: ignore[attr-defined]
    app.store.close()
    for name in ("tool-card.svg", "tool-calls.svg"):
        print((OUT / name).relative_to(ROOT))


async def shoot_attach_prompt(app, pilot) -> None:
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
    ONLY = {"attachments": shoot_attachments, "tools": shoot_tools}
    if sys.argv[1:] and sys.argv[1] in ONLY:
        asyncio.run(ONLY[sys.argv[1]]())
    else:  # every picture README shows
        for shoot_some in (shoot, shoot_attachments, shoot_tools):
            asyncio.run(shoot_some())
