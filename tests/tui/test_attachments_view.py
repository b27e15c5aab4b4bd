"""Attachments in the conversation: chips on their message, images drawn as pictures, a
key opening one with the system's viewer (a fake `xdg-open` on PATH) and one saving it,
and compare giving each column what its model can take. Threads are made as `ba-chat ask
-a` makes them: through the session, real SDKs against the fake provider server."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from ba_tui.attachments import load
from ba_tui.config import load_config
from ba_tui.messages import size_label
from ba_tui.session import ChatSession, NewThread
from ba_tui.tui.widgets.attachments import AttachmentChips, Picture
from ba_tui.tui.widgets.message import UserMessage
from tests import attachfiles
from tests.tui.conftest import screen_text, wait_for

PDF_PAGES = ["The system shall export invoices", "Users log in with SSO"]


@pytest.fixture
def attached(tmp_path):
    """A 300x150 PNG (half red, half blue) and a 2-page PDF, prepared as `ask -a` does."""
    from PIL import Image

    folder = tmp_path / "files"
    folder.mkdir()
    image = Image.new("RGB", (300, 150), "red")
    image.paste((0, 0, 255), (0, 75, 300, 150))
    image.save(folder / "form.png")
    pdf = attachfiles.pdf(folder / "requirements.pdf", PDF_PAGES)
    return [load(str(folder / "form.png")), load(str(pdf))]


async def stored_thread(store, attached, provider="anthropic", model="claude-sonnet-5-5"):
    session = ChatSession(load_config(), store, new=NewThread(origin="ask"))
    turn = await session.send(
        "What do these say?", session.target(provider, model), attached=attached
    )
    assert turn.status == "complete"
    return session.thread


def user_view(app) -> UserMessage:
    [view] = app.main.query(UserMessage)
    return view


async def select_the_prompt(app, thread) -> None:
    """Open `thread` and select its prompt in message-select mode, ready for `o` or `s`."""
    await app.main.open_thread(thread.id)
    app.main.query_one("#conversation").select(user_view(app))
    app.main.query_one("#cursor").focus()


async def test_a_thread_from_ask_shows_its_attachments_as_chips_and_the_image_as_a_picture(
    make_app, store, attached
):
    thread = await stored_thread(store, attached)
    app = make_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await app.main.open_thread(thread.id)
        view = user_view(app)
        [picture] = view.query(Picture)
        await wait_for(pilot, lambda: picture.image is not None)
        await pilot.pause()
        shown = screen_text(app)
        png, pdf = (item.part for item in attached)
        assert f"📎 form.png · PNG image · {size_label(png.size)}" in shown
        assert (
            f"📎 requirements.pdf · PDF · {size_label(pdf.size)} · 2 pages · "
            "PDF to claude-sonnet-5-5" in shown
        )
        assert len(view.query(AttachmentChips)) == 1

        # Under the pilot nothing is a terminal: textual-image draws half blocks, sized to
        # keep the image's shape (300x150 px in 10x20 px cells: 30x7.5 -> 30x8 cells).
        image = picture.image
        assert type(image).__name__ == "HalfcellImage"
        assert (image.size.width, image.size.height) == (30, 8)
        # Each cell is an upper half block: the top rows red, the bottom rows blue.
        strips = [image.render_line(y) for y in range(image.size.height)]
        colours = [
            {seg.style.color.triplet for seg in strip if seg.text == "▀" and seg.style}
            for strip in strips
        ]
        assert colours[0] == {(255, 0, 0)} and colours[-1] == {(0, 0, 255)}


async def test_a_pdf_sent_to_a_model_without_pdf_support_says_it_went_as_text(
    make_app, store, attached
):
    thread = await stored_thread(store, attached[1:], "deepseek", "deepseek-chat")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main.open_thread(thread.id)
        await pilot.pause()
        shown = screen_text(app)
        assert "requirements.pdf · PDF · " in shown
        assert "as extracted text to deepseek-chat" in shown
        assert not user_view(app).query(Picture)


@pytest.fixture
def viewer(tmp_path, monkeypatch):
    """A fake `xdg-open` first on PATH: it records the path it was given, the file's
    mode and its bytes, as the real one would receive them."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "viewer.log"
    script = bin_dir / "xdg-open"
    script.write_text(
        "#!/bin/sh\n"
        f'stat -c "%a" "$1" > "{record}.mode"\n'
        f'stat -c "%a" "$(dirname "$1")" > "{record}.folder"\n'
        f'cp "$1" "{record}.bytes"\n'
        f'printf "%s" "$1" > "{record}"\n'
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return record


async def test_o_opens_the_attachment_with_the_viewer_from_a_private_copy(
    make_app, store, attached, viewer, home
):
    thread = await stored_thread(store, attached)
    app = make_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await select_the_prompt(app, thread)
        await pilot.press("o")
        await wait_for(pilot, lambda: Path(f"{viewer}.bytes").exists() and viewer.exists())
        opened = Path(viewer.read_text())
        png = attached[0]
        assert opened.name == "form.png" and opened.is_relative_to(home / "cache")
        assert Path(f"{viewer}.bytes").read_bytes() == png.blob.data
        assert hashlib.sha256(opened.read_bytes()).hexdigest() == png.part.sha256
        assert Path(f"{viewer}.mode").read_text().strip() == "600"
        assert Path(f"{viewer}.folder").read_text().strip() == "700"
        assert stat.S_IMODE(opened.stat().st_mode) == 0o600

        # Pressed again, the next attachment: the PDF.
        viewer.unlink()
        await pilot.press("o")
        await wait_for(pilot, viewer.exists)
        assert Path(viewer.read_text()).name == "requirements.pdf"
        assert Path(f"{viewer}.bytes").read_bytes() == attached[1].blob.data


async def test_without_a_viewer_o_says_so_in_one_line(
    make_app, store, attached, tmp_path, monkeypatch
):
    thread = await stored_thread(store, attached)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    app = make_app()
    notices: list[str] = []
    async with app.run_test(size=(120, 50)) as pilot:
        monkeypatch.setattr(app, "notify", lambda message, **kw: notices.append(str(message)))
        await select_the_prompt(app, thread)
        await pilot.press("o")
        await wait_for(pilot, lambda: notices)
    [line] = notices
    assert line.startswith("No viewer to open form.png: xdg-open is not installed. The file is at ")
    assert Path(line.rsplit(" ", 1)[-1]).read_bytes() == attached[0].blob.data


async def test_s_saves_the_attachment_where_the_user_says(
    make_app, store, attached, tmp_path, monkeypatch
):
    thread = await stored_thread(store, attached)
    target = tmp_path / "saved.png"
    app = make_app()
    notices: list[str] = []
    async with app.run_test(size=(120, 50)) as pilot:
        monkeypatch.setattr(app, "notify", lambda message, **kw: notices.append(str(message)))
        await select_the_prompt(app, thread)
        await pilot.press("s")
        await wait_for(pilot, lambda: app.screen.query("#save-path"))
        field = app.screen.query_one("#save-path")
        field.value = str(target)
        umask = os.umask(0o022)  # the usual one: the saved file is still private
        try:
            await pilot.press("enter")
            await wait_for(pilot, lambda: notices)
        finally:
            os.umask(umask)
        assert notices == [f"Saved form.png ({size_label(attached[0].part.size)}) to {target}"]
        assert target.read_bytes() == attached[0].blob.data
        assert stat.S_IMODE(target.stat().st_mode) == 0o600  # as an export is
        # Never over an existing file.
        await pilot.press("s")
        await wait_for(pilot, lambda: app.screen.query("#save-path"))
        app.screen.query_one("#save-path").value = str(target)
        target.write_bytes(b"mine")
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(notices) == 2)
        assert notices[1] == f"{target} already exists: choose another name."
        assert target.read_bytes() == b"mine"


@pytest.mark.parametrize(
    ("environ", "kind"),
    [
        ({"TERM": "xterm-kitty"}, "kitty"),
        ({"TERM": "xterm-kitty", "TMUX": "/tmp/tmux-0/default,1,0"}, "halfcell"),
        ({"TERM": "tmux-256color", "KITTY_WINDOW_ID": "1"}, "halfcell"),
        ({"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"}, "sixel"),
        ({"TERM": "foot"}, "sixel"),
        ({"TERM": "xterm-256color"}, "halfcell"),
    ],
)
def test_the_way_to_draw_comes_from_the_environment(environ, kind):
    from ba_tui.tui.pictures import renderer

    assert renderer(environ) == kind
    assert renderer(environ, headless=True) == "halfcell"


def test_textual_image_is_imported_without_asking_the_terminal_anything():
    """In a real terminal (a pty), textual-image's own import writes queries and reads
    the answers from stdin, which Textual's input thread owns while the app runs: ba-chat's
    import must write nothing at all."""
    import fcntl
    import pty
    import select
    import struct
    import subprocess
    import sys
    import termios

    leader, follower = pty.openpty()
    # 80x24 cells and no pixel size, as tmux reports (and so textual-image would ask).
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    code = (
        "from ba_tui.tui.pictures import drawing; import sys; d = drawing('halfcell'); "
        "sys.stderr.write(f'{d.widget.__name__} {d.cell}')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        stdin=follower,
        stdout=follower,
        stderr=subprocess.PIPE,
        timeout=60,
        text=True,
    )
    os.close(follower)
    written = b""
    while select.select([leader], [], [], 0.2)[0]:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        written += chunk
    os.close(leader)
    assert done.returncode == 0, done.stderr
    # A pty reports no pixel size: textual-image's 10x20 pixel cells.
    assert done.stderr == "HalfcellImage (10, 20)"
    assert written == b""  # no \x1b[c (Sixel), no Kitty query, no \x1b[16t (cell size)


async def compare_with(app, pilot, attached, targets):
    from ba_tui.tui.screens.compare import CompareScreen

    screen = CompareScreen(
        targets,
        "What do these say?",
        session=app.main.session(),
        parent_id=None,
        store=app.store,
        attached=attached,
    )
    await app.push_screen(screen)
    await wait_for(pilot, lambda: screen.state == "done", timeout=30)
    await pilot.pause()
    return screen


async def test_compare_marks_the_column_whose_model_cannot_see_the_image_and_asks_the_other(
    make_app, store, server, attached
):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        targets = [("anthropic", "claude-sonnet-5-5"), ("deepseek", "deepseek-chat")]
        screen = await compare_with(app, pilot, attached[:1], targets)
        able, unable = screen.columns
        shown = screen_text(app)
        assert "2 ⊘ deepseek · deepseek-chat" in shown
        assert unable.refused == "deepseek-chat cannot see images, so form.png cannot be sent to it"
        assert "✗ deepseek-chat cannot see images, so form.png cannot be sent to it" in shown
        assert "⊘ not asked · deepseek · deepseek-chat" in shown
        assert able.keepable and "A user story is a short" in able.reply.text
        assert "📎 form.png · PNG image" in shown  # the prompt's chip
        # Only the model that can see was asked, with the image; it is stored once.
        [request] = [r for r in server.requests if "What do these say?" in str(r.json)]
        assert request.json["model"] == "claude-sonnet-5-5"
        assert '"type": "image"' in json.dumps(request.json)
        [thread] = store.list_threads()
        user, reply = store.messages(thread.id)
        assert [p.type for p in user.parts] == ["attachment", "text"]
        assert (reply.provider, reply.status) == ("anthropic", "complete")


async def test_compare_says_which_column_gets_a_pdf_as_text(make_app, store, server, attached):
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        targets = [("anthropic", "claude-sonnet-5-5"), ("deepseek", "deepseek-chat")]
        screen = await compare_with(app, pilot, attached[1:], targets)
        pdf_reader, text_reader = screen.columns
        assert all(column.keepable for column in screen.columns)
        assert not pdf_reader.query_one(".compare-note").display
        note = text_reader.query_one(".compare-note")
        assert note.display
        assert str(note.render()) == (
            "requirements.pdf goes to deepseek-chat as extracted text: it does not read PDFs"
        )
        [sent] = [r for r in server.requests if r.json.get("model") == "deepseek-chat"]
        assert PDF_PAGES[0] in json.dumps(sent.json)


async def test_a_prompt_shown_before_it_is_stored_gets_its_chips_and_picture_once_it_is(
    make_app, store, attached
):
    """How the chat screen shows a prompt it sends: first as typed, then the stored
    message (update_message), whose attachments show then."""
    from ba_tui.tui.widgets.conversation_view import ConversationView

    thread = await stored_thread(store, attached)
    stored_user = store.messages(thread.id)[0]
    app = make_app()
    async with app.run_test(size=(120, 50)) as pilot:
        conversation = app.main.query_one(ConversationView)
        view = UserMessage(None, text="What do these say?")
        await conversation.add(view)
        assert not view.query(AttachmentChips) and not view.query(Picture)
        view.update_message(stored_user, None)
        await wait_for(pilot, lambda: view.query(Picture) and view.query_one(Picture).image)
        [chips] = view.query(AttachmentChips)
        assert [part.name for part in chips.parts] == ["form.png", "requirements.pdf"]
        # Stored again (a variant chosen): nothing is shown twice.
        view.update_message(stored_user, (0, 2))
        await pilot.pause()
        assert len(view.query(AttachmentChips)) == 1 and len(view.query(Picture)) == 1


_OPEN_PLAIN_THREAD = """
import asyncio, json, sys
from ba_tui.config import load_config
from ba_tui.store import Store
from ba_tui.tui.app import ChatApp
from tests.tui.conftest import clock, seed

async def main():
    store = Store.open()
    seed(store)
    app = ChatApp(store=store, config=load_config(), clock=clock, warm_up=False,
                  first_run_check=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.main.open_thread("t1")
        await pilot.pause()
    print(json.dumps(sorted(sys.modules)))

asyncio.run(main())
"""


def test_a_thread_without_images_imports_neither_textual_image_nor_pil(tui_env):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _OPEN_PLAIN_THREAD],
        env=tui_env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    loaded = {name.split(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}
    assert not loaded & {"textual_image", "PIL"}
    assert "ba_tui.tui.widgets.attachments" not in json.loads(done.stdout.splitlines()[-1])


async def test_a_picture_fits_a_narrow_conversation(make_app, store, tmp_path):
    """A wide screenshot in an 80-column terminal (the thread list folded away): the
    picture is as wide as the message, its shape kept."""
    from PIL import Image

    Image.new("RGB", (1600, 400), "green").save(tmp_path / "wide.png")
    thread = await stored_thread(store, [load(str(tmp_path / "wide.png"))])
    app = make_app()
    async with app.run_test(size=(50, 30)) as pilot:
        await app.main.open_thread(thread.id)
        [picture] = app.main.query(Picture)
        await wait_for(pilot, lambda: picture.image is not None)
        await pilot.pause()
        image = picture.image
        assert image.size.width == picture.size.width < 60
        # 1600x400 px is 160x20 cells of 10x20 px: a quarter as many rows as columns.
        assert image.size.height == round(image.size.width * 20 / 160)


async def test_an_image_that_cannot_be_drawn_is_a_line_on_its_message(make_app, store):
    """A blob that is not the image its part says (an import from elsewhere), and one
    missing from the store: a line each, the rest of the thread as usual."""
    from ba_tui.messages import Attachment, Blob, Text

    broken = b"not a png at all"
    sha = hashlib.sha256(broken).hexdigest()
    store.import_blobs([(sha, "image/png", Blob(broken))])
    parts = (
        Attachment("broken.png", "image/png", len(broken), sha),
        Attachment("gone.png", "image/png", 10, "0" * 64),
        Text("Look"),
    )
    at = "2026-11-22T11:00:00.000Z"
    store.import_rows(
        [{"id": "t9", "title": "Look", "provider": "anthropic", "model": "claude-sonnet-5-5",
          "system": None, "persona": None, "created_at": at, "updated_at": at}],
        [{"id": "u9", "thread_id": "t9", "parent_id": None, "role": "user", "parts": parts,
          "status": "complete", "created_at": at}],
    )  # fmt: skip
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.main.open_thread("t9")
        await wait_for(pilot, lambda: "cannot be drawn" in screen_text(app))
        await wait_for(pilot, lambda: "gone.png is missing" in screen_text(app))
        shown = screen_text(app)
        assert "broken.png cannot be drawn (UnidentifiedImageError)" in shown
        assert "gone.png is missing from ba-chat's store" in shown
        assert "Look" in shown
