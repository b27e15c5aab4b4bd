"""Errors people see: one line saying what happened and what to do, plus an exit code.

Every failure that can reach a user is one of these. The CLI prints `error.line()` and
exits with `error.exit_code`; the TUI shows `error.line("tui")` in the conversation: the
same line, with the full-screen app's way to fix it (Ctrl+S, Ctrl+O) where the CLI's hint
names a command.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from ba_tui.redact import redact

# Which front end shows a line: its hint names that front end's way to fix things.
Front = Literal["cli", "tui"]


class BaChatError(Exception):
    """Base of every expected failure; never shown with a traceback (but with --verbose).

    The message and hint are redacted when the error is made, and again whenever it is
    shown, so neither `str(error)`, a traceback, nor `error.message` can carry a key,
    whichever way the text leaves the process.
    """

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None, *, tui_hint: str | None = None):
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.hint = redact(hint) if hint else hint
        self.tui_hint = redact(tui_hint) if tui_hint else tui_hint

    def __str__(self) -> str:
        return redact(self.message)

    def line(self, front: Front = "cli") -> str:
        """The single line shown to the user, with any key masked; `front="tui"` gives
        the TUI's hint where it has its own."""
        hint = self.tui_hint if front == "tui" and self.tui_hint else self.hint
        text = self.message if not hint else f"{self.message}; {hint}"
        return redact(" ".join(text.split()))


class UsageError(BaChatError):
    """The command line or config asks for something that does not exist."""

    exit_code = 2


class ConfigError(UsageError):
    """config.toml cannot be read; the file is left untouched."""


class ProviderError(BaChatError):
    """A provider could not give a reply. `retryable` errors may be tried again."""

    exit_code = 4
    retryable = False
    kind = "provider"

    @property
    def what(self) -> str:
        """What went wrong in a few words, for retry notices: `overloaded`, `server error 502`."""
        return self.kind.replace("_", " ")

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        provider: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        tui_hint: str | None = None,
    ) -> None:
        super().__init__(message, hint, tui_hint=tui_hint)
        self.provider = provider
        self.status = status
        self.retry_after = retry_after


class MissingKey(ProviderError):
    exit_code = 3
    kind = "missing_key"


class AuthFailed(ProviderError):
    exit_code = 3
    kind = "auth"


class ModelNotFound(ProviderError):
    kind = "model_not_found"


class BadRequest(ProviderError):
    kind = "bad_request"


class RateLimited(ProviderError):
    retryable = True
    kind = "rate_limited"


class Overloaded(ProviderError):
    retryable = True
    kind = "overloaded"


class ProviderDown(ProviderError):
    """Unreachable, connection refused or dropped, or a 5xx before the reply started."""

    retryable = True
    kind = "unreachable"

    @property
    def what(self) -> str:
        # A 5xx came from a server that was reached: "unreachable" would send people to
        # check their network.
        return f"server error {self.status}" if self.status else "unreachable"


class BadReply(ProviderError):
    """The provider answered 200 with a body that is not the reply it should be (an HTML
    page from a proxy, invalid JSON, garbled events). Proxies fail like this for a moment,
    so it is tried again."""

    retryable = True
    kind = "bad_reply"

    @property
    def what(self) -> str:
        return "sent a reply ba-chat could not read"


class Stalled(ProviderError):
    """No byte arrived for the stall timeout."""

    retryable = True
    kind = "stalled"


class CircuitOpen(ProviderError):
    """The provider failed several turns in a row and is resting for a cool-down."""

    kind = "circuit_open"


class StreamCut(ProviderError):
    """The reply started and then broke; what arrived is kept."""

    exit_code = 5
    kind = "cut"


class StoppedReading(StreamCut):
    """ba-chat stopped a reply that ran far past its token limit or its time limit; what
    arrived is kept."""

    kind = "stopped"


class TimedOut(ProviderError):
    """No text arrived within `max_reply_seconds`."""

    kind = "timed_out"


class EndedEarly(ProviderDown):
    """The connection closed cleanly but the reply never said it was finished."""


def ended_early(provider: str) -> ProviderError:
    """The connection closed cleanly but the reply never said it was finished."""
    return EndedEarly(
        f"{provider} closed the stream before the reply was finished",
        "try again",
        provider=provider,
    )


def cut_off(error: ProviderError, provider: str, chars: int) -> StreamCut:
    """The error for a reply that broke after `chars` characters had reached the user.

    A connection that dropped (or closed early) says so with the count: "could not reach"
    would send people to check a network that carried most of the reply. The SDK's own
    words for a drop ("Connection error.") add nothing; the log keeps them.
    """
    after = f"after {chars:,} characters"
    hint = "the partial reply is kept; try again"
    if isinstance(error, EndedEarly):
        what = f"{provider} closed the stream {after}, before the reply was finished"
    elif isinstance(error, ProviderDown) and error.status is None:
        what = f"the connection to {provider} dropped {after} of the reply"
    else:
        what = f"the reply from {provider} was cut off {after}: {error.message}"
        hint = "the partial reply is kept"
    return StreamCut(what, hint, provider=provider, status=error.status)


_RETRYABLE_STATUS = {408, 409, 429}


def for_status(
    provider: str,
    status: int,
    message: str,
    *,
    model: str = "",
    retry_after: float | None = None,
    kind: str | None = None,
    key_source: str = "",
) -> ProviderError:
    """Map an HTTP status (and the provider's error type, when known) to our error."""
    from ba_tui.sanitize import replace_surrogates

    # A "\\ud800" escape in the body would make the line unloggable and unstorable.
    message = " ".join(replace_surrogates(message or "")[0].split())[:300]
    detail = f"{provider} said: {message}" if message else f"{provider} answered HTTP {status}"
    if (page := html_page(message)) is not None:
        # A proxy's error page: its markup would fill the line and say nothing more.
        detail = f"{provider} answered HTTP {status} with {page}"
    kw: dict[str, Any] = {"provider": provider, "status": status, "retry_after": retry_after}
    if kind in ("authentication_error", "permission_error", "auth") or status in (401, 403):
        if key_source.startswith("env "):
            # The variable wins over the keyring, so `keys set` alone would not help.
            hint = f"check {key_source[4:]}, or unset it and run `ba-chat keys set {provider}`"
            tui_hint = f"check {key_source[4:]}, or unset it and add a key in Settings (Ctrl+S)"
        else:
            hint = f"check it, or set a new one with `ba-chat keys set {provider}`"
            tui_hint = "check it, or add a new one in Settings (Ctrl+S)"
        return AuthFailed(
            f"{provider} rejected the API key ({detail})", hint, tui_hint=tui_hint, **kw
        )
    if kind in ("not_found_error", "model_not_found") or status == 404:
        return ModelNotFound(
            f"{provider} does not know the model {model!r} ({detail})"
            if model
            else f"{provider}: not found ({detail})",
            f"list the models with `ba-chat models -p {provider} --refresh`",
            tui_hint="choose another with Ctrl+O (Ctrl+L there lists the provider's models)",
            **kw,
        )
    if kind in ("rate_limit_error", "rate_limited") or status == 429:
        return RateLimited(
            f"rate limited by {provider} ({detail})", "wait a moment and try again", **kw
        )
    if kind in ("overloaded_error", "overloaded") or status in (529, 503):
        return Overloaded(
            f"{provider} is overloaded ({detail})",
            "try again shortly or use another provider",
            **kw,
        )
    if status >= 500 or status in _RETRYABLE_STATUS or kind == "api_error":
        return ProviderDown(
            f"{provider} failed with a server error ({detail})", "try again shortly", **kw
        )
    return BadRequest(f"{provider} refused the request ({detail})", None, **kw)


_HTML = re.compile(r"<\s*(!doctype\s+html|html|head|body|title)\b", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.I | re.S)


def html_page(text: str) -> str | None:
    """`an HTML page ('502 Bad Gateway')` when `text` is (the start of) a web page, else None."""
    if not _HTML.search(text or ""):
        return None
    title = _TITLE.search(text)
    name = " ".join(title[1].split())[:80] if title else ""
    return f"an HTML page ({name!r})" if name else "an HTML page"


def bad_reply(provider: str, base_url: str, what: str) -> BadReply:
    """The provider's reply could not be read; `what` says how it looked."""
    return BadReply(
        f"{provider} at {base_url} sent a reply ba-chat could not read ({what})",
        "try again; if it persists, check the provider's base_url or its status page",
        provider=provider,
    )


def unreadable(provider: str, base_url: str, exc: BaseException) -> BadReply:
    """The error for an exception an SDK raised while reading a reply's body: the body
    was not what the provider's protocol promises, so the reply is at fault, not ba-chat."""
    text = str(exc).strip()
    what = html_page(text)
    if what is None:
        first = text.splitlines()[0].strip() if text else ""
        if len(first) > 120:
            first = first[:119] + "…"
        name = type(exc).__name__
        what = f"{name}: {first}" if first else f"the SDK failed with {name}"
    return bad_reply(provider, base_url, what)


def error_detail(body: object) -> dict[str, Any]:
    """The `{"type", "message", "code"}` part of a provider's JSON error body."""
    if not isinstance(body, dict):
        return {}
    inner = body.get("error")
    return inner if isinstance(inner, dict) else body


def retry_after(headers: Any) -> float | None:
    """Seconds a provider asked us to wait, from `retry-after-ms` or `retry-after`."""
    try:
        if value := headers.get("retry-after-ms"):
            return float(value) / 1000
        if value := headers.get("retry-after"):
            return float(value)
    except (TypeError, ValueError):
        return None
    return None


_TRANSPORT_MODULES = ("httpx", "httpx2", "httpcore", "h11", "anyio", "ssl")


def transport(provider: str, base_url: str, exc: BaseException) -> ProviderError | None:
    """Our error for a network failure, or None when `exc` is not one.

    What a failing stream raises differs by SDK and version, so this goes by the
    exception's name and module, never by one SDK class. Measured against the fake server:
    - a connection dropped mid-body: anthropic 2.12 lets the raw
      `httpx2.RemoteProtocolError` escape, 2.17 wraps it in `APIConnectionError` ("peer
      closed connection without sending complete message body"); openai 3.54 and 3.63
      wrap it in `APIConnectionError`; google-genai 3.4 and 3.6 let it escape raw;
    - no byte for the read timeout: anthropic 2.12 and google-genai raise the raw httpx2
      `ReadTimeout`, anthropic 2.17 and openai `APITimeoutError`;
    - connection refused: `APIConnectionError` (anthropic, openai), the raw httpx2
      `ConnectError` (google-genai).
    Any of these, or an OSError, is a transport failure; tests/test_servers.py checks
    what ba-chat makes of each, on the newest and the lowest supported versions.
    """
    name = type(exc).__name__
    module = type(exc).__module__.split(".")[0]
    if (
        isinstance(exc, OSError | TimeoutError)
        or module in _TRANSPORT_MODULES
        or name in ("APIConnectionError", "APITimeoutError")
    ):
        return unreachable(provider, base_url, exc)
    return None


def unreachable(provider: str, base_url: str, exc: BaseException) -> ProviderError:
    """A transport failure: refused, DNS, timeout, dropped connection."""
    name = type(exc).__name__
    if "Timeout" in name and ("Read" in name or name == "APITimeoutError"):
        return Stalled(
            f"{provider} stopped sending (timed out waiting for data)",
            "try again, or raise `stall_timeout` in config",
            provider=provider,
        )
    reason = str(exc).strip() or name
    return ProviderDown(
        f"could not reach {provider} at {base_url} ({reason})",
        "check your network, or the provider's base_url",
        provider=provider,
    )
