"""`ask --schema`: the answer as data on stdout, and nothing else there.

stdout carries only the JSON (or JSON Lines, or CSV), so `ba-chat ask --schema ... | jq`
works; everything said about the run goes to stderr. An answer that does not fit after
its one retry exits with SCHEMA_EXIT, and its raw text stays in the thread.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from ba_tui.cli.app import warn

if TYPE_CHECKING:
    from ba_tui.schemas import OutputSchema
    from ba_tui.session import Structured

SCHEMA_EXIT = 6


def choose_schema(
    schema: str | None, schema_multi: str | None, output: str | None, saved: Any
) -> OutputSchema | None:
    """The schema `--schema`/`--schema-multi` name, checked before anything is sent."""
    from ba_tui.errors import UsageError
    from ba_tui.schemas import parse
    from ba_tui.tabular import FORMATS

    if schema and schema_multi:
        raise UsageError("give --schema or --schema-multi, not both", "drop one of them")
    if output is not None and output not in FORMATS:
        raise UsageError(f"unknown --output {output!r}", f"choose one of: {', '.join(FORMATS)}")
    given = schema or schema_multi
    if given is None:
        if output is not None:
            raise UsageError(
                "--output needs a schema", 'add --schema, e.g. --schema "title, priority int"'
            )
        return None
    return parse(given, multi=schema_multi is not None, saved=saved)


def report(result: Structured, output: str | None, json_out: bool) -> int:
    """Print the data (or the --json record) and return the exit code; for a turn that
    completed (the caller reports any other turn's error as `ask` always does)."""
    from ba_tui.tabular import render

    turn = result.turn
    if json_out:
        print(json.dumps(record(result), ensure_ascii=False), flush=True)
    if result.problem is not None:
        tries = f"{len(result.turns)} tries" if len(result.turns) > 1 else "1 try"
        kept = (
            f"its raw text is kept in thread {turn.thread_id}"
            if turn.thread_id
            else "not saved (--no-save); its raw text follows"
        )
        problem = result.problem
        warn(f"ba-chat: the answer does not match the schema after {tries} ({problem}); {kept}")
        if not turn.thread_id and not json_out:
            sys.stderr.write(turn.text.rstrip("\n") + "\n")
        return SCHEMA_EXIT
    if not json_out:
        sys.stdout.write(render(result.data, output or "json"))
        sys.stdout.flush()
    return 0


def record(result: Structured) -> dict[str, Any]:
    """`--json` with a schema: the run's record, with the data, validity and tries."""
    out = result.turn.record()
    tokens_in = sum((t.usage.input_tokens or 0) for t in result.turns if t.usage)
    tokens_out = sum((t.usage.output_tokens or 0) for t in result.turns if t.usage)
    costs = [t.cost for t in result.turns]
    out |= {
        "data": result.data if result.problem is None else None,
        "valid": result.problem is None,
        "problem": result.problem,
        "tries": len(result.turns),
        "cost": None if any(c is None for c in costs) else sum(c or 0 for c in costs),
        "tokens": {"input": tokens_in, "output": tokens_out},
    }
    return out
