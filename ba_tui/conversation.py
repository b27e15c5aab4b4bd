"""The turn runner: one path from a prompt to a finished, saved reply, for the CLI and TUI.

`run_turn` saves the user's message before anything is sent, opens the reply row before
the first byte, checkpoints the text while it streams, retries what can be retried before
the first token, and closes the row with what arrived, however the stream ended.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, aclosing, nullcontext
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from ba_tui import errors, pricing
from ba_tui.events import (
    Event,
    FallingBack,
    Finished,
    Notice,
    ReasoningDelta,
    Retrying,
    Saved,
    StreamError,
    TextDelta,
    ToolCallDone,
    ToolCallRan,
    ToolCallStarted,
    Uploaded,
    Usage,
)
from ba_tui.logs import log_event
from ba_tui.messages import (
    Blob,
    Part,
    Text,
    ToolCall,
    ToolResult,
    attachments_of,
    reasoning_of,
    reply_parts,
    text_of,
    unanswered_calls,
)
from ba_tui.providers import ChatMessage, ChatRequest, Target, adapter

if TYPE_CHECKING:
    from ba_tui.attachments import Prepared
    from ba_tui.config import Config
    from ba_tui.schemas import OutputSchema
    from ba_tui.store import Message, Store
    from ba_tui.tools import Admitted, Toolbox

R = TypeVar("R")
CHECKPOINT_SECONDS = 0.25
MAX_RETRY_AFTER = 60.0
# A reply is cut once its text passes this many characters per token it may have, plus
# REPLY_SLACK: real text runs about 4 characters a token, so only a server ignoring the
# limit gets there.
CHARS_PER_TOKEN = 16
REPLY_SLACK = 2048
# The cap for a request that states no max_tokens and whose adapter sends none (the model
# decides): the most any current model writes in one reply (GPT-5: 128k tokens).
UNSTATED_MAX_TOKENS = 131_072


@dataclass
class TurnOptions:
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    thinking_budget: int | None = None
    retries: int = 2
    stall_timeout: float = 60.0
    connect_timeout: float = 10.0
    # The whole reply, retries included: the stall timeout alone never ends a server that
    # drips a token every few seconds.
    max_reply_seconds: float = 600.0
    schema: OutputSchema | None = None  # the answer must be JSON of this shape
    # Answer an identical request from the store (`ask --cache`), if its answer is no
    # older than `cache_ttl` seconds (None: any age).
    cache: bool = False
    cache_ttl: float | None = None
    # Requests one turn may make while the model keeps calling tools.
    max_tool_steps: int = 8
    tool_result_cap: int = 20_000  # characters of one tool result the model is sent

    @classmethod
    def from_config(
        cls, config: Config, *, retries: int | None = None, **given: Any
    ) -> TurnOptions:
        """The options config.toml sets (`retries`, `stall_timeout`, `max_reply_seconds`),
        one reading for the CLI, the TUI and compare; a `retries` given here (`--retries`)
        wins."""
        return cls(
            retries=retries if retries is not None else int(config.number("retries", 2)),
            stall_timeout=config.number("stall_timeout", 60.0),
            max_reply_seconds=config.number("max_reply_seconds", 600.0),
            max_tool_steps=int(config.number("max_tool_steps", 8)),
            tool_result_cap=int(config.number("tool_result_cap", 20_000)),
            **given,
        )


@dataclass
class Turn:
    """What one turn produced, whether it finished or not."""

    provider: str
    model: str
    text: str = ""
    reasoning: str = ""
    reasoning_signature: str | None = None
    usage: Usage | None = None
    cost: float | None = None  # USD; None = unknown
    base_url: str | None = None
    finish_reason: str | None = None
    status: str = "streaming"  # complete, partial, error, cancelled
    error: errors.ProviderError | None = None
    ttft_ms: float | None = None
    duration_ms: float | None = None
    attempts: int = 0
    thread_id: str | None = None
    reply: Message | None = None  # the reply's row as it was opened; closed from it
    request_key: str | None = None  # see ba_tui.cache
    schema: OutputSchema | None = None  # the shape asked for; `problem` says if it fit
    problem: str | None = None  # why the answer does not fit `schema` (None: it does)
    data: Any = None  # the answer's data when it fits `schema`
    cached: bool = False  # answered from the store, not the provider
    steps: int = 0  # requests made with tools so far (the tool loop's steps)
    _text: list[str] = field(default_factory=list, repr=False)
    _reasoning: list[str] = field(default_factory=list, repr=False)
    # Earlier steps of a reply that used tools (their text, calls and results), then the
    # calls of the step streaming now, and the usage of the earlier steps together.
    _done: list[Part] = field(default_factory=list, repr=False)
    _calls: list[ToolCall] = field(default_factory=list, repr=False)
    _results: list[ToolResult] = field(default_factory=list, repr=False)
    _spent: Usage | None = field(default=None, repr=False)

    @property
    def message_id(self) -> str | None:
        """The id of the saved reply (None without a store)."""
        return self.reply.id if self.reply is not None else None

    def _join(self) -> None:
        parts = self.parts()
        self.text = text_of(parts)
        self.reasoning = reasoning_of(parts) or ""

    def parts(self) -> tuple[Part, ...]:
        """What arrived so far as a message's parts, every step in order."""
        step = reply_parts(
            "".join(self._text), "".join(self._reasoning), self.provider, self.reasoning_signature
        )
        return (*self._done, *step, *self._calls, *self._results)

    def next_step(self) -> None:
        """Close the step that called tools (its calls have their results): the next one
        starts empty, and its usage adds to this one's."""
        self._done = list(self.parts())
        self._text, self._reasoning, self._calls, self._results = [], [], [], []
        self.reasoning_signature = None
        self._spent = self.usage

    def answer(self, result: ToolResult) -> None:
        """Keep a call's result; results stay in the order of their calls, whichever
        finished first (Gemini pairs a step's results with its calls by position)."""
        order = {call.id: index for index, call in enumerate(self._calls)}
        self._results.append(result)
        self._results.sort(key=lambda kept: order.get(kept.call_id, len(order)))

    def settle_calls(self, why: str) -> list[ToolResult]:
        """Answer every call left without a result (a cancel, a failure, the step limit)
        with one saying why, so the stored history is one every API accepts."""
        missing = unanswered_calls(self.parts())
        results = [
            ToolResult(call.id, call.name, why, is_error=True, approval="cancelled")
            for call in missing
        ]
        for result in results:
            self.answer(result)
        return results

    def tool_calls(self) -> list[dict[str, Any]]:
        """Each call of the turn with its result, as `--json` shows them."""
        parts = self.parts()
        results = {p.call_id: p for p in parts if isinstance(p, ToolResult)}
        out = []
        for call in (p for p in parts if isinstance(p, ToolCall)):
            result = results.get(call.id)
            out.append(
                {
                    "name": call.name,
                    "source": call.source,
                    "arguments": dict(call.arguments),
                    "result": result.output if result else None,
                    "is_error": result.is_error if result else None,
                    "approval": result.approval if result else None,
                    "duration_ms": (
                        round(result.duration_ms, 1)
                        if result and result.duration_ms is not None
                        else None
                    ),
                }
            )
        return out

    def fit_schema(self) -> None:
        """Check the finished answer against `schema` once, for the store, the session and
        the front ends alike (`data` and `problem`)."""
        if self.schema is None:
            return
        if self.status != "complete":
            self.data, self.problem = None, f"the reply is {self.status}"
            return
        from ba_tui.schemas import check

        self.data, self.problem = check(self.text, self.schema)

    def schema_record(self) -> dict[str, Any] | None:
        """What the store keeps about the schema the answer was asked to fit."""
        if self.schema is None:
            return None
        return self.schema.to_dict() | {"valid": self.problem is None, "problem": self.problem}

    def record(self) -> dict[str, Any]:
        """The turn as `--json` prints it (ask, compare and --schema alike)."""
        return {
            "cached": self.cached,
            "provider": self.provider,
            "model": self.model,
            "text": self.text,
            "reasoning": self.reasoning or None,
            "usage": self.usage.as_dict() if self.usage else None,
            "cost": self.cost,
            "finish_reason": self.finish_reason,
            "status": self.status,
            "error": self.error.line() if self.error else None,
            "ttft_ms": round(self.ttft_ms, 1) if self.ttft_ms is not None else None,
            "duration_ms": round(self.duration_ms, 1) if self.duration_ms is not None else None,
            "thread_id": self.thread_id,
            "message_id": self.message_id,
            "tool_calls": self.tool_calls(),
        }


def to_chat_messages(messages: Sequence[Message]) -> list[ChatMessage]:
    """Stored messages as a model sees them: empty and failed replies are left out."""
    out = []
    for message in messages:
        used_tools = any(isinstance(p, ToolCall) for p in message.parts)
        if message.role not in ("user", "assistant") or not (message.content or used_tools):
            continue
        out.append(ChatMessage(message.role, message.parts))
    return out


def backoff(attempt: int, retry_after: float | None) -> float:
    """Seconds to wait before try `attempt + 1`: the provider's word, else exponential."""
    if retry_after is not None and retry_after > 0:
        return retry_after
    return min(0.5 * 2**attempt, 8.0) * random.uniform(0.75, 1.0)


class _Checkpointer:
    """Writes the growing reply to the store at most every CHECKPOINT_SECONDS.

    It writes from a timer, outside the streaming code, so a write that fails (a full
    disk, a read-only file) cannot raise there: it keeps the error and cancels the task
    streaming the reply, and `run_turn` reports it. Earlier checkpoints stay saved. A
    lock held by another process only delays the checkpoint.
    """

    def __init__(self, store: Store | None, message_id: str | None, turn: Turn) -> None:
        self.store, self.message_id, self.turn = store, message_id, turn
        self.handle: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[Any] | None = None
        self.error: errors.BaChatError | None = None

    def touch(self) -> None:
        if self.store is not None and self.handle is None and self.error is None:
            loop = asyncio.get_running_loop()
            self.task = asyncio.current_task()
            self.handle = loop.call_later(CHECKPOINT_SECONDS, self.flush)

    def flush(self) -> None:
        self.handle = None
        if self.store is None or self.message_id is None:
            return
        self.turn._join()
        try:
            self.store.checkpoint(self.message_id, self.turn.parts())
        except errors.BaChatError as exc:
            from ba_tui.store import StoreLocked

            if isinstance(exc, StoreLocked):
                # Another process's long write: the text is kept in memory, the next
                # checkpoint tries again, and closing the reply waits longer still.
                log_event("checkpoint_delayed", request_id=self.message_id, error=exc.line())
                return
            self.error = exc
            if self.task is not None:
                self.task.cancel()

    def stopped_the_stream(self) -> bool:
        """Whether a failed checkpoint cancelled the turn's task; if so the cancel is
        withdrawn (`uncancel`), so the caller gets the store's error, not a cancellation."""
        if self.error is None or self.task is None:
            return False
        if self.task.cancelling():
            self.task.uncancel()
        return True

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None


async def run_turn(
    target: Target,
    prompt: str | None,
    *,
    history: Sequence[ChatMessage] = (),
    system: str | None = None,
    options: TurnOptions | None = None,
    on_event: Callable[[Event], Any] | None = None,
    store: Store | None = None,
    thread_id: str | None = None,
    parent_id: str | None = None,
    fallbacks: Sequence[Target] = (),
    turn: Turn | None = None,
    attached: Sequence[Prepared] = (),
    files: Mapping[str, Blob] | None = None,
    tools: Toolbox | None = None,
) -> Turn:
    """Run one turn and return its outcome; never raises for provider failures.

    `attached` go with `prompt` (before its text, as providers advise), stored with it;
    `files` holds the content of attachments earlier in `history`, by sha256.

    With a store, `prompt` is saved as a user message under `parent_id` in `thread_id`
    (or, when `prompt` is None, the reply regenerates the answer to `parent_id`).
    If `target` fails before its first token (after its retries), each of `fallbacks` is
    tried in turn; the turn records which provider and model actually answered.
    Cancellation (Ctrl+C, Escape) saves the partial reply as `cancelled` and re-raises;
    a caller that needs the partial turn then passes its own `turn` to be filled in.

    With `tools` (offered only to a model whose capabilities say it takes them), the turn
    is a loop: while the model calls tools, each call is approved and run by the toolbox,
    its result saved in the reply, and the whole sent back, up to `max_tool_steps` times.
    However the turn ends, every call is saved with a result ("cancelled" if it never ran).
    """
    options = options or TurnOptions()
    turn = turn or Turn(provider=target.provider, model=target.model)
    turn.thread_id = thread_id
    emit = on_event or (lambda event: None)
    messages = list(history)
    asked: tuple[Part, ...] = ()
    if prompt is not None:
        asked = (*(item.part for item in attached), *((Text(prompt),) if prompt else ()))
        messages.append(ChatMessage("user", asked))
    request = ChatRequest(
        model=target.model,
        messages=tuple(messages),
        system=system,
        max_tokens=options.max_tokens,
        temperature=options.temperature,
        top_p=options.top_p,
        stop=options.stop,
        thinking_budget=options.thinking_budget,
        stall_timeout=options.stall_timeout,
        connect_timeout=options.connect_timeout,
        schema=options.schema,
        files={**(files or {}), **{item.part.sha256: item.blob for item in attached}},
        tools=tools.specs() if tools is not None and target.capabilities.tools else (),
        tool_result_cap=options.tool_result_cap,
    )
    turn.schema = options.schema
    if store is not None:
        from ba_tui.cache import request_key

        turn.request_key = request_key(target.provider, request)
        # A turn with tools is never answered from the store: what the tools return
        # (a file, the time, a page) may have changed since.
        cacheable = options.cache and not request.tools
        if cacheable and (kept := _kept_answer(store, turn.request_key, options)):
            turn.provider, turn.model = kept.provider or turn.provider, kept.model or turn.model
            if thread_id is not None:
                emit(await _open_rows(turn, store, prompt, asked, attached, parent_id))
            return _answer_from_store(kept, turn, emit, store)
    if store is not None and thread_id is not None:
        try:
            emit(await _open_rows(turn, store, prompt, asked, attached, parent_id))
        except asyncio.CancelledError:
            if turn.reply is not None:  # stopped while the rows were written: closed empty
                turn.status = "cancelled"
                _close(
                    turn, store, _Checkpointer(store, turn.message_id, turn), time.perf_counter()
                )
            raise
    checkpoints = _Checkpointer(store, turn.message_id, turn)
    outcomes: list[tuple[str, bool]] = []
    # Import the SDK before the clock starts: timings describe the provider, not Python.
    adapter(target.spec)
    start = time.perf_counter()
    try:
        targets = [target, *fallbacks]
        async with _clients_for(request):
            await _tool_loop(
                targets, request, options, turn, emit, store, checkpoints, start, outcomes, tools
            )
    except asyncio.CancelledError:
        if not checkpoints.stopped_the_stream():
            turn.status = "cancelled"
            _close(turn, store, checkpoints, start)
            raise
    except Exception as exc:
        # (Code under the stream may turn a checkpoint's cancel into an error of its own.)
        if not checkpoints.stopped_the_stream():
            # A bug, not a provider failure: still leave the row closed with what arrived.
            turn.status = "partial" if turn.ttft_ms is not None else "error"
            turn.error = errors.ProviderError(f"internal error: {exc}", provider=turn.provider)
            _close(turn, store, checkpoints, start)
            raise
    if checkpoints.stopped_the_stream():
        failed = checkpoints.error
        assert failed is not None
        turn.status = "partial" if turn.ttft_ms is not None else "error"
        turn.error = errors.ProviderError(
            failed.message, failed.hint, provider=turn.provider, tui_hint=failed.tui_hint
        )
        _close(turn, store, checkpoints, start)  # may well fail too: the log says so
        raise failed
    unsaved = _close(turn, store, checkpoints, start)
    if unsaved is not None:
        raise unsaved
    # Bookkeeping comes after the reply's final state is saved, and cannot change it.
    if store is not None:
        _bookkeep(emit, "the provider's health", _record_health, store, outcomes)
    if turn.error is not None:
        emit(StreamError(turn.error))
    return turn


def _clients_for(request: ChatRequest) -> AbstractAsyncContextManager[Any]:
    """With tools, the loop's requests share one client and its connection (building a
    client costs tens of milliseconds of CPU, each step would pay it again); with files,
    the retries and steps share the uploads an adapter made with it (Gemini's Files API)."""
    if not request.tools and not request.files:
        return nullcontext()
    from ba_tui.providers import clients

    return clients.kept_while()


def _step_gap(turn: Turn) -> str:
    """What goes before the first text of a step after tool calls: a paragraph break, or
    "Let me look at the file." and the next step's "The notes say…" run together."""
    before = text_of(turn._done)
    if not before or before.endswith("\n\n"):
        return ""
    return "\n" if before.endswith("\n") else "\n\n"


async def _tool_loop(
    targets: list[Target],
    request: ChatRequest,
    options: TurnOptions,
    turn: Turn,
    emit: Callable[[Event], Any],
    store: Store | None,
    checkpoints: _Checkpointer,
    start: float,
    outcomes: list[tuple[str, bool]],
    tools: Toolbox | None,
) -> None:
    """The first request, then while the model calls tools: run them, send the reply so
    far back (where the last step was answered), and read the next step."""
    await _try_targets(targets, request, options, turn, emit, store, checkpoints, start, outcomes)
    while tools is not None and turn.error is None and turn._calls:
        if not await _run_tools(turn, tools, options, emit, checkpoints):
            return
        answered = next(t for t in targets if (t.provider, t.model) == (turn.provider, turn.model))
        reply = ChatMessage("assistant", turn.parts())
        # A server whose tools changed during the calls (list_changed) offers its new ones.
        await tools.refresh()
        offered = tools.specs() if request.tools else ()
        step = replace(request, messages=(*request.messages, reply), tools=offered)
        # The deadline of a step counts from its own start, not from before an approval.
        await _try_targets(
            [answered], step, options, turn, emit, store, checkpoints, time.perf_counter(), outcomes
        )


async def _run_tools(
    turn: Turn,
    tools: Toolbox,
    options: TurnOptions,
    emit: Callable[[Event], Any],
    checkpoints: _Checkpointer,
) -> bool:
    """Approve the calls of the step that just ended, one question at a time and in
    order, then run the approved ones at once (a slow tool does not hold up a quick one),
    saving each result in the reply as it comes, before the next request is sent; False
    when the step limit stops the loop."""
    turn.steps += 1
    turn._calls = [replace(call, source=tools.source(call.name)) for call in turn._calls]
    if turn.steps > options.max_tool_steps:
        limit = options.max_tool_steps
        for result in turn.settle_calls(f"not run: the turn reached max_tool_steps ({limit})"):
            emit(ToolCallRan(_call_of(turn, result.call_id), result))
        emit(Notice(f"ba-chat: stopped after {limit} tool steps (max_tool_steps in config.toml)"))
        checkpoints.flush()
        return False

    def keep(call: ToolCall, result: ToolResult) -> None:
        turn.answer(result)
        checkpoints.flush()
        emit(ToolCallRan(call, result))

    admitted: list[Admitted] = []
    for call in list(turn._calls):
        outcome = await tools.admit(call)
        if isinstance(outcome, ToolResult):
            keep(call, outcome)  # denied, or not a call that can run
        else:
            admitted.append(outcome)

    async def run(call: Admitted) -> None:
        keep(call.call, await tools.execute(call))

    await asyncio.gather(*(run(call) for call in admitted))
    turn.next_step()
    return True


def _call_of(turn: Turn, call_id: str) -> ToolCall:
    return next(p for p in turn.parts() if isinstance(p, ToolCall) and p.id == call_id)


def _kept_answer(store: Store, key: str, options: TurnOptions) -> Message | None:
    from ba_tui.cache import since

    return store.kept_answer(key, since(options.cache_ttl))


async def written(write: Callable[..., R], *args: Any) -> R:
    """`write(*args)` (a store write with attachments) run in a thread, and waited for to
    its end even when the caller is cancelled meanwhile: a thread cannot be stopped, and
    the caller must know what it left in the store before it says what was saved."""
    writing = asyncio.ensure_future(asyncio.to_thread(write, *args))
    try:
        return await asyncio.shield(writing)
    except asyncio.CancelledError:
        await asyncio.wait([writing])
        if not writing.cancelled():
            writing.exception()  # seen: a failed write is the caller's stop, not a log line
        raise


async def _open_rows(
    turn: Turn,
    store: Store,
    prompt: str | None,
    asked: tuple[Part, ...],
    attached: Sequence[Prepared],
    parent_id: str | None,
) -> Saved:
    """Save the prompt (its parts and attachments) and open the reply's row before anything
    is sent, answered from the store or not; the `Saved` returned says which rows they are.

    With attachments the rows are written from a thread: storing a 50 MB PDF takes a
    third of a second, which on the TUI's event loop is a frozen screen. (A prompt alone
    is written in place: the hop would cost more than the write.)"""
    thread_id = turn.thread_id
    assert thread_id is not None

    def write() -> Saved:
        user_id, parent = None, parent_id
        if prompt is not None:
            user_id = parent = store.add_message(
                thread_id,
                role="user",
                parts=asked,
                parent_id=parent_id,
                blobs=[(item.part, item.blob) for item in attached],
            ).id
        turn.reply = store.start_reply(
            thread_id, parent_id=parent or "", provider=turn.provider, model=turn.model
        )
        return Saved(thread_id, user_id, turn.reply.id)

    return await written(write) if attached else write()


def _answer_from_store(
    kept: Message, turn: Turn, emit: Callable[[Event], Any], store: Store
) -> Turn:
    """`ask --cache` and an identical request answered before: that answer, at no cost,
    saved in this thread as a reply of its own (so the thread reads as it would have)."""
    start = time.perf_counter()
    turn.cached = True
    turn.text, turn.reasoning = kept.content, kept.reasoning or ""
    turn._text, turn._reasoning = [turn.text], [turn.reasoning]
    turn.finish_reason, turn.status, turn.cost = kept.finish_reason, "complete", 0.0
    turn.usage = Usage(input_tokens=0, output_tokens=0)
    turn.fit_schema()
    emit(Notice(f"ba-chat: answered from the store (asked before, {kept.created_at[:10]})"))
    if turn.reasoning:
        emit(ReasoningDelta(turn.reasoning))
    emit(TextDelta(turn.text))
    turn.ttft_ms = turn.duration_ms = (time.perf_counter() - start) * 1000
    if turn.reply is not None:
        _finish(turn, store, turn.usage)
    emit(Finished(turn.finish_reason or "stop", turn.finish_reason))
    return turn


def _record_health(store: Store, outcomes: Sequence[tuple[str, bool]]) -> None:
    from ba_tui import health

    for provider, ok in outcomes:
        health.record(store, provider, ok=ok)


def _bookkeep(
    emit: Callable[[Event], Any], what: str, write: Callable[..., Any], *args: Any
) -> None:
    """Run a write beside the reply (breaker state); if it fails, say so in one line and
    carry on: the reply is saved already and keeps its status."""
    try:
        write(*args)
    except errors.BaChatError as exc:
        log_event("bookkeeping_failed", what=what, error=exc.line())
        emit(Notice(f"ba-chat: could not save {what}: {exc.line()}"))


async def _try_targets(
    targets: list[Target],
    request: ChatRequest,
    options: TurnOptions,
    turn: Turn,
    emit: Callable[[Event], Any],
    store: Store | None,
    checkpoints: _Checkpointer,
    start: float,
    outcomes: list[tuple[str, bool]],
) -> None:
    from ba_tui import health

    for index, target in enumerate(targets):
        turn.provider, turn.model, turn.base_url = target.provider, target.model, target.base_url
        breaker = health.load(store, target.provider) if store is not None else None
        if breaker is not None and breaker.is_open():
            turn.status = "error"
            turn.error = errors.CircuitOpen(
                f"{target.provider} failed {breaker.failures} times in a row; "
                f"skipping it for {breaker.seconds_left():.0f} s",
                "choose another provider with -p, or add a fallback",
                provider=target.provider,
            )
        else:
            if index == 0:  # the caller has imported it (the TUI does, in a thread)
                stream = adapter(target.spec).stream
            else:  # a fallback's SDK (up to 2 s to import): never on the TUI's loop
                stream = (await asyncio.to_thread(adapter, target.spec)).stream
            attempt_request = replace(request, model=target.model)
            if not target.capabilities.tools:  # never offer tools to a model without
                attempt_request = replace(attempt_request, tools=())
            on_event = emit
            if store is not None and request.files and target.capabilities.file_service:
                attempt_request, on_event = _with_uploads(store, target, attempt_request, emit)
            await _stream_with_retries(
                stream, target, attempt_request, options, turn, on_event, checkpoints, start
            )
            if turn.error is None or turn.error.retryable:
                outcomes.append((target.provider, turn.error is None))
        if (
            turn.error is None
            or turn.ttft_ms is not None
            or index == len(targets) - 1
            or isinstance(turn.error, errors.TimedOut)  # the deadline is the whole turn's
        ):
            return
        following = targets[index + 1]
        emit(FallingBack(turn.error, following.provider, following.model))
        turn.error = None


def _with_uploads(
    store: Store, target: Target, request: ChatRequest, emit: Callable[[Event], Any]
) -> tuple[ChatRequest, Callable[[Event], Any]]:
    """`request` with the uploads of its files an earlier turn made to `target`'s endpoint,
    and an `emit` that stores each new upload (a failed write is one line, not the turn's
    end) rather than pass it on: reusing an upload is not news to the user."""
    from ba_tui import uploads

    # A file of an earlier message uploaded again (its copy expired, or the key changed)
    # is news: the pre-flight lines spoke only of the prompt's own files.
    names = {p.sha256: p.name for m in request.messages for p in attachments_of(m.parts)}
    last = request.messages[-1] if request.messages else None
    new = {p.sha256 for p in attachments_of(last.parts)} if last and last.role == "user" else set()
    service = target.capabilities.file_service

    def on_event(event: Event) -> None:
        if isinstance(event, Uploaded):
            what = "the record of the upload"
            _bookkeep(emit, what, uploads.remember, store, target.base_url, event)
            if event.sha256 not in new and service is not None:
                emit(
                    Notice(
                        f"ba-chat: {names.get(event.sha256, 'a file')}, from earlier in this "
                        f"thread, went to {service.name} again (its earlier copy was gone or "
                        f"expired), which keeps it for {service.keeps}"
                    )
                )
        else:
            emit(event)

    try:
        earlier = uploads.remembered(store, target.base_url, request.files.keys())
    except errors.BaChatError as exc:  # (the file is uploaded again)
        log_event("bookkeeping_failed", what="the records of uploads", error=exc.line())
        earlier = ()
    return replace(request, uploads=earlier), on_event


async def _stream_with_retries(
    stream: Callable[[Target, ChatRequest], AsyncGenerator[Event, None]],
    target: Target,
    request: ChatRequest,
    options: TurnOptions,
    turn: Turn,
    emit: Callable[[Event], Any],
    checkpoints: _Checkpointer,
    start: float,
) -> None:
    """Stream from one target, retrying failures that happen before the first token, and
    stopping a reply that runs far past its token limit or past `max_reply_seconds`."""
    # The deadline counts from the turn's start, so retries and fallbacks share it.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + options.max_reply_seconds - (time.perf_counter() - start)
    try:
        async with asyncio.timeout_at(deadline) as scope:
            await _attempts(stream, target, request, options, turn, emit, checkpoints, start)
    except TimeoutError:
        if not scope.expired():
            raise
        seconds = f"{options.max_reply_seconds:g}"
        _stopped(
            turn,
            target,
            f"the reply from {target.provider} took longer than max_reply_seconds ({seconds} s)",
            "raise max_reply_seconds in config.toml for longer replies",
        )


def _reply_limit(target: Target, request: ChatRequest) -> tuple[str, int]:
    """(the tokens the reply may have, in words; the characters after which ba-chat stops
    reading it).

    The tokens are the request's max_tokens, else what the adapter sends in its place
    (its DEFAULT_MAX_TOKENS), else UNSTATED_MAX_TOKENS; a thinking budget comes on top."""
    sent = request.max_tokens or getattr(adapter(target.spec), "DEFAULT_MAX_TOKENS", None)
    tokens = sent or UNSTATED_MAX_TOKENS
    chars = (tokens + (request.thinking_budget or 0)) * CHARS_PER_TOKEN + REPLY_SLACK
    asked = f"the {tokens} tokens asked for" if sent else f"the {tokens} tokens a reply can have"
    return asked, chars


def _stopped(turn: Turn, target: Target, message: str, hint: str) -> None:
    """Close the turn as stopped by ba-chat: partial if text arrived, else an error."""
    if turn.ttft_ms is not None:
        turn.status = "partial"
        error: errors.ProviderError = errors.StoppedReading(
            message, f"the partial reply is kept; {hint}", provider=target.provider
        )
    else:
        turn.status = "error"
        error = errors.TimedOut(message, hint, provider=target.provider)
    turn.error = error


async def _attempts(
    stream: Callable[[Target, ChatRequest], AsyncGenerator[Event, None]],
    target: Target,
    request: ChatRequest,
    options: TurnOptions,
    turn: Turn,
    emit: Callable[[Event], Any],
    checkpoints: _Checkpointer,
    start: float,
) -> None:
    asked, limit = _reply_limit(target, request)
    attempt = 0
    while True:
        attempt += 1
        turn.attempts += 1
        error: errors.ProviderError | None = None
        received = 0
        async with aclosing(stream(target, request)) as events:
            async for event in events:
                if isinstance(event, StreamError):
                    error = event.error
                    break
                if isinstance(event, TextDelta | ReasoningDelta):
                    received += len(event.text)
                    if (over := received - limit) > 0:
                        # A server ignoring max_tokens would otherwise fill memory and
                        # the database for as long as it likes: keep up to the limit, stop.
                        event = replace(event, text=event.text[: len(event.text) - over])
                        error = errors.StoppedReading(
                            f"stopped reading: {target.provider} sent far more than {asked}",
                            "the start of the reply is kept",
                            provider=target.provider,
                        )
                    if turn.ttft_ms is None and (event.text or isinstance(event, TextDelta)):
                        turn.ttft_ms = (time.perf_counter() - start) * 1000
                        # Load prices while the rest streams; never before the first token.
                        pricing.warm_up()
                    if isinstance(event, TextDelta):
                        if event.text and not turn._text and (gap := _step_gap(turn)):
                            event = replace(event, text=gap + event.text)
                        turn._text.append(event.text)
                    else:
                        turn._reasoning.append(event.text)
                        if event.signature:
                            turn.reasoning_signature = event.signature
                    checkpoints.touch()
                elif isinstance(event, ToolCallStarted):
                    if turn.ttft_ms is None:  # a call is the reply starting, as text is
                        turn.ttft_ms = (time.perf_counter() - start) * 1000
                elif isinstance(event, ToolCallDone):
                    turn._calls.append(event.call)
                    checkpoints.touch()
                elif isinstance(event, Usage):
                    turn.usage = _added(turn._spent, event)
                elif isinstance(event, Finished):
                    turn.finish_reason = event.reason
                emit(event)
                if error is not None:
                    break
        if error is None:
            turn.status = "complete"
            return
        log_event(
            "attempt_failed",
            provider=target.provider,
            model=target.model,
            attempt=attempt,
            error=error.kind,
            status=error.status,
            message=error.line(),
        )
        started = turn.ttft_ms is not None
        delay = backoff(attempt - 1, error.retry_after)
        can_retry = attempt <= options.retries and error.retryable and not started
        if can_retry and delay <= MAX_RETRY_AFTER:
            emit(Retrying(error, delay, attempt, options.retries))
            await asyncio.sleep(delay)
            continue
        if isinstance(error, errors.StreamCut):
            turn.status = "partial" if started else "error"
        elif started:
            # Text already reached the user: keep it, never retry it silently.
            error = errors.cut_off(error, target.provider, received)
            turn.status = "partial"
        else:
            turn.status = "error"
        turn.error = error
        return


def _added(before: Usage | None, step: Usage) -> Usage:
    """The usage of a reply's steps together (each request is billed on its own)."""
    if before is None:
        return step

    def plus(a: int | None, b: int | None) -> int | None:
        return None if a is None and b is None else (a or 0) + (b or 0)

    return Usage(
        plus(before.input_tokens, step.input_tokens),
        plus(before.output_tokens, step.output_tokens),
        plus(before.reasoning_tokens, step.reasoning_tokens),
        plus(before.cache_read_tokens, step.cache_read_tokens),
        plus(before.cache_write_tokens, step.cache_write_tokens),
    )


def _close(
    turn: Turn, store: Store | None, checkpoints: _Checkpointer, start: float
) -> errors.BaChatError | None:
    """Save the reply's final state, then log the turn as it was saved; returns the error
    if the save failed (the log line says so too)."""
    checkpoints.cancel()
    why = "the turn was stopped" if turn.status == "cancelled" else "the reply failed"
    turn.settle_calls(f"cancelled: the call did not run ({why})")
    turn._join()
    turn.duration_ms = (time.perf_counter() - start) * 1000
    turn.cost = pricing.cost(turn.provider, turn.model, turn.usage, base_url=turn.base_url)
    turn.fit_schema()
    usage = turn.usage or Usage()
    unsaved = None
    if store is not None and turn.message_id is not None:
        try:
            _finish(turn, store, usage)
        except errors.BaChatError as exc:
            unsaved = exc
    log_event(
        "turn",
        request_id=turn.message_id,
        thread_id=turn.thread_id,
        provider=turn.provider,
        model=turn.model,
        status=turn.status,
        attempts=turn.attempts,
        ttft_ms=round(turn.ttft_ms, 1) if turn.ttft_ms is not None else None,
        duration_ms=round(turn.duration_ms, 1),
        **usage.as_dict(),
        finish_reason=turn.finish_reason,
        cost=turn.cost,
        error=turn.error.line() if turn.error else None,
        not_saved=unsaved.line() if unsaved else None,
    )
    return unsaved


def _finish(turn: Turn, store: Store, usage: Usage) -> None:
    """Close the reply's row with the turn's outcome: the row as opened, its end filled in."""
    assert turn.reply is not None
    store.finish_reply(
        replace(
            turn.reply,
            status=turn.status,
            parts=turn.parts(),
            provider=turn.provider,
            model=turn.model,
            cost=turn.cost,
            ttft_ms=turn.ttft_ms,
            duration_ms=turn.duration_ms,
            finish_reason=turn.finish_reason,
            error=turn.error.line() if turn.error else None,
            schema=turn.schema_record(),
            request_key=turn.request_key,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
        )
    )
