"""Full-text search over every message; Enter opens the thread at that message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content, Span
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ba_tui.tui.text import cut, inert, one_line, unjoined

if TYPE_CHECKING:
    from textual.timer import Timer

    from ba_tui.store import SearchHit, Store

# Match markers that cannot occur in inert text (inert removes control characters).
_OPEN, _CLOSE = "\x02", "\x03"


def snippet_content(snippet: str) -> Content:
    """The store's snippet with the matched words highlighted; everything else inert."""
    text, spans, position = [], [], 0
    for index, part in enumerate(snippet.replace(_CLOSE, _OPEN).split(_OPEN)):
        clean = inert(part).replace("\n", " ")
        if index % 2 == 1 and clean:
            spans.append(Span(position, position + len(clean), "bold $text-accent"))
        text.append(clean)
        position += len(clean)
    return Content("".join(text), spans)


class SearchScreen(ModalScreen[tuple[str, str, tuple[str, ...]] | None]):
    """Dismissed with (thread id, message id, the words that matched there), or None."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("down", "cursor(1)", "Down", show=False, priority=True),
        Binding("up", "cursor(-1)", "Up", show=False, priority=True),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.hits: dict[str, SearchHit] = {}
        self._timer: Timer | None = None
        # Searches run in a thread on their own read-only connection: a prefix search
        # over a large history takes up to a second, which must not freeze typing.
        self._reader: Store | None = None
        self._shown_query: str | None = None
        self._open_when_shown = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog search"):
            yield Static("Search messages", classes="dialog-title")
            yield Input(placeholder="Words to find", id="query")
            yield OptionList(id="hits")
            yield Static("Enter: open the thread there · Esc: close", classes="dialog-hint")

    @on(Input.Changed, "#query")
    def _changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.15, self.run_search)

    def run_search(self) -> None:
        self._search(self.query_one("#query", Input).value)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, query: str) -> None:
        from ba_tui.errors import BaChatError

        try:
            if self._reader is None:
                self._reader = self.store.reader()
            hits = (
                self._reader.search(query, limit=50, highlight=(_OPEN, _CLOSE))
                if query.strip()
                else []
            )
        except BaChatError as exc:
            self.app.call_from_thread(self.notify, exc.line("tui"), severity="error")
            return
        self.app.call_from_thread(self._show, query, hits)

    def _show(self, query: str, hits: list[SearchHit]) -> None:
        """Show the hits of `query`, unless the user has typed on since it was asked."""
        if query != self.query_one("#query", Input).value:
            return
        self._shown_query = query
        self.hits = {hit.message_id: hit for hit in hits}
        hits_list = self.query_one("#hits", OptionList)
        options = [
            Option(
                Content.assemble(
                    (
                        cut(one_line(unjoined(inert(hit.thread_title)), 200), 50) or "untitled",
                        "bold",
                    ),
                    (f"  {hit.role}", "$text-muted"),
                    "\n",
                    snippet_content(hit.snippet),
                ),
                id=hit.message_id,
            )
            for hit in hits
        ]
        hits_list.set_options(options)
        hits_list.highlighted = 0 if options else None
        if self._open_when_shown:
            self._open_when_shown = False
            self._open_highlighted()

    def on_unmount(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()

    @on(Input.Submitted, "#query")
    def _submitted(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        if self._shown_query != self.query_one("#query", Input).value:
            # Enter typed before the hits of what is typed arrived: open the first then.
            self._open_when_shown = True
            self.run_search()
            return
        self._open_highlighted()

    def _open_highlighted(self) -> None:
        hits = self.query_one("#hits", OptionList)
        if hits.highlighted is not None:
            self._open(hits.options[hits.highlighted].id)

    @on(OptionList.OptionSelected, "#hits")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._open(event.option.id)

    def _open(self, message_id: str | None) -> None:
        hit = self.hits.get(message_id or "")
        if hit is not None:
            self.dismiss((hit.thread_id, hit.message_id, hit.matched))

    def action_cursor(self, step: int) -> None:
        hits = self.query_one("#hits", OptionList)
        if step > 0:
            hits.action_cursor_down()
        else:
            hits.action_cursor_up()
