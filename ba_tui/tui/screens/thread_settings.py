"""The open thread's settings: system prompt, persona, temperature, thinking budget, max
tokens and answer schema, sent with each of its turns (`ChatSession.turn_options`,
`ChatSession.schema`, `ChatSession.system`).

Dismissed with the changes for `store.update_thread` (`system`, `persona`, `settings`), or
None. Every field is checked before it closes: a bad value gets one line under the fields
and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from ba_tui.tui.text import inert

if TYPE_CHECKING:
    from ba_tui.config import Config
    from ba_tui.store import Thread

# The numbers a thread may keep, with their ranges: the same as `ba-chat threads set`.
NUMBERS: dict[str, tuple[str, type, float, float]] = {
    "temperature": ("Temperature", float, 0, 2),
    "thinking_budget": ("Thinking", int, 1024, 10**7),
    "max_tokens": ("Max tokens", int, 1, 10**7),
}
PLACEHOLDERS = {
    "temperature": "0 to 2; empty: the model's default",
    "thinking_budget": "tokens, at least 1024; empty: none",
    "max_tokens": "reply length in tokens; empty: default",
}


class InvalidSetting(ValueError):
    """A field's value cannot be kept; the message says which and why, in one line."""


def number(name: str, text: str) -> int | float | None:
    """The field's number, None when empty, or InvalidSetting."""
    label, kind, low, high = NUMBERS[name]
    text = text.strip()
    if not text:
        return None
    try:
        value: int | float = kind(text)
    except ValueError:
        whole = "a whole number" if kind is int else "a number"
        raise InvalidSetting(f"{label} must be {whole}, not “{inert(text)}”.") from None
    if not low <= value <= high:
        raise InvalidSetting(f"{label} must be between {low:g} and {high:g}.")
    return value


def check_schema(text: str, config: Config) -> str | None:
    """The schema as written (a saved name or a field list), None when empty, or
    InvalidSetting with the parser's own line."""
    from ba_tui.errors import BaChatError
    from ba_tui.schemas import parse

    text = text.strip()
    if not text:
        return None
    try:
        parse(text, saved=config.data.get("schemas"))
    except BaChatError as exc:
        raise InvalidSetting(f"Schema: {exc.line('tui')}") from None
    return text


class ThreadSettingsScreen(ModalScreen[dict[str, Any] | None]):
    """The settings of one thread; Save checks them and hands them back."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]

    def __init__(self, thread: Thread, config: Config) -> None:
        super().__init__()
        self.thread = thread
        self.config = config

    def compose(self) -> ComposeResult:
        settings: Mapping[str, Any] = self.thread.settings or {}
        with Vertical(classes="dialog thread-settings"):
            yield Static(
                Content.assemble("Thread settings: ", (inert(self.thread.title), "bold")),
                classes="dialog-title",
            )
            with VerticalScroll(id="thread-settings-body"):
                with Horizontal(classes="settings-row"):
                    yield Label("Persona", classes="settings-label")
                    yield Select(
                        self._personas(),
                        value=self.thread.persona or Select.NULL,
                        allow_blank=True,
                        prompt="none",
                        compact=True,
                        id="persona",
                    )
                yield Label("System prompt", classes="settings-heading")
                yield TextArea(self.thread.system or "", id="system", soft_wrap=True)
                for name, (label, *_) in NUMBERS.items():
                    with Horizontal(classes="settings-row"):
                        yield Label(label, classes="settings-label")
                        value = settings.get(name)
                        yield Input(
                            "" if value is None else f"{value:g}",
                            placeholder=PLACEHOLDERS[name],
                            compact=True,
                            id=name,
                        )
                with Horizontal(classes="settings-row"):
                    yield Label("Saved schema", classes="settings-label")
                    saved = self._schemas()
                    current = settings.get("schema")
                    # The thread's schema is shown chosen when it is a saved one.
                    chosen = {"value": current} if current in saved else {}
                    yield Select(
                        [(name, name) for name in saved],
                        **chosen,
                        allow_blank=True,
                        prompt="choose one to answer as data",
                        compact=True,
                        id="schema-saved",
                    )
                with Horizontal(classes="settings-row"):
                    yield Label("Schema", classes="settings-label")
                    yield Input(
                        str(settings.get("schema") or ""),
                        placeholder="a saved name, or fields: title, priority int, notes list",
                        compact=True,
                        id="schema",
                    )
            yield Static(classes="settings-error", id="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", compact=True, id="cancel")
                yield Button("Save", variant="primary", compact=True, id="save")
            yield Static("Tab: next field · Ctrl+S: save · Esc: cancel", classes="dialog-hint")

    def _personas(self) -> list[tuple[str, str]]:
        try:
            from ba_tui.personas import all_personas

            return [(p.name, p.name) for p in all_personas(self.config)]
        except Exception:
            return []

    def _schemas(self) -> list[str]:
        """The schemas a thread can be given by name: built in, then config's own."""
        from ba_tui.schemas import BUILTIN

        saved = self.config.data.get("schemas")
        return [*BUILTIN, *(name for name in saved or {} if name not in BUILTIN)]

    @on(Select.Changed, "#schema-saved")
    def _schema_chosen(self, event: Select.Changed) -> None:
        """A saved schema fills the schema field (still editable)."""
        if isinstance(event.value, str):
            self.query_one("#schema", Input).value = event.value

    @on(Select.Changed, "#persona")
    def _persona_chosen(self, event: Select.Changed) -> None:
        """A persona brings its system prompt (still editable); none keeps the text."""
        if not isinstance(event.value, str) or event.value == self.thread.persona:
            return
        from ba_tui.personas import get_persona

        try:
            persona = get_persona(event.value, self.config)
        except Exception:
            return
        self.query_one("#system", TextArea).text = persona.system or ""

    def changes(self) -> dict[str, Any]:
        """What Save keeps, or InvalidSetting for the first field that cannot be kept."""
        settings = dict(self.thread.settings or {})  # keeps what the dialog does not show
        for name in NUMBERS:
            settings[name] = number(name, self.query_one(f"#{name}", Input).value)
        settings["schema"] = check_schema(self.query_one("#schema", Input).value, self.config)
        persona = self.query_one("#persona", Select).value
        system = self.query_one("#system", TextArea).text
        return {
            "system": system if system.strip() else None,
            "persona": persona if isinstance(persona, str) else None,
            "settings": {k: v for k, v in settings.items() if v is not None},
        }

    def action_save(self) -> None:
        try:
            changes = self.changes()
        except InvalidSetting as exc:
            self.query_one("#error", Static).update(Content(str(exc)))
            return
        self.dismiss(changes)

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
