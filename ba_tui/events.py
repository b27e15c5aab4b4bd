"""The one normalized stream every provider adapter yields.

Token counts follow one convention across providers, whatever the wire says:
`input_tokens` is the whole prompt, cached tokens included (cache reads and writes are
broken out beside it); `output_tokens` is everything generated, reasoning included.
`None` means the provider did not say; it is never a stand-in for 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ba_tui.errors import ProviderError
from ba_tui.messages import ToolCall, ToolResult
from ba_tui.sanitize import replace_surrogates


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str

    def __post_init__(self) -> None:
        _valid_text(self)


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """Visible thinking. `signature` carries the provider's proof needed to replay it."""

    text: str = ""
    signature: str | None = None

    def __post_init__(self) -> None:
        _valid_text(self)


def _valid_text(delta: TextDelta | ReasoningDelta) -> None:
    """A JSON `"\\ud800"` escape from a server decodes to a lone surrogate, which UTF-8
    cannot encode: printing, storing or logging the reply would fail. It becomes U+FFFD.
    (ASCII text, most deltas, is passed over at once.)"""
    if not delta.text.isascii():
        object.__setattr__(delta, "text", replace_surrogates(delta.text)[0])


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return asdict(self)


# Finish reasons, normalized: "stop", "length", "content_filter", "tool_calls", "other".
@dataclass(frozen=True, slots=True)
class Finished:
    reason: str
    raw: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """A model began a tool call: its id (made up when the wire gave none) and the tool's
    own name (mapped back from the sanitised one the provider was sent)."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of a call's JSON arguments as they arrive (for a UI to stream)."""

    id: str
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDone:
    """A call whose arguments are complete, ready to be approved and run."""

    call: ToolCall


@dataclass(frozen=True, slots=True)
class ToolCallRan:
    """Emitted by the tool loop (not adapters): a call ran, or was denied or cancelled,
    and this is what the model will be told."""

    call: ToolCall
    result: ToolResult

    @property
    def notice(self) -> str:
        """`tool read_file {"path": "a.txt"} -> 120 chars (3 ms)`: the CLI's line."""
        import json

        arguments = json.dumps(dict(self.call.arguments), ensure_ascii=False)
        if len(arguments) > 80:
            arguments = arguments[:79] + "…"
        result = self.result
        if result.approval in ("denied", "cancelled"):
            outcome = result.output
        elif result.is_error:
            outcome = f"error: {result.output.splitlines()[0] if result.output else ''}"
        else:
            outcome = f"{len(result.output)} chars"
        took = f" ({result.duration_ms:.0f} ms)" if result.duration_ms is not None else ""
        return f"tool {self.call.name} {arguments} -> {outcome}{took}"


@dataclass(frozen=True, slots=True)
class StreamError:
    error: ProviderError


@dataclass(frozen=True, slots=True)
class Retrying:
    """Emitted by the turn runner (not adapters) while it waits to try again."""

    error: ProviderError
    delay: float
    attempt: int
    of: int

    @property
    def notice(self) -> str:
        """`rate limited by gemini, retrying in 2 s (1/2)`: what the CLI and TUI show."""
        what = self.error.what
        label = f"{what} by {self.error.provider}" if what == "rate limited" else None
        label = label or f"{self.error.provider} {what}"
        return f"{label}, retrying in {self.delay:.0f} s ({self.attempt}/{self.of})"


@dataclass(frozen=True, slots=True)
class FallingBack:
    """Emitted by the turn runner when a provider failed before its first token and the
    next target in the fallback chain is about to be tried."""

    error: ProviderError
    provider: str
    model: str

    @property
    def notice(self) -> str:
        return f"{self.error.line()}; falling back to {self.provider} · {self.model}"


@dataclass(frozen=True, slots=True)
class Notice:
    """Emitted by the turn runner when something beside the reply went wrong (its
    bookkeeping could not be saved): worth one line, never a reason to fail the turn."""

    notice: str


@dataclass(frozen=True, slots=True)
class Uploaded:
    """Emitted by an adapter that put a file in its provider's file service (Gemini's Files
    API): what later requests, in this process or another, may send by reference instead
    of uploading the file again, until `expires` (ISO 8601, UTC). The turn runner stores it
    (never with the key) and hands it back in `ChatRequest.uploads`; the user is not told."""

    sha256: str
    mime: str
    name: str  # the service's name for the file ("files/abc"): what a check asks about
    uri: str  # what a request refers to
    expires: str | None


@dataclass(frozen=True, slots=True)
class Saved:
    """Emitted by the turn runner once the prompt (`user_id`, None when regenerating) and
    the reply's row (`reply_id`, `streaming`) are stored, before anything is sent."""

    thread_id: str
    user_id: str | None
    reply_id: str


Event = (
    TextDelta
    | ReasoningDelta
    | Usage
    | Finished
    | StreamError
    | Retrying
    | FallingBack
    | Notice
    | Saved
    | Uploaded
    | ToolCallStarted
    | ToolCallDelta
    | ToolCallDone
    | ToolCallRan
)
