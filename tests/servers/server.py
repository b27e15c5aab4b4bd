"""A fake LLM provider on 127.0.0.1 that speaks the Anthropic, OpenAI and Gemini protocols.

Each request is recorded (before any reply byte is sent), then answered by the next queued
Reply if there is one (any request, whatever its path, consumes one, but for the Gemini
Files API's), else by the default route below. With `keys` set, a request with the wrong
key gets its dialect's auth error first, without consuming the queue.

Default routes (empty queue):
  POST /v1/messages                        anthropic_stream_text.sse, or _thinking with
                                           `thinking.type` enabled/adaptive
  POST [/v1]/chat/completions              by model: deepseek-reasoner, llama (Ollama),
                                           smollm/llamacpp (llama.cpp), else OpenAI
  POST /v1beta|v1/models/M:streamGenerateContent   gemini_stream_text.sse, or _thinking with
                                           generationConfig.thinkingConfig.includeThoughts
                                           (or include_thoughts, as google-genai sends it)
  GET  /v1/models, /models                 Anthropic list with `anthropic-version`, Gemini's
                                           with `x-goog-api-key`, else OpenAI's
  GET  /v1beta/models                      Gemini's list
  POST /upload/v1beta/files, GET /v1beta/files/NAME   Gemini's Files API (files.py): never
                                           from the queue; a generate request naming a file
                                           that is not ACTIVE gets the API's 400 (nor that)
Magic model ids: `not-found` (404), `rate-limit` (429), `overloaded` (529/503),
`midstream-error` (an error after a few events), `dropped` (text cut after 4 events),
`runaway` (4 MB of text whatever max_tokens says), `drip` (a token every 0.5 s, for hours).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from types import TracebackType
from typing import Any

from tests.servers.files import FilesAPI
from tests.servers.replies import Reply, drip, fixture, runaway, status

_GEMINI_PATH = re.compile(r"^/v1(?:beta)?/models/(?P<model>[^/:]+):(?P<verb>\w+)$")
_GEMINI_FILES = re.compile(r"^(?:/upload)?/v1beta/files(?:/|$)")
_OPENAI_PATHS = ("/v1/chat/completions", "/chat/completions")
_MODEL_LISTS = ("/v1/models", "/models", "/v1beta/models")
_ERRORS = {  # magic word in the model id -> reply, by dialect
    "anthropic": {
        "not-found": "anthropic_error_404_not_found_model.json",
        "rate-limit": "anthropic_error_429_rate_limit.json",
        "overloaded": "anthropic_error_529_overloaded.json",
    },
    "openai": {
        "not-found": "openai_error_404_model_not_found.json",
        "rate-limit": "openai_error_429_rate_limit.json",
    },
    "gemini": {
        "not-found": "gemini_error_404_model_not_found.json",
        "rate-limit": "gemini_error_429_resource_exhausted.json",
        "overloaded": "gemini_error_503_unavailable.json",
    },
}
_AUTH_ERRORS = {
    "anthropic": "anthropic_error_401_authentication.json",
    "openai": "openai_error_401_invalid_api_key.json",
    "gemini": "gemini_error_400_api_key_invalid.json",
}
_OPENAI_503 = {
    "error": {
        "message": "The server is overloaded or not ready yet.",
        "type": "server_error",
        "param": None,
        "code": None,
    }
}
_OPENAI_STREAM_ERROR = (
    b'data: {"error": {"message": "The server had an error while processing your request.'
    b' Sorry about that!", "type": "server_error", "param": null, "code": null}}\n\n'
)
_GEMINI_STREAM_ERROR = (
    b'data: {"error": {"code": 503, "message": "The model is overloaded. Please try again'
    b' later.", "status": "UNAVAILABLE"}}\r\n\r\n'
)


@dataclass
class Recorded:
    """One request as the server received it."""

    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    json: Any | None  # the body parsed, or None if it is not JSON
    peer: int = 0  # the client's port: requests with the same one shared a connection


def _openai_flavour(model: str) -> str:
    if "deepseek-reasoner" in model:
        return "deepseek_reasoner_stream.sse"
    if "smollm" in model or "llamacpp" in model:
        return "llamacpp_stream_usage.sse"
    if "llama" in model:
        return "ollama_stream_usage.sse"
    return "openai_stream_usage.sse"


def _invalid(dialect: str, message: str) -> Reply:
    message = f"fake server: {message}"
    if dialect == "anthropic":
        error = {"type": "invalid_request_error", "message": message}
        return status(400, {"type": "error", "error": error})
    if dialect == "gemini":
        error = {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}
        return status(400, {"error": error})
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    return status(400, {"error": error})


class FakeServer:
    """A fake provider on 127.0.0.1 (a random port by default), served by a daemon thread."""

    def __init__(
        self, port: int = 0, *, keys: dict[str, str] | None = None, verbose: bool = False
    ) -> None:
        self.port = port
        # Expected key by dialect: "anthropic", "openai", "gemini". "deepseek", "ollama" and
        # "llamacpp" override "openai" for requests whose model routes to them.
        self.keys = keys
        self.verbose = verbose
        self.delay = 0.0  # seconds between events of default (unqueued) streams
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()
        self._requests: list[Recorded] = []
        self.files = FilesAPI()  # Gemini's uploads; reset() keeps them, as Google would
        self._stopping = threading.Event()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> FakeServer:
        if self._httpd is not None:
            raise RuntimeError("FakeServer already started")
        self._stopping.clear()
        self._httpd = _HTTPServer(("127.0.0.1", self.port), _Handler)
        self._httpd.fake = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-llm-server:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()  # wakes stalled and delayed streams
        httpd.shutdown()
        with self._lock:
            connections = list(self._connections.items())
        for sock, _ in connections:  # wakes handlers waiting on keep-alive connections
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for _, thread in connections:
            thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("FakeServer is not running")
        return f"http://127.0.0.1:{self.port}"

    # -- scripting --------------------------------------------------------------------------
    @property
    def requests(self) -> list[Recorded]:
        """A snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def open_connections(self) -> int:
        """Connections a client has open to the server now."""
        with self._lock:
            return len(self._connections)

    def queue(self, *responses: Reply) -> None:
        """Script replies: each request consumes the oldest one left, whatever its path."""
        with self._lock:
            self._queue.extend(responses)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._requests.clear()

    # -- serving ----------------------------------------------------------------------------
    def _receive(self, request: Recorded) -> Reply:
        refusal = self._auth_error(request) or self._broken_history(request)
        with self._lock:
            self._requests.append(request)
        if refusal is None and self.files.handles(request.method, request.path):
            return self.files.reply(
                request.method, request.path, request.query, request.headers, request.body,
                self.url,
            )  # fmt: skip
        if refusal is None and _GEMINI_PATH.match(request.path):
            refusal = self.files.not_active(request.json)
        with self._lock:
            if refusal is None and self._queue:
                return self._queue.popleft()
        return refusal or self._default(request)

    def _broken_history(self, request: Recorded) -> Reply | None:
        """A 400 for a history with a tool call left unanswered, as the APIs refuse it."""
        from tests.servers.tool_checks import unanswered_calls

        dialect = _classify(request)[0]
        problem = unanswered_calls(request.json, dialect)
        return _invalid(dialect, problem) if dialect and problem else None

    def _auth_error(self, request: Recorded) -> Reply | None:
        """The auth error this request deserves, if keys are set and its key is wrong."""
        dialect, name, _ = _classify(request)
        if not self.keys or dialect is None:
            return None
        expected = self.keys.get(name.split("_")[0]) or self.keys.get(dialect)
        headers = request.headers
        bearer = headers.get("authorization", "").removeprefix("Bearer ")
        if dialect == "anthropic":
            given = {bearer, headers.get("x-api-key")}
        elif dialect == "gemini":
            given = {headers.get("x-goog-api-key")}
        else:
            given = {bearer}
        if expected is None or expected in given:
            return None
        return fixture(_AUTH_ERRORS[dialect])

    def _default(self, request: Recorded) -> Reply:
        dialect, name, model = _classify(request)
        if dialect is None:
            error = {"message": f"fake server: no route for {request.method} {request.path}"}
            return status(404, {"error": error})
        if name.endswith(".json"):  # a model list
            return fixture(name)
        for word, error_name in _ERRORS[dialect].items():
            if word in model:
                return fixture(error_name)
        if dialect == "openai" and "overloaded" in model:
            return status(503, _OPENAI_503)
        body = request.json if isinstance(request.json, dict) else {}
        if not name.endswith(".sse"):
            return _invalid(dialect, f"only streamGenerateContent is served, not {name}")
        if dialect != "gemini" and body.get("stream") is not True:
            return _invalid(dialect, 'only streaming requests ("stream": true) are served')
        if "midstream-error" in model:
            if dialect == "anthropic":
                return fixture("anthropic_stream_error_overloaded.sse", delay=self.delay)
            reply = fixture(name, delay=self.delay)
            error = _GEMINI_STREAM_ERROR if dialect == "gemini" else _OPENAI_STREAM_ERROR
            reply.events = [*(reply.events or [])[:4], error]
            return reply
        if "dropped" in model:
            return fixture(name, cut_after=4, delay=self.delay)
        if "runaway" in model:
            return runaway(dialect)
        if "drip" in model:
            return drip(dialect)
        return fixture(name, delay=self.delay)


def _classify(request: Recorded) -> tuple[str | None, str, str]:
    """(dialect, default fixture name or Gemini verb, model); dialect None if unknown."""
    body = request.json if isinstance(request.json, dict) else {}
    model = str(body.get("model", ""))
    path, headers = request.path, request.headers
    if _GEMINI_FILES.match(path) and "upload_id=" not in request.query:
        return "gemini", "files", ""  # (an upload's own URL is its key: no header)
    if request.method == "GET" and path in _MODEL_LISTS:
        if "anthropic-version" in headers:
            return "anthropic", "anthropic_models_list.json", ""
        if "x-goog-api-key" in headers or path.startswith("/v1beta"):
            return "gemini", "gemini_models_list.json", ""
        return "openai", "openai_models_list.json", ""
    if request.method != "POST":
        return None, "", ""
    if path == "/v1/messages":
        thinking = body.get("thinking")
        kind = thinking.get("type") if isinstance(thinking, dict) else None
        name = "thinking" if kind in ("enabled", "adaptive") else "text"
        return "anthropic", f"anthropic_stream_{name}.sse", model
    if path in _OPENAI_PATHS:
        return "openai", _openai_flavour(model), model
    if match := _GEMINI_PATH.match(path):
        if match["verb"] != "streamGenerateContent":
            return "gemini", match["verb"], match["model"]
        thinking = (body.get("generationConfig") or {}).get("thinkingConfig") or {}
        # google-genai 3.4 sends the inner keys in snake_case; the API takes both spellings.
        thoughts = True in (thinking.get("includeThoughts"), thinking.get("include_thoughts"))
        name = "thinking" if thoughts else "text"
        return "gemini", f"gemini_stream_{name}.sse", match["model"]
    return None, "", ""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default listen backlog of 5 drops concurrent connects
    fake: FakeServer

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn), which can be slow.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a client hanging up is not an error
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        fake = self.server.fake
        with fake._lock:
            fake._connections[self.connection] = threading.current_thread()
        if fake._stopping.is_set():  # accepted while stop() ran: it may have missed us
            self._abort()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            fake = self.server.fake
            with fake._lock:
                fake._connections.pop(self.connection, None)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        body = self._read_body()
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake = self.server.fake
        recorded = Recorded(
            self.command, path, query, headers, body, parsed, self.client_address[1]
        )
        reply = fake._receive(recorded)
        if fake.verbose:
            print(f"{self.command} {self.path} -> {reply.label}", file=sys.stderr, flush=True)
        try:
            self._send(reply, fake._stopping)
        except OSError:  # the client went away mid-reply
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(parts)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _abort(self) -> None:
        """Close the connection mid-reply: the client sees the body end early."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, reply: Reply, stopping: threading.Event) -> None:
        if reply.drop:
            self._abort()
            return
        self.send_response_only(reply.status)
        self.send_header("Date", self.date_time_string())
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.close:
            self.send_header("Connection", "close")
        if reply.events is None:
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        limits = [n for n in (reply.cut_after, reply.stall_after) if n is not None]
        for i, event in enumerate(reply.events[: min(limits, default=None)]):
            if i and reply.delay and stopping.wait(reply.delay):
                self._abort()
                return
            if event:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
        if reply.stall_after is not None and reply.stall_after == min(limits):
            stopping.wait(reply.stall_seconds)
        if limits:
            self._abort()
        else:
            self.wfile.write(b"0\r\n\r\n")
