"""The root typer app and the small helpers every command module shares.

Command modules import nothing heavy at module level: `ba-chat --help` must stay instant,
so stores, SDKs and Textual are imported inside command bodies.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from typer.core import TyperCommand

from ba_tui import __version__
from ba_tui.errors import UsageError

if TYPE_CHECKING:
    from ba_tui.conversation import TurnOptions
    from ba_tui.providers import Target
    from ba_tui.signals import Stopped

HELP = """Chat with Claude, GPT, Gemini, DeepSeek and local models from the terminal.

Run `ba-chat` with no command to open the full-screen chat app. The commands below
work in scripts and pipes: `ba-chat ask "..."` streams one answer to stdout.
"""

app = typer.Typer(
    name="ba-chat",
    help=HELP,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
    no_args_is_help=False,
)

state = {"verbose": False}
GC_DEFAULTS = (700, 10, 10)  # CPython's own thresholds


def terminal_safe(text: str) -> str:
    """Remove escape sequences and control characters (newlines and tabs stay)."""
    from ba_tui.sanitize import inert

    return inert(text)


def warn(message: str) -> None:
    """A one-line note on stderr (dim on a terminal)."""
    from ba_tui.keys import redact

    line = redact(message)
    if sys.stderr.isatty():
        line = f"\x1b[2m{terminal_safe(line)}\x1b[0m"
    print(line, file=sys.stderr, flush=True)


def utf8(param: typer.CallbackParam, value: Any) -> Any:
    """A callback for text parameters: bytes that were not valid UTF-8 become U+FFFD, said
    once on stderr. Python carries them as lone surrogates, which nothing downstream (the
    store, the log, an SDK) can encode. Path parameters keep them: the OS needs the bytes."""
    from ba_tui.sanitize import bytes_replaced, replace_surrogates

    if value is None:
        return value
    if isinstance(value, list | tuple):
        texts = [replace_surrogates(item) for item in value]
        replaced = sum(count for _, count in texts)
        value = [text for text, _ in texts]
    else:
        value, replaced = replace_surrogates(value)
    if replaced:
        if param.param_type_name == "option":
            name = max(param.opts, key=len)  # --system
        else:
            # "the prompt", "the title"; thread_ids -> "the thread id" (one line for all)
            name = f"the {(param.name or 'argument').replace('_', ' ')}".removesuffix("s")
        warn(bytes_replaced(name, replaced))
    return value


class TextArgumentCommand(TyperCommand):
    """A command whose text argument may start with '-' (`search -fox`, `ask "-1 * -1"`):
    the parser takes such text for an unknown option, so the error says how to pass it."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        import shlex

        from typer._click.exceptions import NoSuchOption

        given = list(args)  # the parser consumes `args`
        try:
            return super().parse_args(ctx, args)
        except NoSuchOption as exc:
            if ctx.resilient_parsing:
                raise
            # The parser names "-f" for "-fox" (a cluster of short options): show the word.
            before = given[: given.index("--")] if "--" in given else given
            word = next((a for a in before if a.startswith(exc.option_name)), exc.option_name)
            word = terminal_safe(word)
            close = sorted(exc.possibilities or [])
            guess = f" (did you mean {', '.join(close)}?)" if close else ""
            raise UsageError(
                f"no such option: {word}{guess}",
                f"if {word} is text, not an option, put -- before it: "
                f"ba-chat {ctx.info_name} -- {shlex.quote(word)}",
            ) from None


def secure_home() -> None:
    """Make ba-chat's folders and files private if something left them open to others
    (an older ba-chat, a hand-made config.toml), saying so in one line."""
    from ba_tui.private import secure_home as make_private

    if line := make_private():
        warn(line)


def _show_version(value: bool) -> None:
    if value:
        print(f"ba-chat {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks and debug detail."),
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Chat with Claude, GPT, Gemini, DeepSeek and local models from the terminal."""
    state["verbose"] = state["verbose"] or verbose
    if ctx.invoked_subcommand != "doctor":  # doctor reports open files instead
        secure_home()
    if ctx.invoked_subcommand is None:
        import sys

        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise UsageError(
                "the full-screen app needs a terminal", 'use `ba-chat ask "..."` in scripts'
            )
        import gc

        from ba_tui.tui.app import run

        # entry.py tuned the collector for a short command; the full-screen app runs long.
        gc.set_threshold(*GC_DEFAULTS)
        raise typer.Exit(run())


def note_ignored(targets: list[Target], options: TurnOptions) -> None:
    """One line for each target that will not use an option it was given, so a setting
    is never dropped silently; the turn goes on without it."""
    for target in targets:
        if options.thinking_budget and not target.capabilities.thinking_budget:
            warn(f"ba-chat: --thinking is ignored: {target.provider} takes no thinking budget")


def stopped(
    stop: Stopped, *, kept: str | None, finish: Callable[[], None] | None = None
) -> NoReturn:
    """End the command after SIGTERM or SIGHUP cancelled its turn: one line (saying what
    was `kept`), exit 128 + the signal's number.

    After SIGHUP the terminal may be gone (writes fail with EIO): the exit code and what
    was saved matter more than the line.
    """
    if finish is not None:
        with suppress(OSError):
            finish()
    with suppress(OSError):  # stderr may be a file or a pipe that still works
        warn(f"ba-chat: stopped by {stop.name}" + (f"; {kept}" if kept else ""))
    raise typer.Exit(stop.exit_code)
