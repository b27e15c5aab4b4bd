"""Structured JSON-lines logs of every provider request, in a rotating file in the data home.

One line per turn attempt outcome, so a user can answer "what happened at 10:32?" with
`jq`. Every line passes through `redact`, so a key that reached an error text never
reaches the file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

from ba_tui.keys import redact

LOG_NAME = "ba-chat.log"
MAX_BYTES = 1_000_000
BACKUPS = 3

_logger: logging.Logger | None = None
_logger_path: Path | None = None
_to_stderr = False


def enable_stderr() -> None:
    """`--verbose`: also write each log line to stderr."""
    global _to_stderr
    _to_stderr = True


class _QuietHandler(RotatingFileHandler):
    """A log file that fails silently: logging prints its own traceback to stderr when a
    write fails (a full disk), which would break the one-line error the user gets."""

    def handleError(self, record: logging.LogRecord) -> None:
        return


def _get() -> logging.Logger | None:
    """The file logger for the current data home (tests move BA_CHAT_HOME in-process)."""
    global _logger, _logger_path
    from ba_tui.config import data_dir

    path = data_dir() / LOG_NAME
    if _logger is not None and path == _logger_path:
        return _logger
    logger = logging.getLogger("ba_chat")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = _QuietHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError:
        return None  # a read-only home must not stop a chat
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    _logger, _logger_path = logger, path
    return logger


def log_event(event: str, **fields: Any) -> None:
    """Append one JSON line; never raises."""
    record = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": event}
    record.update({key: value for key, value in fields.items() if value is not None})
    line = redact(json.dumps(record, ensure_ascii=False, default=str))
    if _to_stderr:
        print(line, file=sys.stderr)
    logger = _get()
    if logger is not None:
        # Logging must never break a chat (a full disk, a file rotated away).
        with contextlib.suppress(Exception):
            logger.info(line)
