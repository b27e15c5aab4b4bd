"""`ba-chat`: with no arguments on a terminal, open the TUI without loading the CLI.

typer and pydantic cost ~100 ms that the full-screen app does not need before its first
frame; every other invocation goes through the CLI.
"""

import os
import sys


def main() -> None:
    # A shell asking for completions runs plain `ba-chat` too (fish's condition even on
    # the terminal); that goes to the CLI, never the full-screen app.
    completing = "_BA_CHAT_COMPLETE" in os.environ
    if len(sys.argv) == 1 and sys.stdin.isatty() and sys.stdout.isatty() and not completing:
        from ba_tui.private import secure_home
        from ba_tui.tui.app import run

        if line := secure_home():  # before the full screen: it stays readable after it
            print(line, file=sys.stderr)
        raise SystemExit(run())
    import gc

    # A command imports an SDK: tens of thousands of pydantic classes and schemas, all kept
    # to the end. With the default threshold (700) the collector walks them again and again
    # (~45 ms of an `ask`); a short process can afford rarer young collections. (The
    # full-screen app, if a command starts it, puts cli.app.GC_DEFAULTS back.)
    gc.set_threshold(50_000, 20, 100)
    from ba_tui.cli import main as cli_main

    try:
        cli_main()
    finally:
        # A CLI command is one short process: its output is written, its store closed and
        # its log flushed (atexit). Freezing the heap now spares the interpreter's final
        # garbage collections over every SDK class, 0.1-0.25 s at exit, without os._exit.
        gc.freeze()
