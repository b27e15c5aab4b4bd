"""Threads out as Markdown, JSON or JSONL, and back in from ba-chat exports or ChatGPT.

JSON is one versioned document, `{"format": "ba-chat", "version": 2, "exported_at", "threads":
[{...thread, "messages": [...]}]}`, written one thread per line so a million messages stream
out without being held in memory. JSONL starts with the same header line, then for each
thread a `{"type":"thread",...}` line followed by one `{"type":"message",...}` line per
message. Both carry every stored field except `pid`: a message's `parts` (see messages.py),
and beside them `content`, the text of its parts, for scripts (`jq .content`; an import
reads the parts). Version 1 files, whose messages had `content`, `reasoning` and
`reasoning_signature` instead of parts, still import. Importing preserves ids, so export ->
import -> export is identical apart from `exported_at`, and a second import adds nothing.
Markdown is for people: title, model, and the thread's current branch.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from ba_tui import messages as parts
from ba_tui.errors import BaChatError, UsageError
from ba_tui.messages import FLOAT_FIELDS, INT_FIELDS, ROLES, STATUSES, TEXT_FIELDS, Text

if TYPE_CHECKING:
    from ba_tui.store import Message, Store, Thread

FORMAT = "ba-chat"
VERSION = 2
FORMATS = ("md", "json", "jsonl")
# Rows (threads + messages) per import transaction: about 30-80 ms of work (see
# bench/import_bench.py), so a concurrent ask never waits long for the write lock.
IMPORT_BATCH_ROWS = 500
# After each import transaction the lock stays free for this fraction of its length.
IMPORT_PAUSE = 0.5

# Compact, like the rows SQLite's json_object() writes (see Store.export_json).
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

_ID = re.compile(r"[!-~]{1,64}")


class Writer(Protocol):
    """Where an export goes: a file, or stdout made safe for a terminal (cli/threads)."""

    def write(self, text: str, /) -> int: ...


class ExportError(UsageError):
    """An export or import that cannot be done; the store is left untouched."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class ImportResult:
    source: str  # "ba-chat JSON", "ba-chat JSONL" or "ChatGPT export"
    threads: int  # in the file
    messages: int
    threads_added: int  # new to the store
    messages_added: int
    skipped: dict[str, int] = field(default_factory=dict)  # left out of the file, by reason


# --- writing ------------------------------------------------------------------------------


def export(
    store: Store,
    thread_ids: Sequence[str] | None,
    fmt: str,
    out: Writer,
    *,
    exported_at: str | None = None,
) -> int:
    """Write the threads (all when None) to `out` in `fmt`; returns messages written."""
    from ba_tui.store import iso, now_ms

    ids = store.thread_ids() if thread_ids is None else list(thread_ids)
    exported_at = exported_at or iso(now_ms())
    writer: dict[str, Callable[..., int]] = {
        "json": write_json,
        "jsonl": write_jsonl,
        "md": write_markdown,
    }
    if fmt not in writer:
        raise ExportError(f"unknown export format {fmt!r}", "use md, json or jsonl")
    return writer[fmt](store, ids, out, exported_at)


def write_json(store: Store, ids: Sequence[str], out: Writer, exported_at: str) -> int:
    head = _encode({"format": FORMAT, "version": VERSION, "exported_at": exported_at})
    out.write(head[:-1] + ',"threads":[')
    count = 0
    for index, (thread, messages) in enumerate(store.export_json(ids)):
        out.write("\n" if index == 0 else ",\n")
        out.write(_one_line(thread[:-1] + ',"messages":[' + ",".join(messages) + "]}"))
        count += len(messages)
    out.write("\n]}\n")
    return count


def write_jsonl(store: Store, ids: Sequence[str], out: Writer, exported_at: str) -> int:
    out.write(_encode({"format": FORMAT, "version": VERSION, "exported_at": exported_at}) + "\n")
    count = 0
    for thread, messages in store.export_json(ids):
        lines = ['{"type":"thread",' + thread[1:]]
        lines += ['{"type":"message",' + message[1:] for message in messages]
        out.write(_one_line("\n".join(lines)) + "\n")
        count += len(messages)
    return count


_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _one_line(json_text: str) -> str:
    """Escape the line breaks JSON allows raw inside strings but line-based readers
    (Python's splitlines among them) split on. The same data, safe to read line by line."""
    for char, escaped in _LINE_BREAKS.items():
        if char in json_text:
            json_text = json_text.replace(char, escaped)
    return json_text


def write_markdown(store: Store, ids: Sequence[str], out: Writer, exported_at: str) -> int:
    """Each thread's current branch (what the model saw last), reasoning folded away."""
    count = 0
    for index, thread_id in enumerate(ids):
        thread = store.get_thread(thread_id)
        path = store.history(thread.id)
        if index:
            out.write("\n\n---\n\n")
        out.write(_markdown_thread(thread, path))
        count += len(path)
    return count


def _markdown_thread(thread: Thread, path: Sequence[Message]) -> str:
    title = " ".join(thread.title.split()) or "Untitled"
    lines = [
        f"# {title}",
        "",
        f"- thread: `{thread.id}`",
        f"- model: {thread.provider} / {thread.model}",
        f"- created: {thread.created_at} · updated: {thread.updated_at}",
    ]
    if thread.persona:
        lines.append(f"- persona: {thread.persona}")
    others = thread.message_count - len(path)
    if others > 0:
        lines.append(f"- {others} more message(s) on other branches (see the JSON export)")
    if thread.system:
        lines += [
            "",
            "<details><summary>System prompt</summary>",
            "",
            thread.system,
            "",
            "</details>",
        ]
    for message in path:
        lines += ["", f"## {_markdown_heading(message)}", ""]
        if message.reasoning:
            lines += ["<details><summary>Reasoning</summary>", "", message.reasoning, ""]
            lines += ["</details>", ""]
        lines.append(message.content if message.content else "*(empty)*")
        if message.status != "complete":
            note = f"*{message.status}*"
            if message.error:
                note += f" — {message.error}"
            lines += ["", note]
    return "\n".join(lines) + "\n"


def _markdown_heading(message: Message) -> str:
    parts = [message.role.capitalize()]
    if message.role == "assistant" and message.model:
        parts.append(message.model)
    parts.append(message.created_at[:16].replace("T", " "))
    if message.input_tokens is not None or message.output_tokens is not None:
        total = (message.input_tokens or 0) + (message.output_tokens or 0)
        parts.append(f"{total:,} tokens")
    if message.cost is not None:
        parts.append(f"${message.cost:.4f}")
    return " · ".join(parts)


# --- where an export goes ---------------------------------------------------------------

# Linux gives up on a chain of symlinks after 40 (ELOOP); so do we.
_MAX_LINKS = 40
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class WriteFailed(BaChatError):
    """The export could not be written (disk full, I/O error); no half file is left."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class Output:
    """Where an export asked for at `path` lands, and how it is written."""

    path: Path  # as the user named it
    target: Path  # the file written: `path`, or where its symlink (chain) leads
    stream: bool  # a FIFO or character device: written through as the export is made

    @property
    def shown(self) -> str:
        """How messages name it: the path, and where a symlink led."""
        if self.target == self.path:
            return str(self.path)
        return f"{self.target} (where the symlink {self.path} leads)"


def output_for(path: Path) -> Output:
    """How to write to `path`; ExportError (one line) for what an export cannot go to.

    A new path or a regular file is replaced atomically, so a reader never sees half an
    export. A FIFO or character device (/dev/null, a pipe) is opened and written through,
    as shell redirection does: replacing it would swap the device for a regular file. A
    symlink is followed, like `cp` and `>` do, and the file it leads to is written; the
    link itself is never replaced.
    """
    try:
        found = os.stat(path)  # follows symlinks, including /dev/stdout's /proc links
    except FileNotFoundError:
        found = None  # a new file, or a symlink to one
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ExportError(f"cannot write {path}: it is a loop of symlinks") from None
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    if found is not None and (stat.S_ISFIFO(found.st_mode) or stat.S_ISCHR(found.st_mode)):
        return Output(path, path, stream=True)
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise ExportError(f"cannot write {path}: it is a folder", "name a file to export to")
    if found is not None and not stat.S_ISREG(found.st_mode):
        what = "a block device" if stat.S_ISBLK(found.st_mode) else "not a regular file"
        raise ExportError(f"cannot write {path}: it is {what}", "name a file to export to")
    return Output(path, _follow_links(path), stream=False)


def _follow_links(path: Path) -> Path:
    """The path a chain of symlinks at `path` ends in (it may not exist yet)."""
    target = path
    for _ in range(_MAX_LINKS):
        if not target.is_symlink():
            return target
        target = target.parent / target.readlink()
    raise ExportError(f"cannot write {path}: it is a loop of symlinks")


@contextmanager
def open_output(path: Path | Output) -> Iterator[IO[str]]:
    """A text handle for the export; see `output_for` for which file it writes and how."""
    output = path if isinstance(path, Output) else output_for(path)
    writer = _write_through if output.stream else _write_atomically
    with writer(output.target, output.shown) as handle:
        yield handle


@contextmanager
def _write_atomically(path: Path, shown: str) -> Iterator[IO[str]]:
    """A file at `path` that appears only once completely written; on any failure the
    temporary file is removed and whatever was at `path` before is left as it was."""
    existed = path.exists()
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, then renamed
            "w",
            encoding="utf-8",
            newline="\n",
            dir=path.parent,
            prefix=f".{path.name}.",
            delete=False,
        )
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            raise _disk_full(path, existed) from None
        raise ExportError(f"cannot write {shown}: {exc.strerror or exc}") from None
    try:
        with handle:
            yield handle
            handle.flush()
            # On disk before the rename, so a crash cannot leave an empty file in its place
            # (and a filesystem that allocates late reports a full disk here, not never).
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException as exc:
        Path(handle.name).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            if exc.errno in _NO_SPACE:
                raise _disk_full(path, existed) from None
            raise WriteFailed(f"cannot write {shown}: {exc.strerror or exc}") from None
        raise


@contextmanager
def _write_through(path: Path, shown: str) -> Iterator[IO[str]]:
    """`path` (a FIFO or character device) opened for writing: no temporary file, no
    rename, the node stays what it is."""
    try:
        handle = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ExportError(f"cannot write {shown}: {exc.strerror or exc}") from None
    if handle.isatty():
        # The export is written as is; on a terminal the model's escape sequences would
        # run. Printed to stdout instead, they are made inert.
        handle.close()
        raise ExportError(f"cannot write {shown}: it is a terminal", "leave out -o to print it")
    try:
        with handle:
            yield handle
    except OSError as exc:
        if exc.errno in _NO_SPACE:
            raise WriteFailed(
                f"no space left on {shown}", "free some space and try again"
            ) from None
        raise WriteFailed(f"cannot write {shown}: {exc.strerror or exc}") from None


def _disk_full(path: Path, existed: bool) -> WriteFailed:
    kept = f"{path} is unchanged" if existed else "nothing was written"
    return WriteFailed(f"the disk holding {path} is full ({kept})", "free some space and try again")


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportBatch:
    """A checked import file: rows ready for `Store.import_rows`."""

    source: str
    threads: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    skipped: dict[str, int] = field(default_factory=dict)  # what was left out, by reason


def import_file(store: Store, path: Path) -> ImportResult:
    """Read a ba-chat JSON/JSONL export or a ChatGPT conversations.json into the store."""
    return import_batch(store, read_file(path))


def import_batch(store: Store, batch: ImportBatch) -> ImportResult:
    """Write a checked file in short transactions (IMPORT_BATCH_ROWS rows each), so asks
    running alongside wait milliseconds for the write lock, never seconds.

    Each thread goes in with its messages (a very long thread is split). Rows whose id is
    already stored are left as they are, so if the import stops midway (the error says how
    far it got), running it again adds exactly what is missing.
    """
    from ba_tui.store import StoreError

    added_threads = added_messages = 0
    try:
        for threads, messages in _batches(batch.threads, batch.messages, IMPORT_BATCH_ROWS):
            started = time.perf_counter()
            new_threads, new_messages = store.import_rows(threads, messages)
            added_threads += new_threads
            added_messages += new_messages
            # Leave the lock free for a while: a waiting process polls for it (up to every
            # 100 ms) and would starve if each commit were followed at once by the next.
            time.sleep(max(time.perf_counter() - started, 0.001) * IMPORT_PAUSE)
    except UnicodeEncodeError:
        raise ExportError(
            "cannot import: the file holds text that is not valid Unicode",
            _progress(added_threads, added_messages),
        ) from None
    except StoreError as exc:
        if not added_threads and not added_messages:
            raise
        raise StoreError(
            f"{exc.message}; {_progress(added_threads, added_messages)}",
            "run the same import again to finish: what is already here is skipped",
        ) from None
    return ImportResult(
        batch.source,
        len(batch.threads),
        len(batch.messages),
        added_threads,
        added_messages,
        batch.skipped,
    )


def _progress(threads: int, messages: int) -> str:
    if not threads and not messages:
        return "the store was not changed"
    return f"{threads} thread(s) and {messages:,} message(s) were imported before it stopped"


def _batches(
    threads: Sequence[dict[str, Any]], messages: Sequence[dict[str, Any]], size: int
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """(threads, messages) of about `size` rows each, every thread in the batch that holds
    its first messages (or before them, when a long thread is split)."""
    by_thread: dict[Any, list[dict[str, Any]]] = {}
    for message in messages:
        by_thread.setdefault(message.get("thread_id"), []).append(message)
    out_threads: list[dict[str, Any]] = []
    out_messages: list[dict[str, Any]] = []
    for thread in threads:
        out_threads.append(thread)
        rows = by_thread.pop(thread.get("id"), [])
        for start in range(0, max(len(rows), 1), size):
            out_messages += rows[start : start + size]
            if len(out_threads) + len(out_messages) >= size:
                yield out_threads, out_messages
                out_threads, out_messages = [], []
    # Messages naming a thread the file does not hold: the store decides about them.
    for rows in by_thread.values():
        out_messages += rows
    if out_threads or out_messages:
        yield out_threads, out_messages


def read_file(path: Path) -> ImportBatch:
    """Every row of an export file, checked; ExportError (one line) if anything is wrong.
    The whole file is checked before anything is written."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ExportError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise ExportError(f"{path} is a folder, not an export file") from None
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExportError(f"{path} is not UTF-8 text, so not an export file") from None
    bad = _Bad(path)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if _is_markdown(path, text):
            raise ExportError(
                f"cannot import {path}: a Markdown export is for reading, not importing",
                "import a json or jsonl export (ba-chat export -f json) "
                "or ChatGPT's conversations.json",
            ) from None
        if exc.msg != "Extra data":
            raise bad(f"not JSON (line {exc.lineno}: {exc.msg})") from None
        return _read_jsonl(text, bad)
    except RecursionError:
        raise bad("nested too deeply") from None
    if isinstance(document, dict) and document.get("format") == FORMAT:
        if "threads" not in document:
            return _read_jsonl(text, bad)  # a JSONL export holding no threads
        return _read_json(document, bad)
    if isinstance(document, list):
        return _read_chatgpt(document, bad)
    raise bad("not a ba-chat export or a ChatGPT conversations.json")


def _is_markdown(path: Path, text: str) -> bool:
    """A file that is not JSON but looks like Markdown (by its suffix, or the `# title`
    every Markdown export starts with): it gets its own error, not a JSON parse error."""
    return path.suffix.lower() in (".md", ".markdown") or text.lstrip().startswith("# ")


class _Bad:
    """Builds the one-line error for a malformed file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, why: str) -> ExportError:
        return ExportError(f"cannot import {self.path}: {why}", "the store was not changed")


def _check_version(header: dict[str, Any], bad: _Bad) -> int:
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise bad(f"unknown format version {version!r}")
    if version > VERSION:
        raise bad(f"it was written by a newer ba-chat (format version {version})")
    return version


def _read_json(document: dict[str, Any], bad: _Bad) -> ImportBatch:
    version = _check_version(document, bad)
    raw_threads = document.get("threads")
    if not isinstance(raw_threads, list):
        raise bad('"threads" is not a list')
    threads, messages = [], []
    for number, raw in enumerate(raw_threads, 1):
        where = f"thread {number}"
        thread = _thread(raw, bad, where)
        raw_messages = raw.get("messages", [])
        if not isinstance(raw_messages, list):
            raise bad(f'{where}: "messages" is not a list')
        for index, item in enumerate(raw_messages, 1):
            message = _message(item, bad, f"{where}, message {index}", version)
            if message["thread_id"] is None:
                message["thread_id"] = thread["id"]
            elif message["thread_id"] != thread["id"]:
                raise bad(f"{where}, message {index}: thread_id does not match its thread")
            messages.append(message)
        threads.append(thread)
    return ImportBatch("ba-chat JSON", threads, messages)


def _read_jsonl(text: str, bad: _Bad) -> ImportBatch:
    threads, messages = [], []
    seen_threads: set[str] = set()
    header_seen = False
    version = VERSION
    # Split on newlines only: splitlines() also breaks at U+2028 and friends inside text.
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise bad(f"{where} is not JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise bad(f"{where} is not a JSON object")
        kind = record.get("type")
        if not header_seen:
            if record.get("format") != FORMAT:
                raise bad("not a ba-chat export or a ChatGPT conversations.json")
            version = _check_version(record, bad)
            header_seen = True
        elif kind == "thread":
            thread = _thread(record, bad, where)
            seen_threads.add(thread["id"])
            threads.append(thread)
        elif kind == "message":
            message = _message(record, bad, where, version)
            if message["thread_id"] not in seen_threads:
                raise bad(f"{where}: message comes before its thread's line")
            messages.append(message)
        else:
            raise bad(f'{where}: unknown record type {kind!r} (expected "thread" or "message")')
    if not header_seen:
        raise bad("the file is empty")
    return ImportBatch("ba-chat JSONL", threads, messages)


def _thread(raw: Any, bad: _Bad, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise bad(f"{where} is not a JSON object")
    thread = {
        "id": _id(raw, "id", bad, where, required=True),
        "title": _text(raw, "title", bad, where) or "",
        "provider": _text(raw, "provider", bad, where, required=True),
        "model": _text(raw, "model", bad, where, required=True),
        "system": _text(raw, "system", bad, where),
        "persona": _text(raw, "persona", bad, where),
        "created_at": _text(raw, "created_at", bad, where, required=True),
        "updated_at": _text(raw, "updated_at", bad, where) or raw.get("created_at"),
    }
    return thread


def _message(raw: Any, bad: _Bad, where: str, version: int) -> dict[str, Any]:
    """A message row for the store (the Message fields), checked field by field."""
    if not isinstance(raw, dict):
        raise bad(f"{where} is not a JSON object")
    message: dict[str, Any] = {
        "id": _id(raw, "id", bad, where, required=True),
        "thread_id": _id(raw, "thread_id", bad, where),
        "role": _text(raw, "role", bad, where, required=True),
        "status": _text(raw, "status", bad, where) or "complete",
        "created_at": _text(raw, "created_at", bad, where, required=True),
    }
    if message["role"] not in ROLES:
        raise bad(f"{where}: unknown role {message['role']!r}")
    if message["status"] not in STATUSES:
        raise bad(f"{where}: unknown status {message['status']!r}")
    message["parent_id"] = _id(raw, "parent_id", bad, where)
    for name in TEXT_FIELDS:
        message[name] = _text(raw, name, bad, where)
    message["parts"] = _parts(raw, bad, where, version, message["provider"])
    for name in INT_FIELDS:
        value = raw.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise bad(f"{where}: {name} is not a whole number")
        message[name] = value
    for name in FLOAT_FIELDS:
        value = raw.get(name)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise bad(f"{where}: {name} is not a number")
        message[name] = value
    return message


def _parts(
    raw: dict[str, Any], bad: _Bad, where: str, version: int, provider: str | None
) -> tuple[parts.Part, ...]:
    """Version 2 lists the parts; version 1 had text, reasoning and Anthropic's signature
    in fields of their own, which become the parts the store's migration makes of them."""
    if version == 1:
        return parts.reply_parts(
            _text(raw, "content", bad, where) or "",
            _text(raw, "reasoning", bad, where),
            provider,
            _text(raw, "reasoning_signature", bad, where),
        )
    items = raw.get("parts")
    if not isinstance(items, list):
        raise bad(f"{where}: parts is not a list")
    try:
        return tuple(parts.from_dict(item) for item in items)
    except ValueError as exc:
        raise bad(f"{where}: {exc}") from None


def _id(raw: dict[str, Any], name: str, bad: _Bad, where: str, *, required: bool = False) -> Any:
    """Ids are printed and typed by people: printable ASCII without spaces, 64 at most."""
    value = _text(raw, name, bad, where, required=required)
    if value is not None and not _ID.fullmatch(value):
        raise bad(f"{where}: {name} is not a valid id")
    return value


def _text(raw: dict[str, Any], name: str, bad: _Bad, where: str, *, required: bool = False) -> Any:
    value = raw.get(name)
    if value is None:
        if required:
            raise bad(f"{where} has no {name}")
        return None
    if not isinstance(value, str):
        raise bad(f"{where}: {name} is not text")
    if required and not value:
        raise bad(f"{where}: {name} is empty")
    return value


# --- ChatGPT ------------------------------------------------------------------------------

_CHATGPT_FINISH = {"stop": "stop", "max_tokens": "length", "interrupted": "other"}


def _read_chatgpt(conversations: list[Any], bad: _Bad) -> ImportBatch:
    """Conversations from ChatGPT's data export: the branch the person last saw in each.

    That branch runs from `current_node` up through `parent` links (some exports list no
    `children`); without a `current_node`, from the root down through the last child.
    Hidden system context, code-interpreter and tool steps, other branches and content that
    is not text are left out and counted in `skipped`; an image becomes `[image]`.
    """
    from ba_tui.store import iso, stable_id

    threads, messages = [], []
    skipped: dict[str, int] = {}
    for number, conversation in enumerate(conversations, 1):
        where = f"conversation {number}"
        if not isinstance(conversation, dict) or not isinstance(conversation.get("mapping"), dict):
            raise bad(f"{where} has no message mapping (not a ChatGPT conversations.json?)")
        mapping = conversation["mapping"]
        created = _ms(conversation.get("create_time")) or _earliest(mapping)
        updated = _ms(conversation.get("update_time")) or created
        key = str(
            conversation.get("conversation_id")
            or conversation.get("id")
            or f"{conversation.get('title')}:{conversation.get('create_time')}"
        )
        thread_id = stable_id(created, f"chatgpt:{key}")
        thread_messages: list[dict[str, Any]] = []
        parent_ms = created
        path = _chatgpt_path(mapping, conversation.get("current_node"))
        on_path = set(path)
        for node_id in path:
            found = _chatgpt_message(mapping[node_id].get("message"), skipped)
            if found is None:
                continue
            role, text, model, finish, ms = found
            # An untimed message goes just after its parent, so order (and ids) stay stable.
            ms = parent_ms = ms or parent_ms + 1
            thread_messages.append(
                {
                    "id": stable_id(ms, f"chatgpt:{key}:{node_id}"),
                    "thread_id": thread_id,
                    "parent_id": thread_messages[-1]["id"] if thread_messages else None,
                    "role": role,
                    "parts": (Text(text),) if text else (),
                    "status": "complete",
                    "provider": "openai" if role == "assistant" else None,
                    "model": model if role == "assistant" else None,
                    "finish_reason": finish,
                    "created_at": iso(ms),
                }
            )
        others = sum(
            1
            for node_id, node in mapping.items()
            if node_id not in on_path and isinstance(node, dict) and node.get("message")
        )
        if others:
            skipped[SKIPPED_BRANCH] = skipped.get(SKIPPED_BRANCH, 0) + others
        models = [m["model"] for m in thread_messages if m["model"]]
        model = conversation.get("default_model_slug") or (models[-1] if models else None)
        title = conversation.get("title")
        threads.append(
            {
                "id": thread_id,
                "title": " ".join(title.split()) if isinstance(title, str) else "",
                "provider": "openai",
                # A thread needs a model to continue with; the export may name none.
                "model": model if isinstance(model, str) and model else CHATGPT_MODEL,
                "system": None,
                "persona": None,
                "created_at": iso(created),
                "updated_at": iso(max(updated, created)),
            }
        )
        messages += thread_messages
    return ImportBatch("ChatGPT export", threads, messages, skipped)


def _chatgpt_path(mapping: dict[str, Any], current: Any) -> list[str]:
    """Node ids from the root to the node the person last saw, root first.

    Up from `current_node` through `parent` links when it names a node; otherwise down
    from the first root through each node's last child (ChatGPT lists the newest branch
    last), with children taken from `children` or, when absent, from `parent` links.
    """
    nodes = {k: v for k, v in mapping.items() if isinstance(v, dict)}
    if isinstance(current, str) and current in nodes:
        path: list[str] = []
        node_id: Any = current
        while isinstance(node_id, str) and node_id in nodes and node_id not in path:
            path.append(node_id)
            node_id = nodes[node_id].get("parent")
        return path[::-1]
    children: dict[str, list[str]] = {}
    for node_id, node in nodes.items():
        listed = node.get("children")
        if isinstance(listed, list):
            children.setdefault(node_id, []).extend(c for c in listed if c in nodes)
    for node_id, node in nodes.items():
        parent = node.get("parent")
        if isinstance(parent, str) and parent in nodes and node_id not in children.get(parent, []):
            children.setdefault(parent, []).append(node_id)
    roots = [k for k, v in nodes.items() if v.get("parent") not in nodes]
    path = []
    node_id = roots[0] if roots else None
    while node_id is not None and node_id not in path:
        path.append(node_id)
        below = children.get(node_id)
        node_id = below[-1] if below else None
    return path


SKIPPED_HIDDEN = "hidden system message(s)"
SKIPPED_TOOL = "code-interpreter or tool step(s)"
SKIPPED_IMAGE = "image(s) (noted as [image])"
SKIPPED_OTHER = "message(s) with no text"
SKIPPED_BRANCH = "message(s) on other branches"
CHATGPT_MODEL = "gpt-4o"


def _chatgpt_message(
    message: Any, skipped: dict[str, int]
) -> tuple[str, str, str | None, str | None, int] | None:
    """(role, text, model, finish reason, created ms) of a node worth importing, else None;
    what is left out is counted in `skipped` by reason."""

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    if not isinstance(message, dict):
        return None
    author = message.get("author") or {}
    role = author.get("role") if isinstance(author, dict) else None
    metadata = message.get("metadata") or {}
    if not isinstance(metadata, dict):
        metadata = {}
    content = message.get("content") or {}
    kind = content.get("content_type") if isinstance(content, dict) else None
    if role == "tool" or message.get("recipient") not in (None, "all"):
        skip(SKIPPED_TOOL)
        return None
    if metadata.get("is_visually_hidden_from_conversation"):
        skip(SKIPPED_HIDDEN)
        return None
    if role not in ROLES or kind not in ("text", "multimodal_text"):
        skip(SKIPPED_TOOL if kind in ("code", "execution_output") else SKIPPED_OTHER)
        return None
    pieces = []
    for part in content.get("parts") or []:
        if isinstance(part, str):
            pieces.append(part)
        elif isinstance(part, dict) and "image" in str(part.get("content_type", "")):
            pieces.append("[image]")
            skip(SKIPPED_IMAGE)
    text = "\n".join(piece for piece in pieces if piece)
    if not text.strip():
        skip(SKIPPED_HIDDEN if role == "system" else SKIPPED_OTHER)
        return None
    finish = metadata.get("finish_details")
    finish_type = finish.get("type") if isinstance(finish, dict) else None
    model = metadata.get("model_slug")
    return (
        role,
        text,
        model if isinstance(model, str) and model else None,
        _CHATGPT_FINISH.get(finish_type) if finish_type else None,
        _ms(message.get("create_time")),
    )


def _earliest(mapping: dict[str, Any]) -> int:
    """The first message's time, for conversations that do not carry their own."""
    times = [
        _ms(node["message"].get("create_time"))
        for node in mapping.values()
        if isinstance(node, dict) and isinstance(node.get("message"), dict)
    ]
    return min((ms for ms in times if ms), default=0)


def _ms(seconds: Any) -> int:
    """Unix seconds (ChatGPT's float timestamps) as ms; 0 when missing or nonsense."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return 0
    if not 0 <= seconds < 253402300800:  # year 10000
        return 0
    return round(seconds * 1000)
