"""`ba-chat ask -a`: files, images, PDFs and office documents in a prompt, as a user runs it
(a subprocess talking real HTTP to the fake providers); each dialect's exact request body,
checked against the SDK's own types too; refusals and limits; nothing sent or stored when
a file cannot go."""

from __future__ import annotations

import base64
import hashlib
import io
import json

import pytest
from pydantic import TypeAdapter

from tests import attachfiles
from tests.conftest import run_cli
from tests.servers import Reply

PROMPT = "What does this say?"
TARGETS = {
    "anthropic": ["-p", "anthropic", "-m", "sonnet"],
    "openai": ["-p", "openai", "-m", "mini"],
    "gemini": ["-p", "gemini", "-m", "flash"],
    "deepseek": ["-p", "deepseek", "-m", "chat"],
}


@pytest.fixture
def files(tmp_path):
    """A PNG, a 3-page PDF with known text, a DOCX, an XLSX and a text file."""
    folder = tmp_path / "files"
    folder.mkdir()
    return {
        "png": attachfiles.png(folder / "form.png"),
        "pdf": attachfiles.pdf(
            folder / "requirements.pdf",
            ["The system shall export invoices", "Users log in with SSO", "Appendix zebra"],
        ),
        "docx": attachfiles.docx(
            folder / "meeting.docx",
            "Kick-off",
            ["We agreed on the scope."],
            [["Story", "Points"], ["Login", "3"]],
        ),
        "xlsx": attachfiles.xlsx(
            folder / "stories.xlsx", {"Backlog": [["Story", "Points"], ["Export", 5]]}
        ),
        "text": _write(folder / "notes.md", "# Notes\n\nThe deadline is ```Friday```.\n"),
    }


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def ask(env, target, *args, prompt=PROMPT, save=False):
    extra = ["--no-reasoning"] + ([] if save else ["--no-save"])
    return run_cli("ask", *extra, *TARGETS[target], *args, prompt, env=env)


def b64(path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def user_content(server, target):
    """The first user message's content as the dialect received it."""
    body = server.requests[-1].json
    if target == "gemini":
        return body["contents"][0]["parts"]
    return body["messages"][-1]["content"]


def check_types(target, content):
    """Every part also validates against the SDK's own request types."""
    if target == "anthropic":
        from anthropic.types import ContentBlockParam

        for block in content:
            TypeAdapter(ContentBlockParam).validate_python(block)
    elif target == "openai":
        from openai.types.chat import ChatCompletionContentPartParam

        for part in content:
            TypeAdapter(ChatCompletionContentPartParam).validate_python(part)
    else:
        from google.genai import types

        for part in content:
            types.Part.model_validate_json(json.dumps(part))


def gemini_data(part) -> bytes:
    return base64.urlsafe_b64decode(part["inlineData"]["data"])


def test_an_image_goes_natively_to_every_provider_that_sees(server, env, files):
    png = files["png"]
    for target in ("anthropic", "openai", "gemini"):
        server.reset()
        done = ask(env, target, "-a", str(png))
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        content = user_content(server, target)
        check_types(target, content)
        if target == "anthropic":
            assert content == [
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": b64(png)},
                },
                {"type": "text", "text": PROMPT, "cache_control": {"type": "ephemeral"}},
            ]
        elif target == "openai":
            assert content == [
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64(png)}"}},
                {"type": "text", "text": PROMPT},
            ]
        else:
            assert [set(part) for part in content] == [{"inlineData"}, {"text"}]
            assert gemini_data(content[0]) == png.read_bytes()
            assert content[0]["inlineData"]["mime_type"] == "image/png"
            assert content[1] == {"text": PROMPT}


def test_a_pdf_goes_as_a_document_block_a_file_part_and_inline_data(server, env, files):
    pdf = files["pdf"]
    for target in ("anthropic", "openai", "gemini"):
        server.reset()
        done = ask(env, target, "-a", str(pdf))
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""  # natively: nothing to say
        content = user_content(server, target)
        check_types(target, content)
        if target == "anthropic":
            assert content[0] == {
                "type": "document",
                "source": {"type": "base64", "media_type": "application/pdf", "data": b64(pdf)},
                "title": "requirements.pdf",
            }
        elif target == "openai":
            assert content[0] == {
                "type": "file",
                "file": {
                    "filename": "requirements.pdf",
                    "file_data": f"data:application/pdf;base64,{b64(pdf)}",
                },
            }
        else:
            assert gemini_data(content[0]) == pdf.read_bytes()
            assert content[0]["inlineData"]["mime_type"] == "application/pdf"
            assert server.files.uploaded() == {}  # under the inline limit: no Files API
        assert PROMPT in json.dumps(content[1])


def test_a_pdf_to_a_model_without_pdf_goes_as_its_text_and_says_so(server, env, files):
    done = ask(env, "deepseek", "-a", str(files["pdf"]))
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == (
        "ba-chat: requirements.pdf goes to deepseek-chat as extracted text: it does not read PDFs"
    )
    assert user_content(server, "deepseek") == (
        "requirements.pdf:\n```\n[page 1]\nThe system shall export invoices\n\n[page 2]\n"
        f"Users log in with SSO\n\n[page 3]\nAppendix zebra\n```\n\n{PROMPT}"
    )


def test_a_text_file_is_inlined_fenced_under_its_name(server, env, files):
    for target in ("anthropic", "openai", "gemini", "deepseek"):
        server.reset()
        done = ask(env, target, "-a", str(files["text"]))
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        # The fence is longer than the backticks inside the file.
        want = f"notes.md:\n````\n# Notes\n\nThe deadline is ```Friday```.\n````\n\n{PROMPT}"
        content = user_content(server, target)
        if target == "anthropic":
            assert content == [
                {"type": "text", "text": want, "cache_control": {"type": "ephemeral"}}
            ]
        elif target == "gemini":
            assert content == [{"text": want}]
        else:
            assert content == want  # all text: one string, as every compatible server takes


def test_a_docx_and_an_xlsx_go_as_markdown_with_one_line_each(server, env, files):
    for target in ("anthropic", "openai", "gemini", "deepseek"):
        server.reset()
        done = ask(env, target, "-a", str(files["docx"]), "-a", str(files["xlsx"]))
        assert done.returncode == 0, done.stderr
        model = server.requests[-1].json.get("model") or server.requests[-1].path.split("/")[-1]
        model = model.split(":")[0]
        assert done.stderr.splitlines() == [
            f"ba-chat: meeting.docx goes to {model} as text (Markdown): "
            "models do not read Word documents",
            f"ba-chat: stories.xlsx goes to {model} as text (Markdown): "
            "models do not read Excel workbooks",
        ]
        text = json.dumps(user_content(server, target))
        docx = (
            "meeting.docx:\n```\n## Kick-off\n\nWe agreed on the scope.\n\n"
            "| Story | Points |\n| --- | --- |\n| Login | 3 |\n```"
        )
        xlsx = (
            "stories.xlsx:\n```\n## Backlog\n\n"
            "| Story | Points |\n| --- | --- |\n| Export | 5 |\n```"
        )
        assert json.dumps(f"{docx}\n\n{xlsx}\n\n{PROMPT}") in text


def test_a_page_range_sends_those_pages_only(server, env, files):
    from pypdf import PdfReader

    done = ask(env, "anthropic", "-a", f"{files['pdf']}#p=2-3")
    assert done.returncode == 0, done.stderr
    block = user_content(server, "anthropic")[0]
    sent = PdfReader(io.BytesIO(base64.b64decode(block["source"]["data"])))
    assert [page.extract_text() for page in sent.pages] == [
        "Users log in with SSO",
        "Appendix zebra",
    ]
    server.reset()
    done = ask(env, "deepseek", "-a", f"{files['pdf']}#p=2")
    assert done.returncode == 0, done.stderr
    assert user_content(server, "deepseek").startswith(
        "requirements.pdf (pages 2):\n```\n[page 2]\nUsers log in with SSO\n```"
    )


def test_the_type_comes_from_the_content_and_attach_type_overrides_it(server, env, files, tmp_path):
    disguised = tmp_path / "scan.txt"
    disguised.write_bytes(files["png"].read_bytes())
    done = ask(env, "openai", "-a", str(disguised))
    assert done.returncode == 0, done.stderr
    assert user_content(server, "openai")[0]["image_url"]["url"].startswith("data:image/png;")
    server.reset()
    data = tmp_path / "data.bin"
    data.write_text("a,b\n1,2\n")
    done = ask(env, "deepseek", "-a", str(data), "--attach-type", "text/csv")
    assert done.returncode == 0, done.stderr
    assert user_content(server, "deepseek").startswith(
        "data.bin:\n```\n| a | b |\n| --- | --- |\n| 1 | 2 |\n```"
    )


def test_stdin_and_a_url_can_be_attached(server, env, files):
    done = run_cli(
        "ask", "--no-save", *TARGETS["deepseek"], "-a", "-", PROMPT, env=env, input="piped notes"
    )
    assert done.returncode == 0, done.stderr
    assert user_content(server, "deepseek") == f"stdin:\n```\npiped notes\n```\n\n{PROMPT}"
    server.reset()
    server.queue(Reply(200, {"Content-Type": "image/png"}, files["png"].read_bytes()))
    done = ask(env, "anthropic", "-a", f"{server.url}/shots/form%20v2.png")
    assert done.returncode == 0, done.stderr
    fetched, _sent = server.requests
    assert fetched.method == "GET" and fetched.path == "/shots/form%20v2.png"
    assert user_content(server, "anthropic")[0]["source"]["data"] == b64(files["png"])


def test_a_large_image_is_downscaled_before_sending(server, env, tmp_path):
    from PIL import Image

    big = attachfiles.jpeg(tmp_path / "photo.jpg", 4000, 3000)
    done = ask(env, "gemini", "-a", str(big))
    assert done.returncode == 0, done.stderr
    assert "ba-chat: photo.jpg was downscaled from 4000×3000 to 1568×1176 px" in done.stderr
    sent = Image.open(io.BytesIO(gemini_data(user_content(server, "gemini")[0])))
    assert sent.size == (1568, 1176) and sent.format == "JPEG"


# -- refusals: exit 2, one line naming the file and what to do, nothing sent or stored -------


def _refused(server, env, done, line):
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"ba-chat: error: {line}"
    assert done.stdout == ""
    assert server.requests == []
    listed = run_cli("threads", "list", "--json", env=env)
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


def test_an_image_to_a_model_that_cannot_see_is_refused_with_models_that_can(server, env, files):
    done = ask(env, "deepseek", "-a", str(files["png"]), save=True)
    _refused(
        server,
        env,
        done,
        "deepseek-chat cannot see images, so form.png cannot be sent to it; use a model that "
        "can: -p anthropic -m sonnet, -p openai -m mini, -p gemini -m flash",
    )


def test_every_compared_model_must_take_the_attachments(server, env, files):
    done = run_cli(
        "ask", "--compare", "openai:mini", "--compare", "deepseek:chat",
        "-a", str(files["png"]), PROMPT, env=env,
    )  # fmt: skip
    _refused(
        server,
        env,
        done,
        "deepseek-chat cannot see images, so form.png cannot be sent to it; use a model that "
        "can: -p anthropic -m sonnet, -p openai -m mini, -p gemini -m flash",
    )


@pytest.mark.parametrize(
    ("make", "line"),
    [
        (lambda d: d / "gone.pdf", "no file at {d}/gone.pdf; check the path"),
        (lambda d: d, "{d} is a folder; attach the files in it one by one"),
        (
            lambda d: _bytes(d / "payload", b"MZ\x90\x00\x03\x00\x00\x00"),
            "payload is binary data, which no model ba-chat talks to can read; "
            "attach images, PDFs, Word or Excel files, CSV or text "
            "(or say what it is with --attach-type)",
        ),
        (
            lambda d: _bytes(d / "broken.pdf", b"%PDF-1.4\nnot really"),
            None,
        ),
    ],
)
def test_a_file_that_cannot_be_attached_is_one_line(server, env, tmp_path, make, line):
    path = make(tmp_path)
    done = ask(env, "anthropic", "-a", str(path), save=True)
    if line is None:  # a damaged file names itself and what to do
        assert done.returncode == 2
        first = done.stderr.strip()
        assert first.startswith("ba-chat: error: broken.pdf is not a PDF ba-chat can read")
        assert first.endswith("; check the file, or re-export it") and "\n" not in first
        assert server.requests == []
        return
    _refused(server, env, done, line.format(d=tmp_path))


def _bytes(path, data):
    path.write_bytes(data)
    return path


def test_a_page_range_past_the_end_or_on_a_non_pdf_is_refused(server, env, files):
    done = ask(env, "anthropic", "-a", f"{files['pdf']}#p=2-7", save=True)
    _refused(
        server,
        env,
        done,
        "requirements.pdf has 3 pages; the range 2-7 goes past its end; pick pages within 1-3",
    )
    done = ask(env, "anthropic", "-a", f"{files['docx']}#p=1", save=True)
    _refused(
        server,
        env,
        done,
        "meeting.docx: a page range works only for PDFs, and this is a Word document; "
        "attach it without #p=, or convert it to PDF",
    )


def test_a_wrong_attach_type_is_a_usage_error(server, env, files):
    done = ask(env, "anthropic", "-a", str(files["png"]), "--attach-type", "video/mp4", save=True)
    _refused(
        server,
        env,
        done,
        "form.png: ba-chat cannot send files of type video/mp4; use an image, PDF, Word, "
        "Excel, CSV or text type with --attach-type",
    )


# -- limits: checked before sending, never a provider's 400 --------------------------------


def test_a_pdf_over_the_models_page_limit_asks_for_a_range(server, env, tmp_path):
    long = attachfiles.pdf(tmp_path / "spec.pdf", [f"Page {n}" for n in range(1, 131)])
    done = ask(env, "anthropic", "-a", str(long), save=True)
    _refused(
        server,
        env,
        done,
        f"spec.pdf has 130 pages; claude-sonnet-5-5 reads at most 100 pages of a PDF; "
        f"attach a range of pages, e.g. -a '{long}#p=1-100'",
    )
    done = ask(env, "anthropic", "-a", f"{long}#p=1-100")
    assert done.returncode == 0, done.stderr


def test_text_beyond_the_context_window_is_refused(server, env, tmp_path):
    notes = _write(tmp_path / "dump.log", "word " * 110_000)  # ~137k tokens
    done = ask(env, "deepseek", "-a", str(notes), save=True)
    _refused(
        server,
        env,
        done,
        "dump.log as text is about 134k tokens, more than deepseek-chat's 128k context "
        "window; attach fewer or smaller files",
    )


def test_a_request_over_the_providers_size_limit_is_refused(server, env, tmp_path):
    big = tmp_path / "scan.pdf"
    big.write_bytes(attachfiles.pdf_bytes(["Cover"], padding=25 * 1024 * 1024))
    done = ask(env, "openai", "-a", str(big), save=True)  # 25 MB is 33 MB in base64
    _refused(
        server,
        env,
        done,
        f"scan.pdf makes the request 33.3 MB, more than the 32.0 MB gpt-5.4-mini-2026-03-17 "
        f"takes; attach a range of pages, e.g. -a '{big}#p=1-20'",
    )


# -- stored for good: replay, search, show, export and import, deletion --------------------


def _store(home):
    from ba_tui.store import Store

    return Store.open(home / "ba-chat.db")


def test_a_continued_thread_replays_the_attachment_after_the_file_is_gone(server, env, files, home):
    png, pdf = files["png"], files["pdf"]
    data = {"png": png.read_bytes(), "pdf": pdf.read_bytes()}
    first = ask(env, "anthropic", "-a", str(png), "-a", str(pdf), save=True)
    assert first.returncode == 0, first.stderr
    png.unlink()
    pdf.unlink()
    server.reset()
    again = run_cli("ask", "--no-reasoning", "-c", "And the second page?", env=env)
    assert again.returncode == 0, again.stderr
    messages = server.requests[-1].json["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    image, document, text = messages[0]["content"]
    assert base64.b64decode(image["source"]["data"]) == data["png"]
    assert base64.b64decode(document["source"]["data"]) == data["pdf"]
    assert text["text"] == PROMPT
    assert messages[2]["content"][0]["text"] == "And the second page?"
    # The same thread to a model without PDFs: the stored text goes instead, said once.
    server.reset()
    other = run_cli("ask", "--no-reasoning", "-c", "-p", "deepseek", "Summarise", env=env)
    assert other.returncode == 0, other.stderr
    assert other.stderr.splitlines() == [
        "ba-chat: form.png, an image earlier in this thread, is left out: deepseek-chat "
        "cannot see images"
    ]
    first_user = server.requests[-1].json["messages"][0]["content"]
    assert first_user.startswith("[image form.png left out: this model cannot see images]")
    assert "requirements.pdf:\n```\n[page 1]\nThe system shall export invoices" in first_user


def test_search_finds_words_inside_an_attached_pdf(server, env, files):
    done = ask(env, "openai", "-a", str(files["pdf"]), "-a", str(files["docx"]), save=True)
    assert done.returncode == 0, done.stderr
    found = run_cli("search", "zebra", "--json", env=env)
    assert found.returncode == 0, found.stderr
    (hit,) = json.loads(found.stdout)
    assert hit["role"] == "user" and hit["snippet"].startswith("requirements.pdf: ")
    assert hit["snippet"].endswith("Appendix [zebra]")
    assert "Kick-off" in run_cli("search", "scope", env=env).stdout


def test_threads_show_and_markdown_list_the_attachments(server, env, files, tmp_path):
    done = ask(env, "openai", "-a", f"{files['pdf']}#p=2-3", "-a", str(files["png"]), save=True)
    assert done.returncode == 0, done.stderr
    (thread,) = json.loads(run_cli("threads", "list", "--json", env=env).stdout)
    shown = run_cli("threads", "show", thread["id"], env=env).stdout
    pdf_size = len(base64.b64decode(_sent_file(server)))
    assert pdf_size < 1024  # two pages of text
    assert f"[attached: requirements.pdf (application/pdf, {pdf_size} B, pages 2-3)]" in shown
    assert "[attached: form.png (image/png, 98 B)]" in shown
    markdown = tmp_path / "out.md"
    assert run_cli("export", "--all", "-f", "md", "-o", str(markdown), env=env).returncode == 0
    assert "- attached: form.png (image/png, 98 B)" in markdown.read_text()


def _sent_file(server) -> str:
    part = user_content(server, "openai")[0]
    return part["file"]["file_data"].split(",", 1)[1]


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_export_then_import_carries_attachments_identically(server, env, files, tmp_path, fmt):
    for path in (files["png"], files["pdf"], files["docx"]):
        done = ask(env, "anthropic", "-a", str(path), save=True)
        assert done.returncode == 0, done.stderr
    exported = tmp_path / f"all.{fmt}"
    assert run_cli("export", "--all", "-f", fmt, "-o", str(exported), env=env).returncode == 0
    text = exported.read_text()
    assert b64(files["png"]) in text  # the bytes travel in the file, base64
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    other = env | {"BA_CHAT_HOME": str(fresh)}
    imported = run_cli("import", str(exported), env=other)
    assert imported.returncode == 0, imported.stderr
    again = tmp_path / f"again.{fmt}"
    assert run_cli("export", "--all", "-f", fmt, "-o", str(again), env=other).returncode == 0

    def without_time(document: str) -> str:
        return document.split("\n", 1)[1] if fmt == "jsonl" else document.split('"threads"', 1)[1]

    assert without_time(again.read_text()) == without_time(text)
    # A thread from the import replays its attachment: the bytes came with it.
    for path in files.values():
        path.unlink()
    server.reset()
    replay = run_cli("ask", "--no-reasoning", "-c", "again", env=other)
    assert replay.returncode == 0, replay.stderr
    sent = server.requests[-1].json["messages"][0]["content"]
    assert "meeting.docx:\n```\n## Kick-off" in sent[0]["text"]


def test_an_export_whose_attachment_was_changed_is_refused(server, env, files, tmp_path):
    assert ask(env, "anthropic", "-a", str(files["png"]), save=True).returncode == 0
    exported = tmp_path / "all.jsonl"
    assert run_cli("export", "--all", "-f", "jsonl", "-o", str(exported), env=env).returncode == 0
    lines = exported.read_text().splitlines()
    blob = json.loads(lines[-1])
    blob["data"] = base64.b64encode(b"not the picture").decode()
    exported.write_text("\n".join([*lines[:-1], json.dumps(blob)]) + "\n")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    done = run_cli("import", str(exported), env=env | {"BA_CHAT_HOME": str(fresh)})
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"ba-chat: error: cannot import {exported}: line {len(lines)}: its data does not match "
        "its sha256 (the file was changed); the store was not changed"
    )


def test_a_file_is_stored_once_and_deleted_with_the_last_thread_using_it(server, env, files, home):
    for _ in range(2):  # two threads, the same picture
        assert ask(env, "openai", "-a", str(files["png"]), save=True).returncode == 0
    assert ask(env, "openai", "-a", str(files["pdf"]), save=True).returncode == 0
    with _store(home) as store:
        assert store.count_blobs() == 2
        first, second, _third = sorted(store.thread_ids())
    files["png"].unlink()
    assert run_cli("threads", "delete", first, "--yes", env=env).returncode == 0
    with _store(home) as store:
        assert store.count_blobs() == 2  # the second thread still uses the picture
    server.reset()
    replay = run_cli("ask", "--no-reasoning", "--thread", second, "again", env=env)
    assert replay.returncode == 0, replay.stderr
    assert user_content_at(server, 0)[0]["type"] == "image_url"
    assert run_cli("threads", "delete", second, "--yes", env=env).returncode == 0
    with _store(home) as store:
        assert store.count_blobs() == 1
        sha = hashlib.sha256(files["pdf"].read_bytes()).hexdigest()
        assert list(store.blobs([sha])) == [sha]


def user_content_at(server, index):
    return server.requests[-1].json["messages"][index]["content"]


def test_attach_type_must_match_the_attachments(server, env, files):
    done = ask(env, "openai", "--attach-type", "text/plain", save=True)
    _refused(server, env, done, "--attach-type needs an -a to apply to; add -a PATH")
    two = ["-a", str(files["text"]), "-a", str(files["png"])]
    done = ask(env, "openai", *two, "--attach-type", "a/b", "--attach-type", "c/d", "-a",
               str(files["pdf"]), save=True)  # fmt: skip
    _refused(
        server,
        env,
        done,
        "2 --attach-type for 3 -a; give one for all of them, or one for each -a in order",
    )


def test_compared_models_each_get_what_they_can_take(server, env, files, home):
    done = run_cli(
        "ask", "--no-reasoning", "--compare", "openai:mini", "--compare", "deepseek:chat",
        "-a", str(files["pdf"]), PROMPT, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "ba-chat: requirements.pdf goes to deepseek-chat as extracted text: it does not read PDFs"
    ]
    by_model = {r.json["model"]: r.json["messages"][-1]["content"] for r in server.requests}
    assert by_model["gpt-5.4-mini-2026-03-17"][0]["type"] == "file"
    assert by_model["deepseek-chat"].startswith("requirements.pdf:\n```\n[page 1]\n")
    with _store(home) as store:
        (thread_id,) = store.thread_ids()
        users = [m for m in store.messages(thread_id) if m.role == "user"]
        assert len(users) == 1 and [p.type for p in users[0].parts] == ["attachment", "text"]
        assert store.count_blobs() == 1
