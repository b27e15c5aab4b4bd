"""Where ba-chat keeps its files.

`BA_CHAT_HOME`, when set, holds both config.toml and the database, which keeps tests and
portable installs in one folder; otherwise the platform's config and data homes are used.
A leaf module: it imports nothing of ours.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "ba-chat"


def _home() -> Path | None:
    value = os.environ.get("BA_CHAT_HOME")
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    if (home := _home()) is not None:
        return home
    from platformdirs import user_config_path

    return user_config_path(APP_NAME)


def data_dir() -> Path:
    if (home := _home()) is not None:
        return home
    from platformdirs import user_data_path

    return user_data_path(APP_NAME)


def cache_dir() -> Path:
    """Files ba-chat can make again: an attachment written out for a viewer to open."""
    if (home := _home()) is not None:
        return home / "cache"
    from platformdirs import user_cache_path

    return user_cache_path(APP_NAME)


def config_path() -> Path:
    return config_dir() / "config.toml"


def db_path() -> Path:
    return data_dir() / "ba-chat.db"


LOG_BACKUPS = 3  # rotated copies of the log kept beside it: ba-chat.log.1 … .3


def log_path() -> Path:
    return data_dir() / "ba-chat.log"
