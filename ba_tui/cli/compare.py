"""`ba-chat ask --compare P:M --compare P:M ...`: side by side on a terminal, blocks when piped."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ba_tui.cli.app import terminal_safe, warn
from ba_tui.pricing import format_cost

if TYPE_CHECKING:
    from ba_tui.attachments import Prepared
    from ba_tui.config import Config
    from ba_tui.conversation import Turn, TurnOptions


def footer(turn: Turn) -> str:
    """provider · model · ttft · duration · tokens · cost, as under every reply."""
    parts = [turn.provider, turn.model]
    if turn.ttft_ms is not None:
        parts.append(f"ttft {turn.ttft_ms:.0f} ms")
    if turn.duration_ms is not None:
        parts.append(f"{turn.duration_ms / 1000:.1f} s")
    if turn.usage is not None:
        parts.append(f"{turn.usage.input_tokens or 0}→{turn.usage.output_tokens or 0} tok")
    parts.append(format_cost(turn.cost))
    if turn.status != "complete":
        parts.append(turn.status)
    return " · ".join(parts)


class _Columns:
    """A live side-by-side view: the tail of each answer while streaming, all of it at the end."""

    def __init__(self, labels: list[str]) -> None:
        from rich.console import Console

        self.console = Console(highlight=False)
        self.labels = labels
        self.texts = [""] * len(labels)
        self.notes = [""] * len(labels)

    def table(self, tail: int | None) -> Any:
        from rich.table import Table
        from rich.text import Text

        table = Table(expand=True, show_lines=False)
        for label in self.labels:
            table.add_column(Text(label), ratio=1, overflow="fold")
        cells = []
        for text, note in zip(self.texts, self.notes, strict=True):
            body = terminal_safe(text)
            if tail is not None:
                body = "\n".join(body.splitlines()[-tail:])
            cell = Text(body)
            if note:
                cell.append(f"\n\n{terminal_safe(note)}", style="dim")
            cells.append(cell)
        table.add_row(*cells)
        return table


def split_target(spec: str) -> tuple[str, str | None]:
    """`provider:model` (or a provider alone, for its default model) as `--compare`,
    `--judge` and the like take it."""
    provider, _, model = spec.partition(":")
    return provider, model or None


def ask_compare(
    specs: list[str],
    text: str,
    config: Config,
    options: TurnOptions,
    *,
    system: str | None,
    json_out: bool,
    no_save: bool,
    fastest: bool,
    title: str,
    attached: Sequence[Prepared] = (),
    tools: list[str] | None = None,
    policy: str = "ask",
) -> int:
    """Run the comparison and print it; returns the exit code. The tools `tools` names
    (else config's `[tools] enabled` and MCP servers) are offered, the read-only ones
    only unless `[tools] compare = "all"`; each call is one line on stderr."""
    from ba_tui.cli.app import note_ignored
    from ba_tui.cli.tools import terminal_approver
    from ba_tui.errors import UsageError
    from ba_tui.events import Notice, TextDelta, ToolCallRan
    from ba_tui.session import ChatSession, NewThread

    if len(specs) < 2:
        raise UsageError("--compare needs at least two models", "repeat it: --compare P:M")
    session = ChatSession(
        config, None, options=options, new=NewThread(system, title=title, origin="ask")
    )
    targets = [session.target(*split_target(spec)) for spec in specs]
    note_ignored(targets, options)
    session.check_attachments(targets, attached)  # every model takes them, or none is asked
    session.use_tools(tools, policy=policy, approve=terminal_approver())
    store = None
    if not no_save:  # every key checked first: a missing one stores nothing
        from ba_tui.store import Store

        store = session.store = Store.open()
    live_view = sys.stdout.isatty() and not json_out
    view = _Columns([f"{t.provider} · {t.model}" for t in targets]) if live_view else None

    def on_event(index: int, event: Any) -> None:
        if isinstance(event, Notice):
            warn(event.notice)
        elif isinstance(event, ToolCallRan):
            warn(f"ba-chat: {targets[index].model}: {event.notice}")
        if view is not None and isinstance(event, TextDelta):
            view.texts[index] += event.text

    async def run() -> list[Turn]:
        try:
            return await compare()
        finally:
            await session.close_tools()  # (on this loop: the MCP connections' tasks are)

    async def compare() -> list[Turn]:
        coro = session.compare(text, targets, on_event=on_event, fastest=fastest, attached=attached)
        if view is None:
            return await coro
        from rich.live import Live

        tail = max(3, view.console.size.height - 8)
        with Live(view.table(tail), console=view.console, transient=True) as live:
            task = asyncio.ensure_future(coro)
            while not task.done():
                await asyncio.sleep(0.08)
                live.update(view.table(tail))
            return await task

    from ba_tui import signals
    from ba_tui.cli.app import stopped

    try:
        # SIGTERM and SIGHUP cancel every answer as Ctrl+C does: each partial is saved.
        turns = signals.run(run())
    except signals.Stopped as stop:
        stopped(stop, kept="the partial replies are kept" if store else None)
    finally:
        if store is not None:
            store.close()
    if fastest:
        return _print_fastest(turns, view, json_out)
    if json_out:
        print(json.dumps([turn.record() for turn in turns], ensure_ascii=False))
    elif view is not None:
        for index, turn in enumerate(turns):
            view.texts[index] = turn.text
            view.notes[index] = footer(turn) + (f"\n{turn.error.line()}" if turn.error else "")
        view.console.print(view.table(None))
    else:
        for turn in turns:
            print(f"=== {turn.provider} · {turn.model} ===")
            print(turn.text.rstrip("\n"))
            if turn.error:
                print(f"[error: {turn.error.line()}]")
            print(f"[{footer(turn)}]\n", flush=True)
    failed = [(turn, turn.error) for turn in turns if turn.error is not None]
    for turn, error in failed:
        warn(f"ba-chat: {turn.provider} · {turn.model}: {error.line()}")
    if any(turn.status == "complete" for turn in turns):
        return 0
    return failed[0][1].exit_code if failed else 1


def winner(turns: list[Turn]) -> Turn | None:
    """The first complete answer: every model started at once, so the shortest duration
    finished first (two may complete in the same instant before the others are stopped)."""
    complete = [turn for turn in turns if turn.status == "complete"]
    return min(complete, key=lambda turn: turn.duration_ms or 0.0) if complete else None


def _print_fastest(turns: list[Turn], view: _Columns | None, json_out: bool) -> int:
    """`--fastest`: stdout holds the winner alone (its text, or with --json its object),
    as a plain `ask` would print it; who won and who was stopped is one line on stderr."""
    best = winner(turns)
    shown = best or next((turn for turn in turns if turn.error is not None), turns[0])
    if json_out:
        print(json.dumps(shown.record(), ensure_ascii=False), flush=True)
    elif best is not None and view is not None:
        index = turns.index(best)
        view.labels, view.texts = [view.labels[index]], [best.text]
        view.notes = [footer(best)]
        view.console.print(view.table(None))
    elif best is not None:
        text = best.text.rstrip("\n")
        if text:
            print(text, flush=True)
    for turn in turns:
        if turn.error is not None:
            warn(f"ba-chat: {turn.provider} · {turn.model}: {turn.error.line()}")
    if best is None:
        codes = [turn.error.exit_code for turn in turns if turn.error is not None]
        return codes[0] if codes else 1
    stopped = [f"{t.provider}:{t.model}" for t in turns if t.status == "cancelled"]
    line = f"ba-chat: {best.provider}:{best.model} answered first"
    if stopped:
        line += f"; {', '.join(stopped)} stopped"
    warn(line)
    return 0
