"""`ba-chat doctor`: one line per check, with the fix for what is broken.

Each provider with a key is asked for its model list (all at once, each with a time
limit), which shows whether the endpoint answers, how fast, and whether the key is
accepted. Then config.toml, personas, the database, the keyring and versions. Keys are
never printed: every line goes through `redact`.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ba_tui.cli import complete
from ba_tui.cli.app import app, terminal_safe

if TYPE_CHECKING:
    from ba_tui.config import Config
    from ba_tui.providers import ProviderSpec, Target

OK, FAIL, WARN, SKIP = "ok", "fail", "warn", "skip"
_MARKS = {OK: "✓", FAIL: "✗", WARN: "!", SKIP: "-"}
_ASCII = {OK: "ok", FAIL: "FAIL", WARN: "!", SKIP: "-"}
_COLOURS = {OK: "32", FAIL: "31", WARN: "33", SKIP: "2"}
_STAGGER = 0.5  # seconds before the next endpoint is probed while one is still waiting
# Distributions whose versions are reported; read from metadata, never imported.
_PACKAGES = ("anthropic", "openai", "google-genai", "textual", "typer", "keyring", "sqlite-utils")


@dataclass(frozen=True)
class Check:
    status: str  # OK, FAIL, WARN or SKIP
    subject: str  # "openai", "config", "database"…
    text: str
    fix: str | None = None


# --- providers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Probe:
    spec: ProviderSpec
    target: Target
    # A local server nobody configured (Ollama at its default address) may simply be off.
    optional: bool


def _key_fix(spec: ProviderSpec, source: str) -> str:
    if source.startswith("env "):
        return f"check {source[4:]} (it is used before the keyring), or unset it"
    if source == "key_command":
        return f"check key_command under [providers.{spec.name}] in config.toml"
    if source == "config":
        return f"check api_key under [providers.{spec.name}] in config.toml"
    return f"set a valid key with `ba-chat keys set {spec.name}`"


def _key_checks(spec: ProviderSpec, config: Config) -> tuple[list[Check], _Probe | None]:
    """Where the key comes from, and what to probe (None: nothing to probe)."""
    import os

    from ba_tui.errors import ConfigError
    from ba_tui.keys import explain_key
    from ba_tui.providers import BUILTIN, Target, base_url_for, starting_model

    settings = config.provider(spec.name)
    checks: list[Check] = []
    if spec.name in BUILTIN and settings.get("api_key"):
        checks.append(
            Check(
                WARN,
                spec.name,
                "api_key in config.toml is ignored for built-in providers",
                f"store it with `ba-chat keys set {spec.name}` and delete the line",
            )
        )
    if spec.kind == "local":
        # Starting the model takes a second; its presence is what a user needs to know.
        from ba_tui.providers import OFFLINE_INSTALL, offline_available

        if offline_available(config):
            checks.append(Check(OK, spec.name, "built-in offline model installed"))
        else:
            checks.append(
                Check(SKIP, spec.name, "built-in offline model not installed", OFFLINE_INSTALL)
            )
        return checks, None
    try:
        key, source, why = explain_key(spec, config)
    except ConfigError as exc:  # e.g. key_command_timeout is not a number
        return [*checks, Check(FAIL, spec.name, exc.message, exc.hint)], None
    if why:
        checks.append(
            Check(
                FAIL,
                spec.name,
                why,
                f"check key_command under [providers.{spec.name}] in config.toml",
            )
        )
        return checks, None
    if key is None and spec.key_required:
        checks.append(
            Check(
                SKIP,
                spec.name,
                "not configured (no key)",
                f"set {spec.key_env[0]} or run `ba-chat keys set {spec.name}` to use it",
            )
        )
        return checks, None
    if source == "config":
        checks.append(
            Check(
                WARN,
                spec.name,
                "key comes from api_key, in plain text in config.toml",
                f"move it with `ba-chat keys set {spec.name}` and delete the line",
            )
        )
    else:
        where = "not needed" if key is None else f"from {source}"
        checks.append(Check(OK if key else SKIP, spec.name, f"key {where}"))
    explicit = spec.name in config.providers or bool(
        spec.base_url_env and os.environ.get(spec.base_url_env, "").strip()
    )
    model = starting_model(spec, config) or "-"
    target = Target(spec, model, base_url_for(spec, config), key, source)
    return checks, _Probe(spec, target, optional=not spec.key_required and not explicit)


async def _probe(probe: _Probe, timeout: float) -> list[Check]:
    """Ask the endpoint for its model list; the answer tells whether it is up and the key
    is accepted."""
    import asyncio

    from ba_tui.errors import AuthFailed, Overloaded, ProviderDown, ProviderError, RateLimited
    from ba_tui.providers import adapter

    target = probe.target
    name, url = target.provider, target.base_url
    started = time.perf_counter()
    try:
        models = await asyncio.wait_for(adapter(probe.spec).list_models(target), timeout)
    except TimeoutError:
        return [
            Check(
                FAIL,
                name,
                f"endpoint {url} did not answer within {timeout:g} s",
                "check your network, or the provider's base_url",
            )
        ]
    except ProviderDown as exc:
        if probe.optional:
            return [Check(SKIP, name, f"not running at {url} (not configured)")]
        return [Check(FAIL, name, f"endpoint did not answer: {exc.message}", exc.hint)]
    except AuthFailed as exc:
        took = (time.perf_counter() - started) * 1000
        status = f"HTTP {exc.status}" if exc.status else "refused"
        return [
            Check(OK, name, f"endpoint {url} answered in {took:.0f} ms"),
            Check(FAIL, name, f"key rejected ({status})", _key_fix(probe.spec, target.key_source)),
        ]
    except (RateLimited, Overloaded) as exc:
        return [Check(WARN, name, f"endpoint {url} answered, but: {exc.message}", exc.hint)]
    except ProviderError as exc:
        return [
            Check(
                FAIL,
                name,
                f"endpoint {url} answered with an error: {exc.message}",
                "check the provider's base_url (OpenAI-compatible servers usually end in /v1)",
            )
        ]
    except Exception as exc:  # a bug in an adapter must not hide the other checks
        return [Check(FAIL, name, f"model list failed: {type(exc).__name__}: {exc}")]
    took = (time.perf_counter() - started) * 1000
    checks = [Check(OK, name, f"endpoint {url} answered in {took:.0f} ms ({len(models)} models)")]
    if target.key:
        checks.append(Check(OK, name, "key accepted"))
    return [*checks, _default_model_check(probe.spec, target.model, models)]


def _default_model_check(spec: ProviderSpec, model: str, listed: list[str]) -> Check:
    """What the model a new thread starts with can do, and, on a server the user runs
    (Ollama, a compatible endpoint), whether it serves that model: such a server lists
    only what it has pulled or loaded. Vendors' lists leave out valid aliases."""
    summary = f"default model {model}: {spec.capabilities(model).summary()}"
    own_server = spec.free or spec.price_id is None
    if own_server and listed and model not in listed:
        return Check(
            WARN,
            spec.name,
            f"default model {model} is not among the {len(listed)} the endpoint serves",
            f"pull or load it, or pick one with `ba-chat models -p {spec.name} --refresh`",
        )
    return Check(OK, spec.name, summary)


def provider_checks(config: Config, only: str | None, timeout: float) -> list[Check]:
    """Key, endpoint and key-acceptance lines for each provider, probed concurrently."""
    import asyncio

    from ba_tui.errors import UsageError
    from ba_tui.providers import BUILTIN, adapter, all_specs, get_spec

    broken: list[Check] = []
    try:
        specs = [get_spec(only, config)] if only else all_specs(config)
    except UsageError as exc:
        if only:
            raise
        broken.append(Check(FAIL, "providers", exc.message, exc.hint))
        specs = list(BUILTIN.values())
    per_spec: list[tuple[list[Check], _Probe | None]] = [
        _key_checks(spec, config) for spec in specs
    ]
    probes = [probe for _, probe in per_spec if probe is not None]
    for probe in probes:
        adapter(probe.spec)  # import the SDKs first, so latencies measure the network

    async def run_all() -> list[list[Check]]:
        # Building an SDK client is blocking CPU work (~50 ms), so probes started all at
        # once would each be charged for the others' start-up. Each starts when the one
        # before it finished or after _STAGGER s: latencies stay honest, and slow or dead
        # endpoints still wait together, not one after another.
        tasks = []
        for probe in probes:
            tasks.append(asyncio.create_task(_probe(probe, timeout)))
            await asyncio.wait({tasks[-1]}, timeout=_STAGGER)
        return list(await asyncio.gather(*tasks))

    results = iter(asyncio.run(run_all()) if probes else [])
    checks = broken
    for key_lines, probed in per_spec:
        checks += key_lines
        if probed is not None:
            checks += next(results)
    return checks


# --- the rest -----------------------------------------------------------------------------


def config_checks(path: Path) -> tuple[list[Check], Config]:
    from ba_tui.config import Config, load_config, problems
    from ba_tui.errors import ConfigError

    try:
        config = load_config(path)
    except ConfigError as exc:
        return [Check(FAIL, "config", exc.message, exc.hint)], Config(path=path)
    if not path.exists():
        return [Check(SKIP, "config", f"{path} not created yet; defaults in use")], config
    checks = [Check(OK, "config", f"{path} parses")]
    checks += [
        Check(FAIL, "config", problem, f"fix it with `ba-chat config set` or edit {path}")
        for problem in problems(config.data)
    ]
    return checks, config


def persona_checks(config: Config) -> list[Check]:
    from ba_tui.errors import BaChatError
    from ba_tui.personas import all_personas

    try:
        names = [persona.name for persona in all_personas(config)]
    except BaChatError as exc:
        return [Check(FAIL, "personas", exc.message, exc.hint or "fix [personas.*]")]
    return [Check(OK, "personas", ", ".join(names))]


def _size(nbytes: int) -> str:
    if nbytes < 1024:
        return f"{nbytes} bytes"
    size = float(nbytes)
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            break
    return f"{size:.1f} {unit}"


def database_checks(
    path: Path, open_store: Any = None, config: Config | None = None
) -> list[Check]:
    """Path, size, schema version and integrity; never creates the database."""
    import importlib.util

    from ba_tui.errors import BaChatError

    if open_store is None:
        if importlib.util.find_spec("ba_tui.store") is None:
            return [Check(SKIP, "database", "check skipped (this build has no store)")]
        from ba_tui.store import Store

        if not all(hasattr(Store, name) for name in ("schema_version", "integrity_check")):
            return [Check(SKIP, "database", "check skipped (store has no health checks)")]

        def open_store(path: Path) -> Any:
            return Store.open(path, busy_timeout=2.0)

    if not path.exists():
        return [Check(SKIP, "database", f"{path} not created yet (the first saved chat does)")]
    try:
        store = open_store(path)
    except BaChatError as exc:
        return [Check(FAIL, "database", exc.message, exc.hint)]
    try:
        version = store.schema_version()
        integrity = store.integrity_check()
        breakers = _breaker_checks(store, config)
    finally:
        store.close()
    size = _size(path.stat().st_size)
    about = f"{path} · {size} · schema {version}"
    if integrity != "ok":
        return [
            Check(
                FAIL,
                "database",
                f"{about} · integrity check failed: {integrity}",
                "restore a backup, or move the file away to start a new one",
            )
        ]
    return [Check(OK, "database", f"{about} · integrity ok"), *breakers]


def _breaker_checks(store: Any, config: Config | None) -> list[Check]:
    """Providers the circuit breaker is resting, or that failed recently.

    Uses the config doctor already read (empty when config.toml is broken): reading it
    again here would turn a broken file, already reported as a failed check, into an exit.
    """
    from ba_tui.config import Config
    from ba_tui.errors import BaChatError
    from ba_tui.health import load
    from ba_tui.providers import BUILTIN, all_specs

    if not hasattr(store, "get_kv"):
        return []
    try:
        specs = all_specs(config or Config())
    except BaChatError:  # a bad [providers.*] table is reported by the provider checks
        specs = list(BUILTIN.values())
    checks = []
    for spec in specs:
        breaker = load(store, spec.name)
        if breaker.is_open():
            checks.append(
                Check(
                    FAIL,
                    spec.name,
                    f"circuit open after {breaker.failures} failures in a row; "
                    f"skipped for {breaker.seconds_left():.0f} s more",
                    "wait, or use another provider (-p) or a fallback",
                )
            )
        elif breaker.failures:
            checks.append(
                Check(WARN, spec.name, f"{breaker.failures} failed turn(s) in a row recently")
            )
    return checks


def file_checks() -> list[Check]:
    """Whether ba-chat's folders are 0700 and its files 0600, as start-up makes them."""
    import shlex

    from ba_tui.private import describe, exposed, folders

    if not (found := exposed()):
        where = ", ".join(str(folder) for folder in folders())
        return [Check(OK, "files", f"private to you (folders 0700, files 0600): {where}")]
    paths = " ".join(shlex.quote(str(item.path)) for item in found)
    return [
        Check(
            FAIL,
            "files",
            f"other users can read or change: {describe(found)}",
            f"chmod go-rwx {paths} (any other ba-chat command also makes them private)",
        )
    ]


def keyring_checks() -> list[Check]:
    from ba_tui.keys import backend_name, keyring_problem

    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception as exc:
        return [Check(WARN, "keyring", f"the keyring could not load: {type(exc).__name__}: {exc}")]
    if problem := keyring_problem(backend):
        return [
            Check(
                WARN,
                "keyring",
                f"{problem} ({backend_name(backend)}); keys must come from env or key_command",
            )
        ]
    return [Check(OK, "keyring", f"{backend.name} ({backend_name(backend)})")]


def version_checks() -> list[Check]:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from ba_tui import __version__

    found = [f"ba-chat {__version__}", f"python {platform.python_version()}"]
    missing = []
    for package in _PACKAGES:
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            missing.append(package)
    checks = [Check(OK, "versions", ", ".join(found))]
    if missing:
        checks.append(
            Check(
                FAIL,
                "versions",
                f"not installed: {', '.join(missing)}",
                "reinstall ba-chat (pip install --force-reinstall ba-chat)",
            )
        )
    return checks


# --- output -------------------------------------------------------------------------------


def _render(check: Check, width: int, *, tty: bool, ascii_only: bool) -> str:
    from ba_tui.keys import redact

    mark = (_ASCII if ascii_only else _MARKS)[check.status]
    text = check.text + (f"; fix: {check.fix}" if check.fix and check.status != OK else "")
    line = redact(f"{check.subject:<{width}}  {text}")
    if tty:
        return f"\x1b[{_COLOURS[check.status]}m{mark}\x1b[0m {terminal_safe(line)}"
    return f"{mark} {line}"


@app.command()
def doctor(
    provider: str | None = typer.Option(
        None,
        "-p",
        "--provider",
        help="Check only this one.",
        autocompletion=complete.providers,
        metavar="PROVIDER",
    ),
    timeout: float = typer.Option(
        10.0, "--timeout", min=0.1, help="Seconds per endpoint.", metavar="SECONDS"
    ),
) -> None:
    """Check keys, endpoints, config, database and file modes.

    The keyring too. Exits 1 when a check fails.
    """
    from ba_tui.paths import config_path, db_path

    config_lines, config = config_checks(config_path())
    checks = provider_checks(config, provider, timeout)
    checks += config_lines
    checks += persona_checks(config)
    checks += database_checks(db_path(), config=config)
    checks += file_checks()
    checks += keyring_checks()
    checks += version_checks()

    tty = sys.stdout.isatty()
    encoding = sys.stdout.encoding or "ascii"
    try:
        "✓✗".encode(encoding)
        ascii_only = False
    except (UnicodeEncodeError, LookupError):
        ascii_only = True
    width = max(len(check.subject) for check in checks)
    for check in checks:
        print(_render(check, width, tty=tty, ascii_only=ascii_only), flush=True)
    if any(check.status == FAIL for check in checks):
        raise typer.Exit(1)
