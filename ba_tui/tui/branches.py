"""A thread's messages as a tree: regenerated replies and edited prompts are siblings
(messages sharing a parent), and the conversation on screen is one path through it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ba_tui.store import Message


class Branches:
    """Siblings, paths and leaves of one thread's messages (given in created order)."""

    def __init__(self, messages: Sequence[Message]) -> None:
        self.messages = list(messages)
        self.by_id = {message.id: message for message in self.messages}
        self.children: dict[str | None, list[Message]] = {}
        for message in self.messages:
            parent = message.parent_id if message.parent_id in self.by_id else None
            self.children.setdefault(parent, []).append(message)

    def siblings(self, message: Message) -> list[Message]:
        parent = message.parent_id if message.parent_id in self.by_id else None
        return self.children.get(parent, [message])

    def variant(self, message: Message) -> tuple[int, int]:
        """(index among its siblings, how many siblings), oldest first."""
        siblings = self.siblings(message)
        ids = [sibling.id for sibling in siblings]
        return (ids.index(message.id) if message.id in ids else 0), len(siblings)

    def path(self, leaf_id: str | None) -> list[Message]:
        """Root to `leaf_id` (default: the newest message)."""
        node = self.by_id.get(leaf_id) if leaf_id else None
        if node is None and self.messages:
            node = self.messages[-1]
        path: list[Message] = []
        seen: set[str] = set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            path.append(node)
            node = self.by_id.get(node.parent_id) if node.parent_id else None
        path.reverse()
        return path

    def leaf_below(self, message_id: str, choices: dict[str | None, str]) -> str:
        """Follow `message_id` down to a leaf, taking the remembered child at each fork
        (`choices`: parent id -> chosen child id), else the newest child."""
        node = self.by_id[message_id]
        seen = {node.id}
        while kids := self.children.get(node.id):
            chosen = choices.get(node.id)
            node = next((kid for kid in kids if kid.id == chosen), kids[-1])
            if node.id in seen:
                break
            seen.add(node.id)
        return node.id
