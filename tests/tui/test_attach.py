"""Attaching files in the TUI, as a user does it: the file picker (Ctrl+L), `@path`, a
pasted path (a terminal's drag-and-drop), the clipboard (Ctrl+V), against the fake server;
what the server received and what the store holds."""

from __future__ import annotations

import base64
import os
import stat
import threading
from pathlib import Path

import pytest
from textual.events import Paste

from ba_tui.attachments.fit import PDF_PAGE_TOKENS
from ba_tui.messages import size_label
from ba_tui.models import tokens_label
from ba_tui.tui.widgets.attachment_bar import AttachmentBar, Chip
from ba_tui.tui.widgets.message import UserMessage
from tests import attachfiles
from tests.servers import text_stream
from tests.tui.conftest import reply_done, screen_text, send, wait_for


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder ba-chat is started in, with files to attach (and folders to skip)."""
    folder = tmp_path / "work"
    (folder / "docs").mkdir(parents=True)
    (folder / ".git").mkdir()
    (folder / ".git" / "requirements-in-git.pdf").write_bytes(b"%PDF-1.4 not listed")
    attachfiles.png(folder / "form.png")
    attachfiles.pdf(folder / "docs" / "requirements.pdf", ["The login page", "The cart"])
    (folder / "notes.txt").write_text("Meeting notes: ship on Friday.\n" * 10)
    monkeypatch.chdir(folder)
    return folder


def bar(app) -> AttachmentBar:
    return app.main.query_one(AttachmentBar)


def chips(app) -> list[str]:
    return [str(chip.render()) for chip in app.main.query(Chip)]


async def ready(pilot, count: int) -> None:
    """Wait until `count` attachments are loaded."""
    await wait_for(pilot, lambda: len(bar(pilot.app).ready) == count and not bar(pilot.app).waiting)
    await pilot.pause()


def said(app) -> list[str]:
    return [n.message for n in app._notifications]


def blob_writers(store) -> list[int]:
    """The threads that will store attachment content, as SQLite runs the statements."""
    threads: list[int] = []

    def trace(statement: str) -> None:
        if statement.lstrip().upper().startswith("INSERT") and " blobs" in statement:
            threads.append(threading.get_ident())

    store._conn.set_trace_callback(trace)
    return threads


def stored_user(store):
    [thread] = store.list_threads()
    return store.messages(thread.id)[0]


async def test_attach_by_picker_filtering_as_you_type_then_send(make_app, server, store, work):
    server.queue(text_stream("anthropic", "It is a login page."))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: app.screen.query("#files"))
        files = app.screen.query_one("#files")
        await wait_for(pilot, lambda: files.option_count == 3)  # .git is skipped
        await pilot.press(*"reqpdf")
        await wait_for(pilot, lambda: files.option_count == 1)
        assert files.get_option_at_index(0).id == "docs/requirements.pdf"
        await pilot.press("enter")
        await ready(pilot, 1)
        size = size_label((work / "docs" / "requirements.pdf").stat().st_size)
        assert chips(app) == [f"requirements.pdf · PDF · {size} · 2 pages ✕"]
        # The status line: its size, and its tokens as Claude reads a PDF: its text, and
        # each page as a picture.
        text = bar(app).ready[0].blob.text or ""
        tokens = tokens_label(len(text) // 4 + 2 * PDF_PAGE_TOKENS)
        assert f"1 file · {size} · ~{tokens} tokens" in screen_text(app)
        await send(pilot, "What is on page 1?")
        await reply_done(pilot)
        assert chips(app) == []  # sent: gone from above the prompt
        # On the sent message, as when the thread is opened again: how Claude got it.
        assert f"📎 requirements.pdf · PDF · {size} · 2 pages · PDF to claude-sonnet-5-5" in (
            screen_text(app)
        )

    content = server.requests[-1].json["messages"][-1]["content"]
    pdf = (work / "docs" / "requirements.pdf").read_bytes()
    assert content[0]["type"] == "document"
    assert base64.b64decode(content[0]["source"]["data"]) == pdf
    assert (content[-1]["type"], content[-1]["text"]) == ("text", "What is on page 1?")
    user = stored_user(store)
    [part, text] = user.parts
    assert (part.type, part.name, part.mime, part.pages) == (
        "attachment",
        "requirements.pdf",
        "application/pdf",
        2,
    )
    assert text.text == "What is on page 1?"
    assert store.blobs([part.sha256])[part.sha256].data == pdf


async def test_a_pasted_path_attaches_the_files_and_other_pastes_stay_text(
    make_app, server, store, work
):
    spaced = work / "My Form.png"
    attachfiles.png(spaced, color="blue")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.click("#prompt")
        # GNOME Terminal quotes a dropped file; iTerm2 escapes spaces; some send URLs.
        app.post_message(Paste(f"'{spaced}' "))
        app.post_message(Paste(f"{str(work / 'notes.txt').replace(' ', chr(92) + ' ')}"))
        app.post_message(Paste(f"file://{work}/docs/requirements.pdf"))
        await ready(pilot, 3)
        assert [chip.split(" · ")[0] for chip in chips(app)] == [
            "My Form.png",
            "notes.txt",
            "requirements.pdf",
        ]
        prompt = app.main.query_one("#prompt")
        assert prompt.text == ""
        # Not every word a file: text, as before.
        app.post_message(Paste(f"{work / 'notes.txt'} and more"))
        app.post_message(Paste(" README.md"))  # relative: a word, not a drop
        await wait_for(pilot, lambda: "README.md" in prompt.text)
        assert prompt.text == f"{work / 'notes.txt'} and more README.md"
        assert len(bar(app).items) == 3


async def test_at_path_completion_attaches_the_chosen_file(make_app, server, store, work):
    server.queue(text_stream("anthropic", "Noted."))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.click("#prompt")
        await pilot.press(*"Summarise @not")
        suggestions = app.main.query_one("#path-suggestions")
        await wait_for(pilot, lambda: suggestions.option_count == 1)
        assert suggestions.get_option_at_index(0).id == "notes.txt"
        assert "notes.txt" in screen_text(app)
        await pilot.press("tab")
        await ready(pilot, 1)
        prompt = app.main.query_one("#prompt")
        # The chip stands for the file; `@notes.txt` would only repeat it to the model.
        assert prompt.text == "Summarise "
        assert chips(app)[0].startswith("notes.txt · text file · ")
        assert not suggestions.display
        await pilot.press(*"please", "enter")
        await reply_done(pilot)
    [sent] = server.requests[-1].json["messages"][-1]["content"]  # the file, then the prompt
    assert sent["text"].startswith("notes.txt:\n```\nMeeting notes: ship on Friday.")
    assert sent["text"].endswith("```\n\nSummarise please")


async def test_at_path_goes_into_folders_and_escape_hides_the_list(
    make_app, server, work, tmp_path, monkeypatch
):
    monkeypatch.setenv("HOME", str(tmp_path))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.click("#prompt")
        await pilot.press(*"@do")
        suggestions = app.main.query_one("#path-suggestions")
        await wait_for(pilot, lambda: suggestions.option_count == 1)
        await pilot.press("escape")  # hidden for "@do", offered again as it changes
        assert not suggestions.display
        await pilot.press("c")
        await wait_for(pilot, lambda: suggestions.display)
        prompt = app.main.query_one("#prompt")
        await pilot.press("ctrl+u")
        await pilot.press(*"@~/work/do")  # a path of one's own, completed like a shell's
        await wait_for(pilot, lambda: suggestions.option_count == 1)
        assert suggestions.get_option_at_index(0).id == "~/work/docs/"
        await pilot.press("enter")  # a folder: completion goes on inside it
        await wait_for(pilot, lambda: prompt.text == "@~/work/docs/")
        await wait_for(pilot, lambda: suggestions.option_count == 1)
        await pilot.click("#path-suggestions", offset=(2, 0))  # a click takes one too
        await ready(pilot, 1)
        assert chips(app)[0].startswith("requirements.pdf · PDF")
        assert prompt.text == ""


async def test_backspace_in_an_empty_prompt_and_a_click_remove_chips(make_app, server, work):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.click("#prompt")
        for name in ("form.png", "notes.txt", "docs/requirements.pdf"):
            app.post_message(Paste(str(work / name)))
        await ready(pilot, 3)
        await pilot.press("backspace")
        assert [c.split(" · ")[0] for c in chips(app)] == ["form.png", "notes.txt"]
        await pilot.click(Chip)  # the first chip
        await pilot.pause()
        assert [c.split(" · ")[0] for c in chips(app)] == ["notes.txt"]
        # With text in the box, Backspace deletes text, not a chip.
        await pilot.press("x", "backspace", "backspace")
        assert [c.split(" · ")[0] for c in chips(app)] == []
        assert not bar(app).display


async def test_attachments_never_go_alone(make_app, server, store, work):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.click("#prompt")
        app.post_message(Paste(str(work / "form.png")))
        await ready(pilot, 1)
        await pilot.press("enter")
        await pilot.pause()
        assert said(app)[-1] == (
            "Type a question to send with the attachments: they go with a prompt, never alone"
        )
        assert len(bar(app).items) == 1
    assert server.requests == [] and store.list_threads() == []


async def test_an_image_to_a_model_that_cannot_see_is_refused_and_the_chips_stay(
    make_app, server, store, work
):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        app.main.set_model("deepseek", "deepseek-chat")
        await pilot.click("#prompt")
        app.post_message(Paste(str(work / "form.png")))
        await ready(pilot, 1)
        refusal = (
            "deepseek-chat cannot see images, so form.png cannot be sent to it; choose one "
            "that can with Ctrl+O: "
        )
        # Said as soon as it is attached, and the chip and the status line show it.
        await wait_for(pilot, lambda: any(line.startswith(refusal) for line in said(app)))
        await wait_for(pilot, lambda: bar(app).items[0].refused)
        assert "model cannot take form.png" in screen_text(app)
        await send(pilot, "What does the form ask?")
        await wait_for(pilot, lambda: app.main.reply is None and len(bar(app).items) == 1)
        await pilot.pause()
        assert said(app)[-1].startswith(refusal)
        assert [line for line in said(app) if line.startswith(refusal)] == said(app)[-2:]
        assert app.main.query_one("#prompt").text == "What does the form ask?"
        assert not app.main.query(UserMessage)  # not shown as sent either
    assert server.requests == [] and store.list_threads() == []


async def test_a_document_the_model_reads_as_text_is_said_when_attached(
    make_app, server, store, work
):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        app.main.set_model("deepseek", "deepseek-chat")
        await pilot.click("#prompt")
        app.post_message(Paste(str(work / "docs" / "requirements.pdf")))
        await ready(pilot, 1)
        line = "requirements.pdf goes to deepseek-chat as extracted text: it does not read PDFs"
        await wait_for(pilot, lambda: line in said(app))
        # As text: its characters / 4 (the fit check's estimate), not the PDF's pages.
        text = bar(app).ready[0].blob.text or ""
        size = size_label((work / "docs" / "requirements.pdf").stat().st_size)
        assert f"1 file · {size} · ~{len(text) // 4} tokens" in screen_text(app)


def fake_tool(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


async def test_ctrl_v_attaches_the_clipboard_image_from_wl_paste(
    make_app, server, store, work, tmp_path, monkeypatch
):
    tools = tmp_path / "bin"
    tools.mkdir()
    shot = attachfiles.png(tmp_path / "shot.png", 64, 48, "green")
    # A real wl-paste's interface: --list-types, then --type MIME prints the bytes.
    fake_tool(
        tools,
        "wl-paste",
        'if [ "$1" = "--list-types" ]; then printf "text/plain\\nimage/png\\n"; exit 0; fi\n'
        f'cat "{shot}"',
    )
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    server.queue(text_stream("anthropic", "A green box."))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.click("#prompt")
        await pilot.press("ctrl+v")
        await ready(pilot, 1)
        [chip] = chips(app)
        assert chip.startswith("clipboard-") and " · PNG image · " in chip
        await send(pilot, "What colour?")
        await reply_done(pilot)
    image = server.requests[-1].json["messages"][-1]["content"][0]
    assert base64.b64decode(image["source"]["data"]) == shot.read_bytes()
    [part, _] = stored_user(store).parts
    assert part.mime == "image/png" and part.name.startswith("clipboard-")


async def test_ctrl_v_without_a_clipboard_tool_or_image_says_what_to_do(
    make_app, server, work, tmp_path, monkeypatch
):
    tools = tmp_path / "bin"
    tools.mkdir()
    monkeypatch.setenv("PATH", str(tools))  # no wl-paste, no xclip
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.delenv("DISPLAY", raising=False)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.click("#prompt")
        await pilot.press("ctrl+v")
        await wait_for(pilot, lambda: said(app))
        assert said(app) == [
            "reading an image from the clipboard needs wl-clipboard, not installed; save the "
            "image to a file and attach it with Ctrl+L, or paste its path"
        ]
        # A clipboard holding text only.
        fake_tool(
            tools, "wl-paste", 'if [ "$1" = "--list-types" ]; then echo text/plain; fi; exit 0'
        )
        await pilot.press("ctrl+v")
        await wait_for(pilot, lambda: len(said(app)) == 2)
        assert said(app)[-1] == (
            "the clipboard holds text, no image (wl-paste found none); save the image to a "
            "file and attach it with Ctrl+L, or paste its path"
        )
        assert bar(app).items == []


async def test_a_long_pdf_asks_for_a_page_range(make_app, server, store, work):
    long = attachfiles.pdf(work / "spec.pdf", [f"Page {n}" for n in range(1, 131)])
    server.queue(text_stream("anthropic", "Pages 3 to 9."))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.click("#prompt")
        app.post_message(Paste(str(long)))
        await wait_for(pilot, lambda: app.screen.query("#pages"))
        await pilot.pause()
        shown = screen_text(app)
        assert "spec.pdf has 130 pages; the current model reads at most 100 pages" in shown
        await pilot.press("ctrl+u", *"1-120", "enter")  # more than the model reads
        await pilot.pause()
        assert "this model reads at most 100 pages: choose fewer" in screen_text(app)
        await pilot.press("ctrl+u", *"3-9", "enter")
        await ready(pilot, 1)
        assert chips(app)[0].startswith("spec.pdf · PDF · ") and "pages 3-9" in chips(app)[0]
        await send(pilot, "Summarise")
        await reply_done(pilot)
    [part, _] = stored_user(store).parts
    assert (part.pages, part.page_range) == (7, "3-9")
    blob = store.blobs([part.sha256])[part.sha256]
    assert "[page 3]\nPage 3" in (blob.text or "") and "Page 10" not in (blob.text or "")


async def test_escape_in_the_page_range_dialog_does_not_attach(make_app, server, work):
    long = attachfiles.pdf(work / "spec.pdf", [f"Page {n}" for n in range(1, 131)])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.click("#prompt")
        app.post_message(Paste(str(long)))
        await wait_for(pilot, lambda: app.screen.query("#pages"))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not bar(app).items)
        assert app.focused is app.main.query_one("#prompt")


async def test_the_picker_fits_an_80x24_terminal(make_app, server, work):
    for n in range(30):
        (work / f"story-{n:02}.md").write_text(f"As a user I want {n}")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: app.screen.query("#files"))
        await wait_for(pilot, lambda: app.screen.query_one("#files").option_count == 33)
        await pilot.pause()
        shown = screen_text(app)
        for words in (
            "Attach a file",
            "Type to filter",
            "form.png",
            "33 files under",
            "Enter attaches · ↑/↓ choose · Esc closes",
        ):
            assert words in shown
        await pilot.press(*"~/")  # a typed path: completed like a shell's
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main


async def test_the_picker_takes_a_typed_path(make_app, server, work, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    attachfiles.png(elsewhere / "scan.png")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: app.screen.query("#files"))
        files = app.screen.query_one("#files")
        await pilot.press(*"~/elsewhere/sc")
        await wait_for(
            pilot,
            lambda: (
                files.option_count == 1
                and files.get_option_at_index(0).id == "~/elsewhere/scan.png"
            ),
        )
        await pilot.press("enter")
        await ready(pilot, 1)
        assert chips(app)[0].startswith("scan.png · PNG image")


async def test_attach_is_in_the_palette_with_its_key(make_app, server, work):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"attach a")
        await pilot.pause(0.3)
        shown = screen_text(app)
        assert "Attach a file  Ctrl+L" in shown
        await pilot.press("ctrl+u", *"paste image")
        await pilot.pause(0.3)
        assert "Paste image from clipboard  Ctrl+V" in screen_text(app)


async def test_the_chips_take_keys_and_a_file_that_cannot_be_attached_is_one_line(
    make_app, server, work
):
    (work / "tool").write_bytes(b"\x00\x01\x02 binary")  # no extension: its bytes say
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.click("#prompt")
        app.post_message(Paste(str(work / "tool")))
        await wait_for(pilot, lambda: said(app) and not bar(app).items)
        assert said(app) == [
            "tool is binary data, which no model ba-chat talks to can read; "
            "attach images, PDFs, Word or Excel files, CSV or text"
        ]
        for name in ("form.png", "notes.txt", "docs/requirements.pdf"):
            app.post_message(Paste(str(work / name)))
        await ready(pilot, 3)
        await pilot.press("shift+tab")  # from the prompt box to the chips
        assert app.focused is bar(app)
        await pilot.press("right", "delete")
        assert [c.split(" · ")[0] for c in chips(app)] == ["form.png", "requirements.pdf"]
        await pilot.press("escape")
        assert app.focused is app.main.query_one("#prompt")


async def test_a_prompt_that_could_not_be_sent_gets_its_attachments_back(
    make_app, server, store, work, monkeypatch
):
    monkeypatch.delenv("OPENAI_API_KEY")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        app.main.set_model("openai", "gpt-5.4-mini-2026-03-17")
        await pilot.click("#prompt")
        app.post_message(Paste(str(work / "notes.txt")))
        await ready(pilot, 1)
        await send(pilot, "Summarise")
        await wait_for(pilot, lambda: app.main.reply is None and bar(app).items)
        assert "no API key for openai" in screen_text(app)
        assert app.main.query_one("#prompt").text == "Summarise"
        assert [c.split(" · ")[0] for c in chips(app)] == ["notes.txt"]
    assert server.requests == [] and store.list_threads() == []


async def test_ctrl_t_compares_the_prompt_with_its_attachments(make_app, server, store, work):
    """The chips go with a comparison as with a prompt: the model that sees gets the image,
    the one that cannot is marked and not asked; a comparison closed before anything was
    sent gives them back."""
    from ba_tui.tui.screens.compare_setup import LAST_CHOICE

    store.set_kv(LAST_CHOICE, "anthropic:claude-sonnet-5-5\ndeepseek:deepseek-chat")
    writers = blob_writers(store)
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        app.main.attach([str(work / "form.png")])
        await ready(pilot, 1)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: getattr(app.screen, "available", None))
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CompareScreen")
        await pilot.press("escape")  # nothing typed, nothing sent: the chip comes back
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MainScreen")
        await wait_for(pilot, lambda: len(bar(app).ready) == 1)
        await pilot.click("#prompt")
        await pilot.press(*"What does this form ask for?", "ctrl+t")
        await wait_for(pilot, lambda: getattr(app.screen, "available", None))
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.screen, "state", None) == "done", timeout=20)
        assert "⊘ not asked · deepseek · deepseek-chat" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MainScreen")
        assert chips(app) == []  # sent with the comparison
    [request] = [r for r in server.requests if "What does this form" in str(r.json)]
    assert request.json["model"] == "claude-sonnet-5-5"
    assert request.json["messages"][-1]["content"][0]["type"] == "image"
    assert [p.type for p in stored_user(store).parts] == ["attachment", "text"]
    assert writers and threading.get_ident() not in writers  # stored off the event loop


async def test_a_sent_attachment_is_stored_off_the_event_loop(make_app, server, store, work):
    """Storing a prompt's files takes time (a third of a second for a 50 MB PDF): it runs
    in a thread, so the screen keeps drawing and taking keys meanwhile."""
    writers = blob_writers(store)
    server.queue(text_stream("anthropic", "A form with two fields."))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        app.main.attach([str(work / "form.png"), str(work / "docs" / "requirements.pdf")])
        await ready(pilot, 2)
        await send(pilot, "What do these ask for?")
        await reply_done(pilot)
        assert "A form with two fields." in screen_text(app)
    assert writers and threading.get_ident() not in writers
    user = stored_user(store)
    assert [p.type for p in user.parts] == ["attachment", "attachment", "text"]
    assert len(store.blobs(p.sha256 for p in user.parts if p.type == "attachment")) == 2
