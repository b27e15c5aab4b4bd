"""Finding files to attach: what a drag-and-drop pastes, the picker's walk and matching,
a typed path's completion, and the clipboard tools (real processes: fake `xclip` and
`wl-paste` scripts on PATH)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ba_tui.tui.clipboard import NoImage, clipboard_image
from ba_tui.tui.dropped import dropped_files
from ba_tui.tui.files import matches, typed_path, walk
from tests import attachfiles


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for path in (
        "top.md",
        "docs/requirements.pdf",
        "docs/old/requirements-v1.pdf",
        "My Files/scan 1.png",
        ".git/objects/ab",
        "node_modules/lib/index.js",
        ".venv/lib/site.py",
    ):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x")
    return tmp_path


def test_a_drop_is_paths_of_existing_files_however_the_terminal_quotes_them(tree):
    spaced = tree / "My Files" / "scan 1.png"
    pdf = tree / "docs" / "requirements.pdf"
    assert dropped_files(f"'{spaced}' ") == [str(spaced)]  # GNOME Terminal, Konsole
    assert dropped_files(str(spaced).replace(" ", "\\ ")) == [str(spaced)]  # iTerm2, kitty
    assert dropped_files(f'"{spaced}"\n{pdf}\n') == [str(spaced), str(pdf)]
    url = f"file://{str(spaced).replace(' ', '%20')}"
    assert dropped_files(f"{url} file://localhost{pdf}") == [str(spaced), str(pdf)]


@pytest.mark.parametrize(
    "paste",
    [
        "hello world",
        "top.md",  # relative: a word someone typed, not a drop
        "{tree}/docs",  # a folder
        "{tree}/docs/requirements.pdf and more",
        "{tree}/missing.pdf",
        "'{tree}/top.md",  # an unbalanced quote
        "file://example.com{tree}/top.md",  # another host
    ],
)
def test_anything_else_pasted_is_text(tree, paste):
    assert dropped_files(paste.format(tree=tree)) is None


def test_the_walk_is_nearest_first_and_skips_what_nobody_attaches(tree):
    found = [path for batch in walk(tree) for path in batch]
    assert found == [
        "top.md",
        "My Files/scan 1.png",
        "docs/requirements.pdf",
        "docs/old/requirements-v1.pdf",
    ]


def test_matching_ranks_the_name_then_the_path_then_letters_in_order():
    files = ["docs/old/requirements-v1.pdf", "requirements/notes.md", "docs/requirements.pdf"]
    assert matches("requirements", files) == [
        "docs/requirements.pdf",
        "docs/old/requirements-v1.pdf",
        "requirements/notes.md",
    ]
    assert matches("rqpdf", files) == ["docs/requirements.pdf", "docs/old/requirements-v1.pdf"]
    assert matches("old pdf", files) == ["docs/old/requirements-v1.pdf"]
    assert matches("", files) == files


def test_a_typed_path_completes_one_folder_at_a_time(tree, monkeypatch):
    monkeypatch.setenv("HOME", str(tree))
    assert typed_path("~/do") == ["~/docs/"]
    assert typed_path("~/docs/") == ["~/docs/old/", "~/docs/requirements.pdf"]
    assert typed_path(f"{tree}/docs/req") == [f"{tree}/docs/requirements.pdf"]
    assert typed_path("~/.g") == ["~/.git/"]  # hidden entries only when asked for
    assert typed_path("~/nowhere/x") == []


def fake_tool(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    return folder


def test_an_image_is_read_with_xclip_on_x11(tools, tmp_path):
    shot = attachfiles.png(tmp_path / "shot.png")
    # xclip's interface: -t TARGETS lists the types, -t MIME prints the content.
    fake_tool(
        tools,
        "xclip",
        'case "$*" in *TARGETS*) printf "TARGETS\\nUTF8_STRING\\nimage/jpeg\\nimage/png\\n";;'
        f' *image/png*) cat "{shot}";; *) exit 1;; esac',
    )
    assert clipboard_image() == (shot.read_bytes(), "image/png")


def test_xclip_with_text_only_or_nothing_says_so(tools):
    fake_tool(tools, "xclip", 'case "$*" in *TARGETS*) printf "TARGETS\\nUTF8_STRING\\n";; esac')
    with pytest.raises(NoImage) as text_only:
        clipboard_image()
    fake_tool(tools, "xclip", "echo 'Error: target TARGETS not available' >&2; exit 1")
    with pytest.raises(NoImage) as empty:
        clipboard_image()
    instead = "save the image to a file and attach it with Ctrl+L, or paste its path"
    assert text_only.value.line("tui") == (
        f"the clipboard holds text, no image (xclip found none); {instead}"
    )
    assert empty.value.line("tui") == (
        f"the clipboard holds nothing, no image (xclip found none); {instead}"
    )


def test_no_display_at_all_says_so(tools, monkeypatch):
    monkeypatch.delenv("DISPLAY")
    with pytest.raises(NoImage) as none:
        clipboard_image()
    assert none.value.message == "no graphical clipboard here (no Wayland or X11 display)"
