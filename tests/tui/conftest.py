"""The TUI under test: a fake provider server, a temp ba-chat home, a fixed clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ba_tui.config import load_config
from ba_tui.messages import Text
from ba_tui.store import Store
from tests.conftest import make_env
from tests.servers import FakeServer

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


@pytest.fixture
def tui_env(
    server: FakeServer, home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """This process's environment as `make_env` gives a subprocess: fake keys and URLs."""
    env = make_env(server.url, home)
    for name in list(__import__("os").environ):
        if name not in env:
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env


@pytest.fixture
def store(tui_env: dict[str, str], home: Path) -> Iterator[Store]:
    with Store.open(home / "ba-chat.db") as opened:
        yield opened


@pytest.fixture
def make_app(store: Store, home: Path) -> Callable[..., Any]:
    from ba_tui.tui.app import ChatApp

    def make(**options: Any) -> ChatApp:
        options.setdefault("warm_up", False)
        options.setdefault("first_run_check", False)
        # Titles from the conversation cost a request after each first answer: only the
        # tests about them ask for it, so the others' server queues hold what they queue.
        auto_title = options.pop("auto_title", "off")
        config_file = home / "config.toml"
        written = config_file.read_text() if config_file.exists() else ""
        if "auto_title" not in written:
            # First: a key after a [table] header would belong to that table.
            config_file.write_text(f'auto_title = "{auto_title}"\n{written}')
        return ChatApp(store=store, config=load_config(), clock=clock, **options)

    return make


async def wait_for(pilot: Any, condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds (or fail after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.05)


async def send(pilot: Any, text: str) -> None:
    """Click the prompt box, type `text` and press Enter, as a user does."""
    await pilot.click("#prompt")
    await pilot.press(*text, "enter")


async def reply_done(pilot: Any) -> None:
    """Wait for the streaming reply to end and the screen to settle."""
    await wait_for(pilot, lambda: pilot.app.main.reply is None)
    await pilot.pause()


def screen_text(app: Any) -> str:
    """What the terminal shows now, as plain text (non-breaking spaces as spaces)."""
    strips = app.screen._compositor.render_strips()
    lines = ("".join(segment.text for segment in strip).rstrip() for strip in strips)
    return "\n".join(lines).replace("\u00a0", " ")


def rendered_segments(app: Any) -> list[str]:
    return [segment.text for strip in app.screen._compositor.render_strips() for segment in strip]


def seed(store: Store) -> None:
    """Two threads with fixed ids and times (snapshots must not drift)."""

    def thread(tid: str, title: str, provider: str, model: str, at: str) -> dict[str, Any]:
        return {
            "id": tid,
            "title": title,
            "provider": provider,
            "model": model,
            "system": None,
            "persona": None,
            "created_at": at,
            "updated_at": at,
        }

    def message(
        mid: str, tid: str, parent: str | None, role: str, text: str, at: str, **extra: Any
    ) -> dict[str, Any]:
        row = {
            "id": mid,
            "thread_id": tid,
            "parent_id": parent,
            "role": role,
            "parts": (Text(text),),
            "status": "complete",
            "created_at": at,
        }
        row.update(extra)
        return row

    reply = {
        "provider": "anthropic",
        "model": "claude-sonnet-5-5",
        "input_tokens": 1843,
        "output_tokens": 212,
        "ttft_ms": 412.0,
        "duration_ms": 2870.0,
        "finish_reason": "stop",
    }
    store.import_rows(
        [
            thread(
                "t1",
                "Plan the data migration",
                "anthropic",
                "claude-sonnet-5-5",
                "2026-11-22T11:40:00.000Z",
            ),
            thread(
                "t2",
                "Haiku about SQLite",
                "openai",
                "gpt-5.4-mini-2026-03-17",
                "2026-11-20T09:00:00.000Z",
            ),
        ],
        [
            message(
                "m1",
                "t1",
                None,
                "user",
                "How do I migrate 2 TB from MySQL to Postgres?",
                "2026-11-22T11:39:00.000Z",
            ),
            message(
                "m2",
                "t1",
                "m1",
                "assistant",
                "## A plan\n\n1. **Snapshot** the schema with `pg_dump`.\n"
                "2. Copy the data in batches.\n3. Switch traffic.\n\n"
                "```sql\nSELECT count(*) FROM orders;\n```\n\nAnything else?",
                "2026-11-22T11:40:00.000Z",
                **reply,
            ),
            message(
                "m3",
                "t2",
                None,
                "user",
                "A haiku about SQLite, please.",
                "2026-11-20T08:59:00.000Z",
            ),
            message(
                "m4",
                "t2",
                "m3",
                "assistant",
                "One file holds it all\nrows wait quietly on disk\nno server to wake",
                "2026-11-20T09:00:00.000Z",
                provider="openai",
                model="gpt-5.4-mini-2026-03-17",
                input_tokens=14,
                output_tokens=19,
                ttft_ms=380.0,
                duration_ms=910.0,
                status="cancelled",
            ),
        ],
    )


@pytest.fixture
def seeded(store: Store) -> Store:
    seed(store)
    return store
