"""The full-screen terminal app. Importing this package imports nothing heavy."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from ba_tui.tui.app import ChatApp


def chat_app(node: DOMNode) -> ChatApp:
    """The running app as the ChatApp it is (Textual types `node.app` as any App): where
    screens find the config, the store and the main screen."""
    return cast("ChatApp", node.app)
