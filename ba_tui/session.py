"""One conversation as the CLI and the TUI both drive it.

`ask` and the full-screen app used to each work out for themselves where a turn goes: the
provider and model (the thread's, unless told otherwise), the thread (a new one, stored
with its title, system prompt and persona only once its first prompt is sent), the history
before the message being answered, the system prompt, the fallbacks. A `ChatSession` does
that once; the front ends render the events it passes on, among them `Saved` with the ids
of the rows the turn wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ba_tui.conversation import Turn, TurnOptions, run_turn, to_chat_messages
from ba_tui.events import Event, Notice
from ba_tui.messages import Blob, attachments_of

if TYPE_CHECKING:
    from ba_tui.attachments import Prepared
    from ba_tui.config import Config
    from ba_tui.consensus import Vote
    from ba_tui.providers import ChatMessage, Target
    from ba_tui.schemas import OutputSchema
    from ba_tui.store import Store, Thread
    from ba_tui.tools import Approver, Tool, Toolbox

TITLE_WIDTH = 60


TITLE_PROMPT = (
    "Write a title for this conversation: at most six words, in the language of the "
    "conversation, no quotes, no punctuation at the end. Reply with the title only."
)


# Asked for at most six words; a line much longer than that is an answer, not a title.
TITLE_WORDS = 10
_PREAMBLE = re.compile(r"^(sure|certainly|of course|here is|here's|okay|ok)\b", re.IGNORECASE)


def clean_title(text: str) -> str | None:
    """A model's title made fit for the thread list: its first line without Markdown,
    quotes or a `Title:` label, at most TITLE_WIDTH characters; None when nothing is left,
    or when the model answered with a sentence instead of a title (the prompt's own first
    line is a better title than the start of an answer)."""
    lines = [part.strip() for part in text.splitlines() if part.strip()]
    # "Sure! Here is a title:" and the like come before the title some models give.
    while len(lines) > 1 and (lines[0].endswith(":") or _PREAMBLE.match(lines[0])):
        lines.pop(0)
    line = lines[0] if lines else ""
    while True:  # "**Title:** \"Reset\"" and the like, peeled one layer at a time
        peeled = re.sub(r"^(?:#+\s*|title\s*:\s*)", "", line, flags=re.IGNORECASE)
        peeled = peeled.strip("*_`\"'“”‘’ ").rstrip(".").strip("*_`\"'“”‘’ ")
        if peeled == line:
            break
        line = peeled
    line = " ".join(line.split())
    if not line or len(line.split()) > TITLE_WORDS or _PREAMBLE.match(line):
        return None
    return line if len(line) <= TITLE_WIDTH else line[: TITLE_WIDTH - 1].rstrip() + "…"


def title_for(prompt: str) -> str:
    """A thread's title from its first prompt: the first line that says something."""
    line = next((part.strip() for part in prompt.splitlines() if part.strip()), "untitled")
    return line if len(line) <= TITLE_WIDTH else line[: TITLE_WIDTH - 1].rstrip() + "…"


@dataclass
class NewThread:
    """What a thread not stored yet will be created with, when its first prompt is sent."""

    system: str | None = None
    persona: str | None = None
    title: str | None = None  # default: from the first prompt
    origin: str | None = None  # the front end that started it: "tui" or "ask"


@dataclass
class Structured:
    """A turn asked for JSON of a shape: every try (the first, and one more when the
    answer did not fit), the data of the last, and why it does not fit (None: it does)."""

    turns: list[Turn] = field(default_factory=list)
    data: Any = None
    problem: str | None = None

    @property
    def turn(self) -> Turn:
        return self.turns[-1]


@dataclass
class Agreed:
    """`--consensus`: every model's answer, and what they came to. With a schema, `vote`
    holds the majority per field and `problems` the answers left out of it (not JSON of
    the shape); without one, `judge` is the turn that merged the answers."""

    turns: list[Turn]
    vote: Vote | None = None
    problems: dict[str, str] = field(default_factory=dict)
    judge: Turn | None = None

    @property
    def all_turns(self) -> list[Turn]:
        return [*self.turns, *([self.judge] if self.judge else [])]


def label(turn: Turn) -> str:
    return f"{turn.provider}:{turn.model}"


class Latest:
    """`parent_id=LATEST`: answer after the thread's newest message (`ask -c`)."""


LATEST = Latest()


def keep_connections() -> None:
    """From now on (on the running event loop), each provider's SDK client and its open
    connection are kept from turn to turn: what a long-running front end (the TUI) wants.
    A one-shot `ask` builds its client and closes it."""
    from ba_tui.providers import clients

    clients.keep()


async def close_connections() -> None:
    """Close the clients `keep_connections` kept, and stop keeping them."""
    from ba_tui.providers import clients

    await clients.release()


class ChatSession:
    """Where the next turn of one conversation goes, and what it is sent with.

    `store=None` is `ask --no-save`: nothing is read or written. `thread=None` is a new
    conversation, created by the first `send`. Not safe to share between two turns that
    run at once (compare runs its columns through one `send` each, after the thread
    exists)."""

    def __init__(
        self,
        config: Config,
        store: Store | None,
        thread: Thread | None = None,
        *,
        options: TurnOptions | None = None,
        new: NewThread | None = None,
        on_thread: Callable[[Thread], Any] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.thread = thread
        self.options = options or TurnOptions.from_config(config)
        self.new = new or NewThread()
        # Told when the session creates or changes its thread (the TUI lists it).
        self.on_thread = on_thread or (lambda thread: None)
        # The tools `send` offers (to models that take tools); None offers none.
        self.tools: Toolbox | None = None

    def use_tools(
        self,
        names: list[str] | None = None,
        *,
        policy: str = "ask",
        approve: Approver | None = None,
    ) -> Toolbox | None:
        """Offer the built-in tools `names` (or, with none given, config's `[tools]
        enabled`) from now on. `approve` is the front end's way to ask the user about a
        call the policy does not allow by itself (`ask`'s prompt, the TUI's card); without
        one such a call is denied and the model told so. Returns the toolbox (None when
        no tool is enabled)."""
        section = self.config.data.get("tools") or {}
        enabled = names if names else list(section.get("enabled") or [])
        mcp = []
        if self.config.data.get("mcp"):  # (nothing is imported for a config without it)
            from ba_tui.tools.mcp import servers

            mcp = [server for server in servers(self.config.data) if server.enabled]
        if not enabled and not mcp:
            self.tools = None
            return None
        from ba_tui.tools import Toolbox
        from ba_tui.tools.builtin import builtin_tools

        self.tools = Toolbox.of(builtin_tools(enabled), policy, approve)
        self.tools.servers = mcp
        if self.store is not None:
            self.tools.always = {kept.tool for kept in self.store.allowed_tools()}
            self.tools.remember = self._remember_tool
        return self.tools

    def _remember_tool(self, tool: Tool) -> None:
        """Keep an "always" in the store, where the next session finds it; a store that
        cannot be written leaves it allowed for this session only (the log says so)."""
        from ba_tui.store import StoreError

        assert self.store is not None
        try:
            self.store.allow_tool(tool.name, tool.source)
        except StoreError as exc:
            from ba_tui.logs import log_event

            log_event("allow_always_not_saved", tool=tool.name, error=str(exc))

    async def close_tools(self) -> None:
        """End the session's MCP connections (their servers' processes with them)."""
        if self.tools is not None:
            await self.tools.close()

    def target(self, provider: str | None = None, model: str | None = None) -> Target:
        """The thread's provider and model unless told otherwise (a model given alone is
        the thread's provider's); checks the key now, before anything is stored."""
        from ba_tui.providers import resolve

        thread = self.thread
        return resolve(
            provider or (thread.provider if thread else None),
            model or (thread.model if thread and not provider else None),
            self.config,
        )

    def fallbacks(self, given: list[str] | None = None) -> tuple[list[Target], list[str]]:
        """`--fallback P:M` targets, else config's `fallback`; and a note for each one
        skipped for want of a key."""
        from ba_tui.providers import fallback_targets

        return fallback_targets(given or self.config.data.get("fallback") or [], self.config)

    async def retitle(self) -> Thread | None:
        """Give a thread whose first answer just arrived a title made from the
        conversation (the prompt's first line often names it badly). `auto_title` in
        config says which model writes it: "model" (the thread's own, the default),
        "local" (the offline model: free, no network) or "off". Returns the renamed
        thread, or None when nothing changed (turned off, no first answer, a failure:
        a title is never worth an error)."""
        from ba_tui.errors import BaChatError

        mode = self.config.data.get("auto_title", "model")
        thread, store = self.thread, self.store
        if mode in (False, "off") or thread is None or store is None:
            return None
        history = to_chat_messages(store.history(thread.id))
        if len(history) != 2 or history[1].role != "assistant":
            return None
        try:
            target = self.target("local") if mode == "local" else self.target()
        except BaChatError:
            return None
        turn = await run_turn(
            target,
            TITLE_PROMPT,
            history=[_cut(message) for message in history],
            options=TurnOptions(max_tokens=40, retries=0, stall_timeout=20.0),
        )
        if turn.usage is not None:  # billed whether or not the title is taken
            with contextlib.suppress(BaChatError):
                store.record_side_request(
                    "title",
                    turn.provider,
                    turn.model,
                    turn.usage,
                    thread_id=thread.id,
                    cost=turn.cost,
                    ttft_ms=turn.ttft_ms,
                )
        title = clean_title(turn.text) if turn.status == "complete" else None
        if title is None or title == thread.title:
            return None
        try:
            thread = store.update_thread(thread.id, title=title)
        except BaChatError:
            return None
        self.thread = thread
        self.on_thread(thread)
        return thread

    def turn_options(self) -> TurnOptions:
        """The session's options, with the thread's own settings (`threads set`, the TUI's
        thread settings) wherever the front end gave none."""
        settings = (self.thread.settings if self.thread else None) or {}
        fill = {
            name: settings[name]
            for name in ("temperature", "top_p", "max_tokens", "thinking_budget")
            if name in settings and getattr(self.options, name) is None
        }
        return replace(self.options, **fill) if fill else self.options

    def schema(self) -> OutputSchema | None:
        """The answer shape the thread asks for (its `schema` setting), or None."""
        from ba_tui.schemas import parse

        name = ((self.thread.settings if self.thread else None) or {}).get("schema")
        if not name:
            return None
        return parse(str(name), saved=self.config.data.get("schemas"))

    def system(self, given: str | None = None) -> str | None:
        """The system prompt of the next turn: the one given, else the thread's."""
        if given is not None:
            return given
        return self.thread.system if self.thread else self.new.system

    async def send(
        self,
        prompt: str | None,
        target: Target,
        *,
        parent_id: str | Latest | None = LATEST,
        system: str | None = None,
        fallbacks: list[Target] | None = None,
        on_event: Callable[[Event], Any] | None = None,
        turn: Turn | None = None,
        options: TurnOptions | None = None,
        history: list[ChatMessage] | None = None,
        attached: Sequence[Prepared] = (),
    ) -> Turn:
        """Run one turn to `target`: `prompt` after `parent_id` (the newest message by
        default), or with `prompt=None` a new reply to the user message `parent_id`
        (regenerate). The thread is created first if there is none yet, and follows
        `target` from now on. Events, `Saved` among them, go to `on_event`. `options`
        replace the session's for this turn; `history` stands in for the stored one when
        nothing is stored (`--no-save`).

        `attached` (see attachments.load) go with the prompt. If the model cannot take
        one, or the request would pass a limit, `attachments.fit.Refused` is raised before
        anything is stored or sent; what the model gets instead of a file (a document's
        text) is said in `Notice` events. Attachments earlier in the thread are replayed
        from the store."""
        emit = on_event or (lambda event: None)
        self.check_attachments([target], attached)
        if fallbacks is None:
            fallbacks = self.fallbacks()[0]
        fallbacks = self._able_fallbacks(fallbacks, attached, emit)
        thread_id, parent_id, stored = await self._prepare(prompt or "", target, parent_id)
        history = stored if history is None else history
        files = self._files(history)
        for note in self.check_attachments([target], attached, history, files):
            emit(Notice(f"ba-chat: {note}"))
        if self.tools is not None and self.tools.servers and target.capabilities.tools:
            # MCP servers connect when a turn first offers tools (seconds, once).
            from ba_tui.paths import data_dir

            for note in await self.tools.connect(data_dir() / "mcp"):
                emit(Notice(note))
        if self.tools is not None:
            await self.tools.refresh()  # a server's tools may have changed since the last turn
        return await run_turn(
            target,
            prompt,
            history=history,
            system=self.system(system),
            options=options or self.turn_options(),
            on_event=on_event,
            store=self.store,
            thread_id=thread_id,
            parent_id=parent_id,
            fallbacks=fallbacks,
            turn=turn,
            attached=attached,
            files=files,
            tools=self.tools,
        )

    async def send_structured(
        self,
        prompt: str,
        target: Target,
        schema: OutputSchema,
        *,
        parent_id: str | Latest | None = LATEST,
        system: str | None = None,
        fallbacks: list[Target] | None = None,
        on_event: Callable[[Event], Any] | None = None,
        tries: int = 2,
        attached: Sequence[Prepared] = (),
    ) -> Structured:
        """`prompt` answered as JSON that fits `schema`. An answer that does not fit is
        sent back once with the reason (both stay in the thread, so the raw answer is
        kept); a turn that fails for any other reason ends it, as `send` would.
        `attached` go with the first prompt (a retry replays them from the store)."""
        from ba_tui.providers import ChatMessage
        from ba_tui.schemas import retry_prompt

        options = replace(self.turn_options(), schema=schema)
        result = Structured()
        history: list[ChatMessage] = []  # the exchange so far, when nothing is stored
        for attempt in range(tries):
            turn = await self.send(
                prompt,
                target,
                parent_id=parent_id,
                system=system,
                fallbacks=fallbacks,
                on_event=on_event,
                options=options,
                history=history if self.store is None else None,
                attached=attached if attempt == 0 else (),
            )
            result.turns.append(turn)
            if turn.status != "complete":
                return result
            result.data, result.problem = turn.data, turn.problem  # checked as it closed
            if turn.finish_reason == "length" and result.problem is not None:
                # Asking again would be cut at the same place.
                result.problem = "the answer was cut off at the token limit (raise --max-tokens)"
                return result
            if result.problem is None or attempt == tries - 1:
                return result
            history += [ChatMessage.of("user", prompt), ChatMessage.of("assistant", turn.text)]
            prompt, parent_id = retry_prompt(result.problem), turn.message_id
        return result

    async def compare(
        self,
        prompt: str,
        targets: list[Target],
        *,
        parent_id: str | Latest | None = LATEST,
        system: str | None = None,
        on_event: Callable[[int, Event], Any] | None = None,
        fastest: bool = False,
        turns: list[Turn] | None = None,
        options: TurnOptions | None = None,
        attached: Sequence[Prepared] = (),
    ) -> list[Turn]:
        """`prompt` to every target at once (see compare.run_compare), after `parent_id`.
        A new thread is created for the first target; an existing one keeps its model
        until the user keeps an answer. Every target must be able to take `attached`
        (else `Refused`, nothing stored); notes go to `on_event` with index -1."""
        from ba_tui.compare import run_compare

        self.check_attachments(targets, attached)
        thread_id, parent_id, history = await self._prepare(
            prompt, targets[0], parent_id, follow=False
        )
        files = self._files(history)
        notes = self.check_attachments(targets, attached, history, files)
        tools, held = await self._compare_tools(targets)
        for note in notes + held:
            if on_event is not None:
                on_event(-1, Notice(note if note.startswith("ba-chat:") else f"ba-chat: {note}"))
        return await run_compare(
            targets,
            prompt,
            history=history,
            system=self.system(system),
            options=options or self.turn_options(),
            on_event=on_event,
            store=self.store,
            thread_id=thread_id,
            parent_id=parent_id,
            fastest=fastest,
            turns=turns,
            attached=attached,
            files=files,
            tools=tools,
        )

    async def _compare_tools(self, targets: list[Target]) -> tuple[Toolbox | None, list[str]]:
        """The tools compare offers: only the read-only ones, unless `[tools] compare =
        "all"` (a side effect would run once per model), with a line naming those held
        back (and any MCP server that failed to start)."""
        if self.tools is None or not any(t.capabilities.tools for t in targets):
            return None, []
        notes = []
        if self.tools.servers:
            from ba_tui.paths import data_dir

            notes += await self.tools.connect(data_dir() / "mcp")
        await self.tools.refresh()
        section = self.config.data.get("tools") or {}
        if isinstance(section, dict) and section.get("compare") == "all":
            return self.tools, notes
        view, held = self.tools.read_only_view()
        if held:
            notes.append(
                f"ba-chat: compare offers only read-only tools; held back: {', '.join(held)}"
                ' ([tools] compare = "all" offers them all)'
            )
        return view, notes

    async def consensus(
        self,
        prompt: str,
        targets: list[Target],
        *,
        schema: OutputSchema | None = None,
        judge: Target | None = None,
        parent_id: str | Latest | None = LATEST,
        system: str | None = None,
        on_event: Callable[[int, Event], Any] | None = None,
        turns: list[Turn] | None = None,
    ) -> Agreed:
        """`prompt` to every target; with `schema` the answers that fit vote field by
        field, without one `judge` (default the first target) merges them into a further
        reply to the same prompt. Every answer stays in the thread as a variant."""
        from ba_tui import consensus
        from ba_tui.providers import ChatMessage

        answers = await self.compare(
            prompt,
            targets,
            parent_id=parent_id,
            system=system,
            on_event=on_event,
            turns=turns,
            options=replace(self.turn_options(), schema=schema),
        )
        complete = [turn for turn in answers if turn.status == "complete"]
        result = Agreed(answers)
        if schema is not None:
            fitting = []
            for turn in complete:
                if turn.problem is None:  # checked as it closed
                    fitting.append((label(turn), turn.data))
                else:
                    result.problems[label(turn)] = turn.problem
            result.vote = consensus.vote(fitting) if fitting else None
            return result
        if not complete:
            return result
        texts = [(label(turn), turn.text) for turn in complete]
        user_id = self._user_of(complete[0])
        # A further reply to the same user message (stored), or to the prompt (not).
        result.judge = await self.send(
            None,
            judge or targets[0],
            parent_id=user_id,
            system=consensus.judge_system(texts, self.system(system)),
            fallbacks=[],
            history=None if self.store else [ChatMessage.of("user", prompt)],
        )
        return result

    def _user_of(self, turn: Turn) -> str | None:
        """The id of the user message a stored reply answers (None when nothing is stored)."""
        if self.store is None or turn.message_id is None:
            return None
        return self.store.get_message(turn.message_id).parent_id

    def check_attachments(
        self,
        targets: Sequence[Target],
        attached: Sequence[Prepared],
        history: Sequence[ChatMessage] = (),
        files: Mapping[str, Blob] | None = None,
    ) -> list[str]:
        """What each target gets of the attachments, as lines for the user (a document
        sent as text); `Refused` when one cannot take them. A front end may call it as
        soon as the user attaches a file, to say so before the prompt is sent."""
        from ba_tui.attachments.fit import check

        earlier = [
            (part, (files or {}).get(part.sha256) or Blob(b""))
            for message in history
            for part in attachments_of(message.parts)
        ]
        notes: list[str] = []
        for target in targets:
            found = check(
                [(item.part, item.blob) for item in attached],
                target.model,
                target.capabilities,
                history=earlier,
                sources=[item.source for item in attached],
            )
            notes += [note for note in found if note not in notes]
        return notes

    def _able_fallbacks(
        self, fallbacks: list[Target], attached: Sequence[Prepared], emit: Callable[[Event], Any]
    ) -> list[Target]:
        """The fallbacks that can take the attachments; each other one is skipped, said in
        a notice (a fallback cannot be asked later what it could not be sent now)."""
        from ba_tui.attachments.fit import Refused

        able = []
        for fallback in fallbacks:
            try:
                self.check_attachments([fallback], attached)
            except Refused as refused:
                emit(
                    Notice(
                        f"ba-chat: fallback {fallback.provider}:{fallback.model} skipped: "
                        f"{refused.message}"
                    )
                )
                continue
            able.append(fallback)
        return able

    def _files(self, history: Sequence[ChatMessage]) -> dict[str, Blob]:
        """The stored content of the attachments in `history`, by sha256: a thread
        replays them even after the files are gone."""
        wanted = {part.sha256 for message in history for part in attachments_of(message.parts)}
        if not wanted or self.store is None:
            return {}
        return self.store.blobs(wanted)

    async def _prepare(
        self, prompt: str, target: Target, parent_id: str | Latest | None, *, follow: bool = True
    ) -> tuple[str | None, str | None, list[ChatMessage]]:
        """The thread (stored now if new), the message to answer after, and the history up
        to it, as the model is sent it."""
        store = self.store
        if store is None:
            return None, None if isinstance(parent_id, Latest) else parent_id, []
        # Another process holding the database: wait off the event loop, not in it.
        await asyncio.to_thread(store.wait_writable)
        thread_id = self._thread_for(prompt, target, follow=follow).id
        if isinstance(parent_id, Latest):
            stored = store.history(thread_id)
            return thread_id, stored[-1].id if stored else None, to_chat_messages(stored)
        history = to_chat_messages(store.history(thread_id, parent_id)) if parent_id else []
        return thread_id, parent_id, history

    def _thread_for(self, prompt: str, target: Target, *, follow: bool) -> Thread:
        """The session's thread, stored now if it is new; with `follow`, it goes to
        `target` from now on."""
        assert self.store is not None
        thread = self.thread
        if thread is None:
            new = self.new
            thread = self.store.create_thread(
                title=new.title or title_for(prompt),
                provider=target.provider,
                model=target.model,
                system=new.system,
                persona=new.persona,
                origin=new.origin,
            )
        elif follow and (target.provider, target.model) != (thread.provider, thread.model):
            thread = self.store.update_thread(
                thread.id, provider=target.provider, model=target.model
            )
        else:
            return thread
        self.thread = thread
        self.on_thread(thread)
        return thread


def _cut(message: ChatMessage, limit: int = 4000) -> ChatMessage:
    """A message as the title writer sees it: the gist, not a long paste in full."""
    from ba_tui.providers import ChatMessage

    text = message.content
    return ChatMessage.of(message.role, text if len(text) <= limit else text[:limit] + " …")
