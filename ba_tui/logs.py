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

from ba_tui.redact import redact

MAX_BYTES = 1_000_000

_logger: logging.Logger | None = None
_logger_path: Path | None = None
_to_stderr = False


def enable_stderr() -> None:
    """`--verbose`: also write each log line to stderr."""
    global _to_stderr
    _to_stderr = True


class _QuietHandler(RotatingFileHandler):
    """A log file that fails silently: logging prints its own traceback to stderr when a
    write fails (a full disk), which would break the one-line error the user gets.

    It creates the log, and each new one after a rollover, 0600 whatever the umask (the
    backups are the same files renamed, so they stay 0600)."""

    def handleError(self, record: logging.LogRecord) -> None:
        return

    def _open(self) -> Any:
        from ba_tui.private import opener

        return open(
            self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors, opener=opener
        )


def _get() -> logging.Logger | None:
    """The file logger for the current data home (tests move BA_CHAT_HOME in-process)."""
    global _logger, _logger_path
    from ba_tui.paths import LOG_BACKUPS, log_path

    path = log_path()
    if _logger is not None and path == _logger_path:
        return _logger
    logger = logging.getLogger("ba_chat")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    try:
        from ba_tui.private import make_dir

        make_dir(path.parent)
        handler = _QuietHandler(path, maxBytes=MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
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
