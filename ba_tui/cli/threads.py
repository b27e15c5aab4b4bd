"""`threads list|show|rename|delete`, `search`, `export` and `import`: saved history.

Titles and message text come from models, so they are printed as plain text, never as
markup, and on a terminal escape sequences and control characters are removed first.
The store and exporters are imported inside each command: `ba-chat --help` stays instant.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ba_tui.cli import complete
from ba_tui.cli.app import TextArgumentCommand, app, terminal_safe, utf8

if TYPE_CHECKING:
    from ba_tui.store import Message, Store, Thread

threads_app = typer.Typer(
    name="threads",
    help="List, show, rename and delete saved threads.",
    rich_markup_mode=None,
    add_completion=False,
)
app.add_typer(threads_app, name="threads")

_C1 = re.compile(r"[\x7f-\x9f]")


# --- output -------------------------------------------------------------------------------


class _Out:
    """stdout, made safe for a terminal: text loses control characters, JSON gets the few
    that JSON leaves raw (DEL and C1) escaped, so the data stays the same."""

    def __init__(self, *, json: bool = False) -> None:
        self.tty = sys.stdout.isatty()
        self.json = json

    def write(self, text: str) -> int:
        if self.tty:
            if self.json:
                text = _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
            else:
                text = terminal_safe(text)
        return sys.stdout.write(text)

    def line(self, text: str = "") -> None:
        self.write(text + "\n")


@contextmanager
def _stdout() -> Iterator[None]:
    """End quietly when the reader of a pipe goes away (`| head`)."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(1) from None


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, indent=2)


def _open_store() -> Store:
    from ba_tui.store import Store

    return Store.open()


def _ago(stamp: str) -> str:
    """`5m ago` for recent times, the date for old ones."""
    from datetime import UTC, datetime

    try:
        then = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return stamp
    seconds = (datetime.now(UTC) - then).total_seconds()
    if seconds < 60:
        return "just now"
    for size, unit in ((86400 * 30, ""), (86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return stamp[:10] if not unit else f"{int(seconds // size)}{unit} ago"
    return stamp[:10]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _tokens(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _thread_dict(thread: Thread) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(thread)


# --- threads ------------------------------------------------------------------------------


@threads_app.callback(invoke_without_command=True)
def threads_root(ctx: typer.Context) -> None:
    """List, show, rename and delete saved threads (`ba-chat threads` lists them)."""
    if ctx.invoked_subcommand is None:
        list_threads(json_out=False, limit=50, archived=False, every=False)


@threads_app.command("list")
def list_threads(
    json_out: bool = typer.Option(False, "--json", help="Print a JSON array."),
    limit: int = typer.Option(
        50, "--limit", "-n", min=1, help="How many threads, newest first.", metavar="N"
    ),
    archived: bool = typer.Option(False, "--archived", help="Only archived threads."),
    every: bool = typer.Option(False, "--all", help="Archived threads too."),
) -> None:
    """List saved threads, pinned first, then newest.

    Metadata only; archived threads only with --archived or --all.
    """
    with _open_store() as store:
        threads = store.list_threads(limit=limit, archived=None if every else archived)
        short = store.short_ids(thread.id for thread in threads)
    out = _Out(json=json_out)
    with _stdout():
        if json_out:
            out.line(_json([_thread_dict(thread) for thread in threads]))
            return
        if not threads:
            print("no threads yet; start one with `ba-chat ask`", file=sys.stderr)
            return
        # Cleaned cell by cell, before measuring, so stripped escapes cannot skew the columns.
        clean = terminal_safe if out.tty else str
        rows = [
            (
                short[t.id],
                _ago(t.updated_at),
                str(t.message_count),
                _tokens(t.total_tokens),
                _one_line(clean(f"{t.provider}/{t.model}")),
                ("📌 " if t.pinned else "") + (_one_line(clean(t.title)) or "(untitled)"),
            )
            for t in threads
        ]
        header = ("ID", "UPDATED", "MSGS", "TOKENS", "MODEL", "TITLE")
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(5)]
        width = shutil.get_terminal_size().columns if out.tty else 0
        for row in [header, *rows]:
            line = "  ".join(
                [
                    row[0].ljust(widths[0]),
                    row[1].ljust(widths[1]),
                    row[2].rjust(widths[2]),
                    row[3].rjust(widths[3]),
                    row[4].ljust(widths[4]),
                    row[5],
                ]
            )
            if width and len(line) > width:
                line = line[: width - 1] + "…"
            out.line(line)


@threads_app.command("show")
def show_thread(
    thread_id: str = typer.Argument(
        ...,
        metavar="ID",
        help="Thread id (a unique prefix will do).",
        callback=utf8,
        autocompletion=complete.threads,
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the thread and messages as JSON."),
) -> None:
    """Show a thread with every message and branch.

    Every stored field is shown.
    """
    from ba_tui.messages import attachment_label, attachments_of, in_order, message_dict

    with _open_store() as store:
        thread = store.get_thread(thread_id)
        messages = store.messages(thread.id)
    out = _Out(json=json_out)
    with _stdout():
        if json_out:
            document = _thread_dict(thread)
            document["messages"] = [message_dict(message, pid=True) for message in messages]
            out.line(_json(document))
            return
        out.line(_one_line(thread.title) or "(untitled)")
        facts = [
            f"thread {thread.id}",
            f"{thread.provider}/{thread.model}",
            f"{thread.message_count} messages",
            f"{_tokens(thread.total_tokens)} tokens",
            f"created {thread.created_at}",
            f"updated {thread.updated_at}",
        ]
        if thread.persona:
            facts.append(f"persona {thread.persona}")
        out.line(" · ".join(facts))
        if thread.system:
            out.line(f"system: {thread.system}")
        ids = {message.id for message in messages}
        previous: str | None = None
        for message in messages:
            out.line()
            out.line(_message_header(message, branch=message.parent_id not in (previous, None)))
            if message.parent_id and message.parent_id not in ids:
                out.line(f"(parent {message.parent_id} is not in this thread)")
            for part in attachments_of(message.parts):
                out.line(f"[attached: {attachment_label(part)}]")
            shown = in_order(message.parts)
            for kind, header, body in shown:
                if kind == "text":
                    out.line(body.strip("\n"))
                else:
                    out.line(f"[{kind} {header}]" if header else f"[{kind}]")
                    out.line(body)
                    out.line(f"[/{kind}]")
            if not any(kind == "text" for kind, _, _ in shown):
                out.line(message.content)
            if message.error:
                out.line(f"error: {message.error}")
            previous = message.id


def _message_header(message: Message, *, branch: bool) -> str:
    parts = [message.role, message.id]
    if branch and message.parent_id:
        parts.append(f"reply to {message.parent_id}")
    if message.model:
        parts.append(f"{message.provider}/{message.model}" if message.provider else message.model)
    parts.append(message.status)
    if message.input_tokens is not None or message.output_tokens is not None:
        tokens = f"{_tokens(message.input_tokens)} in / {_tokens(message.output_tokens)} out"
        if message.reasoning_tokens is not None:
            tokens += f" ({message.reasoning_tokens:,} reasoning)"
        parts.append(tokens)
    if message.cache_read_tokens or message.cache_write_tokens:
        parts.append(
            f"cache {_tokens(message.cache_read_tokens)} read"
            f" / {_tokens(message.cache_write_tokens)} written"
        )
    if message.role == "assistant":
        from ba_tui.pricing import format_cost

        parts.append(format_cost(message.cost))
    if message.ttft_ms is not None:
        parts.append(f"first token {message.ttft_ms:,.0f} ms")
    if message.duration_ms is not None:
        parts.append(f"{message.duration_ms / 1000:,.1f} s")
    if message.finish_reason:
        parts.append(f"finish {message.finish_reason}")
    parts.append(message.created_at)
    return "── " + " · ".join(parts)


@threads_app.command("rename")
def rename_thread(
    thread_id: str = typer.Argument(
        ...,
        metavar="ID",
        help="Thread id (a unique prefix will do).",
        callback=utf8,
        autocompletion=complete.threads,
    ),
    title: str = typer.Argument(..., help="The new title.", callback=utf8),
) -> None:
    """Give a thread a new title."""
    from ba_tui.errors import UsageError

    title = _one_line(title)
    if not title:
        raise UsageError("the new title is empty", "give the thread a title with some text")
    with _open_store() as store:
        thread = store.update_thread(store.get_thread(thread_id).id, title=title)
    with _stdout():
        _Out().line(f"renamed {thread.id}: {thread.title}")


@threads_app.command("delete")
def delete_thread(
    thread_id: str = typer.Argument(
        ...,
        metavar="ID",
        help="Thread id (a unique prefix will do).",
        callback=utf8,
        autocompletion=complete.threads,
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a thread and all its messages, for good.

    Its search rows go too.
    """
    from ba_tui.errors import UsageError

    with _open_store() as store:
        thread = store.get_thread(thread_id)
        if not yes:
            if not sys.stdin.isatty():
                raise UsageError(
                    f"not deleting thread {thread.id} without confirmation",
                    "pass --yes to delete it from a script",
                )
            title = _one_line(thread.title) or "(untitled)"
            question = (
                f"Delete thread {thread.id} “{title}” and its {thread.message_count} messages?"
            )
            if not typer.confirm(terminal_safe(question), default=False):
                print("kept it", file=sys.stderr)
                raise typer.Exit(1)
        store.delete_thread(thread.id)
        from ba_tui import uploads

        uploads.forget_deleted(store)  # its files' records of uploads to Gemini
    with _stdout():
        _Out().line(f"deleted thread {thread.id} ({thread.message_count} messages)")


_ID = typer.Argument(
    ...,
    metavar="ID",
    help="Thread id (a unique prefix will do).",
    callback=utf8,
    autocompletion=complete.threads,
)


def _flag(thread_id: str, name: str, value: bool, said: str) -> None:
    with _open_store() as store:
        thread = store.update_thread(store.get_thread(thread_id).id, **{name: value})
    with _stdout():
        _Out().line(f"{said} {thread.id}: {_one_line(thread.title) or '(untitled)'}")


@threads_app.command("pin")
def pin_thread(thread_id: str = _ID) -> None:
    """Keep a thread at the top of the list."""
    _flag(thread_id, "pinned", True, "pinned")


@threads_app.command("unpin")
def unpin_thread(thread_id: str = _ID) -> None:
    """Let a pinned thread take its place by date again."""
    _flag(thread_id, "pinned", False, "unpinned")


@threads_app.command("archive")
def archive_thread(thread_id: str = _ID) -> None:
    """Hide a thread from lists.

    It is kept and searchable; `threads list --archived` shows it.
    """
    _flag(thread_id, "archived", True, "archived")


@threads_app.command("unarchive")
def unarchive_thread(thread_id: str = _ID) -> None:
    """Bring an archived thread back to the lists."""
    _flag(thread_id, "archived", False, "unarchived")


@threads_app.command("set")
def set_thread(
    thread_id: str = _ID,
    name: str = typer.Argument(
        ..., help="temperature, top_p, max_tokens, thinking_budget or schema."
    ),
    value: str | None = typer.Argument(
        None, help="The value; leave it out to unset.", callback=utf8
    ),
) -> None:
    """Set a thread's temperature, length or schema.

    Its turns are sent with it unless `ask` is told otherwise.
    """
    from ba_tui.errors import UsageError
    from ba_tui.store.threads import SETTINGS

    if name not in SETTINGS:
        raise UsageError(
            f"unknown thread setting {name!r}", f"choose one of: {', '.join(SETTINGS)}"
        )
    parsed = None if value is None else _setting_value(name, value)
    with _open_store() as store:
        thread = store.get_thread(thread_id)
        settings = dict(thread.settings or {}) | {name: parsed}
        thread = store.update_thread(thread.id, settings=settings)
    with _stdout():
        shown = "unset" if parsed is None else f"= {value}"
        _Out().line(f"thread {thread.id}: {name} {shown}")


def _setting_value(name: str, value: str) -> Any:
    """A thread setting from the command line, checked as `ask`'s option would be."""
    from ba_tui.errors import UsageError

    if name == "schema":
        from ba_tui.config import load_config
        from ba_tui.schemas import parse

        parse(value, saved=load_config().data.get("schemas"))  # fails now, not at the next turn
        return value
    try:
        number = int(value) if name in ("max_tokens", "thinking_budget") else float(value)
    except ValueError:
        kind = "a whole number" if name in ("max_tokens", "thinking_budget") else "a number"
        raise UsageError(
            f"{name} must be {kind}, not {value!r}", f"e.g. ba-chat threads set ID {name} 1"
        ) from None
    limits = {
        "temperature": (0, 2),
        "top_p": (0, 1),
        "max_tokens": (1, 10**7),
        "thinking_budget": (1024, 10**7),
    }
    low, high = limits[name]
    if not low <= number <= high:
        raise UsageError(f"{name} must be between {low} and {high}", "give a value in range")
    return number


# --- search, export, import ---------------------------------------------------------------


@app.command("search", cls=TextArgumentCommand)
def search(
    query: str = typer.Argument(
        ..., help="Words to find (any text; FTS syntax is not parsed).", callback=utf8
    ),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON array."),
    limit: int = typer.Option(
        50, "--limit", "-n", min=1, help="How many matches, best first.", metavar="N"
    ),
) -> None:
    """Search every saved message, best matches first.

    Each match is printed with its thread. A word also finds its other forms (risk finds
    risks), and the last word the words it starts (quok finds quokka).
    """
    from dataclasses import asdict

    out = _Out(json=json_out)
    # On a terminal matches are bold; piped or as JSON they are [bracketed].
    bold = out.tty and not json_out
    with _open_store() as store:
        hits = store.search(query, limit=limit, highlight=("\x02", "\x03") if bold else ("[", "]"))
        short = store.short_ids({hit.thread_id for hit in hits})
    with _stdout():
        if json_out:
            out.line(_json([asdict(hit) for hit in hits]))
            return
        if not hits:
            print(f"no messages match {query!r}", file=sys.stderr)
            return
        for hit in hits:
            title = _one_line(hit.thread_title) or "(untitled)"
            out.line(f"{short[hit.thread_id]}  {title} · {hit.role} · {hit.created_at[:16]}")
            snippet = _one_line(hit.snippet)
            if bold:
                message_id = terminal_safe(hit.message_id)
                sys.stdout.write(f"  {_bold_matches(snippet)}\n  message {message_id}\n")
            else:
                out.line(f"  {snippet}\n  message {hit.message_id}")


def _bold_matches(snippet: str) -> str:
    """Terminal-safe text with the \\x02...\\x03 marked matches in bold."""
    codes = {"\x02": "\x1b[1m", "\x03": "\x1b[22m"}
    pieces = re.split("([\x02\x03])", snippet)
    return "".join(codes.get(piece) or terminal_safe(piece) for piece in pieces)


@app.command("export")
def export_threads(
    thread_ids: list[str] | None = typer.Argument(
        None,
        metavar="[ID]...",
        help="Threads to export (unique id prefixes will do).",
        callback=utf8,
        autocompletion=complete.threads,
    ),
    all_threads: bool = typer.Option(False, "--all", help="Export every thread."),
    fmt: str | None = typer.Option(
        None,
        "--format",
        "-f",
        help="md, json or jsonl (default: from -o's suffix, else md).",
        autocompletion=complete.export_formats,
        metavar="FORMAT",
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Write to this file (default: stdout).",
        metavar="FILE",
    ),
) -> None:
    """Export threads as Markdown, JSON or JSONL.

    Markdown is for reading; JSON and JSONL keep everything and can be imported again.
    """
    from ba_tui.errors import UsageError
    from ba_tui.export import export, format_for, open_output, output_for

    fmt = format_for(output, fmt)
    if thread_ids and all_threads:
        raise UsageError("give thread ids or --all, not both")
    if not thread_ids and not all_threads:
        raise UsageError(
            "name the threads to export, or pass --all", "list them with `ba-chat threads list`"
        )
    with _open_store() as store:
        chosen = [store.get_thread(i).id for i in thread_ids or []]
        ids = store.thread_ids() if all_threads else list(dict.fromkeys(chosen))
        # An empty store still gets its (empty, valid) export: a backup script that
        # copies the file next keeps working on a fresh install.
        empty = "no threads to export: the store is empty" if not ids else None
        if output is None:
            with _stdout():
                export(store, ids, fmt, _Out(json=fmt != "md"))
            if empty:
                print(empty, file=sys.stderr)
            return
        target = output_for(output)
        with open_output(target) as handle:
            count = export(store, ids, fmt, handle)
    what = "all threads" if all_threads else f"{len(ids)} thread(s)"
    line = f"exported {what} ({count:,} messages) to {output}"
    if empty:
        line = f"{empty} (wrote an empty export to {output})"
    if target.target != output:
        line += f" (a symlink: the file written is {target.target})"
    print(terminal_safe(line), file=sys.stderr)


@app.command("import")
def import_threads(
    file: Path = typer.Argument(
        ..., help="A ba-chat JSON/JSONL export, or conversations.json from a ChatGPT export."
    ),
) -> None:
    """Import threads from a ba-chat or ChatGPT export.

    Ids are kept, so importing the same file twice adds nothing.
    """
    from ba_tui.export import import_batch, read_file

    batch = read_file(file)  # a bad file fails here, before the store is even opened
    with _open_store() as store:
        result = import_batch(store, batch)
    skipped = result.threads - result.threads_added
    line = (
        f"imported {result.threads_added} thread(s) and {result.messages_added:,} message(s)"
        f" from {file} ({result.source})"
    )
    if skipped:
        line += f"; {skipped} thread(s) were already here"
    if result.skipped:
        left_out = ", ".join(f"{count:,} {why}" for why, count in result.skipped.items())
        line += f"; left out: {left_out}"
    with _stdout():
        _Out().line(line)
