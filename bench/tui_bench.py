"""TUI numbers: time to the first frame, and how fast the conversation view absorbs a stream.

    python bench/tui_bench.py             # everything (about two minutes)
    python bench/tui_bench.py startup     # first frame at 0 and 10,000 threads, 1M messages
    python bench/tui_bench.py stream      # tokens/s absorbed; per-token cost early vs late
    python bench/tui_bench.py paste       # a 1 MB paste into the prompt box
    python bench/tui_bench.py quit        # Ctrl+Q -> screen restored -> process gone
    python bench/tui_bench.py images      # open a thread with 20 attached images

First frame: the real TUI is started in a pseudo-terminal, both through the `ba-chat`
entry point and by calling `ba_tui.tui.app.run()` directly, and the clock stops when the
terminal has received the model indicator and the newest thread's title (the thread list
and the indicator are drawn). Median of several launches.

Stream: the real app (headless), with a reply widget fed events exactly as the turn
runner's callback feeds it. Per-token cost is the main thread's CPU time (flushes, layout,
drawing) per token, for tokens 0-500 and for 5,000-5,500, with tokens flushed in the
batches a 1,000 tokens/s stream gives.
Absorbed rate: tokens offered as fast as a local network could deliver them, counted until
the last one is on screen.

Quit: the real `ba-chat` in a pseudo-terminal against tests/servers; Ctrl+Q is pressed
idle (first frame + 3 s), at once (the SDK still importing in the background) and after
a reply (an SDK client open). Two clocks: until the terminal is given back (the
alternate screen left) and until the process has exited (the shell prompt is back).
"""

from __future__ import annotations

import asyncio
import os
import pty
import random
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

FAKE_ENV = {
    "ANTHROPIC_API_KEY": "bench-key-anthropic",
    "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
    "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    "TERM": "xterm-256color",
    "COLORTERM": "truecolor",
}


# --- first frame ----------------------------------------------------------------------------


def make_home(threads: int) -> Path:
    """A ba-chat home whose store holds `threads` threads of two messages each."""
    from ba_tui.messages import Text
    from ba_tui.store import Store, iso

    home = Path(tempfile.mkdtemp(prefix=f"ba-bench-{threads}-"))
    rows, messages = [], []
    for i in range(threads):
        at = iso(1_760_000_000_000 + i * 60_000)  # one a minute; the last is the newest
        rows.append(
            {
                "id": f"t{i:07d}",
                "title": f"Bench thread number {i}",
                "provider": "anthropic",
                "model": "claude-sonnet-5-5",
                "created_at": at,
                "updated_at": at,
            }
        )
        messages.append(
            {
                "id": f"u{i:07d}",
                "thread_id": f"t{i:07d}",
                "role": "user",
                "parts": (Text(f"question {i}"),),
                "status": "complete",
                "created_at": at,
            }
        )
        messages.append(
            {
                "id": f"a{i:07d}",
                "thread_id": f"t{i:07d}",
                "parent_id": f"u{i:07d}",
                "role": "assistant",
                "parts": (Text(f"answer {i} " * 40),),
                "status": "complete",
                "provider": "anthropic",
                "model": "claude-sonnet-5-5",
                "input_tokens": 20,
                "output_tokens": 80,
                "created_at": at,
            }
        )
    with Store.open(home / "ba-chat.db") as store:
        if rows:
            store.import_rows(rows, messages)
    return home


ENTRY = ("ba-chat", [str(Path(sys.executable).with_name("ba-chat"))])
DIRECT = ("run()", [sys.executable, "-c", "from ba_tui.tui.app import run; run()"])


def first_frame(
    home: Path,
    expect: list[bytes],
    command: list[str],
    timeout: float = 15.0,
    env_extra: dict[str, str] | None = None,
) -> float:
    """Seconds from launching `command` until the terminal has shown every `expect` string."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_"))}
    # An installed package has its bytecode cached; let every process write and use it
    # (this machine's shell sets PYTHONDONTWRITEBYTECODE, which recompiles ba_tui each run).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(FAKE_ENV, BA_CHAT_HOME=str(home), **(env_extra or {}))
    master, slave = pty.openpty()
    import fcntl

    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    elapsed = float("nan")
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
                if all(part in seen for part in expect):
                    elapsed = time.perf_counter() - start
                    break
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            while select.select([master], [], [], 0.2)[0]:
                if not os.read(master, 65536):
                    break
        except OSError:
            pass
        process.wait(timeout=10)
        os.close(master)
    return elapsed


BIG_HOME = Path(tempfile.gettempdir()) / "ba-bench-1m"


def big_home(path: Path = BIG_HOME) -> tuple[Path, str]:
    """A home with store_bench's 1,000,000-message store (built once, ~75 s, 1.5 GB, then
    reused), and the newest thread's title."""
    import sqlite3

    from store_bench import generate

    from ba_tui.store import Store

    db = path / "ba-chat.db"
    if not db.exists():
        print(f"  building a 1,000,000-message store at {db} (about 75 s, once)")
        path.mkdir(parents=True, exist_ok=True)
        with Store.open(db) as store:
            generate(store, 1_000_000, 10_000)
    with sqlite3.connect(db) as conn:
        (title,) = conn.execute(
            "SELECT title FROM threads ORDER BY updated_at DESC, id DESC LIMIT 1"
        ).fetchone()
    return path, title


def bench_startup(runs: int = 7) -> None:
    print("First frame (thread list + model indicator on the terminal), median of", runs)
    homes = []
    for count in (0, 10_000):
        home = make_home(count)
        expect = [b"claude-sonnet-5-5"]
        if count:
            expect.append(f"Bench thread number {count - 1}".encode())
        homes.append((f"{count:,} threads", home, expect))
    home, title = big_home()
    # The list shortens titles to its width: look for the start of the newest one.
    homes.append(("1,000,000 messages", home, [b"claude-sonnet-5-5", title[:18].encode()]))
    for label, home, expect in homes:
        for name, command in (ENTRY, DIRECT):
            times = [first_frame(home, expect, command) * 1000 for _ in range(runs)]
            median = statistics.median(times)
            print(
                f"  {label:>18}, {name:<7}: median {median:4.0f} ms"
                f"  (min {min(times):.0f}, max {max(times):.0f})"
            )
    bench_elia(runs)


ELIA = Path(os.environ.get("ELIA", "/work/bench-peers/elia/bin/elia"))


def bench_elia(runs: int) -> None:
    """Elia (elia-chat, a Textual chat app on SQLite) beside us: launch to its model name
    and chat history on the terminal, with an empty history. See bench/README.md."""
    if not ELIA.exists():
        print(f"  Elia: skipped, {ELIA} not found (set ELIA=/path/to/elia; see bench/README.md)")
        return
    home = Path(tempfile.mkdtemp(prefix="ba-bench-elia-"))
    env = {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "OPENAI_API_KEY": "bench-key-openai",
    }
    expect = [b"GPT-4o", b"History ("]
    first_frame(home, expect, [str(ELIA)], env_extra=env)  # creates its database
    times = [first_frame(home, expect, [str(ELIA)], env_extra=env) * 1000 for _ in range(runs)]
    print(
        f"  {'Elia 1.10.0, empty':>18}, {'elia':<7}: median {statistics.median(times):4.0f} ms"
        f"  (min {min(times):.0f}, max {max(times):.0f})"
    )


# --- streaming ------------------------------------------------------------------------------

SENTENCE = (
    "the model writes a reply token by token while the view keeps up with every line "
    "of markdown it receives including code lists tables and long paragraphs"
)
WORDS = SENTENCE.split()


def document(count: int, shape: str = "mixed", seed: int = 7) -> list[str]:
    """`count` tokens (word-sized pieces) of Markdown of a given shape. A mixed document
    repeats a 500-token stretch, so tokens 5,000-5,500 are the same text as 0-500 and
    only the length of the reply differs between the two."""
    if shape == "mixed" and count > 500:
        stretch = [*document(499, "mixed-stretch", seed), "\n\n"]
        return (stretch * (count // 500 + 1))[:count]
    rnd = random.Random(seed)
    out: list[str] = []

    def words(n: int) -> list[str]:
        return [rnd.choice(WORDS) + " " for _ in range(n)]

    while len(out) < count:
        if shape == "paragraph":  # one paragraph that never ends
            out += words(50)
        elif shape == "list":  # one list that never ends
            out += ["- ", *words(8), "\n"]
        elif shape == "code":  # one code block that never ends
            if not out:
                out.append("```python\n")
            out += [f"value_{len(out)} = compute(", "x, ", "y)", "\n"]
        else:
            kind = rnd.choice(("p", "p", "p", "list", "code", "heading", "table"))
            if count - len(out) < 60:
                kind = "p"  # a stretch ends with a finished paragraph
            if kind == "p":
                out += [*words(rnd.randint(25, 70)), "\n\n"]
            elif kind == "list":
                for _ in range(rnd.randint(3, 7)):
                    out += ["- ", *words(rnd.randint(5, 12)), "\n"]
                out.append("\n")
            elif kind == "code":
                out.append("```python\n")
                for i in range(rnd.randint(4, 14)):
                    out += [f"x{i} = ", "compute(", f"{i})", "\n"]
                out.append("```\n\n")
            elif kind == "heading":
                out += ["## ", *words(4), "\n\n"]
            else:
                out.append("| name | value |\n|---|---|\n")
                for i in range(rnd.randint(2, 5)):
                    out += [f"| row {i} ", f"| {i * 7} |\n"]
                out.append("\n")
    return out[:count]


async def _app():
    from ba_tui.config import Config
    from ba_tui.store import Store
    from ba_tui.tui.app import ChatApp

    home = Path(tempfile.mkdtemp(prefix="ba-bench-stream-"))
    os.environ.update(FAKE_ENV, BA_CHAT_HOME=str(home))
    store = Store.open(home / "ba-chat.db")
    return ChatApp(store=store, config=Config(), warm_up=False, first_run_check=False)


async def _reply_widget(app):
    from ba_tui.tui.widgets.conversation_view import ConversationView
    from ba_tui.tui.widgets.message import AssistantMessage

    widget = AssistantMessage(None, streaming=True, label="anthropic · claude-sonnet-5-5")
    await app.main.query_one(ConversationView).add(widget)
    return widget


async def steady_cost(shape: str, tokens: int = 5500, batch: int = 62) -> tuple[float, float]:
    """ms of main-thread CPU per token for tokens 0-500 and 5,000-5,500.

    Tokens go in batches of `batch` (what one 1/16 s flush takes at 1,000 tokens/s); after
    each batch the view flushes and draws a frame. The CPU clock runs over whole batches,
    so each window holds all the work its tokens caused, and nothing else."""
    from ba_tui.events import TextDelta

    toks = document(tokens, shape)
    app = await _app()
    windows = {"early": (0, 500), "late": (5000, 5500)}
    cost = {name: 0.0 for name in windows}
    async with app.run_test(size=(120, 40)):
        widget = await _reply_widget(app)
        for first in range(0, tokens, batch):
            last = min(first + batch, tokens)
            before = time.thread_time()
            for tok in toks[first:last]:
                widget.feed(TextDelta(tok))
            await widget.flush()
            await asyncio.sleep(0.02)  # a frame is drawn (the screen updates at 60 Hz)
            spent = time.thread_time() - before
            for name, (lo, hi) in windows.items():
                overlap = max(0, min(last, hi) - max(first, lo))
                cost[name] += spent * overlap / (last - first)
        await widget.finish(None, None, "complete")
    return cost["early"] / 500 * 1000, cost["late"] / 500 * 1000


async def absorbed(shape: str = "mixed", tokens: int = 10_000, burst: int = 200) -> float:
    """Tokens per second from the first token offered to the last one on screen, when
    tokens arrive in bursts of `burst` every 10 ms (up to 20,000 tokens/s)."""
    from ba_tui.events import TextDelta

    toks = document(tokens, shape)
    app = await _app()
    async with app.run_test(size=(120, 40)):
        widget = await _reply_widget(app)
        start = time.perf_counter()
        for i, tok in enumerate(toks):
            widget.feed(TextDelta(tok))
            if i % burst == burst - 1:
                await asyncio.sleep(0.01)
        await widget.finish(None, None, "complete")  # flushes whatever is still queued
        elapsed = time.perf_counter() - start
        assert widget.answer.text == "".join(toks)
    return tokens / elapsed


def bench_stream(repeats: int = 3) -> None:
    print("Streaming into the conversation view (headless, 120x40)")
    for shape in ("mixed", "paragraph", "list", "code"):
        runs = [asyncio.run(steady_cost(shape)) for _ in range(repeats)]
        early = statistics.median(r[0] for r in runs)
        late = statistics.median(r[1] for r in runs)
        print(
            f"  {shape:<9} CPU per token: tokens 0-500 {early:.3f} ms,"
            f" tokens 5,000-5,500 {late:.3f} ms  (late/early {late / early:.2f})"
        )
    for shape in ("mixed", "paragraph", "list", "code"):
        rates = [asyncio.run(absorbed(shape)) for _ in range(repeats)]
        print(f"  {shape:<9} absorbed: {statistics.median(rates):,.0f} tokens/s (10,000 tokens)")


# --- a big paste ----------------------------------------------------------------------------


class StallWatch:
    """The longest the event loop went without running a 5 ms heartbeat (a frozen UI)."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _beat(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            self.worst = max(self.worst, now - last - 0.005)
            last = now

    def start(self) -> None:
        self.worst = 0.0
        self._task = asyncio.get_running_loop().create_task(self._beat())

    def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
        return self.worst


async def paste(size: int = 1_000_000) -> dict[str, float]:
    """A `size`-byte paste (62,000 lines) into the prompt box: ms from the Paste event to
    the app having handled the next key, and the worst event-loop stall meanwhile; then
    Enter: to the next key, to the prompt drawn in the conversation, and the worst stall
    until its request has failed (against a closed port, after retries)."""
    from textual.events import Key, Paste

    from ba_tui.tui.widgets.message import UserMessage

    line = "requirement line\n"
    big = line * (size // len(line))
    app = await _app()
    watch = StallWatch()
    out: dict[str, float] = {}
    async with app.run_test(size=(120, 36)) as pilot:
        box = app.main.query_one("#prompt")
        box.focus()
        await pilot.pause()
        watch.start()
        start = time.perf_counter()
        # Posted as the terminal driver posts them, without waiting for the app to idle.
        app.post_message(Paste(big))
        app.post_message(Key("x", "x"))
        while not box.document.lines[-1].endswith("x"):
            await asyncio.sleep(0.001)
        out["paste_to_key_ms"] = (time.perf_counter() - start) * 1000
        await pilot.pause()
        out["paste_stall_ms"] = watch.stop() * 1000
        sent = getattr(box, "prompt", box.text)
        assert sent == big + "x", "the prompt is the pasted text"
        watch.start()
        start = time.perf_counter()
        app.post_message(Key("enter", "\r"))
        app.post_message(Key("y", "y"))
        while not box.document.lines[-1].endswith("y"):
            await asyncio.sleep(0.001)
        out["enter_to_key_ms"] = (time.perf_counter() - start) * 1000
        while not app.main.query(UserMessage):
            await asyncio.sleep(0.001)
        await pilot.pause()  # and drawn
        out["enter_to_shown_ms"] = (time.perf_counter() - start) * 1000
        while app.main.reply is not None:  # the request to a closed port fails, retried
            await asyncio.sleep(0.005)
        await pilot.pause()
        out["enter_stall_ms"] = watch.stop() * 1000
    return out


def bench_paste(repeats: int = 3) -> None:
    print("A 1 MB paste (62,000 lines) into the prompt box (headless, 120x36)")
    runs = [asyncio.run(paste()) for _ in range(repeats)]
    for key, label in (
        ("paste_to_key_ms", "paste -> next key handled"),
        ("paste_stall_ms", "  worst event-loop stall"),
        ("enter_to_key_ms", "Enter -> next key handled"),
        ("enter_to_shown_ms", "Enter -> the prompt drawn in the chat"),
        ("enter_stall_ms", "  worst event-loop stall"),
    ):
        values = [r[key] for r in runs]
        print(f"  {label:<40} median {statistics.median(values):7.0f} ms  (max {max(values):.0f})")


# --- quitting ----------------------------------------------------------------------------


def quit_times(url: str, wait: float, reply: bool) -> tuple[float, float]:
    """(seconds to the terminal restored, seconds to the process gone) after Ctrl+Q."""
    import fcntl

    home = make_home(0)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(FAKE_ENV, ANTHROPIC_BASE_URL=url, BA_CHAT_HOME=str(home))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    process = subprocess.Popen(
        ENTRY[1], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
        start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    seen = bytearray()

    def read_until(done, timeout: float = 30.0) -> None:
        end = time.perf_counter() + timeout
        while not done() and time.perf_counter() < end:
            if select.select([master], [], [], 0.01)[0]:
                try:
                    seen.extend(os.read(master, 65536))
                except OSError:
                    return

    try:
        read_until(lambda: b"claude-sonnet" in seen)
        if reply:
            os.write(master, b"hello\r")
            read_until(lambda: b"ttft" in seen)
        time.sleep(wait)
        mark = len(seen)
        start = time.perf_counter()
        os.write(master, b"\x11")  # Ctrl+Q
        read_until(lambda: b"\x1b[?1049l" in seen[mark:])
        restored = time.perf_counter() - start
        read_until(lambda: process.poll() is not None)
        gone = time.perf_counter() - start
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        os.close(master)
    return restored, gone


def bench_quit(runs: int = 5) -> None:
    from tests.servers import FakeServer

    print(f"Ctrl+Q to the terminal restored / to the process gone (real ba-chat, median of {runs})")
    with FakeServer() as server:
        for label, wait, reply in (
            ("idle (first frame + 3 s)", 3.0, False),
            ("at once (SDK importing)", 0.0, False),
            ("after a reply", 1.0, True),
        ):
            times = [quit_times(server.url, wait, reply) for _ in range(runs)]
            restored = statistics.median(t[0] for t in times) * 1000
            gone = [t[1] * 1000 for t in times]
            median = statistics.median(gone)
            print(
                f"  {label:<26} restored {restored:5.0f} ms · gone {median:5.0f} ms"
                f" (max {max(gone):.0f})"
            )


# --- a thread with images ---------------------------------------------------------------------


def image_thread(store, thread_id: str, count: int, images: bool) -> None:
    """`count` exchanges; with `images` each prompt carries its own 1600x1000 PNG (a
    gradient, so it does not compress to nothing: ~1 MB each, as screenshots are)."""
    import hashlib
    import io

    from PIL import Image

    from ba_tui.messages import Attachment, Blob, Text

    at = "2026-11-22T11:00:00.000Z"
    messages, blobs = [], []
    for n in range(count):
        parts: list = [Text(f"Prompt {n}: what does this screen show?")]
        if images:
            image = Image.linear_gradient("L").resize((1600, 1000)).convert("RGB")
            image.putpixel((n, n), (n, 0, 0))  # a blob of its own per message
            noise = Image.effect_noise((1600, 1000), 40).convert("RGB")
            image = Image.blend(image, noise, 0.3)
            out = io.BytesIO()
            image.save(out, "PNG")
            data = out.getvalue()
            sha = hashlib.sha256(data).hexdigest()
            blobs.append((sha, "image/png", Blob(data)))
            parts.insert(0, Attachment(f"screen-{n}.png", "image/png", len(data), sha))
        user, reply = f"{thread_id}-u{n}", f"{thread_id}-a{n}"
        parent = f"{thread_id}-a{n - 1}" if n else None
        messages.append(
            {
                "id": user,
                "thread_id": thread_id,
                "parent_id": parent,
                "role": "user",
                "parts": tuple(parts),
                "status": "complete",
                "created_at": at,
            }
        )
        messages.append(
            {
                "id": reply,
                "thread_id": thread_id,
                "parent_id": user,
                "role": "assistant",
                "parts": (Text(f"It shows form number {n}, with three fields."),),
                "status": "complete",
                "provider": "anthropic",
                "model": "claude-sonnet-5-5",
                "created_at": at,
            }
        )
    store.import_blobs(blobs)
    thread = {
        "id": thread_id,
        "title": thread_id,
        "provider": "anthropic",
        "model": "claude-sonnet-5-5",
        "system": None,
        "persona": None,
        "created_at": at,
        "updated_at": at,
    }
    store.import_rows([thread], messages)


async def open_times(count: int = 20, runs: int = 5) -> dict[str, list[float]]:
    """ms for `open_thread` to return (the thread laid out), with and without images, and
    until every picture is drawn; the longest event-loop stall meanwhile (5 ms beat)."""
    from ba_tui.tui.widgets.attachments import Picture

    app = await _app()
    image_thread(app.store, "with-images", count, True)
    image_thread(app.store, "text-only", count, False)
    times: dict[str, list[float]] = {
        "text": [],
        "text_stall": [],
        "images": [],
        "drawn": [],
        "stall": [],
    }
    async with app.run_test(size=(120, 40)) as pilot:
        for run in range(runs + 1):  # the first run imports textual-image: measured apart
            beat = StallWatch()
            beat.start()
            start = time.perf_counter()
            await app.main.open_thread("text-only")
            text = time.perf_counter() - start
            await pilot.pause()
            text_stall = beat.stop() * 1000
            beat = StallWatch()
            beat.start()
            start = time.perf_counter()
            await app.main.open_thread("with-images")
            opened = time.perf_counter() - start
            pictures = list(app.main.query(Picture))
            while not all(p.image is not None for p in pictures):
                await asyncio.sleep(0.005)
            drawn = time.perf_counter() - start
            await pilot.pause()
            stall = beat.stop() * 1000
            key = "first" if run == 0 else None
            if key:
                times["first"] = [opened * 1000, drawn * 1000, stall]
                continue
            times["text"].append(text * 1000)
            times["text_stall"].append(text_stall)
            times["images"].append(opened * 1000)
            times["drawn"].append(drawn * 1000)
            times["stall"].append(stall)
    return times


def bench_images(count: int = 20) -> None:
    times = asyncio.run(open_times(count))
    med = {key: statistics.median(values) for key, values in times.items() if key != "first"}
    first = times["first"]
    print(f"Open a thread of {count} prompts, each with a 1600x1000 PNG (headless, 120x40)")
    print(
        f"  laid out: {med['images']:.0f} ms (the same thread without images {med['text']:.0f} ms)"
    )
    print(
        f"  every picture drawn: {med['drawn']:.0f} ms;"
        f" longest event-loop stall {med['stall']:.0f} ms (without images"
        f" {med['text_stall']:.0f} ms: laying the thread out)"
    )
    print(
        f"  first time (textual-image imported): laid out {first[0]:.0f} ms, drawn "
        f"{first[1]:.0f} ms, stall {first[2]:.0f} ms"
    )


if __name__ == "__main__":
    which = sys.argv[1:] or ["startup", "stream", "paste", "quit", "images"]
    if "startup" in which:
        bench_startup()
    if "stream" in which:
        bench_stream()
    if "paste" in which:
        bench_paste()
    if "quit" in which:
        bench_quit()
    if "images" in which:
        bench_images()
