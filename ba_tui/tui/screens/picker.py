"""The provider/model picker: providers (with whether their key is set), then models
(the catalogue, config's own list and, on demand, the provider's live list). Typing
filters either list."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ba_tui.tui.text import inert

if TYPE_CHECKING:
    from ba_tui.config import Config

LIVE = "-live-"
CUSTOM = "-custom-"


def matches(query: str, *texts: str) -> bool:
    """Every word of `query` appears in one of `texts` (case-insensitive)."""
    haystack = " ".join(texts).lower()
    return all(word in haystack for word in query.lower().split())


class ModelPicker(ModalScreen[tuple[str, str] | None]):
    """Dismissed with (provider, model), or None."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("down", "cursor(1)", "Down", show=False, priority=True),
        Binding("up", "cursor(-1)", "Up", show=False, priority=True),
        Binding("ctrl+l", "live", "Live model list"),
        Binding("ctrl+left", "providers", "Providers"),
    ]

    def __init__(self, provider: str | None, model: str | None, config: Config) -> None:
        super().__init__()
        self.config = config
        self.current = (provider, model)
        self.provider: str | None = None  # None: choosing a provider
        self.key_status: dict[str, str] = {}
        self.live: dict[str, list[str]] = {}
        # "$2/$10" per (provider, model), from genai-prices, looked up off the UI thread.
        self.prices: dict[tuple[str, str], str] = {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog picker"):
            yield Static(classes="dialog-title", id="picker-title")
            yield Input(placeholder="Type to filter", id="filter")
            yield OptionList(id="choices")
            yield Static(classes="dialog-hint", id="picker-hint")

    def on_mount(self) -> None:
        self.show_providers()
        self.check_keys()

    # --- lists ------------------------------------------------------------------------------

    @property
    def _config(self) -> Config:
        return self.config

    def show_providers(self) -> None:
        self.provider = None
        self.query_one("#picker-title", Static).update("Choose a provider")
        self.query_one("#picker-hint", Static).update("Enter: its models · Esc: close")
        self.query_one("#filter", Input).value = ""
        self._fill()

    def show_models(self, provider: str) -> None:
        self.provider = provider
        self.query_one("#picker-title", Static).update(
            Content.assemble("Choose a model of ", (inert(provider), "bold"))
        )
        self.query_one("#picker-hint", Static).update(
            "Enter: use it · Ctrl+L: the provider's live list · Ctrl+←: providers · Esc: close"
        )
        self.query_one("#filter", Input).value = ""
        self._fill()

    def _fill(self) -> None:
        query = self.query_one("#filter", Input).value.strip()
        options = (
            self._provider_options(query) if self.provider is None else self._model_options(query)
        )
        choices = self.query_one("#choices", OptionList)
        choices.set_options(options)
        wanted = self.current[0] if self.provider is None else self.current[1]
        index = next((i for i, o in enumerate(options) if o.id == wanted), None)
        if index is None:
            index = next((i for i, o in enumerate(options) if not o.disabled), None)
        choices.highlighted = index

    def _provider_options(self, query: str) -> list[Option]:
        from ba_tui.providers import all_specs

        options = []
        specs = all_specs(self._config)
        # Columns as wide as their longest entry (a provider of the user's own may have a
        # long name), so the key status never runs into the label.
        names = max((len(spec.name) for spec in specs), default=0) + 2
        labels = max((len(spec.label) for spec in specs), default=0) + 2
        for spec in specs:
            if not matches(query, spec.name, spec.label):
                continue
            status = self.key_status.get(spec.name, "checking key…")
            tone = (
                "$text-success" if status.startswith(("key:", "no key needed")) else "$text-warning"
            )
            prompt = Content.assemble(
                (f"{inert(spec.name):<{names}}", "bold"),
                f"{inert(spec.label):<{labels}}",
                (status, tone),
            )
            options.append(Option(prompt, id=spec.name))
        return options

    def _model_options(self, query: str) -> list[Option]:
        from ba_tui.models import capabilities, catalog, tokens_label

        provider = self.provider or ""
        seen: set[str] = set()
        options: list[Option] = []
        missing: list[str] = []

        def add(model: str, note: str) -> None:
            if model in seen or not matches(query, model, note):
                return
            seen.add(model)
            window = tokens_label(capabilities(provider, model).context_window)
            price = self.prices.get((provider, model))
            if price is None:
                missing.append(model)
            prompt = Content.assemble(
                (f"{inert(model):<28}", "bold"),
                (f"{window:>5} ", "$text-secondary"),
                (f"{price or '…':<13}", "$text-secondary"),
                (inert(note), "$text-muted"),
            )
            options.append(Option(prompt, id=model))

        for entry in catalog(provider):
            aliases = f"({', '.join(entry.aliases)}) " if entry.aliases else ""
            add(entry.id, aliases + entry.note)
        for model in self._config.provider(provider).get("models") or []:
            add(str(model), "from config.toml")
        for model in self.live.get(provider, []):
            add(model, "live")
        if query and query not in seen and " " not in query:
            options.append(
                Option(
                    Content.assemble("Use ", (inert(query), "bold"), " as the model id"), id=CUSTOM
                )
            )
        if missing:
            self.look_up_prices(provider, missing)
        if provider not in self.live:
            options.append(
                Option(
                    Content.styled(
                        f"Load {inert(provider)}'s live model list (Ctrl+L)", "$text-accent"
                    ),
                    id=LIVE,
                )
            )
        return options

    # --- input ------------------------------------------------------------------------------

    @on(Input.Changed, "#filter")
    def _filter(self) -> None:
        self._fill()

    @on(Input.Submitted, "#filter")
    def _submitted(self) -> None:
        choices = self.query_one("#choices", OptionList)
        if choices.highlighted is not None:
            self._choose(choices.options[choices.highlighted])

    @on(OptionList.OptionSelected, "#choices")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option)

    def _choose(self, option: Option) -> None:
        chosen = option.id or ""
        if self.provider is None:
            self.show_models(chosen)
        elif chosen == LIVE:
            self.action_live()
        elif chosen == CUSTOM:
            self.dismiss((self.provider, self.query_one("#filter", Input).value.strip()))
        else:
            self.dismiss((self.provider, chosen))

    def action_cursor(self, step: int) -> None:
        choices = self.query_one("#choices", OptionList)
        if step > 0:
            choices.action_cursor_down()
        else:
            choices.action_cursor_up()

    def action_providers(self) -> None:
        if self.provider is not None:
            self.show_providers()

    def on_key(self, event) -> None:
        filter_text = self.query_one("#filter", Input).value
        if event.key == "backspace" and self.provider is not None and not filter_text:
            event.stop()
            self.show_providers()

    # --- background look-ups ----------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="keys")
    def check_keys(self) -> None:
        """Key status per provider (may ask the OS keyring, so off the UI thread)."""
        from ba_tui.keys import key_source
        from ba_tui.providers import all_specs

        status = {}
        for spec in all_specs(self._config):
            source = key_source(spec, self._config)
            if source in ("not set", "not needed"):
                status[spec.name] = "no key needed" if not spec.key_required else "no key"
            else:
                status[spec.name] = f"key: {source}"
        self.app.call_from_thread(self._keys_checked, status)

    def _keys_checked(self, status: dict[str, str]) -> None:
        self.key_status = status
        if self.provider is None:
            self._fill()

    @work(thread=True, exit_on_error=False, group="prices", exclusive=True)
    def look_up_prices(self, provider: str, models: list[str]) -> None:
        """Price per million tokens in and out for each model (genai-prices loads its
        tables once, ~0.35 s: never on the UI thread)."""
        from ba_tui.pricing import format_rates, rates
        from ba_tui.providers import base_url_for, get_spec

        base_url = base_url_for(get_spec(provider, self._config), self._config)
        found = {(provider, m): format_rates(rates(provider, m, base_url=base_url)) for m in models}
        self.app.call_from_thread(self._prices_found, found)

    def _prices_found(self, found: dict[tuple[str, str], str]) -> None:
        self.prices |= found
        if self.provider is not None and any(key[0] == self.provider for key in found):
            choices = self.query_one("#choices", OptionList)
            where = choices.highlighted
            self._fill()
            if where is not None and where < choices.option_count:
                choices.highlighted = where  # the user's place in the list, not the default

    def action_live(self) -> None:
        if self.provider is not None and self.provider not in self.live:
            self.query_one("#picker-hint", Static).update(f"Asking {self.provider} for its models…")
            self.load_live(self.provider)

    @work(exit_on_error=False, group="live", exclusive=True)
    async def load_live(self, provider: str) -> None:
        from ba_tui.errors import BaChatError
        from ba_tui.providers import adapter, get_spec, live_models, resolve

        hint = self.query_one("#picker-hint", Static)
        try:
            spec = get_spec(provider, self._config)
            target = await asyncio.to_thread(
                resolve, provider, spec.default_model or "-", self._config
            )
            await asyncio.to_thread(adapter, spec)  # import the SDK off the UI thread
            models = await live_models(target)
        except BaChatError as exc:
            hint.update(Content(exc.line("tui")))
            return
        except Exception as exc:
            from ba_tui.keys import redact

            hint.update(Content(redact(f"could not list the models: {type(exc).__name__}: {exc}")))
            return
        self.live[provider] = models
        hint.update(f"{len(models)} models from {provider}")
        if self.provider == provider:
            self._fill()
