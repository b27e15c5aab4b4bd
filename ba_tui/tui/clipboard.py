"""An image on the system clipboard (a screenshot), read with the platform's own tool.

Terminals paste text only: an image on the clipboard never reaches the app as a paste.
So ba-chat asks the clipboard itself: `wl-paste` on Wayland, `xclip` on X11, `pngpaste`
or AppleScript on macOS. Each runs as a process with a timeout (a clipboard owner that
never answers must not hang the worker). Where there is no such tool, or the clipboard
holds no image, `NoImage` says so and what to do instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from ba_tui.errors import UsageError

TIMEOUT = 5.0
# Preferred first: every provider with vision takes these as they are.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
INSTEAD = "save the image to a file and attach it with Ctrl+L, or paste its path"


class NoImage(UsageError):
    """No image could be read from the clipboard: one line saying why."""


def clipboard_image() -> tuple[bytes, str]:
    """The image on the clipboard and its type (`image/png`...), or `NoImage`."""
    if os.environ.get("WAYLAND_DISPLAY") and shutil.which("wl-paste"):
        return _wayland()
    if os.environ.get("DISPLAY") and shutil.which("xclip"):
        return _x11()
    if sys.platform == "darwin":
        return _macos()
    wanted = "wl-clipboard" if os.environ.get("WAYLAND_DISPLAY") else "xclip"
    if not os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY"):
        raise NoImage("no graphical clipboard here (no Wayland or X11 display)", INSTEAD)
    raise NoImage(f"reading an image from the clipboard needs {wanted}, not installed", INSTEAD)


def _run(command: list[str]) -> bytes | None:
    """The command's output, or None when it fails (an empty clipboard exits non-zero)."""
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL, check=False
        )
    except subprocess.TimeoutExpired:
        raise NoImage(
            f"{command[0]} did not answer within {TIMEOUT:.0f} s", "try again, or " + INSTEAD
        ) from None
    except OSError as exc:
        raise NoImage(f"could not run {command[0]}: {exc.strerror or exc}", INSTEAD) from None
    return done.stdout if done.returncode == 0 else None


def _pick(types: bytes | None, tool: str) -> str:
    """The image type to ask `tool` for, from the types the clipboard offers."""
    offered = (types or b"").decode("utf-8", "replace").split()
    for mime in IMAGE_TYPES:
        if mime in offered:
            return mime
    if any(mime.startswith("image/") for mime in offered):
        found = next(mime for mime in offered if mime.startswith("image/"))
        raise NoImage(f"the clipboard holds a {found} image, which models do not take", INSTEAD)
    what = "text" if any(m.startswith("text/") or m.isupper() for m in offered) else "nothing"
    raise NoImage(f"the clipboard holds {what}, no image ({tool} found none)", INSTEAD)


def _checked(data: bytes | None, tool: str) -> bytes:
    if not data:
        raise NoImage(f"the clipboard holds no image ({tool} found none)", INSTEAD)
    return data


def _wayland() -> tuple[bytes, str]:
    mime = _pick(_run(["wl-paste", "--list-types"]), "wl-paste")
    return _checked(_run(["wl-paste", "--no-newline", "--type", mime]), "wl-paste"), mime


def _x11() -> tuple[bytes, str]:
    base = ["xclip", "-selection", "clipboard"]
    mime = _pick(_run([*base, "-t", "TARGETS", "-o"]), "xclip")
    return _checked(_run([*base, "-t", mime, "-o"]), "xclip"), mime


def _macos() -> tuple[bytes, str]:
    if shutil.which("pngpaste"):
        return _checked(_run(["pngpaste", "-"]), "pngpaste"), "image/png"
    # AppleScript prints the clipboard's PNG as «data PNGf89504E47…» (hex).
    out = _run(["osascript", "-e", "the clipboard as «class PNGf»"])
    found = re.search(rb"PNGf([0-9A-Fa-f]+)", out or b"")
    if found is None:
        raise NoImage("the clipboard holds no image", INSTEAD)
    return bytes.fromhex(found.group(1).decode()), "image/png"
