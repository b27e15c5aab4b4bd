"""The thread list: title, provider badge and relative time, pinned first, then newest.

Only metadata is read, one page at a time: the next page is fetched when the highlight
or the scroll position nears the end, so a store of any size opens at once. The list
shows either the threads in use or the archived ones (`archived`), optionally only the
titles holding `title_filter`, and leaves out `ask`'s threads when `hide_ask` is set.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from ba_tui.tui.text import fit, inert, one_line, relative_time, unjoined

if TYPE_CHECKING:
    from ba_tui.store import Store, Thread

PAGE = 40
NEW_THREAD_ID = "-new-"
BACK_ID = "-back-"  # the first row of the archived view: back to the threads in use
# Cells for a row's text before the list knows its size: app.tcss's 32 columns less the
# border, a scrollbar and the options' padding.
TEXT_WIDTH = 28


# Before the open thread's title: the cursor (a background) moves through the list, and
# this mark stays on the thread the conversation shows.
OPEN_MARK = "● "
# Before a pinned thread's title (the list keeps pinned threads at the top).
PIN_MARK = "★ "


def thread_prompt(
    thread: Thread, now: datetime, width: int = TEXT_WIDTH, *, is_open: bool = False
) -> Content:
    """Two rows of exactly `width` cells: the title (after OPEN_MARK if it is the open
    thread); the provider, and the time on the right. Measured in cells, with the
    characters terminals measure differently left out (`unjoined`), so every row ends
    in the same column whatever the title holds."""
    title = one_line(unjoined(inert(thread.title)), 200) or "untitled"
    when = relative_time(thread.updated_at, now)
    provider = unjoined(inert(thread.provider))
    mark = OPEN_MARK if is_open else ""
    pin = PIN_MARK if thread.pinned else ""
    return Content.assemble(
        (mark, "bold $text-accent"),
        (pin, "bold $text-warning"),
        (fit(title, max(1, width - cell_len(mark + pin))), "bold"),
        "\n",
        (fit(provider, max(1, width - cell_len(when) - 1)), "$text-accent"),
        (" " + when, "$text-muted"),
    )


def _new_thread_option() -> Option:
    return Option(Content.styled("+ New thread", "$text-success"), id=NEW_THREAD_ID)


def _back_option() -> Option:
    return Option(Content.styled("← Archived threads (v: back)", "$text-warning"), id=BACK_ID)


class ThreadList(OptionList):
    """Threads pinned first, then newest; posts `Chosen` when one is selected."""

    BINDINGS = [
        Binding("n", "screen.new_thread", "New", show=False),
        Binding("delete,d", "screen.delete_thread", "Delete", show=False),
        Binding("f2,R", "screen.rename_thread", "Rename", show=False),
        Binding("p", "screen.pin_thread", "Pin"),
        Binding("a", "screen.archive_thread", "Archive"),
        Binding("v", "screen.archived_view", "Archived"),
        Binding("slash", "screen.filter_threads", "Filter"),
    ]

    class Chosen(Message):
        def __init__(self, thread_id: str | None) -> None:
            super().__init__()
            self.thread_id = thread_id

    def __init__(self, *, clock: Callable[[], datetime], id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.store: Store | None = None
        self.threads: dict[str, Thread] = {}
        self.open_id: str | None = None  # the thread the conversation shows
        self._loaded = 0
        self._exhausted = False
        self._built_width = TEXT_WIDTH  # the width the rows were last made for
        self.archived = False  # showing the archived threads instead of those in use
        self.title_filter = ""  # only titles holding this (any case)
        self.hide_ask = False  # leave out threads `ba-chat ask` started

    def _page(self, limit: int, offset: int = 0) -> list[Thread]:
        assert self.store is not None
        return self.store.list_threads(
            limit=limit,
            offset=offset,
            archived=self.archived,
            title=self.title_filter.strip() or None,
            hide_origin="ask" if self.hide_ask else None,
        )

    def shows(self, thread: Thread) -> bool:
        """Whether `thread` belongs in the list as it is filtered now."""
        if thread.archived != self.archived:
            return False
        if self.hide_ask and thread.origin == "ask":
            return False
        return self.title_filter.strip().casefold() in thread.title.casefold()

    def _first_option(self) -> Option:
        return _back_option() if self.archived else _new_thread_option()

    def load(self, store: Store) -> None:
        """Show the first page of threads (metadata only)."""
        self.store = store
        self.threads.clear()
        self._loaded = 0
        self._exhausted = False
        self.clear_options()
        self.add_option(self._first_option())
        self.load_more()

    def load_more(self) -> None:
        if self.store is None or self._exhausted:
            return
        page = self._page(PAGE, self._loaded)
        self._loaded += len(page)
        self._exhausted = len(page) < PAGE
        now = self.clock()
        fresh = [t for t in page if t.id not in self.threads]
        for thread in fresh:
            self.threads[thread.id] = thread
        self.add_options([self._option(t, now) for t in fresh])

    def reload(self) -> None:
        """Read the loaded threads again, after another process wrote: its new threads
        appear at the top, changed ones update, deleted ones go. The highlight stays on
        its thread and the list where it was scrolled to."""
        if self.store is None:
            return
        count = max(PAGE, self._loaded)
        page = self._page(count)
        shown = [self.threads[o.id] for o in self.options if o.id in self.threads]
        self._loaded = len(page)
        self._exhausted = len(page) < count
        if page != shown:
            self._rebuild(page)

    def _rebuild(self, page: list[Thread]) -> None:
        """Show `page` as the whole list, keeping the highlight and the scroll position."""
        index = self.highlighted
        highlighted = self.get_option_at_index(index).id if index is not None else None
        scroll_y = self.scroll_y
        self.threads = {thread.id: thread for thread in page}
        now = self.clock()
        self.set_options([self._first_option(), *(self._option(t, now) for t in page)])
        if highlighted in (NEW_THREAD_ID, BACK_ID) or highlighted in self.threads:
            self.put_highlight(self.get_option_index(highlighted))
        self.scroll_to(y=scroll_y, animate=False)

    def show_thread(self, thread: Thread) -> None:
        """Put a new or changed thread at the top of its group (it was just used: pinned
        threads stay above it), or take it out if it no longer belongs in the list."""
        if not self.shows(thread):
            self.forget(thread.id)
            return
        now = self.clock()
        if thread.id in self.threads:
            self.remove_option(thread.id)
        else:
            self._loaded += 1
        self.threads[thread.id] = thread
        highlighted = self.highlighted
        index = 1
        if not thread.pinned:
            index += sum(1 for t in self.threads.values() if t.pinned and t.id != thread.id)
        self._insert_at(index, self._option(thread, now))
        self.highlighted = index if highlighted is not None else None

    def refilter(
        self,
        *,
        archived: bool | None = None,
        title: str | None = None,
        hide_ask: bool | None = None,
    ) -> None:
        """Show another view of the threads (archived or not, a title filter, `ask`'s
        threads hidden or not), from its first page."""
        if archived is not None:
            self.archived = archived
        if title is not None:
            self.title_filter = title
        if hide_ask is not None:
            self.hide_ask = hide_ask
        if self.store is not None:
            self.load(self.store)
            self.mark(self.open_id)

    @property
    def highlighted_thread(self) -> Thread | None:
        """The thread under the highlight; None on the first row or when nothing is."""
        if self.highlighted is None:
            return None
        return self.threads.get(self.get_option_at_index(self.highlighted).id or "")

    def _option(self, thread: Thread, now: datetime) -> Option:
        self._built_width = self._text_width
        is_open = thread.id == self.open_id
        return Option(thread_prompt(thread, now, self._built_width, is_open=is_open), id=thread.id)

    @property
    def _text_width(self) -> int:
        """Cells a row's text may take: the list's content width less the options'
        padding and a scrollbar (counted even while hidden, so that rows never wrap
        when one appears)."""
        if not self.size.width:
            return TEXT_WIDTH
        padding = self.get_component_styles("option-list--option").padding.width
        scrollbar = self.styles.scrollbar_size_vertical
        return max(8, self.size.width - scrollbar - padding)

    def on_resize(self) -> None:
        if self.threads and self._text_width != self._built_width:
            self._rebuild([self.threads[o.id] for o in self.options if o.id in self.threads])

    def forget(self, thread_id: str) -> None:
        if thread_id in self.threads:
            del self.threads[thread_id]
            self.remove_option(thread_id)
            self._loaded -= 1

    def mark(self, thread_id: str | None) -> None:
        """Mark `thread_id` as the open thread, and highlight it without choosing it."""
        before, self.open_id = self.open_id, thread_id
        if before != thread_id:
            now = self.clock()
            for changed in (before, thread_id):
                if changed in self.threads:
                    self.replace_option_prompt(
                        changed, self._option(self.threads[changed], now).prompt
                    )
        try:
            index = self.get_option_index(thread_id or NEW_THREAD_ID)
        except Exception:
            return
        self.put_highlight(index)

    def put_highlight(self, index: int | None) -> None:
        """Highlight the option at `index` (or none) without choosing it."""
        with self.prevent(OptionList.OptionHighlighted):
            self.highlighted = index

    def _insert_at(self, index: int, option: Option) -> None:
        options = list(self.options)
        options.insert(index, option)
        self.set_options(options)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new >= self.max_scroll_y - self.size.height:
            self.load_more()

    def _on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index >= self.option_count - 10:
            self.load_more()

    def _on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        chosen = event.option.id
        if chosen == BACK_ID:
            self.refilter(archived=False)
            return
        self.post_message(self.Chosen(None if chosen == NEW_THREAD_ID else chosen))


class ThreadFilter(Input):
    """The sidebar's filter: the list shows the titles holding what is typed. Escape
    clears it, Enter or Down moves to the list."""

    BINDINGS = [
        Binding("escape", "clear_filter", "Clear filter"),
        Binding("down,enter", "to_list", "To the list", show=False),
    ]

    def action_clear_filter(self) -> None:
        self.value = ""
        self.action_to_list()

    def action_to_list(self) -> None:
        threads = self.screen.query_one(ThreadList)
        threads.focus()
        if threads.option_count > 1:
            threads.put_highlight(1)
