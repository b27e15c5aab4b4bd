"""First run: no API key anywhere. Say how to add one instead of showing an empty app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

if TYPE_CHECKING:
    from ba_tui.tui.context import AppContext

WELCOME = """\
ba-chat talks to Claude, GPT, Gemini, DeepSeek and local models. It needs an API key for \
at least one provider, and none is set yet.

Add one in any of these ways:
  • Settings (here, or Ctrl+S later): paste a key; it is stored in your OS keyring.
  • Environment: export ANTHROPIC_API_KEY=…, OPENAI_API_KEY=…, GEMINI_API_KEY=… or \
DEEPSEEK_API_KEY=… and start ba-chat again.
  • Command line: ba-chat keys set anthropic

No key at all? Run a local model with Ollama (https://ollama.com, then `ollama pull \
llama3.2`) and choose “Use Ollama”.\
"""

OFFLINE = """

Until then, replies come from the built-in offline model (SmolLM2-135M, on this \
computer's CPU): fine for trying ba-chat out, not a real assistant.\
"""


class WelcomeScreen(ModalScreen[str | None]):
    """Dismissed with "settings", "ollama" (now the default provider) or None (look
    around first)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, context: AppContext, *, offline: bool = False) -> None:
        super().__init__()
        self.context = context
        self.offline = offline

    def compose(self) -> ComposeResult:
        # The text scrolls between the title and the buttons, which stay in view: on a
        # small terminal Enter must never press a button the user cannot see.
        with VerticalScroll(classes="dialog welcome"):
            yield Static("Welcome to ba-chat", classes="dialog-title")
            yield Static(
                Content(WELCOME + (OFFLINE if self.offline else "")), classes="dialog-text"
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Add a key", variant="primary", id="settings")
                yield Button("Use Ollama", id="ollama")
                yield Button("Look around", id="close")

    def on_mount(self) -> None:
        self.query_one("#settings", Button).focus()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        choice = event.button.id
        if choice == "ollama":
            from ba_tui.errors import BaChatError

            try:
                from ba_tui.config import set_value

                set_value("default_provider", "ollama")
            except BaChatError as exc:
                self.notify(exc.line("tui"), severity="error")
            self.context.reload_config()
            self.dismiss("ollama")
        elif choice == "settings":
            self.dismiss("settings")
        else:
            self.dismiss(None)
