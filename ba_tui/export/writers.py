"""Threads out as JSON, JSONL or Markdown.

JSON is one versioned document, `{"format": "ba-chat", "version": 2, "exported_at", "threads":
[{...thread, "messages": [...]}]}`, written one thread per line so a million messages stream
out without being held in memory. JSONL starts with the same header line, then for each
thread a `{"type":"thread",...}` line followed by one `{"type":"message",...}` line per
message. Both carry every stored field except `pid`: a message's `parts` (see messages.py),
and beside them `content`, the text of its parts, for scripts (`jq .content`; an import
reads the parts). A thread with attachments also carries their content, base64 in the
file: a `"blobs"` list on the thread (JSON), `{"type":"blob",...}` lines after its messages
(JSONL); each blob is `{"sha256","mime","size","data","text"}`. Markdown is for people:
title, model, and the thread's current branch, attachments listed by name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ba_tui.export.format import FORMAT, VERSION, ExportError, Writer, encode
from ba_tui.messages import attachment_label, attachments_of, in_order

if TYPE_CHECKING:
    from ba_tui.store import Message, Store, Thread


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
    head = encode({"format": FORMAT, "version": VERSION, "exported_at": exported_at})
    out.write(head[:-1] + ',"threads":[')
    count = 0
    for index, (thread_id, (thread, messages)) in enumerate(
        zip(ids, store.export_json(ids), strict=True)
    ):
        out.write("\n" if index == 0 else ",\n")
        blobs = _blobs(store, thread_id)
        extra = ',"blobs":[' + ",".join(blobs) + "]" if blobs else ""
        out.write(_one_line(thread[:-1] + ',"messages":[' + ",".join(messages) + "]" + extra + "}"))
        count += len(messages)
    out.write("\n]}\n")
    return count


def write_jsonl(store: Store, ids: Sequence[str], out: Writer, exported_at: str) -> int:
    out.write(encode({"format": FORMAT, "version": VERSION, "exported_at": exported_at}) + "\n")
    count = 0
    for thread_id, (thread, messages) in zip(ids, store.export_json(ids), strict=True):
        lines = ['{"type":"thread",' + thread[1:]]
        lines += ['{"type":"message",' + message[1:] for message in messages]
        lines += ['{"type":"blob",' + blob[1:] for blob in _blobs(store, thread_id)]
        out.write(_one_line("\n".join(lines)) + "\n")
        count += len(messages)
    return count


def _blobs(store: Store, thread_id: str) -> list[str]:
    """The thread's attachments' content as JSON objects, the bytes in base64."""
    import base64

    out = []
    for sha256, mime, size, data, text in store.thread_blobs(thread_id):
        blob = {"sha256": sha256, "mime": mime, "size": size}
        blob["data"] = base64.b64encode(data).decode("ascii")
        out.append(encode(blob | ({"text": text} if text is not None else {})))
    return out


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
        attached = attachments_of(message.parts)
        shown = in_order(message.parts, limit=2000)
        for kind, header, body in shown:
            if kind == "reasoning":
                lines += ["<details><summary>Reasoning</summary>", "", body, "", "</details>", ""]
            elif kind == "tool":
                lines += [f"<details><summary>Tool: {header}</summary>", "", "```", body, "```"]
                lines += ["", "</details>", ""]
            else:
                lines += [body.strip("\n"), ""]
        if lines[-1] == "" and shown:
            lines.pop()
        if not any(kind == "text" for kind, _, _ in shown):
            lines.append(message.content if message.content or attached else "*(empty)*")
        if attached:
            lines += ["", *(f"- attached: {attachment_label(part)}" for part in attached)]
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
