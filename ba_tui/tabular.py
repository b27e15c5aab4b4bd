"""Structured answers as scripts and spreadsheets take them: JSON, JSON Lines, CSV.

CSV flattens: each object is a row, its fields the columns in first-seen order, a list
joined with `; ` and a nested object written as JSON, so a sheet gets one value per cell.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

FORMATS = ("json", "jsonl", "csv")
LIST_JOIN = "; "


def rows(data: Any) -> list[Any]:
    """The answer as a list of records: an array as it is, anything else as one record."""
    return list(data) if isinstance(data, list) else [data]


def _columns(records: list[Any]) -> list[str]:
    """Every record's fields in first-seen order; a record that is not an object is one
    column, `value`."""
    columns: list[str] = []
    for record in records:
        for name in record if isinstance(record, dict) else ["value"]:
            if name not in columns:
                columns.append(name)
    return columns


def cell(value: Any) -> str:
    """One CSV cell: lists joined, objects as JSON, None empty, booleans as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return LIST_JOIN.join(
            item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
            for item in value
        )
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def to_csv(data: Any) -> str:
    """The answer as CSV with a header row (RFC 4180 quoting, `\\r\\n` line ends as the
    csv module writes them, which every spreadsheet reads)."""
    records = rows(data)
    columns = _columns(records)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for record in records:
        values = record if isinstance(record, dict) else {"value": record}
        writer.writerow([cell(values.get(name)) for name in columns])
    return out.getvalue()


def to_markdown(data: Any) -> str:
    """The answer as a Markdown table for reading: a list of records one row each, a
    single record as field/value rows. Cells are flattened as in CSV, with `|` escaped
    and line breaks as spaces, so a cell never breaks the table."""

    def md(value: Any) -> str:
        return " ".join(cell(value).replace("|", "\\|").split()) or " "

    if isinstance(data, dict):
        lines = ["| field | value |", "|---|---|"]
        lines += [f"| {md(name)} | {md(value)} |" for name, value in data.items()]
        return "\n".join(lines) + "\n"
    records = rows(data)
    columns = _columns(records)
    lines = ["| " + " | ".join(md(name) for name in columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    for record in records:
        values = record if isinstance(record, dict) else {"value": record}
        lines.append("| " + " | ".join(md(values.get(name)) for name in columns) + " |")
    return "\n".join(lines) + "\n"


def render(data: Any, form: str) -> str:
    """The answer in `form` (one of FORMATS), ending with a newline."""
    if form == "csv":
        return to_csv(data)
    if form == "jsonl":
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows(data))
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
