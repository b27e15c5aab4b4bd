"""Settings: the default provider, model and persona, the theme, and API keys.

Defaults are written to config.toml (`config.set_value`, which keeps the file's comments);
a key goes to the OS keyring (`keys.store_key`) and is never shown: the field is a
password input and is cleared as soon as the key is stored.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from ba_tui.tui.text import inert

if TYPE_CHECKING:
    from ba_tui.tui.context import AppContext


class SettingsScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context

    def compose(self) -> ComposeResult:
        from ba_tui.providers import all_specs

        config = self.context.config
        specs = all_specs(config)
        provider, model = self.context.defaults()
        # The whole dialog scrolls, its title and hint docked (app.tcss): on a small
        # terminal Tab still reaches every field and scrolls it into view.
        with VerticalScroll(classes="dialog settings"):
            yield Static("Settings", classes="dialog-title")
            with Vertical(id="settings-body"):
                yield Static("Defaults for new threads", classes="settings-heading")
                with Horizontal(classes="settings-row"):
                    yield Label("Provider", classes="settings-label")
                    yield Select(
                        [(f"{s.name} — {s.label}", s.name) for s in specs],
                        value=provider if provider else Select.NULL,
                        allow_blank=True,
                        prompt="choose",
                        compact=True,
                        id="default-provider",
                    )
                with Horizontal(classes="settings-row"):
                    yield Label("Model", classes="settings-label")
                    yield Input(
                        model or "",
                        placeholder="model id or alias",
                        compact=True,
                        id="default-model",
                    )
                with Horizontal(classes="settings-row"):
                    yield Label("Persona", classes="settings-label")
                    yield Select(
                        self._persona_options(),
                        value=config.data.get("default_persona") or Select.NULL,
                        allow_blank=True,
                        prompt="none",
                        compact=True,
                        id="default-persona",
                    )
                with Horizontal(classes="settings-row"):
                    yield Label("Theme", classes="settings-label")
                    yield Select(
                        [(name, name) for name in sorted(self.app.available_themes)],
                        value=self.app.theme,
                        allow_blank=False,
                        compact=True,
                        id="theme",
                    )
                with Horizontal(classes="settings-row"):
                    yield Label("ask threads", classes="settings-label")
                    yield Select(
                        [("show in the thread list", "show"), ("hide from the list", "hide")],
                        value=config.data.get("sidebar_ask_threads") or "show",
                        allow_blank=False,
                        compact=True,
                        id="sidebar-ask-threads",
                    )
                with Horizontal(classes="settings-row"):
                    yield Label("", classes="settings-label")
                    yield Button(
                        "Save defaults", variant="primary", compact=True, id="save-defaults"
                    )
                    yield Static(classes="settings-note", id="defaults-note")
                yield Static("API keys", classes="settings-heading")
                yield Static(
                    "A key typed here is stored in your OS keyring, never in a file, and is "
                    "not shown. A key in the environment wins over the keyring.",
                    classes="settings-note",
                )
                for spec in specs:
                    with Horizontal(classes="settings-row"):
                        yield Label(inert(spec.name), classes="settings-label")
                        yield Static("checking…", classes="key-status", id=f"status-{spec.name}")
                        yield Input(
                            password=True,
                            placeholder="paste a new key",
                            compact=True,
                            id=f"key-{spec.name}",
                            classes="key-input",
                        )
                        yield Button(
                            "Store", compact=True, id=f"store-{spec.name}", classes="key-store"
                        )
            yield Static(
                "Tab: next field · Enter: store the key typed · Esc: close", classes="dialog-hint"
            )

    def _persona_options(self) -> list[tuple[str, str]]:
        try:
            from ba_tui.personas import all_personas

            personas = all_personas(self.context.config)
        except Exception:
            return []
        return [(p.name, p.name) for p in personas]

    def on_mount(self) -> None:
        self.check_keys()

    @work(thread=True, exit_on_error=False, group="keys")
    def check_keys(self) -> None:
        from ba_tui.keys import key_source
        from ba_tui.providers import all_specs

        config = self.context.config
        for spec in all_specs(config):
            source = key_source(spec, config)
            if source in ("not set", "not needed") and not spec.key_required:
                text = "not needed (local server)"
            elif source == "not set":
                text = f"not set ({spec.key_env[0]})"
            else:
                text = f"set ({source})"
            ok = source != "not set" or not spec.key_required
            self.app.call_from_thread(self._show_status, spec.name, text, ok)

    def _show_status(self, name: str, text: str, ok: bool) -> None:
        status = self.query_one(f"#status-{name}", Static)
        status.update(Content(text))
        status.set_class(ok, "-set")

    @on(Select.Changed, "#theme")
    def _theme(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.app.theme = event.value

    @on(Button.Pressed, "#save-defaults")
    def _save_defaults(self) -> None:
        from ba_tui.config import set_value
        from ba_tui.errors import BaChatError

        note = self.query_one("#defaults-note", Static)
        provider = self.query_one("#default-provider", Select).value
        model = self.query_one("#default-model", Input).value.strip()
        persona = self.query_one("#default-persona", Select).value
        try:
            if isinstance(provider, str):
                set_value("default_provider", provider)
            if model:
                set_value("default_model", model)
            if isinstance(persona, str):
                set_value("default_persona", persona)
            set_value("theme", self.app.theme)
            ask_threads = self.query_one("#sidebar-ask-threads", Select).value
            if isinstance(ask_threads, str):
                set_value("sidebar_ask_threads", ask_threads)
        except BaChatError as exc:
            note.update(Content(exc.line("tui")))
            return
        self.context.reload_config()
        note.update("Saved to config.toml; new threads start with these.")

    @on(Button.Pressed, ".key-store")
    def _store_pressed(self, event: Button.Pressed) -> None:
        name = (event.button.id or "").removeprefix("store-")
        self._store(name)

    @on(Input.Submitted, ".key-input")
    def _key_submitted(self, event: Input.Submitted) -> None:
        self._store((event.input.id or "").removeprefix("key-"))

    def _store(self, name: str) -> None:
        field = self.query_one(f"#key-{name}", Input)
        key = field.value.strip()
        field.value = ""  # never keep the key on screen or in the widget longer than needed
        if key:
            self.store_key(name, key)

    @work(exit_on_error=False, group="store-key")
    async def store_key(self, name: str, key: str) -> None:
        from ba_tui.errors import BaChatError
        from ba_tui.keys import store_key
        from ba_tui.providers import get_spec

        config = self.context.config
        try:
            spec = get_spec(name, config)
            backend = await asyncio.to_thread(store_key, spec, key)
        except BaChatError as exc:
            self._show_status(name, exc.line("tui"), False)
            return
        self._show_status(name, f"stored in the keyring ({backend})", True)
