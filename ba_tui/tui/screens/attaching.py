"""The chat screen's attachments: files on their way into the next prompt.

A file is attached from the prompt box four ways: the file picker (Ctrl+L), `@path`
completion, pasting its path (what a terminal's drag-and-drop sends) and, for an image,
the system clipboard (Ctrl+V). Each becomes a chip in the `AttachmentBar`, which loads it
in the background. As soon as one is ready the session checks it against the current
model (`ChatSession.check_attachments`): a refusal (an image to a model that cannot see)
and notes (a DOCX goes as text) are said at once, not when the prompt is sent, and the
status line shows the attachments' size and estimated tokens for that model.

`MainScreen` is this screen with the conversation; it provides `provider`, `model`,
`session()` and `_show_status()`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import OptionList

from ba_tui.errors import BaChatError
from ba_tui.tui.widgets.attachment_bar import LONG_PDF, AttachmentBar
from ba_tui.tui.widgets.path_suggestions import PathSuggestions
from ba_tui.tui.widgets.prompt_box import PromptBox

if TYPE_CHECKING:
    from ba_tui.session import ChatSession

# `@path` completion lists this many files at a time (the list scrolls).
SUGGESTIONS = 50
IMAGE_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
}


class AttachingScreen(Screen[None]):
    """A screen with a prompt box, an attachment bar and `@path` suggestions."""

    def __init__(self) -> None:
        super().__init__()
        # Where the picker and `@path` look: the folder ba-chat was started in.
        self.root = Path.cwd()
        # The files under root for `@path`, listed again each time an `@` is typed (a
        # file saved a minute ago is offered too).
        self._index: list[str] = []
        self._completing = False
        self._hidden_query: str | None = None  # Esc hid the suggestions for this query
        self._said: set[str] = set()  # lines already said about the pending attachments
        self._checked_for: tuple[str | None, str | None] = (None, None)

    # What the chat screen provides.

    @property
    def provider(self) -> str | None:
        return None

    @property
    def model(self) -> str | None:
        return None

    def session(self) -> ChatSession:
        raise NotImplementedError

    def _show_status(self) -> None:
        """Show the status line again (the chat screen has one)."""

    # --- attaching ---------------------------------------------------------------------------

    @property
    def attachments(self) -> AttachmentBar:
        return self.query_one(AttachmentBar)

    def attach(self, paths: list[str]) -> None:
        """Attach the files at `paths`; each loads in the background."""
        for path in paths:
            self.attachments.add(path)
        self.query_one(PromptBox).focus()

    async def action_attach(self) -> None:
        from ba_tui.tui.screens.file_picker import FilePicker

        def chosen(path: str | None) -> None:
            if path is not None:
                self.attach([path])
            else:
                self.query_one(PromptBox).focus()

        await self.app.push_screen(FilePicker(self.root), chosen)

    def on_prompt_box_files_pasted(self, event: PromptBox.FilesPasted) -> None:
        event.stop()
        self.attach(event.paths)

    def on_prompt_box_empty_backspace(self, event: PromptBox.EmptyBackspace) -> None:
        event.stop()
        self.attachments.remove_last()

    def on_prompt_box_empty(self, event: PromptBox.Empty) -> None:
        event.stop()
        if self.attachments.items:
            self.notify(
                "Type a question to send with the attachments: they go with a prompt, never alone",
                timeout=4,
            )

    def on_attachment_bar_leave(self, event: AttachmentBar.Leave) -> None:
        event.stop()
        self.query_one(PromptBox).focus()

    def on_attachment_bar_changed(self, event: AttachmentBar.Changed) -> None:
        event.stop()
        self._show_status()
        self.check_attached()

    async def on_attachment_bar_needs_range(self, event: AttachmentBar.NeedsRange) -> None:
        from ba_tui.tui.screens.page_range import PageRangeScreen

        event.stop()
        item, bar = event.item, self.attachments

        def chosen(pages: str | None) -> None:
            if pages is None:
                bar.discard(item)
            else:
                bar.load_range(item, pages)
            self.query_one(PromptBox).focus()

        await self.app.push_screen(PageRangeScreen(item.name, event.pages, event.limit), chosen)

    def attachment_status(self) -> tuple[str, bool]:
        """What the status line says about the pending attachments for the current model,
        and whether that is a warning. Keeps the bar's page limit that model's, and checks
        the attachments again when the model changed since they were checked."""
        from ba_tui.models import capabilities

        bar = self.attachments
        provider, model = self.provider, self.model
        caps = capabilities(provider or "", model or "")
        native = caps.pdf_pages if caps.pdf else None
        bar.page_limit = min(native or LONG_PDF, LONG_PDF)
        bar.model_pages = native
        if bar.items and (provider, model) != self._checked_for:
            self.check_attached()
        return bar.summary(caps)

    @work(group="attach-check", exclusive=True, exit_on_error=False)
    async def check_attached(self) -> None:
        """What the current model gets of the ready attachments, said now: a refusal marks
        the chip it is about and is one line, each note (a document sent as text) a line."""
        from ba_tui.attachments.fit import Refused

        bar = self.attachments
        provider, model = self.provider, self.model
        self._checked_for = (provider, model)
        if not bar.items:
            self._said.clear()
        if not bar.ready or provider is None:
            bar.mark_refused(set())
            return
        session = self.session()
        try:
            target = await asyncio.to_thread(session.target, provider, model)
        except BaChatError:
            return  # no key yet: sending says so, with what to do
        items = list(bar.items)
        refused = set()
        for index, item in enumerate(items):
            if item.prepared is None:
                continue
            try:
                session.check_attachments([target], [item.prepared])
            except Refused:
                refused.add(index)
        if items == bar.items:
            bar.mark_refused(refused)
        severity: SeverityLevel = "information"
        try:
            lines = session.check_attachments([target], bar.ready)
        except Refused as refusal:
            lines, severity = [refusal.line("tui")], "error"
        for line in lines:
            if line not in self._said:
                self._said.add(line)
                self.notify(line, severity=severity, timeout=6)
        self._show_status()

    # --- the clipboard -------------------------------------------------------------------------

    def action_paste_image(self, fallback: bool = False) -> None:
        """Attach the image on the system clipboard. With `fallback` (Ctrl+V in the prompt
        box), when there is none, paste what ba-chat itself copied, as Ctrl+V did before."""
        self._paste_image(fallback)

    @work(group="clipboard", exclusive=True, exit_on_error=False)
    async def _paste_image(self, fallback: bool) -> None:
        from ba_tui.tui.clipboard import NoImage, clipboard_image

        try:
            data, mime = await asyncio.to_thread(clipboard_image)
        except NoImage as exc:
            box = self.query_one(PromptBox)
            if fallback and self.app.clipboard:
                box.action_paste()
                return
            self.notify(exc.line("tui"), severity="warning", timeout=6)
            return
        from datetime import datetime

        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")  # the user's own clock: a file name
        self.attachments.add_bytes(
            f"clipboard-{stamp}.{IMAGE_EXTENSIONS.get(mime, 'png')}", data, mime
        )

    # --- @path completion ----------------------------------------------------------------------

    def on_prompt_box_path_typed(self, event: PromptBox.PathTyped) -> None:
        event.stop()
        if event.query is None or event.query != self._hidden_query:
            self._hidden_query = None
        if event.query is None:
            self._completing = False
            self._suggest([])
            return
        if not self._completing:
            self._completing = True
            self._index = []
            self._walk_index()
        self._suggest_for(event.query)

    def _suggest_for(self, query: str) -> None:
        if self._hidden_query != query:
            self._find_suggestions(query, self._index[:])

    @work(thread=True, group="path-suggestions", exclusive=True, exit_on_error=False)
    def _find_suggestions(self, query: str, files: list[str]) -> None:
        """The files for `query`, matched in a thread (a home folder lists 200,000 of
        them: typing must not wait for that), then shown if it is still what is typed."""
        from ba_tui.tui.files import is_typed_path, matches, typed_path

        found = (
            typed_path(query, SUGGESTIONS)
            if is_typed_path(query)
            else matches(query, files, SUGGESTIONS)
        )
        self.app.call_from_thread(self._found_suggestions, query, found)

    def _found_suggestions(self, query: str, found: list[str]) -> None:
        if self.query_one(PromptBox).path_word() == query and self._hidden_query != query:
            self._suggest(found)

    def _suggest(self, paths: list[str]) -> None:
        suggestions = self.query_one(PathSuggestions)
        suggestions.show(paths)
        self.query_one(PromptBox).suggesting = bool(paths)

    @work(thread=True, group="path-index", exclusive=True, exit_on_error=False)
    def _walk_index(self) -> None:
        """The files under the root for `@path`, listed once, in batches; the shown
        suggestions follow each batch."""
        from textual.worker import get_current_worker

        from ba_tui.tui.files import walk

        worker = get_current_worker()
        for batch in walk(self.root, lambda: worker.is_cancelled):
            self.app.call_from_thread(self._indexed, batch)

    def _indexed(self, batch: list[str]) -> None:
        self._index.extend(batch)
        query = self.query_one(PromptBox).path_word()
        if query is not None:
            self._suggest_for(query)

    def on_prompt_box_suggestion_key(self, event: PromptBox.SuggestionKey) -> None:
        event.stop()
        suggestions = self.query_one(PathSuggestions)
        if event.key in ("up", "down"):
            suggestions.move(1 if event.key == "down" else -1)
        elif event.key == "escape":
            self._hidden_query = self.query_one(PromptBox).path_word()
            self._suggest([])
        elif (chosen := suggestions.chosen) is not None:
            self.take_suggestion(chosen)

    @on(OptionList.OptionSelected, "#path-suggestions")
    def _suggestion_clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.take_suggestion(event.option.id)

    def take_suggestion(self, path: str) -> None:
        """A chosen suggestion: a folder goes on being typed (`@docs/`); a file leaves the
        prompt's text and becomes a chip (the chip is what is sent: the model gets the file
        under its name, so `@docs/report.pdf` in the text would only repeat it)."""
        import os

        from ba_tui.tui.files import is_typed_path

        box = self.query_one(PromptBox)
        if path.endswith("/"):
            box.replace_path_word(f"@{path}")
            return
        full = os.path.expanduser(path) if is_typed_path(path) else str(self.root / path)
        box.replace_path_word("")
        self._suggest([])
        self.attach([full])
