"""A file-backed keyring for tests, chosen with
`PYTHON_KEYRING_BACKEND=tests.keyring_backend.FileKeyring`; it keeps a JSON file at the
path in `BA_CHAT_TEST_KEYRING`, so a test can see what a subprocess stored."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    @properties.classproperty
    def priority(cls) -> float:
        if not os.environ.get("BA_CHAT_TEST_KEYRING"):
            raise RuntimeError("BA_CHAT_TEST_KEYRING is not set")
        return 1

    @staticmethod
    def _path() -> Path:
        return Path(os.environ["BA_CHAT_TEST_KEYRING"])

    def _load(self) -> dict[str, str]:
        try:
            return json.loads(self._path().read_text("utf-8"))
        except FileNotFoundError:
            return {}

    def _save(self, data: dict[str, str]) -> None:
        self._path().write_text(json.dumps(data), "utf-8")

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError("not found")
        self._save(data)


class StuckKeyring(KeyringBackend):
    """A keyring that never answers, as a locked desktop secret service can: every call
    blocks until the process ends, after creating the file at `BA_CHAT_TEST_KEYRING`
    (so a test knows it was asked). `PYTHON_KEYRING_BACKEND=tests.keyring_backend.StuckKeyring`."""

    @properties.classproperty
    def priority(cls) -> float:
        return 1

    @staticmethod
    def _stuck() -> None:
        Path(os.environ["BA_CHAT_TEST_KEYRING"]).touch()
        threading.Event().wait()

    def get_password(self, service: str, username: str) -> str | None:
        self._stuck()
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._stuck()

    def delete_password(self, service: str, username: str) -> None:
        self._stuck()
