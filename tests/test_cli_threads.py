"""`threads`, `search`, `export` and `import` as a user runs them: real subprocesses."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from ba_tui.messages import reply_parts
from ba_tui.store import Store
from tests.conftest import make_env, run_cli

ROOT = Path(__file__).resolve().parent.parent


def run(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`ba-chat ARGS` in a subprocess, with `home` as BA_CHAT_HOME and no provider reachable."""
    return run_cli(*args, env=make_env("http://127.0.0.1:9", home), input=stdin)


def one_line_error(done: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert done.returncode == code, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ba-chat: error: "), done.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture
def filled(home: Path) -> dict[str, str]:
    """A home with two threads: one with a reply and an evil title, one empty."""
    with Store.open(home / "ba-chat.db") as store:
        first = store.create_thread(
            title="Evil \x1b]0;pwned\x07 title", provider="anthropic", model="claude"
        )
        user = store.add_message(first.id, role="user", content="What is a quokka?", parent_id=None)
        reply = store.start_reply(first.id, parent_id=user.id, provider="anthropic", model="claude")
        store.finish_reply(replace(
            reply, status="complete",
            parts=reply_parts("A small marsupial.", "recall", "anthropic"),
            input_tokens=20, output_tokens=6, cost=0.0003, finish_reason="stop",
        ))  # fmt: skip
        second = store.create_thread(title="Empty one", provider="openai", model="gpt-4o")
    return {"first": first.id, "second": second.id, "reply": reply.id}


def test_list_show_rename_delete(home: Path, filled: dict[str, str]) -> None:
    listed = run(home, "threads", "list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["ID", "UPDATED", "MSGS", "TOKENS", "MODEL", "TITLE"]
    assert rows[0].startswith(filled["second"][:8]) and "openai/gpt-4o" in rows[0]
    assert "anthropic/claude" in rows[1] and " 2 " in rows[1] and " 26 " in rows[1]

    as_json = json.loads(run(home, "threads", "list", "--json", "--limit", "1").stdout)
    assert [t["id"] for t in as_json] == [filled["second"]]
    assert set(as_json[0]) >= {"id", "title", "provider", "model", "message_count",
                               "updated_at", "total_tokens"}  # fmt: skip

    shown = json.loads(run(home, "threads", "show", filled["first"][:12], "--json").stdout)
    assert shown["title"] == "Evil \x1b]0;pwned\x07 title"
    reply = shown["messages"][1]
    assert (reply["reasoning"], reply["cost"], reply["pid"]) == ("recall", 0.0003, None)
    human = run(home, "threads", "show", filled["first"])
    assert "A small marsupial." in human.stdout and "20 in / 6 out" in human.stdout

    renamed = run(home, "threads", "rename", filled["first"], "Marsupials")
    assert renamed.returncode == 0 and "Marsupials" in renamed.stdout

    refused = run(home, "threads", "delete", filled["first"])  # stdin is not a terminal
    one_line_error(refused, 2, "--yes")
    deleted = run(home, "threads", "delete", filled["first"], "--yes")
    assert deleted.returncode == 0, deleted.stderr
    with Store.open(home / "ba-chat.db") as store:
        assert [t.id for t in store.list_threads()] == [filled["second"]]
        assert store.search("quokka") == []


def test_unknown_thread_is_one_line_exit_2(home: Path, filled: dict[str, str]) -> None:
    one_line_error(run(home, "threads", "show", "ffffffff"), 2, "no thread ffffffff")


def test_search_human_json_and_hostile(home: Path, filled: dict[str, str]) -> None:
    found = run(home, "search", "quokka")
    assert found.returncode == 0
    assert "What is a [quokka]?" in found.stdout and filled["first"][:8] in found.stdout
    hits = json.loads(run(home, "search", "marsupial", "--json").stdout)
    assert [(h["message_id"], h["role"]) for h in hits] == [(filled["reply"], "assistant")]
    hostile = run(home, "search", "--", '" NEAR( - AND * OR')  # FTS syntax, searched literally
    assert hostile.returncode == 0 and hostile.stdout == "", hostile.stderr
    assert hostile.stderr.startswith("no messages match")


def test_search_finds_word_forms_and_marks_them(home: Path, filled: dict[str, str]) -> None:
    found = run(home, "search", "marsupials")  # piped: the matched words in [brackets]
    assert found.returncode == 0, found.stderr
    assert "  A small [marsupial]." in found.stdout.splitlines()
    assert "What is a [quokka]?" in run(home, "search", "quok").stdout
    hits = json.loads(run(home, "search", "marsupials", "--json").stdout)
    assert [(h["message_id"], h["matched"]) for h in hits] == [(filled["reply"], ["marsupial"])]


def test_text_starting_with_a_dash_says_to_put_double_dash_before_it(
    home: Path, filled: dict[str, str]
) -> None:
    for args in (("search", "-quokka"), ("search", "-n", "1", "-quokka")):
        one_line_error(
            run(home, *args),
            2,
            "no such option: -quokka; if -quokka is text, not an option, put -- before it: "
            "ba-chat search -- -quokka",
        )
    one_line_error(run(home, "search", "--jsn"), 2, "(did you mean --json?)")
    one_line_error(run(home, "ask", "-1 * -1"), 2, "put -- before it: ba-chat ask -- '-1 * -1'")
    found = run(home, "search", "-n", "1", "--", "-quokka")
    assert found.returncode == 0, found.stderr
    assert "What is a [quokka]?" in found.stdout


def test_export_import_round_trip_through_the_cli(
    home: Path, tmp_path: Path, filled: dict[str, str]
) -> None:
    target = tmp_path / "all.json"
    done = run(home, "export", "--all", "-o", str(target))
    assert done.returncode == 0, done.stderr
    first = json.loads(target.read_text(encoding="utf-8"))
    assert first["format"] == "ba-chat" and len(first["threads"]) == 2

    fresh = tmp_path / "fresh"
    imported = run(fresh, "import", str(target))
    assert imported.returncode == 0, imported.stderr
    assert "imported 2 thread(s) and 2 message(s)" in imported.stdout
    again = run(fresh, "import", str(target))
    assert "imported 0 thread(s) and 0 message(s)" in again.stdout
    assert "2 thread(s) were already here" in again.stdout

    second = json.loads(run(fresh, "export", "--all", "--format", "json").stdout)
    first.pop("exported_at"), second.pop("exported_at")
    assert second == first

    markdown = run(fresh, "export", filled["first"][:12])
    assert markdown.stdout.startswith("# Evil") and "A small marsupial." in markdown.stdout


def test_export_needs_threads_and_a_writable_path(
    home: Path, tmp_path: Path, filled: dict[str, str]
) -> None:
    one_line_error(run(home, "export"), 2, "--all")
    missing_dir = tmp_path / "no" / "such" / "dir.json"
    one_line_error(run(home, "export", "--all", "-o", str(missing_dir)), 2, "cannot write")
    assert not missing_dir.parent.exists()


def test_an_unknown_extension_names_the_formats_and_writes_nothing(
    home: Path, tmp_path: Path, filled: dict[str, str]
) -> None:
    page = tmp_path / "exp.html"
    one_line_error(
        run(home, "export", "--all", "-o", str(page)),
        2,
        "cannot tell which format to write to",
        ".md, .json or .jsonl",
        "--format md, json or jsonl",
    )
    assert [p.name for p in tmp_path.iterdir() if "exp" in p.name] == []  # no temporary file
    done = run(home, "export", "--all", "-o", str(page), "--format", "md")  # said: written
    assert done.returncode == 0, done.stderr
    assert page.read_text(encoding="utf-8").startswith("# Evil")


def test_exporting_an_empty_store_says_so(home: Path, tmp_path: Path) -> None:
    """Exit 0 and a valid, empty export: an empty store is a state, not a failure, and a
    backup script that exports then copies the file keeps working on a fresh install."""
    shown = run(home, "export", "--all")
    assert (shown.returncode, shown.stdout) == (0, "")
    assert shown.stderr == "no threads to export: the store is empty\n"
    target = tmp_path / "backup.jsonl"
    done = run(home, "export", "--all", "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert (
        done.stderr
        == f"no threads to export: the store is empty (wrote an empty export to {target})\n"
    )
    imported = run(tmp_path / "fresh", "import", str(target))
    assert "imported 0 thread(s) and 0 message(s)" in imported.stdout, imported.stderr


def test_bad_import_files_leave_the_store_alone(
    home: Path, tmp_path: Path, filled: dict[str, str]
) -> None:
    db = home / "ba-chat.db"
    with Store.open(db) as store:
        before = [(t, store.messages(t.id)) for t in store.list_threads()]
    one_line_error(run(home, "import", str(tmp_path / "missing.json")), 2, "no such file")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "ba-chat", "version": 1, "threads": [{"id": 1}]}')
    one_line_error(run(home, "import", str(broken)), 2, "cannot import", "id is not text")
    with Store.open(db) as store:
        assert [(t, store.messages(t.id)) for t in store.list_threads()] == before


def test_importing_a_markdown_export_says_which_files_import(
    home: Path, tmp_path: Path, filled: dict[str, str]
) -> None:
    notes = tmp_path / "notes.md"
    assert run(home, "export", "--all", "-o", str(notes)).returncode == 0
    renamed = tmp_path / "notes.txt"  # the same export under another name
    renamed.write_bytes(notes.read_bytes())
    for path in (notes, renamed):
        done = run(tmp_path / "fresh", "import", str(path))
        one_line_error(done, 2, "Markdown", "json", "jsonl", "conversations.json")
        assert "not JSON" not in done.stderr
    assert not (tmp_path / "fresh" / "ba-chat.db").exists()


def test_chatgpt_import_says_what_it_left_out(home: Path, tmp_path: Path) -> None:
    from tests.test_export import CHATGPT

    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(CHATGPT), encoding="utf-8")
    done = run(home, "import", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"imported 2 thread(s) and 4 message(s) from {path} (ChatGPT export); left out:"
        " 1 hidden system message(s), 1 image(s) (noted as [image]),"
        " 2 code-interpreter or tool step(s), 1 message(s) on other branches"
    )


def test_not_a_database_is_one_line_and_untouched(home: Path) -> None:
    db = home / "ba-chat.db"
    db.write_bytes(b"my notes, not a database\n")
    one_line_error(run(home, "threads", "list"), 1, "is not a ba-chat database", str(db))
    assert db.read_bytes() == b"my notes, not a database\n"


_PROBE = """
import sys
from ba_tui.cli import app
try:
    app(["threads", "--help"])
except SystemExit:
    pass
print("sqlite_utils" in sys.modules, "ba_tui.store" in sys.modules)
"""


def test_threads_help_imports_no_store() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip().splitlines()[-1] == "False False"
    assert "list" in done.stdout and "delete" in done.stdout


def run_on_terminal(home: Path, *args: str, answer: str = "") -> tuple[int, str]:
    """Run with stdin and stdout on a pseudo-terminal, as in an interactive shell."""
    import os
    import pty

    main, child = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "ba_tui", *args],
        env=make_env("http://127.0.0.1:9", home, COLUMNS="200"),
        stdin=child,
        stdout=child,
        stderr=child,
        cwd=ROOT,
    )
    os.close(child)
    if answer:
        os.write(main, answer.encode())
    output = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the terminal's other end closed
            break
        if not chunk:
            break
        output += chunk
    os.close(main)
    return process.wait(timeout=30), output.decode("utf-8", "replace")


def test_terminal_output_drops_escapes_and_delete_asks(home: Path, filled: dict[str, str]) -> None:
    code, listed = run_on_terminal(home, "threads", "list")
    assert code == 0
    assert "Evil title" in listed and "\x1b]0;" not in listed and "\x07" not in listed
    code, asked = run_on_terminal(home, "threads", "delete", filled["second"], answer="y\n")
    assert code == 0, asked
    assert f"Delete thread {filled['second']} “Empty one” and its 0 messages? [y/N]" in asked
    with Store.open(home / "ba-chat.db") as store:
        assert [t.id for t in store.list_threads()] == [filled["first"]]


# --- export targets: symlinks, FIFOs, devices, folders, full disks ------------------------


def exported(home: Path) -> str:
    """The JSON export of `home` as stdout carries it, to compare file exports against."""
    done = run(home, "export", "--all", "--format", "json")
    assert done.returncode == 0, done.stderr
    return done.stdout


def no_exported_at(text: str) -> dict[str, object]:
    document = json.loads(text)
    document.pop("exported_at")
    return document


def char_device(tmp_path: Path, name: str, minor: int) -> Path:
    """A private copy of /dev/null (minor 3) or /dev/full (7): a regression that replaces
    the node then breaks only this copy, never the machine's. Without root, the real one."""
    import os
    import stat

    node = tmp_path / name
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except PermissionError:
        return Path("/dev") / name
    return node


def test_export_through_a_symlink_writes_its_target_and_keeps_the_link(
    home: Path, tmp_path: Path, filled: dict[str, str]
) -> None:
    target = tmp_path / "kept" / "real.json"
    target.parent.mkdir()
    target.write_text("previous export\n")
    link = tmp_path / "link.json"
    link.symlink_to(Path("kept") / "real.json")  # relative, as people usually make them
    done = run(home, "export", "--all", "-o", str(link))
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"exported all threads (2 messages) to {link} (a symlink: the file written is "
        f"{tmp_path / 'kept' / 'real.json'})"
    ]
    assert link.is_symlink() and link.readlink() == Path("kept") / "real.json"
    assert no_exported_at(target.read_text()) == no_exported_at(exported(home))
    assert sorted(p.name for p in target.parent.iterdir()) == ["real.json"]


def test_export_into_a_fifo_streams_and_leaves_the_fifo(
    home: Path, tmp_path: Path, filled: dict[str, str]
) -> None:
    import os
    import stat
    import threading

    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    received: list[bytes] = []
    # Opening a FIFO waits for its writer: the reader runs beside the export.
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    done = run(home, "export", "--all", "-o", str(fifo))
    reader.join(timeout=30)
    assert done.returncode == 0, done.stderr
    assert not reader.is_alive(), "nothing was ever written to the FIFO"
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert no_exported_at(received[0].decode()) == no_exported_at(exported(home))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "pipe.json"]


def test_export_to_dev_null_leaves_the_device(
    home: Path, tmp_path: Path, filled: dict[str, str]
) -> None:
    import os
    import stat

    null = char_device(tmp_path, "null", 3)
    done = run(home, "export", "--all", "-o", str(null))
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"exported all threads (2 messages) to {null}\n"
    assert stat.S_ISCHR(null.lstat().st_mode) and null.stat().st_rdev == os.makedev(1, 3)


def test_export_to_a_terminal_is_refused(home: Path, filled: dict[str, str]) -> None:
    """Written as is, a model's escape sequences would run; stdout makes them inert."""
    import os
    import pty

    main, child = pty.openpty()
    try:
        done = run(home, "export", "--all", "-o", os.ttyname(child))
    finally:
        os.close(main), os.close(child)
    one_line_error(done, 2, "it is a terminal", "leave out -o")


def test_export_to_a_folder_is_one_line(home: Path, tmp_path: Path, filled: dict[str, str]) -> None:
    one_line_error(run(home, "export", "--all", "-o", str(tmp_path)), 2, "it is a folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]


def test_export_to_dev_full_is_one_line_exit_1(
    home: Path, tmp_path: Path, filled: dict[str, str]
) -> None:
    import stat

    full = char_device(tmp_path, "full", 7)
    one_line_error(run(home, "export", "--all", "-o", str(full)), 1, f"no space left on {full}")
    assert stat.S_ISCHR(full.lstat().st_mode)


def test_export_to_a_full_disk_keeps_the_previous_file(
    home: Path, tmp_path: Path, small_disk
) -> None:
    with Store.open(home / "ba-chat.db") as store:
        thread = store.create_thread(title="big", provider="openai", model="gpt-4o")
        store.add_message(thread.id, role="user", content="x" * 200_000, parent_id=None)
    disk = small_disk("64k", tmp_path / "disk")
    previous = disk / "all.json"
    previous.write_text("the export from yesterday\n")
    done = run(home, "export", "--all", "-o", str(previous))
    one_line_error(done, 1, f"the disk holding {previous} is full ({previous} is unchanged)")
    assert "free some space and try again" in done.stderr
    assert previous.read_text() == "the export from yesterday\n"
    assert [p.name for p in disk.iterdir()] == ["all.json"]  # no temporary file left
    fresh = disk / "new.json"
    done = run(home, "export", "--all", "-o", str(fresh))
    one_line_error(done, 1, f"the disk holding {fresh} is full (nothing was written)")
    assert [p.name for p in disk.iterdir()] == ["all.json"]


def _count(db: Path, sql: str) -> int:
    import sqlite3

    with closing(sqlite3.connect(db, timeout=5)) as conn:
        return conn.execute(sql).fetchone()[0]


def test_an_ask_during_a_large_import_gets_the_lock(
    server, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Turns run back to back, each waiting at most 1 s for the write lock, while
    `ba-chat import` writes 30,000 rows (one transaction of several seconds before imports
    were batched). Every turn must finish `complete`, some of them mid-import."""
    import asyncio

    from ba_tui.config import load_config
    from ba_tui.conversation import run_turn
    from ba_tui.providers import resolve

    size = 15_000
    thread = {"provider": "openai", "model": "gpt-4o", "created_at": "2026-01-01T00:00:00.000Z"}
    lines = ['{"format": "ba-chat", "version": 1}']
    for number in range(size):
        lines.append(json.dumps({"type": "thread", "id": f"imp{number}", **thread}))
        for index in range(2):
            row = {"type": "message", "id": f"imp{number}m{index}", "thread_id": f"imp{number}"}
            row |= {"role": "user", "content": f"words {number} {index}", "created_at": "2026"}
            lines.append(json.dumps(row))
    source = tmp_path / "big.jsonl"
    source.write_text("\n".join(lines) + "\n")
    env = make_env(server.url, home)
    for name in ("BA_CHAT_HOME", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.setenv(name, env[name])
    target = resolve("openai", "gpt-4o-mini", load_config())
    db = home / "ba-chat.db"
    with Store.open(db, busy_timeout=1.0) as store:
        importer = subprocess.Popen(
            [sys.executable, "-m", "ba_tui", "import", str(source)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        statuses, mid_import = [], 0
        while importer.poll() is None:
            thread_id = store.create_thread(title="alongside", provider="openai", model="m").id
            turn = asyncio.run(run_turn(target, "hi", store=store, thread_id=thread_id))
            statuses.append((turn.status, turn.error and turn.error.line()))
            imported = _count(db, "SELECT count(*) FROM threads")
            mid_import += 1 < imported - len(statuses) < size
        out, err = importer.communicate(timeout=60)
        assert importer.returncode == 0, err
        assert out.startswith(f"imported {size} thread(s) and {2 * size:,} message(s)")
        assert statuses and set(statuses) == {("complete", None)}
        assert mid_import > 0  # the turns really ran while the import was writing
    replies = "SELECT count(*) FROM messages WHERE role = 'assistant' AND status = 'complete'"
    assert _count(db, replies) == len(statuses)


def test_an_import_stopped_by_a_full_disk_says_how_far_and_a_rerun_finishes(
    home: Path, tmp_path: Path, small_disk
) -> None:
    size = 2000
    text = "bread " * 150  # ~1 KB a message: 2 MB of text for a 1 MB disk
    thread = {"provider": "openai", "model": "gpt-4o", "created_at": "2026-01-01T00:00:00.000Z"}
    lines = ['{"format": "ba-chat", "version": 1}']
    for number in range(size):
        lines.append(json.dumps({"type": "thread", "id": f"imp{number}", **thread}))
        row = {"type": "message", "id": f"imp{number}m", "thread_id": f"imp{number}"}
        row |= {"role": "user", "content": f"{number} {text}", "created_at": "2026"}
        lines.append(json.dumps(row))
    source = tmp_path / "big.jsonl"
    source.write_text("\n".join(lines) + "\n")
    small_disk("1m")
    stopped = run(home, "import", str(source))
    assert stopped.returncode == 1
    (line,) = stopped.stderr.strip().splitlines()
    match = re.fullmatch(
        r"ba-chat: error: (.*); (\d+) thread\(s\) and ([\d,]+) message\(s\) were imported"
        r" before it stopped; run the same import again to finish: what is already here is"
        r" skipped",
        line,
    )
    assert match, line
    head, threads, messages = match.groups()
    assert head == f"the disk holding {home / 'ba-chat.db'} is full"
    assert 0 < int(threads) < size and int(messages.replace(",", "")) == int(threads)
    small_disk("64m")
    assert _count(home / "ba-chat.db", "SELECT count(*) FROM threads") == int(threads)
    finished = run(home, "import", str(source))
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.startswith(f"imported {size - int(threads)} thread(s) and ")
    assert _count(home / "ba-chat.db", "SELECT count(*) FROM messages") == size
