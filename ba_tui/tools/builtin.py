"""The tools that need no setup: the date and time, a text file or a folder under the
current directory, and a web page as readable text. Offered only when enabled
(`--tool NAME`, or `[tools] enabled = [...]` in config.toml); all of them only read.
"""

from __future__ import annotations

import asyncio
import datetime
import os
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ba_tui.errors import UsageError
from ba_tui.tools.tool import Tool, ToolFailed

READ_LIMIT = 1_000_000  # bytes of a file read_file reads
FOLDER_LIMIT = 500  # entries list_folder shows
FETCH_LIMIT = 2_000_000  # bytes of a page fetch_url reads
FETCH_SECONDS = 15.0


async def current_time(arguments: dict[str, Any]) -> str:
    now = datetime.datetime.now().astimezone()
    return f"{now.isoformat(timespec='seconds')} ({now.strftime('%A')}, {now.tzname()})"


def _inside(given: Any) -> Path:
    """`given` resolved under the current directory, symlinks followed: a path that ends
    up outside it (`..`, an absolute path, a link pointing out) is refused."""
    if not isinstance(given, str) or not given:
        raise ToolFailed("path must be a non-empty string")
    root = Path.cwd().resolve()
    path = (root / given).resolve()
    if path != root and root not in path.parents:
        raise ToolFailed(
            f"{given} is outside the current directory; only paths under it can be read"
        )
    return path


async def read_file(arguments: dict[str, Any]) -> str:
    path = _inside(arguments.get("path"))
    if not path.is_file():
        raise ToolFailed(f"{arguments['path']} is not a file")
    with path.open("rb") as handle:
        data = handle.read(READ_LIMIT + 1)
    if b"\x00" in data[:8192]:
        raise ToolFailed(f"{arguments['path']} is not a text file")
    text = data[:READ_LIMIT].decode("utf-8", "replace")
    if len(data) > READ_LIMIT:
        text += f"\n[ba-chat: only the first {READ_LIMIT} bytes were read]"
    return text


async def list_folder(arguments: dict[str, Any]) -> str:
    path = _inside(arguments.get("path") or ".")
    if not path.is_dir():
        raise ToolFailed(f"{arguments.get('path')} is not a folder")
    lines = []
    for entry in sorted(os.scandir(path), key=lambda e: e.name)[:FOLDER_LIMIT]:
        if entry.is_dir():
            lines.append(f"{entry.name}/")
        else:
            size = entry.stat().st_size if entry.is_file() else 0
            lines.append(f"{entry.name} ({size} bytes)")
    return "\n".join(lines) or "(empty folder)"


class _Readable(HTMLParser):
    """An HTML page's visible text, one block per line (scripts and styles left out)."""

    _SKIP = {"script", "style", "noscript", "template", "svg", "head"}
    _BLOCKS = {
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "pre",
    }

    def __init__(self) -> None:
        super().__init__()
        self.out: list[str] = []
        self.skipping = 0
        self.title = ""
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "title":
            self.in_title = True
        elif tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag in self._SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self._BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        elif not self.skipping:
            self.out.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.out).splitlines())
        body = "\n".join(line for line in lines if line)
        return f"# {self.title.strip()}\n\n{body}" if self.title.strip() else body


def _fetch(url: str) -> str:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "ba-chat fetch_url"})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_SECONDS) as response:
            kind = response.headers.get_content_type()
            charset = response.headers.get_content_charset() or "utf-8"
            data = response.read(FETCH_LIMIT + 1)
    except urllib.error.HTTPError as exc:
        raise ToolFailed(f"{url} answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ToolFailed(f"could not fetch {url}: {reason}") from None
    cut = len(data) > FETCH_LIMIT
    text = data[:FETCH_LIMIT].decode(charset, "replace")
    if kind == "text/html":
        parser = _Readable()
        parser.feed(text)
        text = parser.text()
    elif not (kind.startswith("text/") or kind in ("application/json", "application/xml")):
        raise ToolFailed(f"{url} is {kind}, not text")
    return text + (f"\n[ba-chat: only the first {FETCH_LIMIT} bytes were read]" if cut else "")


async def fetch_url(arguments: dict[str, Any]) -> str:
    url = arguments.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ToolFailed("url must be an http:// or https:// address")
    return await asyncio.to_thread(_fetch, url)


def _path_schema(what: str, required: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"path": {"type": "string", "description": what}},
    }
    if required:
        schema["required"] = ["path"]
    return schema


BUILTIN: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(
            "current_time",
            "The current local date, time and time zone.",
            {"type": "object", "properties": {}},
            current_time,
            read_only=True,
        ),
        Tool(
            "read_file",
            "Read a text file under the current directory.",
            _path_schema("The file's path, relative to the current directory."),
            read_file,
            read_only=True,
        ),
        Tool(
            "list_folder",
            "List the files and folders in a folder under the current directory.",
            _path_schema(
                "The folder's path, relative to the current directory (default .).", False
            ),
            list_folder,
            read_only=True,
        ),
        Tool(
            "fetch_url",
            "Fetch a web page or text file and return it as readable text.",
            {
                "type": "object",
                "properties": {"url": {"type": "string", "description": "An http(s) URL."}},
                "required": ["url"],
            },
            fetch_url,
            read_only=True,
            timeout=FETCH_SECONDS + 5,
        ),
    )
}


def builtin_tools(names: list[str]) -> list[Tool]:
    """The built-in tools named (`--tool`, `[tools] enabled`); an unknown name is refused."""
    tools = []
    for name in names:
        if name not in BUILTIN:
            raise UsageError(
                f"no built-in tool named {name!r}",
                f"use one of: {', '.join(BUILTIN)} (see ba-chat tools)",
            )
        tools.append(BUILTIN[name])
    return tools
