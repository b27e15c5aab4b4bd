"""The built-in tools through the Toolbox, as the loop runs them: what they read, what they
refuse, and how a denial or a failure comes back (always a result, never an exception)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ba_tui.messages import ToolCall
from ba_tui.tools import Decision, Toolbox
from ba_tui.tools.builtin import BUILTIN


@pytest.fixture
def box(tmp_path, monkeypatch) -> Toolbox:
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    (work / "a.txt").write_text("alpha")
    (tmp_path / "secret.txt").write_text("outside")
    (work / "link.txt").symlink_to(tmp_path / "secret.txt")
    monkeypatch.chdir(work)
    return Toolbox.of(BUILTIN.values(), "all")


async def _run(box: Toolbox, name: str, **arguments):
    return await box.run(ToolCall("c1", name, arguments))


async def test_files_under_the_current_directory_are_read_and_listed(box):
    assert (await _run(box, "read_file", path="a.txt")).output == "alpha"
    listing = (await _run(box, "list_folder")).output
    assert listing.splitlines() == ["a.txt (5 bytes)", "link.txt (7 bytes)", "sub/"]


@pytest.mark.parametrize("path", ["../secret.txt", "link.txt", "/etc/hostname"])
async def test_nothing_outside_the_current_directory_is_read(box, path):
    result = await _run(box, "read_file", path=path)
    assert result.is_error and "outside the current directory" in result.output


async def test_current_time_says_the_year(box):
    import datetime

    assert str(datetime.date.today().year) in (await _run(box, "current_time")).output


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = (
            b"<html><head><title>Notes</title><style>p{}</style></head>"
            b"<body><script>alert(1)</script><p>First  para.</p><p>Second.</p></body></html>"
        )
        status = 404 if self.path == "/missing" else 200
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


async def test_fetch_url_gives_a_page_as_readable_text(box):
    web = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{web.server_address[1]}"
    try:
        page = await _run(box, "fetch_url", url=f"{base}/notes")
        missing = await _run(box, "fetch_url", url=f"{base}/missing")
    finally:
        web.shutdown()
    assert page.output == "# Notes\n\nFirst para.\nSecond." and not page.is_error
    assert missing.is_error and "HTTP 404" in missing.output
    bad = await _run(box, "fetch_url", url="file:///etc/passwd")
    assert bad.is_error and "http://" in bad.output


async def test_unknown_tools_and_bad_arguments_are_results(box):
    unknown = await _run(box, "rm_rf")
    assert unknown.is_error and "no tool named 'rm_rf'" in unknown.output
    broken = await box.run(ToolCall("c2", "read_file", {}, meta={"invalid_arguments": "{oops"}))
    assert broken.is_error and "not a JSON object: {oops" in broken.output


async def test_approval_once_session_and_deny_with_a_reason(box):
    asked = []

    async def approve(call, tool):
        asked.append(call.id)
        return answers.pop(0)

    answers = [Decision(False, reason="not now"), Decision(True, "session")]
    box = Toolbox.of(BUILTIN.values(), "ask", approve)
    denied = await _run(box, "read_file", path="a.txt")
    assert denied.is_error and denied.output == "denied by the user: not now"
    assert denied.approval == "denied"
    allowed = await _run(box, "read_file", path="a.txt")
    again = await _run(box, "read_file", path="a.txt")  # allowed for the session: not asked
    assert (allowed.approval, again.approval, len(asked)) == ("session", "session", 2)
    read_only = Toolbox.of(BUILTIN.values(), "read-only")  # built-ins only read: no question
    assert (await _run(read_only, "read_file", path="a.txt")).approval == "policy"


async def test_a_tool_that_raises_anything_is_an_error_result():
    from ba_tui.tools import Tool

    async def broken(arguments):
        raise RuntimeError("bug in the tool")

    box = Toolbox.of([Tool("broken", "d", {}, broken)], "all")
    result = await _run(box, "broken")
    assert result.is_error and result.output == "the tool failed: RuntimeError: bug in the tool"


async def test_edited_arguments_run_and_the_model_is_told(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("alpha")
    (tmp_path / "b.txt").write_text("bravo")

    async def approve(call, tool):
        return Decision(True, "once", arguments={"path": "b.txt"})

    box = Toolbox.of(BUILTIN.values(), "ask", approve)
    result = await _run(box, "read_file", path="a.txt")
    assert not result.is_error and "bravo" in result.output and "alpha" not in result.output
    assert result.output.startswith('(the user changed the arguments to {"path": "b.txt"})')
