"""Several models' answers made into one: the majority value of each field, and where the
models disagreed.

Answers are compared as data, not as text: two models that both say `"priority": 1` agree
whatever their whitespace. Objects are compared field by field and lists of records
(`--schema-multi`) record by record when every model gave as many; anything else (a
string, a list of strings) is one value. A tie goes to the model named first, so the
order of `--compare` is the order of trust.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JUDGE_INSTRUCTIONS = (
    "You are given several answers to the user's last message, each from a different "
    "model. Write the one best answer: keep what they agree on, settle what they disagree "
    "on by the evidence in the question, and leave out anything only one of them claims "
    "without support. Then end with a short section headed 'Where they differed' that "
    "names each point of disagreement and which answer said what (write 'none' if they "
    "agreed). Do not mention that you are merging answers anywhere else."
)


@dataclass
class FieldVote:
    """One field's vote: the value that won, how many answers gave it, and what each said."""

    value: Any
    votes: int
    of: int
    answers: dict[str, Any] = field(default_factory=dict)

    @property
    def agreed(self) -> bool:
        return self.votes == self.of

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "votes": self.votes,
            "of": self.of,
            "agreed": self.agreed,
            "answers": self.answers,
        }


@dataclass
class Vote:
    data: Any
    fields: dict[str, FieldVote]

    @property
    def disagreed(self) -> dict[str, FieldVote]:
        return {name: vote for name, vote in self.fields.items() if not vote.agreed}


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def vote(answers: list[tuple[str, Any]]) -> Vote:
    """The majority of `answers` (label, data), field by field."""
    fields: dict[str, FieldVote] = {}
    data = _vote(answers, "", fields)
    return Vote(data, fields)


def _vote(answers: list[tuple[str, Any]], path: str, out: dict[str, FieldVote]) -> Any:
    values = [value for _, value in answers]
    if values and all(isinstance(v, dict) for v in values):
        names: list[str] = []
        for value in values:
            names += [name for name in value if name not in names]
        return {
            name: _vote([(label, v.get(name)) for label, v in answers], _join(path, name), out)
            for name in names
        }
    if _records(values):
        return [
            _vote([(label, v[i]) for label, v in answers], _join(path, str(i)), out)
            for i in range(len(values[0]))
        ]
    groups: dict[str, list[str]] = {}
    for label, value in answers:
        groups.setdefault(_key(value), []).append(label)
    best = max(groups.values(), key=len)  # the first of the largest: dicts keep order
    winner = dict(answers)[best[0]]
    out[path or "value"] = FieldVote(winner, len(best), len(answers), dict(answers))
    return winner


def _records(values: list[Any]) -> bool:
    """Lists of objects, all the same length: compared record by record."""
    if not values or not all(isinstance(v, list) for v in values):
        return False
    lengths = {len(v) for v in values}
    return len(lengths) == 1 and all(isinstance(item, dict) for v in values for item in v)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def judge_system(answers: list[tuple[str, str]], system: str | None = None) -> str:
    """The judge's system prompt: its instructions, then every answer under its label."""
    blocks = [f"<answer from='{label}'>\n{text.strip()}\n</answer>" for label, text in answers]
    lead = f"{system}\n\n" if system else ""
    return lead + JUDGE_INSTRUCTIONS + "\n\n" + "\n\n".join(blocks)


def describe(name: str, field_vote: FieldVote) -> str:
    """One line on a field the models disagreed on."""
    others = ", ".join(
        f"{label} says {_key(value)}"
        for label, value in field_vote.answers.items()
        if _key(value) != _key(field_vote.value)
    )
    return (
        f"models disagree on {name}: {field_vote.votes} of {field_vote.of} say "
        f"{_key(field_vote.value)} ({others})"
    )
