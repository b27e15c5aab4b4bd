"""The command line's own mistakes (an unknown option or command, a missing or invalid
value) as one line with the fix, instead of click's three lines of usage and `Try ...`.

Imported only when parsing failed, so `--help` and every good command line pay nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from typer._click import Command
from typer._click import exceptions as click_errors
from typer.core import TyperGroup as Group

from ba_tui.cli.app import terminal_safe
from ba_tui.errors import UsageError
from ba_tui.spelling import closest


def one_line(exc: click_errors.UsageError, args: Sequence[str], root: Command) -> UsageError:
    """Our UsageError for click's `exc`, raised while parsing `args` (argv without the
    program) for the command tree `root`: what was wrong, then `see ba-chat CMD --help`."""
    command, path = _where(exc, args, root)
    full = " ".join(["ba-chat", *path])
    where = f" for '{' '.join(path)}'" if path else ""
    fix = f"see {full} --help"
    if isinstance(exc, click_errors.NoSuchOption):
        option = terminal_safe(exc.option_name)
        offered = exc.possibilities or []
        close = _elsewhere(command, exc.option_name, full) or closest(exc.option_name, offered)
        guess = f" (did you mean {' or '.join(close)}?)" if close else ""
        return UsageError(f"no such option: {option}{where}{guess}", fix)
    if isinstance(exc, click_errors.MissingParameter) and exc.param is not None:
        kind = exc.param_type or exc.param.param_type_name
        name = terminal_safe(exc.param.get_error_hint())
        usage = " ".join([full, *exc.ctx.command.collect_usage_pieces(exc.ctx)]) if exc.ctx else ""
        return UsageError(f"missing {kind} {name}{where}", f"usage: {usage}" if usage else fix)
    if isinstance(exc, click_errors.BadParameter):
        hint = exc.param_hint or (exc.param.get_error_hint() if exc.param else None)
        if hint is None:
            return UsageError(f"invalid value{where}: {_sentence(exc.message)}", fix)
        hints = [hint] if isinstance(hint, str) else list(hint)
        name = " / ".join(h.strip("'") for h in hints)
        given = _given(exc.param, args)
        got = f" {given!r}" if given is not None else ""
        return UsageError(f"invalid value{got} for {name}: {_sentence(exc.message)}", fix)
    if isinstance(exc, click_errors.BadOptionUsage) and "requires an argument" in exc.message:
        return UsageError(f"{terminal_safe(exc.option_name)}{where} needs a value", fix)
    if (unknown := _no_such_command(exc.message)) is not None and isinstance(command, Group):
        close = _commands_like(command, unknown, full)
        guess = f" (did you mean {' or '.join(close)}?)" if close else ""
        return UsageError(f"no such command: {terminal_safe(unknown)}{where}{guess}", fix)
    return UsageError(f"{_sentence(exc.message)}{where}", fix)


def _where(
    exc: click_errors.UsageError, args: Sequence[str], root: Command
) -> tuple[Command, list[str]]:
    """The command that failed and its path below `ba-chat` (`["config", "set"]`).

    click gives the context for most errors, but not for an option missing its value
    (`ask -m`); then the path is read from the words of `args` that name commands."""
    if exc.ctx is not None:
        names: list[str] = []
        ctx = exc.ctx
        while ctx.parent is not None:  # the root's name is argv[0]: `python -m ba_tui`
            names.insert(0, ctx.info_name or "")
            ctx = ctx.parent
        return exc.ctx.command, names
    command, path = root, list[str]()
    for arg in args:
        if arg == "--":
            break
        if arg.startswith("-"):
            continue
        sub = command.commands.get(arg) if isinstance(command, Group) else None
        if sub is None:
            break
        command, path = sub, [*path, arg]
    return command, path


def _elsewhere(command: Command, option: str, full: str) -> list[str]:
    """`ba-chat threads list --limit` when `--limit` was given to the group `threads`
    but belongs to one of its commands."""
    if not isinstance(command, Group):
        return []
    return [
        f"{full} {name} {option}"
        for name, sub in sorted(command.commands.items())
        if not sub.hidden and any(option in param.opts for param in sub.params)
    ]


def _commands_like(group: Group, word: str, full: str) -> list[str]:
    """Commands of `group` spelled like `word`, or its sub-groups' commands named `word`
    (`ba-chat show` -> `ba-chat threads show`)."""
    visible = {name: sub for name, sub in group.commands.items() if not sub.hidden}
    close = [f"{full} {name}" for name in closest(word, visible)]
    nested = [
        f"{full} {name} {word}"
        for name, sub in sorted(visible.items())
        if isinstance(sub, Group) and word in sub.commands
    ]
    return nested + close


def _no_such_command(message: str) -> str | None:
    match = re.match(r"No such command (['\"])(.*?)\1", message)
    return match[2] if match else None


def _given(param: Any, args: Sequence[str]) -> str | None:
    """The value the user gave for the option `param` (`100` for `--thinking 100`)."""
    opts = getattr(param, "opts", None) or []
    for index, arg in enumerate(args):
        for opt in opts:
            if arg == opt and index + 1 < len(args):
                return terminal_safe(args[index + 1])
            if opt.startswith("--") and arg.startswith(opt + "="):
                return terminal_safe(arg[len(opt) + 1 :])
    return None


def _sentence(message: str) -> str:
    """click's message as part of our line: one line, lower-case start, no full stop."""
    text = terminal_safe(" ".join(message.split())).rstrip(".")
    return text[:1].lower() + text[1:]
