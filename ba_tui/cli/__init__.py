"""Command-line entry point: `ba-chat` and `python -m ba_tui`."""

from __future__ import annotations

import os
import sys

# Importing a command module registers its commands; each is cheap to import.
from ba_tui.cli import ask as _ask  # noqa: F401
from ba_tui.cli import completion as _completion
from ba_tui.cli import doctor as _doctor  # noqa: F401
from ba_tui.cli import keys as _keys  # noqa: F401
from ba_tui.cli import personas as _personas  # noqa: F401
from ba_tui.cli import threads as _threads  # noqa: F401
from ba_tui.cli import usage as _usage  # noqa: F401
from ba_tui.cli.app import app, state
from ba_tui.errors import BaChatError

__all__ = ["app", "main"]


def main() -> None:
    """Run the CLI; expected failures become one line on stderr and an exit code."""
    if _completion.COMPLETE_VAR in os.environ:  # a shell asking for completions
        _completion.prepare()
    try:
        app(complete_var=_completion.COMPLETE_VAR)
    except BaChatError as exc:
        if state["verbose"]:
            raise
        print(f"ba-chat: error: {exc.line()}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("ba-chat: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line unless asked for the traceback
        if state["verbose"] or "--verbose" in sys.argv:
            raise
        from ba_tui.keys import redact

        print(
            f"ba-chat: internal error: {redact(f'{type(exc).__name__}: {exc}')} "
            "(run again with --verbose for details)",
            file=sys.stderr,
        )
        sys.exit(1)
