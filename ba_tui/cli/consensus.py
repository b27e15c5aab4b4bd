"""`ask --compare A --compare B --compare C --consensus`: one answer from several models.

With a schema, stdout gets the majority value of each field (as `--schema` alone would
print it) and stderr one line per field the models disagreed on; without one, a judge
model merges the answers and stdout gets its text. Every model's answer stays in the
thread as a variant, and the cost reported is the sum.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from ba_tui.cli.app import warn
from ba_tui.pricing import format_cost

if TYPE_CHECKING:
    from ba_tui.config import Config
    from ba_tui.conversation import Turn, TurnOptions
    from ba_tui.schemas import OutputSchema
    from ba_tui.session import Agreed


def ask_consensus(
    specs: list[str],
    text: str,
    config: Config,
    options: TurnOptions,
    *,
    system: str | None,
    json_out: bool,
    no_save: bool,
    title: str,
    schema: OutputSchema | None,
    output: str | None,
    judge: str | None,
) -> int:
    """Ask every model, agree, print; returns the exit code."""
    from ba_tui import signals
    from ba_tui.cli.app import note_ignored, stopped
    from ba_tui.cli.compare import split_target
    from ba_tui.errors import UsageError
    from ba_tui.session import ChatSession, NewThread

    if len(specs) < 2:
        raise UsageError("--consensus needs at least two models", "repeat --compare P:M")
    if judge and schema is not None:
        raise UsageError("--judge is for answers without a schema", "drop --judge or --schema")
    session = ChatSession(
        config, None, options=options, new=NewThread(system, title=title, origin="ask")
    )
    targets = [session.target(*split_target(spec)) for spec in specs]
    judged = session.target(*split_target(judge)) if judge else None
    note_ignored([*targets, *([judged] if judged else [])], options)
    store = None
    if not no_save:  # every key checked first: a missing one stores nothing
        from ba_tui.store import Store

        store = session.store = Store.open()
    try:
        agreed = signals.run(
            session.consensus(text, targets, schema=schema, judge=judged, system=system)
        )
    except signals.Stopped as stop:
        stopped(stop, kept="the partial replies are kept" if store else None)
    finally:
        if store is not None:
            store.close()
    for turn in agreed.all_turns:
        if turn.error is not None:
            warn(f"ba-chat: {turn.provider}:{turn.model}: {turn.error.line()}")
    for name, problem in agreed.problems.items():
        warn(f"ba-chat: {name}'s answer left out: it does not match the schema ({problem})")
    if schema is not None:
        return _by_vote(agreed, schema, output, json_out)
    return _by_judge(agreed, json_out)


def _by_vote(agreed: Agreed, schema: OutputSchema, output: str | None, json_out: bool) -> int:
    from ba_tui.cli.structured import SCHEMA_EXIT
    from ba_tui.consensus import describe
    from ba_tui.tabular import render

    vote = agreed.vote
    if vote is None:
        return _nothing(agreed, SCHEMA_EXIT)
    for name, field_vote in vote.disagreed.items():
        warn(f"ba-chat: {describe(name, field_vote)}")
    data = schema.unwrap(vote.data)
    voters = next(iter(vote.fields.values())).of if vote.fields else 0
    _summary(agreed, f"the majority of {voters} answers")
    if json_out:
        record = _record(agreed)
        record |= {
            "data": data,
            "agreement": {name: v.to_dict() for name, v in vote.fields.items()},
        }
        print(json.dumps(record, ensure_ascii=False), flush=True)
    else:
        sys.stdout.write(render(data, output or "json"))
        sys.stdout.flush()
    return 0


def _by_judge(agreed: Agreed, json_out: bool) -> int:
    judge = agreed.judge
    if judge is None or judge.status != "complete":
        return _nothing(agreed, judge.error.exit_code if judge and judge.error else 4)
    _summary(agreed, f"merged by {judge.provider}:{judge.model}")
    if json_out:
        record = _record(agreed) | {"text": judge.text, "judge": judge.record()}
        print(json.dumps(record, ensure_ascii=False), flush=True)
    else:
        text = judge.text.rstrip("\n")
        print(text, flush=True)
    return 0


def _nothing(agreed: Agreed, code: int) -> int:
    """No consensus could be had: say why in one line (the errors are above it)."""
    complete = sum(turn.status == "complete" for turn in agreed.turns)
    warn(f"ba-chat: no consensus: {complete} of {len(agreed.turns)} models answered usably")
    errors = [turn.error.exit_code for turn in agreed.all_turns if turn.error is not None]
    return errors[0] if errors and not complete else code


def _summary(agreed: Agreed, how: str) -> None:
    costs = [turn.cost for turn in agreed.all_turns]
    total = None if any(cost is None for cost in costs) else sum(c or 0 for c in costs)
    warn(f"ba-chat: consensus: {how}; total cost {format_cost(total)}")


def _record(agreed: Agreed) -> dict[str, Any]:
    costs = [turn.cost for turn in agreed.all_turns]
    first: Turn = agreed.turns[0]
    return {
        "thread_id": first.thread_id,
        "answers": [turn.record() for turn in agreed.turns],
        "cost": None if any(cost is None for cost in costs) else sum(c or 0 for c in costs),
    }
