"""Exports people can read and keep, and imports that bring every field (or nothing) back."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from ba_tui.export import ExportError, export, import_file, open_output, output_for, read_file
from ba_tui.messages import reply_parts
from ba_tui.store import Store
from ba_tui.store.transfer import EXPORTED_MESSAGE_FIELDS

STAMP = "2026-11-22T00:00:00.000Z"


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "a" / "ba-chat.db") as opened:
        yield opened


@pytest.fixture
def empty(tmp_path: Path):
    with Store.open(tmp_path / "b" / "ba-chat.db") as opened:
        yield opened


def fill(store: Store) -> list[str]:
    """Two threads covering every field: branches, reasoning, odd text, failed replies."""
    first = store.create_thread(
        title="Ünïcode & <tags> «»", provider="anthropic", model="claude", system="Be terse.",
        persona="pirate",
    )  # fmt: skip
    user = store.add_message(first.id, role="user", content="Hi\x1b[31m\ttab\u2028", parent_id=None)
    reply = store.start_reply(first.id, parent_id=user.id, provider="anthropic", model="claude")
    store.finish_reply(replace(
        reply, status="complete",
        parts=reply_parts("Ahoy 🙂 \x85 \"quoted\" \\", "hmm\nyes", "anthropic", "c2ln"),
        input_tokens=12, output_tokens=7, reasoning_tokens=3,
        cache_read_tokens=0, cache_write_tokens=1843, cost=0.1 + 0.2, ttft_ms=123.456,
        duration_ms=1e-7, finish_reason="stop",
    ))  # fmt: skip
    retry = store.start_reply(first.id, parent_id=user.id, provider="openai", model="gpt-4o")
    store.finish_reply(
        replace(retry, status="partial", parts=reply_parts("Ah", None, "openai"), error="cut off")
    )
    second = store.create_thread(title="", provider="ollama", model="llama3.2")
    store.add_message(second.id, role="system", content="", parent_id=None)
    return [first.id, second.id]


def dump(store: Store, fmt: str, ids: list[str] | None = None) -> str:
    out = io.StringIO()
    export(store, ids, fmt, out, exported_at=STAMP)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_export_import_export_is_identical(store, empty, tmp_path, fmt) -> None:
    fill(store)
    first = dump(store, fmt)
    path = tmp_path / f"export.{fmt}"
    path.write_text(first, encoding="utf-8")
    result = import_file(empty, path)
    assert (result.threads_added, result.messages_added) == (2, 4)
    assert dump(empty, fmt) == first
    # Both formats carry the same data.
    other = "jsonl" if fmt == "json" else "json"
    assert dump(empty, other) == dump(store, other)
    # Importing again adds nothing and changes nothing.
    again = import_file(empty, path)
    assert (again.threads, again.messages, again.threads_added, again.messages_added) == (
        2, 4, 0, 0,
    )  # fmt: skip
    assert dump(empty, fmt) == first


def test_json_document_shape(store) -> None:
    ids = fill(store)
    document = json.loads(dump(store, "json"))
    assert {k: document[k] for k in ("format", "version", "exported_at")} == {
        "format": "ba-chat",
        "version": 2,
        "exported_at": STAMP,
    }
    first = document["threads"][0]
    assert first["id"] == ids[0] and first["persona"] == "pirate"
    reply = first["messages"][1]
    assert "pid" not in reply
    assert reply["content"] == 'Ahoy 🙂 \x85 "quoted" \\'
    assert (reply["cache_read_tokens"], reply["cache_write_tokens"]) == (0, 1843)
    signed = {"type": "reasoning", "text": "hmm\nyes", "provider": "anthropic"}
    assert reply["parts"][0] == signed | {"meta": {"signature": "c2ln"}}
    assert reply["ttft_ms"] == 123.456
    assert first["messages"][0]["reasoning_tokens"] is None
    # every stored field but pid, and the text and reasoning of the parts
    assert set(first["messages"][0]) == {*EXPORTED_MESSAGE_FIELDS, "content", "reasoning"}


def test_jsonl_is_one_record_per_line(store) -> None:
    fill(store)
    text = dump(store, "jsonl")
    # The content holds U+2028 and U+0085: escaped, so even splitlines() sees whole records.
    assert text.splitlines() == text.split("\n")[:-1]
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0] == {"format": "ba-chat", "version": 2, "exported_at": STAMP}
    assert [line.get("type") for line in lines[1:]] == [
        "thread", "message", "message", "message", "thread", "message",
    ]  # fmt: skip
    assert lines[2]["thread_id"] == lines[1]["id"]


def test_export_chosen_threads_only(store) -> None:
    ids = fill(store)
    document = json.loads(dump(store, "json", [ids[1]]))
    assert [t["id"] for t in document["threads"]] == [ids[1]]


def test_markdown_reads_well(store) -> None:
    fill(store)
    text = dump(store, "md")
    assert text.startswith("# Ünïcode & <tags> «»\n")
    assert "- model: anthropic / claude" in text
    assert "<details><summary>System prompt</summary>\n\nBe terse.\n\n</details>" in text
    # The current branch is the newest reply (the partial retry); the other is noted.
    assert "## Assistant · gpt-4o" in text and "*partial* — cut off" in text
    assert "Ahoy" not in text and "1 more message(s) on other branches" in text
    assert "\n---\n" in text and "# Untitled" in text


def test_markdown_folds_reasoning(store) -> None:
    thread = store.create_thread(title="t", provider="anthropic", model="claude")
    reply = store.start_reply(thread.id, parent_id=None, provider="anthropic", model="claude")
    store.finish_reply(replace(
        reply, status="complete", parts=reply_parts("42", "think", "anthropic"),
        input_tokens=1200, output_tokens=34, cost=0.01,
    ))  # fmt: skip
    text = dump(store, "md")
    assert "<details><summary>Reasoning</summary>\n\nthink\n\n</details>\n\n42" in text
    assert "1,234 tokens · $0.0100" in text


def test_output_file_appears_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError), open_output(target) as handle:
        handle.write("half")
        raise RuntimeError("export failed")
    assert list(tmp_path.iterdir()) == []
    with open_output(target) as handle:
        handle.write("whole")
    assert target.read_text() == "whole" and list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize("where", ["missing/dir/out.json", "."])
def test_unwritable_output_is_a_usage_error(tmp_path: Path, where: str) -> None:
    with pytest.raises(ExportError) as refused, open_output(tmp_path / where):
        pass
    assert refused.value.exit_code == 2 and "cannot write" in refused.value.line()


def test_exports_go_only_to_files_fifos_and_character_devices(tmp_path: Path) -> None:
    import socket

    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(tmp_path / "socket"))
        with pytest.raises(ExportError, match="it is not a regular file"):
            output_for(tmp_path / "socket")
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(ExportError, match="loop of symlinks"):
        output_for(tmp_path / "a")
    (tmp_path / "dangling").symlink_to("missing/out.json")
    with pytest.raises(ExportError) as refused, open_output(tmp_path / "dangling"):
        pass
    assert refused.value.line() == (
        f"cannot write {tmp_path / 'missing' / 'out.json'} (where the symlink "
        f"{tmp_path / 'dangling'} leads): No such file or directory"
    )
    (tmp_path / "new").symlink_to("new.json")  # a link to a file not made yet, as `>` does
    with open_output(tmp_path / "new") as handle:
        handle.write("made")
    assert (tmp_path / "new").is_symlink() and (tmp_path / "new.json").read_text() == "made"


CHATGPT = [
    {
        "title": "Bread  baking",
        "create_time": 1700000000.123,
        "update_time": 1700000500.5,
        "conversation_id": "conv-1",
        "default_model_slug": "gpt-4o",
        "current_node": "a2",
        "mapping": {
            "root": {"id": "root", "message": None, "parent": None, "children": ["sys"]},
            "sys": {
                "id": "sys",
                "parent": "root",
                "children": ["u1"],
                "message": {
                    "id": "sys",
                    "author": {"role": "system"},
                    "create_time": None,
                    "content": {"content_type": "text", "parts": [""]},
                    "metadata": {"is_visually_hidden_from_conversation": True},
                },
            },
            "u1": {
                "id": "u1",
                "parent": "sys",
                "children": ["a1", "u2"],
                "message": {
                    "id": "u1",
                    "author": {"role": "user"},
                    "create_time": 1700000001.0,
                    "content": {"content_type": "text", "parts": ["How long to proof dough?"]},
                    "metadata": {},
                    "recipient": "all",
                },
            },
            "a1": {
                "id": "a1",
                "parent": "u1",
                "children": [],
                "message": {
                    "id": "a1",
                    "author": {"role": "assistant"},
                    "create_time": 1700000002.5,
                    "content": {"content_type": "text", "parts": ["About an hour."]},
                    "metadata": {"model_slug": "gpt-4", "finish_details": {"type": "stop"}},
                    "recipient": "all",
                },
            },
            # The user asked again with a photo: a second branch from u1.
            "u2": {
                "id": "u2",
                "parent": "u1",
                "children": ["tool-call"],
                "message": {
                    "id": "u2",
                    "author": {"role": "user"},
                    "create_time": 1700000100.0,
                    "content": {
                        "content_type": "multimodal_text",
                        "parts": [{"content_type": "image_asset_pointer"}, "Is this proofed?"],
                    },
                    "metadata": {},
                },
            },
            "tool-call": {
                "id": "tool-call",
                "parent": "u2",
                "children": ["tool-out"],
                "message": {
                    "id": "tool-call",
                    "author": {"role": "assistant"},
                    "create_time": 1700000101.0,
                    "content": {"content_type": "code", "text": "look(image)"},
                    "metadata": {},
                    "recipient": "python",
                },
            },
            "tool-out": {
                "id": "tool-out",
                "parent": "tool-call",
                "children": ["a2"],
                "message": {
                    "id": "tool-out",
                    "author": {"role": "tool"},
                    "create_time": 1700000102.0,
                    "content": {"content_type": "execution_output", "text": "ok"},
                    "metadata": {},
                },
            },
            "a2": {
                "id": "a2",
                "parent": "tool-out",
                "children": [],
                "message": {
                    "id": "a2",
                    "author": {"role": "assistant"},
                    "create_time": None,
                    "content": {"content_type": "text", "parts": ["Yes, ", "it is."]},
                    "metadata": {"model_slug": "gpt-4o", "finish_details": {"type": "max_tokens"}},
                    "recipient": "all",
                },
            },
        },
    },
    {
        "title": None,
        "create_time": 1700100000.0,
        "update_time": None,
        "id": "conv-2",
        "mapping": {
            "only": {
                "id": "only",
                "parent": None,
                "children": [],
                "message": {
                    "author": {"role": "user"},
                    "create_time": 1700100001.0,
                    "content": {"content_type": "text", "parts": ["hello?"]},
                },
            }
        },
    },
]


def test_chatgpt_import_keeps_the_branch_the_user_saw(empty, tmp_path: Path) -> None:
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(CHATGPT), encoding="utf-8")
    result = import_file(empty, path)
    assert (result.source, result.threads_added, result.messages_added) == (
        "ChatGPT export", 2, 4,
    )  # fmt: skip
    assert result.skipped == {
        "hidden system message(s)": 1,
        "code-interpreter or tool step(s)": 2,
        "image(s) (noted as [image])": 1,
        "message(s) on other branches": 1,
    }
    bread, hello = sorted(empty.list_threads(), key=lambda t: t.created_at)
    assert (bread.title, bread.provider, bread.model) == ("Bread baking", "openai", "gpt-4o")
    assert bread.created_at == "2023-11-14T22:13:20.123Z"
    assert bread.updated_at == "2023-11-14T22:21:40.500Z"
    assert (hello.title, hello.model, hello.message_count) == ("", "gpt-4o", 1)
    # Only current_node's branch, without the tool traffic; the first answer (a1) was
    # on a branch the user left.
    path_texts = [(m.role, m.content) for m in empty.history(bread.id)]
    assert path_texts == [
        ("user", "How long to proof dough?"),
        ("user", "[image]\nIs this proofed?"),
        ("assistant", "Yes, \nit is."),
    ]
    assert len(empty.messages(bread.id)) == 3
    last = empty.history(bread.id)[-1]
    assert (last.model, last.finish_reason, last.status) == ("gpt-4o", "length", "complete")
    assert last.created_at > empty.history(bread.id)[-2].created_at  # untimed: after its parent
    again = import_file(empty, path)
    assert (again.threads_added, again.messages_added) == (0, 0)
    assert len(empty.messages(bread.id)) == 3
    # "proof" and "proofed", the two prompts: search finds the forms of a word.
    assert [h.thread_id for h in empty.search("proofed")] == [bread.id, bread.id]


def parent_only_export(*, current_node: bool = True) -> list[dict]:
    """The shape of a public sample export: nodes name their parent and list no children;
    five messages the user saw, under a root and a hidden system node."""
    texts = [
        ("user", "What is sourdough?", None),
        ("assistant", "Bread leavened by wild yeast.", "gpt-4o"),
        ("user", "How long does it rise?", None),
        ("assistant", "Four to twelve hours.", None),  # the export names no model here
        ("user", "Thanks!", None),
    ]
    mapping: dict = {
        "root": {"id": "root", "message": None, "parent": None, "children": []},
        "sys": {
            "id": "sys",
            "parent": "root",
            "children": [],
            "message": {
                "id": "sys",
                "author": {"role": "system"},
                "content": {"content_type": "text", "parts": [""]},
                "metadata": {"is_visually_hidden_from_conversation": True},
            },
        },
    }
    parent = "sys"
    for number, (role, text, model) in enumerate(texts, 1):
        node_id = f"n{number}"
        mapping[node_id] = {
            "id": node_id,
            "parent": parent,
            "message": {
                "id": node_id,
                "author": {"role": role},
                "create_time": 1700000000.0 + number,
                "content": {"content_type": "text", "parts": [text]},
                "metadata": {"model_slug": model} if model else {},
                "recipient": "all",
            },
        }
        parent = node_id
    conversation = {"title": "Sourdough", "create_time": 1700000000.0, "mapping": mapping}
    if current_node:
        conversation["current_node"] = parent
    return [conversation]


@pytest.mark.parametrize("current_node", [True, False], ids=["current_node", "no current_node"])
def test_chatgpt_export_with_parent_links_only(empty, tmp_path: Path, current_node: bool) -> None:
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(parent_only_export(current_node=current_node)), encoding="utf-8")
    result = import_file(empty, path)
    assert (result.threads_added, result.messages_added) == (1, 5)
    assert result.skipped == {"hidden system message(s)": 1}
    (thread,) = empty.list_threads()
    path_rows = [(m.role, m.content, m.model) for m in empty.history(thread.id)]
    assert path_rows == [
        ("user", "What is sourdough?", None),
        ("assistant", "Bread leavened by wild yeast.", "gpt-4o"),
        ("user", "How long does it rise?", None),
        ("assistant", "Four to twelve hours.", None),
        ("user", "Thanks!", None),
    ]


BAD_FILES = {
    "not json": b"this is not json",
    "not utf-8": b"\xff\xfe\x00garbage",
    "empty": b"",
    "wrong shape": b'{"hello": "world"}',
    "newer version": b'{"format": "ba-chat", "version": 3, "threads": []}',
    "threads not a list": b'{"format": "ba-chat", "version": 1, "threads": {}}',
    "message without id": (
        b'{"format": "ba-chat", "version": 1, "threads": [{"id": "t", "provider": "p",'
        b' "model": "m", "created_at": "x", "messages": [{"role": "user", "created_at": "x"}]}]}'
    ),
    "bad role": (
        b'{"format": "ba-chat", "version": 1, "threads": [{"id": "t", "provider": "p",'
        b' "model": "m", "created_at": "x", "messages": [{"id": "m", "role": "robot",'
        b' "content": "", "created_at": "x"}]}]}'
    ),
    "tokens not a number": (
        b'{"format": "ba-chat", "version": 1, "threads": [{"id": "t", "provider": "p",'
        b' "model": "m", "created_at": "x", "messages": [{"id": "m", "role": "user",'
        b' "content": "", "created_at": "x", "input_tokens": "12"}]}]}'
    ),
    "jsonl broken line": (
        b'{"format": "ba-chat", "version": 1}\n'
        b'{"type": "thread", "id": "t", "provider": "p", "model": "m", "created_at": "x"}\n'
        b"{oops\n"
    ),
    "jsonl orphan message": (
        b'{"format": "ba-chat", "version": 1}\n'
        b'{"type": "message", "id": "m", "thread_id": "t", "role": "user", "created_at": "x"}\n'
    ),
    "id with an escape": (
        b'{"format": "ba-chat", "version": 1, "threads": [{"id": "t\\u001b[2J", "provider": "p",'
        b' "model": "m", "created_at": "x"}]}'
    ),
    "chatgpt without mapping": b'[{"title": "x"}]',
    "lone surrogate": (
        b'{"format": "ba-chat", "version": 1, "threads": [{"id": "t", "provider": "p",'
        b' "model": "m", "created_at": "x", "title": "\\ud800", "messages": []}]}'
    ),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_import_file_changes_nothing(store, tmp_path: Path, name: str) -> None:
    fill(store)
    before = dump(store, "json")
    path = tmp_path / "bad.json"
    path.write_bytes(BAD_FILES[name])
    with pytest.raises(ExportError) as refused:
        import_file(store, path)
    line = refused.value.line()
    assert refused.value.exit_code == 2 and "\n" not in line
    assert str(path) in line or "not valid Unicode" in line
    assert dump(store, "json") == before
    assert store.integrity_check() == "ok"


def test_missing_or_folder_import_file(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no such file"):
        read_file(tmp_path / "nope.json")
    with pytest.raises(ExportError, match="is a folder"):
        read_file(tmp_path)


def test_import_is_all_or_nothing(store, empty, tmp_path: Path) -> None:
    """A row that fails while being written takes every row of the file back with it."""
    fill(store)
    document = json.loads(dump(store, "json"))
    # Passes the checks but cannot be stored: a lone surrogate in the very last message.
    document["threads"][-1]["messages"][-1]["parts"] = [{"type": "text", "text": "\ud800"}]
    path = tmp_path / "poisoned.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ExportError, match="not valid Unicode"):
        import_file(empty, path)
    assert empty.list_threads() == []
    assert empty._conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
