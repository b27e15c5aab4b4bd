"""ChatGPT's data export (conversations.json) as rows for the store: the branch the
person last saw in each conversation, with what was left out counted by reason."""

from __future__ import annotations

from typing import Any

from ba_tui.export.format import Bad, ImportBatch
from ba_tui.messages import ROLES, Text

_CHATGPT_FINISH = {"stop": "stop", "max_tokens": "length", "interrupted": "other"}


def read_chatgpt(conversations: list[Any], bad: Bad) -> ImportBatch:
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
