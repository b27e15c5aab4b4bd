"""Command-line entry point: `ba-chat` and `python -m ba_tui`."""

from __future__ import annotations

import os
import sys

from typer._click.exceptions import NoArgsIsHelpError
from typer._click.exceptions import UsageError as ClickUsageError
from typer.exceptions import Abort

# Importing a command module registers its commands; each is cheap to import.
from ba_tui.cli import ask as _ask  # noqa: F401
from ba_tui.cli import completion as _completion
from ba_tui.cli import doctor as _doctor  # noqa: F401
from ba_tui.cli import keys as _keys  # noqa: F401
from ba_tui.cli import mcp as _mcp  # noqa: F401
from ba_tui.cli import personas as _personas  # noqa: F401
from ba_tui.cli import threads as _threads  # noqa: F401
from ba_tui.cli import tools as _tools  # noqa: F401
from ba_tui.cli import usage as _usage  # noqa: F401
from ba_tui.cli.app import app, state
from ba_tui.errors import BaChatError

__all__ = ["app", "main"]


def main() -> None:
    """Run the CLI; expected failures become one line on stderr and an exit code.

    With --verbose the traceback comes first, printed here through `redact` (Python's own
    printing would show an SDK error's raw text, which may echo the key), and the exit
    code stays the error's own.
    """
    if _completion.COMPLETE_VAR in os.environ:  # a shell asking for completions
        _completion.prepare()
    try:
        # Not standalone: click would print its own three-line usage errors and exit.
        code = app(complete_var=_completion.COMPLETE_VAR, standalone_mode=False)
    except ClickUsageError as exc:
        if isinstance(exc, NoArgsIsHelpError):  # `ba-chat keys`: the group's help is the answer
            exc.show()
            sys.exit(exc.exit_code)
        from typer.main import get_command

        from ba_tui.cli.parse_errors import one_line

        error = one_line(exc, sys.argv[1:], get_command(app))
        print(f"ba-chat: error: {error.line()}", file=sys.stderr)
        sys.exit(error.exit_code)
    except Abort:  # click's prompts on end of input
        print("ba-chat: aborted", file=sys.stderr)
        sys.exit(1)
    except BaChatError as exc:
        if _verbose():
            _print_traceback(exc)
        print(f"ba-chat: error: {exc.line()}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("ba-chat: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line unless asked for the traceback
        from ba_tui.redact import redact

        verbose = _verbose()
        if verbose:
            _print_traceback(exc)
        more = "" if verbose else " (run again with --verbose for details)"
        said = " ".join(f"{type(exc).__name__}: {exc}".split())  # one line, whatever it says
        print(f"ba-chat: internal error: {redact(said)}{more}", file=sys.stderr)
        sys.exit(1)
    # typer.Exit(n) comes back as n; a command that returns gives None (success).
    if isinstance(code, int) and code:
        sys.exit(code)


def _verbose() -> bool:
    # The flag may not have been parsed yet when the failure happened.
    return bool(state["verbose"]) or "--verbose" in sys.argv


def _print_traceback(exc: BaseException) -> None:
    """The traceback of `exc` (and of the exceptions it chains) with every key masked."""
    import traceback

    from ba_tui.redact import redact

    sys.stderr.write(redact("".join(traceback.format_exception(exc))))
    sys.stderr.flush()
