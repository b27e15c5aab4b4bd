"""API keys: environment first, then the OS keyring, then a configured `key_command`.

Keys are handed to adapters and nowhere else. Every key this process has seen is
remembered so `redact` (ba_tui/redact.py) can mask it, and any piece of it, in any line
that is about to be shown, logged or stored.
A key is only ever written to the OS keyring: with no usable keyring there is no
fallback file, plaintext or otherwise.
"""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING, Any

from ba_tui.errors import BaChatError
from ba_tui.redact import redact, remember  # also used as keys.redact and keys.remember

if TYPE_CHECKING:
    from ba_tui.config import Config
    from ba_tui.providers.spec import ProviderSpec

KEYRING_SERVICE = "ba-chat"


class NoKeyring(BaChatError):
    """No usable OS keyring: nothing can be stored, and nothing is written elsewhere."""

    exit_code = 3


def looks_like_key(value: str) -> bool:
    """Whether `value` is or contains a key this process knows or a key-shaped string."""
    return bool(value) and redact(value) != value


# --- the OS keyring -----------------------------------------------------------------------


def _backend() -> Any:
    import keyring

    return keyring.get_keyring()


def backend_name(backend: Any | None = None) -> str:
    """`module.Class` of the keyring backend in use, e.g. `keyring.backends.fail.Keyring`."""
    backend = backend if backend is not None else _backend()
    kind = type(backend)
    return f"{kind.__module__}.{kind.__name__}"


def _chosen_explicitly() -> bool:
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return True
    try:
        import keyring.core

        return keyring.core.load_config() is not None
    except Exception:
        return False


def keyring_problem(backend: Any | None = None) -> str | None:
    """Why keys cannot be stored with `backend` (default: the one in use), or None if they can.

    The fail backend (no Secret Service, no D-Bus: containers, headless servers) and the
    null backend cannot keep a key. keyrings.alt's file backends would keep it in a plain
    file, so they are accepted only when chosen on purpose (PYTHON_KEYRING_BACKEND or
    keyringrc.cfg), never as a silent fallback.
    """
    try:
        backend = backend if backend is not None else _backend()
    except Exception as exc:  # a broken PYTHON_KEYRING_BACKEND, a plugin that fails to load
        return f"the keyring backend could not be loaded ({type(exc).__name__}: {exc})"
    name = backend_name(backend)
    if name.startswith("keyring.backends.fail."):
        return "no OS keyring is available here"
    if name.startswith("keyring.backends.null."):
        return "the keyring is disabled: its null backend keeps nothing"
    chain = getattr(backend, "backends", None)
    first = backend_name(chain[0]) if chain else name
    if first.startswith("keyrings.alt.") and not _chosen_explicitly():
        return "the only keyring here is keyrings.alt, which keeps keys in a plain file"
    return None


def no_keyring(spec: ProviderSpec, problem: str) -> NoKeyring:
    """The one line `keys set` ends with when the key cannot be kept in a keyring."""
    return NoKeyring(
        f"cannot store the key: {problem}",
        f"set {spec.key_env[0]} in your environment instead, or add "
        f"key_command under [providers.{spec.name}] in config.toml, e.g. "
        f'key_command = "pass show {spec.name}"',
    )


def store_key(spec: ProviderSpec, key: str) -> str:
    """Keep `key` in the OS keyring; returns the backend's name. NoKeyring when it cannot."""
    import keyring

    remember(key)
    if problem := keyring_problem():
        raise no_keyring(spec, problem)
    try:
        keyring.set_password(KEYRING_SERVICE, spec.name, key)
        kept = keyring.get_password(KEYRING_SERVICE, spec.name) == key
    except Exception as exc:  # locked, dismissed prompt, D-Bus errors from a plugin
        raise no_keyring(spec, f"the keyring refused it ({type(exc).__name__}: {exc})") from None
    if not kept:
        raise no_keyring(spec, f"the keyring ({backend_name()}) did not keep it")
    return backend_name()


def delete_key(spec: ProviderSpec) -> bool:
    """Remove the provider's key from the keyring; False when there was none."""
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    if keyring_problem():
        return False
    try:
        if keyring.get_password(KEYRING_SERVICE, spec.name) is None:
            return False
        keyring.delete_password(KEYRING_SERVICE, spec.name)
    except PasswordDeleteError:
        return False
    except (KeyringError, OSError) as exc:
        raise NoKeyring(
            f"cannot delete the {spec.name} key: the keyring refused ({type(exc).__name__}: {exc})"
        ) from None
    return True


def _from_keyring(provider: str) -> str | None:
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, provider) or None
    except Exception:
        # No backend (headless box), a locked collection, a broken plugin: treat as unset.
        return None


# --- other secrets: MCP servers' tokens ----------------------------------------------------

# A config value written `keyring:NAME` is read from the OS keyring (service "ba-chat",
# entry NAME) when it is used, so the secret itself is never in config.toml.
KEYRING_REF = "keyring:"
# Names under which env variables and headers carry secrets (`mcp import` moves those).
_SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH")


def looks_secret(name: str) -> bool:
    """Whether an env variable or header named `name` likely holds a secret
    (GITHUB_TOKEN, API_KEY, Authorization, X-Api-Key...)."""
    upper = name.upper().replace("-", "_")
    return any(word in upper for word in _SECRET_WORDS)


def keyring_name(value: str) -> str | None:
    """The keyring entry a config value refers to (`keyring:NAME`), else None."""
    if not value.startswith(KEYRING_REF):
        return None
    return value[len(KEYRING_REF) :].strip() or None


def read_secret(name: str) -> str:
    """The secret kept in the OS keyring as `name`; NoKeyring (one line, what to do) when
    there is no keyring or no such entry."""
    store_it = f"store it with: ba-chat mcp secret {name}"
    if problem := keyring_problem():
        raise NoKeyring(f"keyring:{name} cannot be read: {problem}", store_it)
    try:
        import keyring

        value = keyring.get_password(KEYRING_SERVICE, name)
    except Exception as exc:  # locked, dismissed prompt, D-Bus errors from a plugin
        raise NoKeyring(
            f"keyring:{name} cannot be read: the keyring refused ({type(exc).__name__})"
        ) from None
    if not value:
        raise NoKeyring(f"the keyring has no value for keyring:{name}", store_it)
    return remember(value)


def store_secret(name: str, value: str) -> str:
    """Keep `value` in the OS keyring as `name`; returns the `keyring:NAME` reference to
    write in its place. NoKeyring (saying why) when it cannot be kept."""
    import keyring

    remember(value)
    if problem := keyring_problem():
        raise NoKeyring(problem)
    try:
        keyring.set_password(KEYRING_SERVICE, name, value)
        kept = keyring.get_password(KEYRING_SERVICE, name) == value
    except Exception as exc:  # locked, dismissed prompt, D-Bus errors from a plugin
        raise NoKeyring(f"the keyring refused it ({type(exc).__name__})") from None
    if not kept:
        raise NoKeyring(f"the keyring ({backend_name()}) did not keep it")
    return KEYRING_REF + name


# --- key_command --------------------------------------------------------------------------


KEY_COMMAND_TIMEOUT = 30.0  # seconds; `key_command_timeout` in config.toml overrides it


def run_key_command(command: str, timeout: float = KEY_COMMAND_TIMEOUT) -> tuple[str | None, str]:
    """Run a `key_command`; (its trimmed stdout, "") or (None, what went wrong, as a line
    starting "key_command …").

    It runs in a session (and process group) of its own, so a command that hangs past
    `timeout` is killed together with everything it started (`pass` starts gpg, a script
    starts its helpers) instead of being left running as an orphan.
    """
    try:
        proc = subprocess.Popen(
            command,
            shell=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"key_command could not run ({exc})"
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return None, f"key_command timed out after {timeout:g} s and was stopped"
    if proc.returncode != 0:
        said = next((line.strip() for line in err.splitlines() if line.strip()), "")
        return None, f"key_command exited with {proc.returncode}" + (f": {said}" if said else "")
    if not (value := out.strip()):
        return None, "key_command printed nothing"
    return value, ""


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """Kill `proc` and every process in its group, and reap it.

    Its pipes are closed rather than read to the end: a process that left the group (a
    daemon it started) may hold them open for ever.
    """
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


# --- look-up ------------------------------------------------------------------------------


def _inline(spec: ProviderSpec, config: Config) -> str | None:
    """An `api_key` written in config.toml; honoured for custom endpoints only."""
    from ba_tui.providers.spec import BUILTIN

    if spec.name in BUILTIN:
        return None
    value = config.provider(spec.name).get("api_key")
    return str(value).strip() or None if value else None


def lookup_key(spec: ProviderSpec, config: Config) -> tuple[str | None, str]:
    """Return (key, where it came from); where is e.g. 'env OPENAI_API_KEY' or 'not set'."""
    key, source, _ = explain_key(spec, config)
    return key, source


def explain_key(spec: ProviderSpec, config: Config) -> tuple[str | None, str, str]:
    """`lookup_key`, plus why a configured `key_command` gave no key, as a line ("" if it
    gave one or there is none)."""
    for var in spec.key_env:
        if value := os.environ.get(var, "").strip():
            return remember(value), f"env {var}", ""
    if inline := _inline(spec, config):
        return remember(inline), "config", ""
    if stored := _from_keyring(spec.name):
        return remember(stored), "keyring", ""
    if command := config.provider(spec.name).get("key_command"):
        timeout = config.number("key_command_timeout", KEY_COMMAND_TIMEOUT)
        ran, why = run_key_command(str(command), timeout)
        if ran:
            return remember(ran), "key_command", ""
        return None, "not set", why
    return None, "not set", ""


def key_source(spec: ProviderSpec, config: Config) -> str:
    """Where the key would come from, as `lookup_key` says, without running `key_command`
    (it may ask for a passphrase): 'env VAR', 'config', 'keyring', 'key_command',
    'not needed' (a local server without a key) or 'not set'."""
    for var in spec.key_env:
        if os.environ.get(var, "").strip():
            return f"env {var}"
    if _inline(spec, config):
        return "config"
    if _from_keyring(spec.name):
        return "keyring"
    if config.provider(spec.name).get("key_command"):
        return "key_command"
    return "not set" if spec.key_required else "not needed"
