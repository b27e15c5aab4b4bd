"""Start a thread: choose its persona (and with it, or after it, provider and model)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ba_tui.tui.text import inert, one_line

if TYPE_CHECKING:
    from ba_tui.tui.context import AppContext


class NewThreadScreen(ModalScreen[dict[str, Any] | None]):
    """Dismissed with the new thread's provider, model, persona and system prompt."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("ctrl+o", "pick_model", "Model"),
    ]

    def __init__(self, context: AppContext, provider: str | None, model: str | None) -> None:
        super().__init__()
        self.context = context
        self.provider = provider
        self.model = model
        self.personas: dict[str, Any] = {}
        self.model_chosen = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog new-thread"):
            yield Static("New thread", classes="dialog-title")
            yield Static(id="new-model")
            yield OptionList(id="personas")
            yield Static(
                "Enter: start with this persona · Ctrl+O: provider and model · Esc: close",
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        from ba_tui.errors import BaChatError

        config = self.context.config
        try:
            from ba_tui.personas import all_personas

            personas = all_personas(config)
        except (ImportError, BaChatError) as exc:
            personas = []
            if isinstance(exc, BaChatError):
                self.notify(exc.line("tui"), severity="error")
        self.personas = {p.name: p for p in personas}
        options = [
            Option(
                Content.assemble(("no persona", "bold"), ("  no system prompt", "$text-muted")),
                id="",
            )
        ]
        for persona in personas:
            if persona.name == "default":
                continue
            where = (
                f"  ({persona.provider}{' · ' + persona.model if persona.model else ''})"
                if persona.provider
                else ""
            )
            options.append(
                Option(
                    Content.assemble(
                        (inert(persona.name), "bold"),
                        (inert(where), "$text-accent"),
                        ("  " + one_line(inert(persona.summary), 60), "$text-muted"),
                    ),
                    id=persona.name,
                )
            )
        personas_list = self.query_one("#personas", OptionList)
        personas_list.set_options(options)
        personas_list.highlighted = 0
        personas_list.focus()
        self._show_model()

    def _show_model(self) -> None:
        text = f"{self.provider} · {self.model}" if self.provider else "no provider chosen"
        self.query_one("#new-model", Static).update(
            Content.assemble("Model: ", (inert(text), "bold $text-accent"))
        )

    def action_pick_model(self) -> None:
        from ba_tui.tui.screens.picker import ModelPicker

        def chosen(result: tuple[str, str] | None) -> None:
            if result is not None:
                self.provider, self.model = result
                self.model_chosen = True
                self._show_model()

        picker = ModelPicker(self.provider, self.model, self.context.config)
        self.app.push_screen(picker, chosen)

    @on(OptionList.OptionSelected, "#personas")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        persona = self.personas.get(event.option.id or "")
        provider, model, system = self.provider, self.model, None
        if persona is not None:
            chosen_provider = provider if self.model_chosen else None
            chosen_model = model if self.model_chosen else None
            p, m, system = persona.choose(chosen_provider, chosen_model, None)
            if p and p != provider:
                from ba_tui.errors import BaChatError
                from ba_tui.providers import get_spec, starting_model

                config = self.context.config
                try:
                    provider, model = p, m or starting_model(get_spec(p, config), config)
                except BaChatError as exc:  # a persona naming an unknown provider
                    self.notify(exc.line("tui"), severity="error")
                    return
            elif m:
                model = m
        self.dismiss(
            {
                "provider": provider,
                "model": model,
                "persona": persona.name if persona else None,
                "system": system,
            }
        )
