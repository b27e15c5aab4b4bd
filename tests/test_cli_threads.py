"""`threads`, `search`, `export` and `import` as a user runs them: real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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
        store.finish_reply(
            reply.id, status="complete", content="A small marsupial.", reasoning="recall",
            input_tokens=20, output_tokens=6, cost=0.0003, finish_reason="stop",
        )  # fmt: skip
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
