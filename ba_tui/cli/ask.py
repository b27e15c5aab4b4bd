"""`ba-chat ask` (one streamed answer) and `ba-chat models` (the catalogue and live lists)."""

from __future__ import annotations

import errno
import sys
from typing import TYPE_CHECKING, Any

import typer

from ba_tui.cli import complete
from ba_tui.cli.app import (
    TextArgumentCommand,
    app,
    note_ignored,
    state,
    stopped,
    terminal_safe,
    utf8,
    warn,
)
from ba_tui.events import (
    Event,
    FallingBack,
    Notice,
    ReasoningDelta,
    Retrying,
    TextDelta,
    ToolCallRan,
)

if TYPE_CHECKING:
    from ba_tui.providers import ProviderSpec


def _read_stdin() -> str:
    """Piped input, or "" for a terminal, /dev/null, or no stdin at all (cron, CI).

    Read as bytes and decoded here: bytes that are not valid UTF-8 become U+FFFD, said once
    on stderr. Python's own text stdin would raise, or in a C locale carry them as lone
    surrogates that fail much later, when the prompt is stored or sent.
    """
    stream = sys.stdin
    if stream is None or stream.closed:
        return ""
    try:
        if stream.isatty():
            return ""
        buffer = getattr(stream, "buffer", None)
        if buffer is None:  # replaced by a text-only stream
            return stream.read()
        raw = buffer.read()
    except (OSError, ValueError):
        return ""
    from ba_tui.sanitize import bytes_replaced, decode

    encoding = stream.encoding or "utf-8"
    text, replaced = decode(raw, encoding)
    if replaced:
        warn(bytes_replaced("stdin", replaced, encoding))
    return text


class _Printer:
    """Streams answer text to stdout and reasoning and notices to stderr.

    With `markdown` (stdout is a terminal and --raw was not given) the answer is rendered
    as it streams; otherwise it passes through as it came.
    """

    def __init__(self, *, show_reasoning: bool, quiet: bool, markdown: bool = False) -> None:
        self.show_reasoning = show_reasoning and not quiet
        self.quiet = quiet
        self.markdown = markdown and not quiet
        self.rendered: Any = None  # the MarkdownStream, from the first text on
        self.thinking: Any = None  # the reasoning's MarkdownStream on stderr, while it lasts
        self.out_tty = sys.stdout.isatty()
        self.err_tty = sys.stderr.isatty()
        self.in_reasoning = False
        self.wrote_text = False
        self.last = ""
        self.pipe_closed = False
        self.clean_out: Any = None
        self.clean_err: Any = None
        if self.out_tty or self.err_tty:
            from ba_tui.sanitize import InertStream

            # A sequence can be split across deltas, so each stream is cleaned statefully.
            self.clean_out = InertStream() if self.out_tty else None
            self.clean_err = InertStream() if self.err_tty else None

    def _out(self, text: str) -> None:
        if self.pipe_closed:
            return
        if self.markdown:
            self._render(text)
            return
        try:
            # On a terminal escape sequences from a model are neutralised; piped, the
            # answer passes through byte for byte.
            sys.stdout.write(self.clean_out.feed(text) if self.clean_out else text)
            sys.stdout.flush()
        except OSError as exc:
            # A closed pipe (`| head`), or a terminal that hung up (EIO; its SIGHUP
            # follows and saves the reply): stop writing, keep streaming into the store.
            if not isinstance(exc, BrokenPipeError) and exc.errno != errno.EIO:
                raise
            self.pipe_closed = True

    def _render(self, text: str) -> None:
        text = self.clean_out.feed(text) if self.clean_out else text
        if self.rendered is None:
            from ba_tui.cli.markdown_stream import MarkdownStream

            self.rendered = MarkdownStream(sys.stdout)
        self.rendered.feed(text)
        self.pipe_closed = self.rendered.closed

    def _stop_rendering(self) -> None:
        """Print the block still being redrawn, for good."""
        if self.rendered is not None:
            if self.clean_out is not None:
                self.rendered.feed(self.clean_out.close())
            self.rendered.close()
            self.rendered = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, Retrying | FallingBack | Notice):
            warn(event.notice)
        if isinstance(event, ToolCallRan):
            # stdout stays the answer; each call is one line beside it.
            self._break_line()
            warn(f"ba-chat: {event.notice}")
        if self.quiet:
            return
        if isinstance(event, ReasoningDelta) and self.show_reasoning and event.text:
            self._stop_rendering()  # reasoning after text: no redrawing over stderr
            text = self.clean_err.feed(event.text) if self.clean_err else event.text
            if self.markdown and self.err_tty:
                # Rendered as the answer is (Gemini's thought summaries are Markdown
                # headings), dim, so it reads as thinking rather than as the answer.
                if self.thinking is None:
                    from ba_tui.cli.markdown_stream import MarkdownStream

                    self.thinking = MarkdownStream(sys.stderr, style="dim")
                self.thinking.feed(text)
            else:
                sys.stderr.write(f"\x1b[2m{text}\x1b[0m" if self.err_tty else text)
                sys.stderr.flush()
            self.in_reasoning = True
        elif isinstance(event, TextDelta) and event.text:
            if self.in_reasoning:
                self._end_reasoning()
                sys.stderr.write("\n")  # one blank line between the thinking and the answer
                sys.stderr.flush()
            self._out(event.text)
            self.wrote_text = True
            self.last = event.text

    def _end_reasoning(self) -> None:
        """The reasoning is over for now: its last line ends (a rendered one is printed
        for good), so what comes next starts a line of its own."""
        if self.thinking is not None:
            if self.clean_err is not None:
                self.thinking.feed(self.clean_err.close())
            self.thinking.close()
            self.thinking = None
        elif self.in_reasoning:
            sys.stderr.write("\n")
        self.in_reasoning = False

    def _break_line(self) -> None:
        """End a line of reasoning on stderr before a note goes under it."""
        if self.in_reasoning:
            self._end_reasoning()

    def end(self) -> None:
        if self.markdown:
            self._stop_rendering()
        elif self.clean_out is not None:
            self._out(self.clean_out.close())
        if self.in_reasoning:
            self._end_reasoning()
        if self.wrote_text and self.out_tty and not self.markdown and not self.last.endswith("\n"):
            self._out("\n")


@app.command(cls=TextArgumentCommand)
def ask(
    prompt: list[str] | None = typer.Argument(
        None, help="The prompt (stdin is added to it).", callback=utf8
    ),
    provider: str | None = typer.Option(
        None,
        "-p",
        "--provider",
        help="Provider to ask.",
        autocompletion=complete.providers,
        metavar="PROVIDER",
    ),
    model: str | None = typer.Option(
        None,
        "-m",
        "--model",
        help="Model id or alias.",
        callback=utf8,
        autocompletion=complete.models,
        metavar="MODEL",
    ),
    system: str | None = typer.Option(
        None, "-s", "--system", help="System prompt.", callback=utf8, metavar="TEXT"
    ),
    max_tokens: int | None = typer.Option(
        None, "--max-tokens", min=1, help="Reply length cap.", metavar="TOKENS"
    ),
    temperature: float | None = typer.Option(
        None, "--temperature", min=0.0, max=2.0, help="Sampling temperature.", metavar="T"
    ),
    top_p: float | None = typer.Option(
        None, "--top-p", min=0.0, max=1.0, help="Nucleus sampling.", metavar="P"
    ),
    stop: list[str] | None = typer.Option(
        None,
        "--stop",
        metavar="TEXT",
        help="End the reply at this text (repeat it).",
        callback=utf8,
    ),
    thinking: int | None = typer.Option(
        None,
        "--thinking",
        min=1024,
        help="Extended-thinking budget in tokens (Anthropic, Gemini).",
        metavar="TOKENS",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object at the end."),
    no_reasoning: bool = typer.Option(False, "--no-reasoning", help="Hide reasoning on stderr."),
    no_save: bool = typer.Option(False, "--no-save", help="Do not save the exchange."),
    cont: bool = typer.Option(False, "-c", "--continue", help="Continue the latest thread."),
    thread: str | None = typer.Option(
        None,
        "--thread",
        help="Continue the thread with this id.",
        callback=utf8,
        autocompletion=complete.threads,
        metavar="ID",
    ),
    retries: int | None = typer.Option(
        None, "--retries", min=0, max=10, help="Default 2.", metavar="N"
    ),
    persona: str | None = typer.Option(
        None,
        "--persona",
        help="Persona for a new thread (see `ba-chat personas`).",
        autocompletion=complete.personas,
        metavar="NAME",
    ),
    compare: list[str] | None = typer.Option(
        None,
        "--compare",
        metavar="P:M",
        help="Ask several models at once (repeat it).",
        callback=utf8,
        autocompletion=complete.targets,
    ),
    fastest: bool = typer.Option(False, "--fastest", help="With --compare: first answer wins."),
    fallback: list[str] | None = typer.Option(
        None,
        "--fallback",
        metavar="P:M",
        help="Try this provider:model if the first fails.",
        callback=utf8,
        autocompletion=complete.targets,
    ),
    schema: str | None = typer.Option(
        None,
        "--schema",
        metavar="SCHEMA",
        help='Answer as JSON: a schema file, inline JSON, "title, priority int" or a name.',
        callback=utf8,
    ),
    schema_multi: str | None = typer.Option(
        None,
        "--schema-multi",
        metavar="SCHEMA",
        help="Like --schema, for a list of such objects.",
        callback=utf8,
    ),
    output: str | None = typer.Option(
        None, "--output", metavar="FORMAT", help="With a schema: json (default), jsonl or csv."
    ),
    consensus: bool = typer.Option(
        False, "--consensus", help="With --compare: one answer, the models' majority."
    ),
    judge: str | None = typer.Option(
        None,
        "--judge",
        metavar="P:M",
        help="With --consensus and no schema: the model that merges (default: the first).",
        callback=utf8,
        autocompletion=complete.targets,
    ),
    cache: bool = typer.Option(
        False, "--cache", help="Answer a request asked before from the store, at no cost."
    ),
    cache_ttl: str | None = typer.Option(
        None,
        "--cache-ttl",
        metavar="AGE",
        help="With --cache: only answers newer than this (7d, 12h).",
    ),
    raw: bool = typer.Option(
        False, "--raw", help="Print the answer as it comes, Markdown unrendered (as when piped)."
    ),
    attach: list[str] | None = typer.Option(
        None,
        "-a",
        "--attach",
        metavar="PATH|URL|-",
        help="Attach a file, a URL or stdin (-); a PDF's pages with FILE#p=3-9 (repeat it).",
        callback=utf8,
    ),
    attach_type: list[str] | None = typer.Option(
        None,
        "--attach-type",
        metavar="MIME",
        help="The type of the attachments (once), or of each -a in order (repeat it).",
    ),
    tool: list[str] | None = typer.Option(
        None,
        "--tool",
        metavar="NAME",
        help="Offer this tool to the model (repeat it; see ba-chat tools).",
        callback=utf8,
    ),
    approve: str | None = typer.Option(
        None,
        "--approve",
        metavar="POLICY",
        help="Which tool calls run unasked: ask (default), read-only or all.",
    ),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks and debug detail."),
) -> None:
    """Ask one question and stream the answer to stdout.

    On a terminal the answer's Markdown is rendered as it streams; piped, or with --raw,
    it is printed exactly as the model sent it.
    """
    from ba_tui import signals
    from ba_tui.config import load_config
    from ba_tui.conversation import TurnOptions
    from ba_tui.errors import UsageError
    from ba_tui.session import ChatSession, NewThread, title_for

    state["verbose"] = state["verbose"] or verbose
    if state["verbose"]:
        from ba_tui.logs import enable_stderr

        enable_stderr()
    text = " ".join(prompt or []).strip()
    # The typed prompt names the thread better than piped text ("Summarise these" over
    # the first line of the notes); the piped text does only when nothing was typed.
    typed = text
    # `-a -` makes stdin an attachment: then it is not part of the prompt.
    piped = "" if "-" in (attach or []) else _read_stdin()
    if piped.strip():
        text = f"{piped.rstrip()}\n\n{text}" if text else piped.rstrip()
    if not text:
        raise UsageError("no prompt given", 'pass one, e.g. ba-chat ask "hello", or pipe text in')
    if no_save and (cont or thread):
        raise UsageError("--no-save cannot continue a thread", "drop --no-save or -c/--thread")

    attached = _attachments(attach or [], attach_type or [])
    config = load_config()
    from ba_tui.cli.structured import choose_schema

    shape = choose_schema(schema, schema_multi, output, config.data.get("schemas"))
    chosen = None
    if persona:
        from ba_tui.personas import get_persona

        chosen = get_persona(persona, config)
        provider, model, system = chosen.choose(provider, model, system)
    cache, ttl = _cache_settings(cache, cache_ttl, config, no_save)
    options = TurnOptions.from_config(
        config,
        cache=cache,
        cache_ttl=ttl,
        retries=retries,
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=top_p,
        stop=tuple(stop or ()),
        thinking_budget=thinking,
    )
    if (consensus or judge) and not compare:
        raise UsageError(
            f"{'--consensus' if consensus else '--judge'} needs several models",
            "add --compare P:M for each, and --consensus",
        )
    if consensus and compare:
        from ba_tui.cli.consensus import ask_consensus

        if fastest:
            raise UsageError("--fastest and --consensus do not mix", "drop one of them")
        if attached:
            raise UsageError("-a does not work with --consensus yet", "use --compare without it")
        code = ask_consensus(
            compare,
            text,
            config,
            options,
            system=system,
            json_out=json_out,
            no_save=no_save,
            title=title_for(typed or text),
            schema=shape,
            output=output,
            judge=judge,
        )
        raise typer.Exit(code)
    if compare and (shape is not None or judge):
        raise UsageError(
            f"{'--judge' if judge else '--schema'} with --compare needs --consensus",
            "add --consensus to get one answer from the models",
        )
    policy = _policy(approve or config.data.get("approve") or "ask")
    if compare:
        from ba_tui.cli.compare import ask_compare

        code = ask_compare(
            compare,
            text,
            config,
            options,
            system=system,
            json_out=json_out,
            no_save=no_save,
            fastest=fastest,
            title=title_for(typed or text),
            attached=attached,
            tools=tool,
            policy=policy,
        )
        raise typer.Exit(code)
    store = None if no_save else _open_store()
    existing = _thread_to_continue(store, cont, thread) if store else None
    new = NewThread(
        system=system,
        persona=chosen.name if chosen else None,
        title=title_for(typed or text),
        origin="ask",
    )
    session = ChatSession(config, store, existing, options=options, new=new)
    target = session.target(provider, model)
    session.check_attachments([target], attached)  # before anything is stored
    _offer_tools(session, target, tool, policy)
    if target.provider == "local" and not (provider or existing or config.default_provider):
        from ba_tui.providers import OFFLINE_NOTICE

        warn(OFFLINE_NOTICE)
    shape = shape or session.schema()  # a thread that asks for a shape keeps asking
    fallbacks, skipped = session.fallbacks(fallback)
    for note in skipped:
        warn(note)
    note_ignored([target], options)

    # With a schema stdout carries only the data, printed once it has been checked.
    printer = _Printer(
        show_reasoning=not no_reasoning,
        quiet=json_out or shape is not None,
        markdown=not raw and sys.stdout.isatty(),
    )
    structured = None
    try:
        # SIGTERM and SIGHUP cancel the turn as Ctrl+C does: the partial reply is saved.
        if shape is not None:
            structured = signals.run(
                _then_close_tools(
                    session,
                    session.send_structured(
                        text,
                        target,
                        shape,
                        system=system,
                        fallbacks=fallbacks,
                        on_event=printer,
                        attached=attached,
                    ),
                )
            )
            turn = structured.turn
        else:
            turn = signals.run(
                _then_close_tools(
                    session,
                    session.send(
                        text,
                        target,
                        system=system,
                        fallbacks=fallbacks,
                        on_event=printer,
                        attached=attached,
                    ),
                )
            )
    except KeyboardInterrupt:
        printer.end()
        warn("ba-chat: interrupted; the partial reply is kept" if store else "ba-chat: interrupted")
        raise typer.Exit(130) from None
    except signals.Stopped as stop:
        stopped(stop, kept="the partial reply is kept" if store else None, finish=printer.end)
    finally:
        over_budget = _over_budget(store, config) if store is not None else None
        if store is not None:
            store.close()
    printer.end()
    if over_budget:
        warn(over_budget)
    if structured is not None and turn.error is None and turn.status == "complete":
        from ba_tui.cli.structured import report

        raise typer.Exit(report(structured, output, json_out))
    if json_out:
        import json

        print(json.dumps(turn.record(), ensure_ascii=False), flush=True)
    if turn.error is not None:
        raise turn.error


async def _then_close_tools(session: Any, work: Any) -> Any:
    """`work`, then the session's MCP connections closed on the same event loop (their
    tasks live there), however it ended."""
    try:
        return await work
    finally:
        await session.close_tools()


def _policy(policy: str) -> str:
    """`--approve` (or config's `approve`), checked."""
    from ba_tui.errors import UsageError
    from ba_tui.tools import POLICIES

    if policy not in POLICIES:
        raise UsageError(
            f"unknown --approve policy {policy!r}", f"use one of: {', '.join(POLICIES)}"
        )
    return policy


def _offer_tools(session: Any, target: Any, names: list[str] | None, policy: str) -> None:
    """The tools `--tool` names (else config's `[tools] enabled`), with the terminal's
    prompt for approvals; a model that cannot call tools is offered none (and told so
    when the user asked for tools by name)."""
    from ba_tui.cli.tools import terminal_approver

    toolbox = session.use_tools(names, policy=policy, approve=terminal_approver())
    if toolbox is not None and not target.capabilities.tools:
        session.tools = None
        if names:
            warn(
                f"ba-chat: {target.provider} · {target.model} cannot call tools;"
                " asking without them"
            )


def _cache_settings(
    given: bool, ttl: str | None, config: Any, no_save: bool
) -> tuple[bool, float | None]:
    """Whether answers come from the store (`--cache`, `--cache-ttl`, or `cache = true`
    and `cache_ttl` in config.toml), and how old they may be, in seconds."""
    from ba_tui.cache import ttl_seconds
    from ba_tui.errors import UsageError

    asked = given or ttl is not None
    if asked and no_save:
        raise UsageError("--cache keeps answers in the store", "drop --no-save")
    if no_save or not (asked or config.data.get("cache") is True):
        return False, None
    ttl = ttl or config.data.get("cache_ttl")
    return True, ttl_seconds(str(ttl)) if ttl is not None else None


def _attachments(sources: list[str], types: list[str]) -> list[Any]:
    """Each `-a` read and made ready to send (see attachments.load), with its
    `--attach-type`; what was done to one on the way (a downscale) is said on stderr."""
    from ba_tui.errors import UsageError

    if not sources:
        if types:
            raise UsageError("--attach-type needs an -a to apply to", "add -a PATH")
        return []
    if len(types) not in (0, 1, len(sources)):
        raise UsageError(
            f"{len(types)} --attach-type for {len(sources)} -a",
            "give one for all of them, or one for each -a in order",
        )
    from ba_tui.attachments import load

    given: list[str | None] = [*types] if len(types) == len(sources) else []
    given = given or [types[0] if types else None] * len(sources)
    prepared = [load(source, mime) for source, mime in zip(sources, given, strict=True)]
    for item in prepared:
        for note in item.notes:
            warn(f"ba-chat: {note}")
    return prepared


def _over_budget(store: Any, config: Any) -> str | None:
    """A warning when this month's spend has passed `monthly_budget_usd`, else None."""
    from ba_tui.pricing import format_cost, month_start, monthly_budget

    if (budget := monthly_budget(config)) is None:
        return None
    spent = store.spend_since(month_start())
    if spent <= budget:
        return None
    return (
        f"ba-chat: this month's spend {format_cost(spent)} is over your budget of "
        f"{format_cost(budget)}"
    )


def _open_store() -> Any:
    from ba_tui.store import Store

    return Store.open()


def _thread_to_continue(store: Any, cont: bool, thread: str | None) -> Any:
    from ba_tui.errors import UsageError

    if thread:
        return store.get_thread(thread)
    if cont:
        latest = store.latest_thread()
        if latest is None:
            raise UsageError("there is no thread to continue yet", "drop -c to start one")
        return latest
    return None


@app.command()
def models(
    provider: str | None = typer.Option(
        None,
        "-p",
        "--provider",
        help="Only this provider.",
        autocompletion=complete.providers,
        metavar="PROVIDER",
    ),
    refresh: bool = typer.Option(False, "--refresh", help="Ask the provider for its live list."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the model catalogue; --refresh asks each provider.

    With --refresh the provider's live model list is added to the catalogue's.
    """
    import asyncio
    import json

    from ba_tui.config import load_config
    from ba_tui.models import catalog, tokens_label
    from ba_tui.pricing import format_rates
    from ba_tui.providers import all_specs, base_url_for, get_spec, live_models, resolve

    config = load_config()
    specs = [get_spec(provider, config)] if provider else all_specs(config)
    rows: list[dict[str, Any]] = []
    for spec in specs:
        configured = [str(m) for m in config.provider(spec.name).get("models") or []]
        found = [
            (entry.id, list(entry.aliases), entry.note, "catalog") for entry in catalog(spec.name)
        ]
        found += [(name, [], "", "config") for name in configured]
        if refresh:
            target = resolve(spec.name, spec.default_model or "-", config)
            known = {model for model, *_ in found}
            live = asyncio.run(live_models(target))
            found += [(name, [], "", "live") for name in live if name not in known]
        base_url = base_url_for(spec, config)
        rows += [
            _model_row(spec, model, aliases, note, source, base_url)
            for model, aliases, note, source in found
        ]
    if json_out:
        print(json.dumps(rows, indent=2))
        return
    width = max((len(row["model"]) for row in rows), default=10)
    for row in rows:
        aliases = f"({', '.join(row['aliases'])})" if row["aliases"] else ""
        extra = " ".join(part for part in (aliases, row["note"]) if part)
        context = tokens_label(row["context_window"])
        price = format_rates(row["price_per_mtok"] and tuple(row["price_per_mtok"].values()))
        line = f"{row['provider']:<9} {row['model']:<{width}} {context:>5} {price:<12} {extra}"
        print(terminal_safe(line.rstrip()))


def _model_row(
    spec: ProviderSpec, model: str, aliases: list[str], note: str, source: str, base_url: str
) -> dict[str, Any]:
    """One model as `ba-chat models` lists it: what it can do, how much it holds, its price."""
    from ba_tui.pricing import rates

    caps = spec.capabilities(model)
    prices = rates(spec.name, model, base_url=base_url)
    return {
        "provider": spec.name,
        "model": model,
        "aliases": aliases,
        "note": note,
        "source": source,
        "context_window": caps.context_window,
        "capabilities": caps.names(),
        "price_per_mtok": prices and {"input": prices[0], "output": prices[1]},
    }
