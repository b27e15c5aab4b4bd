"""Choosing the models a prompt is compared across: every catalogue model of every
provider that can answer (its key is set, or it needs none), plus the models listed in
config.toml. The last choice is remembered in the store, so comparing again is one key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, SelectionList, Static
from textual.widgets.selection_list import Selection

from ba_tui.tui.screens.picker import matches
from ba_tui.tui.text import inert

if TYPE_CHECKING:
    from ba_tui.config import Config

LAST_CHOICE = "tui.compare_targets"  # store kv: "provider:model" lines
MAX_COLUMNS = 4


def parse_targets(text: str | None) -> list[tuple[str, str]]:
    """`provider:model` lines (as stored under LAST_CHOICE) as pairs; malformed lines are
    skipped."""
    pairs = []
    for line in (text or "").splitlines():
        provider, _, model = line.strip().partition(":")
        if provider and model:
            pairs.append((provider, model))
    return pairs


class CompareSetup(ModalScreen[list[tuple[str, str]] | None]):
    """Dismissed with 2 to 4 (provider, model) pairs in the order shown, or None."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("enter", "compare", "Compare", priority=True),
        Binding("down", "cursor(1)", "Down", show=False, priority=True),
        Binding("up", "cursor(-1)", "Up", show=False, priority=True),
    ]

    def __init__(
        self,
        current: tuple[str, str] | None,
        remembered: list[tuple[str, str]],
        config: Config,
    ) -> None:
        super().__init__()
        self.config = config
        self.current = current
        self.remembered = remembered
        self.available: list[tuple[str, str, str]] = []  # provider, model, note
        self.chosen: list[tuple[str, str]] = []  # in the order the user picked them

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog picker compare-setup"):
            yield Static("Compare models side by side", classes="dialog-title")
            yield Input(placeholder="Type to filter; ↓ back to the list", id="filter")
            yield SelectionList[str](id="targets")
            yield Static(
                f"Space: choose 2 to {MAX_COLUMNS} · Enter: send the prompt to all of them · "
                "Esc: close",
                classes="dialog-hint",
                id="compare-hint",
            )

    def on_mount(self) -> None:
        # The list has the focus, so Space chooses; typing goes to the filter (on_key).
        self.query_one("#targets", SelectionList).focus()
        self.query_one("#compare-hint", Static).loading = True
        self.load_targets()

    @property
    def _config(self) -> Config:
        return self.config

    @work(thread=True, exit_on_error=False, group="compare-targets")
    def load_targets(self) -> None:
        """Which providers can answer may ask the OS keyring: off the UI thread."""
        from ba_tui.keys import key_source
        from ba_tui.models import catalog
        from ba_tui.providers import all_specs

        config = self._config
        available: list[tuple[str, str, str]] = []
        seen: set[tuple[str, str]] = set()

        def add(provider: str, model: str, note: str) -> None:
            if (provider, model) not in seen:
                seen.add((provider, model))
                available.append((provider, model, note))

        for spec in all_specs(config):
            if spec.key_required and key_source(spec, config) == "not set":
                continue
            if spec.name == "local":
                from ba_tui.providers import offline_available

                if not offline_available(config):
                    continue
            for entry in catalog(spec.name):
                add(spec.name, entry.id, entry.note)
            for model in config.provider(spec.name).get("models") or []:
                add(spec.name, str(model), "from config.toml")
            if spec.default_model:
                add(spec.name, spec.default_model, "default")
        # The thread's own model and the last choice stay on offer even if not listed.
        for provider, model in [*([self.current] if self.current else []), *self.remembered]:
            add(provider, model, "")
        self.app.call_from_thread(self._loaded, available)

    def _loaded(self, available: list[tuple[str, str, str]]) -> None:
        self.available = available
        offered = {(p, m) for p, m, _ in available}
        wanted = [t for t in self.remembered if t in offered]
        if len(wanted) < 2 and self.current in offered:
            wanted = [self.current, *[t for t in wanted if t != self.current]]
        self.chosen = wanted[:MAX_COLUMNS]
        self.query_one("#compare-hint", Static).loading = False
        self._fill()

    def _fill(self) -> None:
        query = self.query_one("#filter", Input).value.strip()
        targets = self.query_one("#targets", SelectionList)
        targets.clear_options()
        targets.add_options(
            [
                Selection(
                    Content.assemble(
                        (f"{inert(provider):<10}", "bold"),
                        f"{inert(model):<32}",
                        (inert(note), "$text-muted"),
                    ),
                    f"{provider}:{model}",
                    (provider, model) in self.chosen,
                )
                for provider, model, note in self.available
                if matches(query, provider, model, note)
            ]
        )
        if targets.option_count:
            targets.highlighted = 0

    @on(Input.Changed, "#filter")
    def _filter(self) -> None:
        self._fill()

    @on(SelectionList.SelectedChanged, "#targets")
    def _selected(self) -> None:
        targets = self.query_one("#targets", SelectionList)
        shown = {str(targets.get_option_at_index(i).value) for i in range(targets.option_count)}
        now = {str(value) for value in targets.selected}
        kept = [t for t in self.chosen if f"{t[0]}:{t[1]}" not in shown or f"{t[0]}:{t[1]}" in now]
        pairs = [
            (provider, model) for provider, _, model in map(lambda v: v.partition(":"), sorted(now))
        ]
        self.chosen = [*kept, *(pair for pair in pairs if pair not in kept)]
        hint = self.query_one("#compare-hint", Static)
        if len(self.chosen) > MAX_COLUMNS:
            hint.update(f"At most {MAX_COLUMNS} models side by side: unselect one.")
        else:
            hint.update(
                f"{len(self.chosen)} chosen · Space: choose 2 to {MAX_COLUMNS} · "
                "Enter: send the prompt to all of them · Esc: close"
            )

    def action_cursor(self, step: int) -> None:
        targets = self.query_one("#targets", SelectionList)
        if not targets.has_focus:
            targets.focus()  # from the filter: back to the list, where Space chooses
        elif step > 0:
            targets.action_cursor_down()
        else:
            targets.action_cursor_up()

    def on_key(self, event: events.Key) -> None:
        targets = self.query_one("#targets", SelectionList)
        if targets.has_focus and event.is_printable and event.character not in (None, " "):
            event.stop()
            event.prevent_default()
            box = self.query_one("#filter", Input)
            box.focus()
            box.insert_text_at_cursor(event.character)

    def action_compare(self) -> None:
        hint = self.query_one("#compare-hint", Static)
        if len(self.chosen) < 2:
            hint.update(
                Content.styled(
                    "Choose at least two models (Space), then press Enter.", "$text-warning"
                )
            )
        elif len(self.chosen) > MAX_COLUMNS:
            hint.update(
                Content.styled(
                    f"At most {MAX_COLUMNS} models side by side: unselect one.", "$text-warning"
                )
            )
        else:
            self.dismiss(list(self.chosen))
