"""Files too large to send Gemini inline go through its Files API: uploaded with the
resumable protocol to the fake server, waited for until ACTIVE, sent as `fileData`; the
user is told, the upload is reused within a turn, and a FAILED file is one line.

The files are the real size (just over Gemini's 50 MB inline limit for a PDF): over
127.0.0.1 the upload takes about 0.3 s, so no limit is lowered for the tests."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from ba_tui import uploads
from ba_tui.attachments import fit, kinds, load
from ba_tui.events import Notice
from ba_tui.messages import Attachment, Blob
from ba_tui.models import FileService, provider_capabilities
from ba_tui.session import ChatSession
from ba_tui.store import Store
from tests import attachfiles
from tests.conftest import KEYS, run_cli
from tests.servers import fixture, text_stream, tool_stream

GEMINI = provider_capabilities("gemini")
INLINE_PDF = 50_000_000  # Gemini's inline limit for one PDF (models.py has the source)
MODEL = "gemini-2.5-flash"


def pdf_of(size: int) -> bytes:
    """A one-page PDF ("Cover") padded to exactly `size` bytes."""
    padding = size
    while len(data := attachfiles.pdf_bytes(["Cover"], padding=padding)) != size:
        padding -= len(data) - size  # (the numbers in the PDF grow with it: settles in two)
    return data


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """scan.pdf, one byte over the inline limit."""
    path = tmp_path_factory.mktemp("big") / "scan.pdf"
    path.write_bytes(pdf_of(INLINE_PDF + 1))
    return path


def remembered(store: Store) -> list[dict]:
    """The uploads the store remembers for later processes."""
    return json.loads(store.get_kv(uploads.KEY) or "[]")


def file_looks(server) -> list[str]:
    """The files a client asked the Files API about (`files.get`), in order."""
    return [
        r.path.removeprefix("/v1beta/")
        for r in server.requests
        if r.method == "GET" and r.path.startswith("/v1beta/files/")
    ]


def generate_requests(server) -> list[dict]:
    return [r.json for r in server.requests if r.path.endswith(":streamGenerateContent")]


def upload_starts(server) -> list:
    return [r for r in server.requests if r.headers.get("x-goog-upload-command") == "start"]


def file_parts(body: dict) -> list[dict]:
    return [part["fileData"] for c in body["contents"] for part in c["parts"] if "fileData" in part]


def note(name: str, size: str) -> str:
    return (
        f"ba-chat: {name} ({size}) goes to {MODEL} through Gemini's Files API (too large to "
        "send inline), which keeps a copy for 48 hours"
    )


# -- which files go: the rule the check and the adapter share ----------------------------


def test_files_over_the_inline_limits_go_through_the_files_api_and_the_rest_inline():
    assert fit.uploads([(INLINE_PDF, True), (100, False)], GEMINI) == set()
    assert fit.uploads([(INLINE_PDF + 1, True), (100, False)], GEMINI) == {0}
    # Two 40 MB files are 107 MB in base64, over the 100 MB a request takes inline: the
    # larger one goes, the other stays inline.
    assert fit.uploads([(39_000_000, True), (40_000_000, True)], GEMINI) == {1}
    assert fit.uploads([(30_000_000, True), (30_000_000, True)], GEMINI) == set()
    # Providers without a file service refuse instead (the check says so).
    assert fit.uploads([(INLINE_PDF + 1, True)], provider_capabilities("anthropic")) == set()


def test_the_check_tells_the_user_and_refuses_only_past_the_file_service_limit():
    def pdf(size: int) -> tuple[Attachment, Blob]:
        part = Attachment("scan.pdf", kinds.PDF, size, "ab" * 32, pages=1)
        return part, Blob(b"\0" * size)

    assert fit.check([pdf(INLINE_PDF)], MODEL, GEMINI) == []
    assert fit.check([pdf(INLINE_PDF + 1)], MODEL, GEMINI) == [
        note("scan.pdf", "47.7 MB").removeprefix("ba-chat: ")
    ]
    small_service = replace(GEMINI, file_service=FileService("Gemini's Files API", 1000, "48 h"))
    with pytest.raises(fit.Refused) as refused:
        fit.check([pdf(INLINE_PDF + 1)], MODEL, small_service, sources=["scan.pdf"])
    assert refused.value.line() == (
        "scan.pdf is 47.7 MB, more than the 1000 B Gemini's Files API takes; attach a range "
        "of pages, e.g. -a 'scan.pdf#p=1-100'"
    )


# -- the adapter against the fake Files API ----------------------------------------------


async def test_a_pdf_over_the_inline_limit_is_uploaded_once_for_the_whole_tool_loop(
    setup, big, tmp_path, monkeypatch
):
    server, store, config = setup
    (tmp_path / "notes.txt").write_text("hello from notes\n")
    monkeypatch.chdir(tmp_path)  # the folder read_file may read
    server.queue(
        tool_stream("gemini", [("call_1", "read_file", {"path": "notes.txt"})]),
        text_stream("gemini", "The scan and the notes agree."),
    )
    session = ChatSession(config, store)
    session.use_tools(["read_file"], policy="read-only")
    events: list = []
    turn = await session.send(
        "Compare",
        session.target("gemini", MODEL),
        attached=[load(str(big))],
        on_event=events.append,
    )
    assert turn.status == "complete", turn.error
    assert [e.notice for e in events if isinstance(e, Notice)] == [note("scan.pdf", "47.7 MB")]
    # One upload, its bytes the file's, made ACTIVE before use (the fake refuses otherwise).
    assert len(upload_starts(server)) == 1
    ((name, received),) = server.files.uploaded().items()
    assert received == big.read_bytes()
    uri = server.files.files[name].resource["uri"]
    # Both steps of the loop refer to it; neither carries the bytes.
    steps = generate_requests(server)
    assert len(steps) == 2
    for body in steps:
        # (google-genai writes fileData's keys in snake_case; the API takes both)
        assert file_parts(body) == [{"file_uri": uri, "mime_type": "application/pdf"}]
        assert "inlineData" not in json.dumps(body)
    # Stored as any attachment: the bytes in ba-chat's store, not a URI.
    user = store.messages(session.thread.id)[0]
    assert [p.name for p in user.parts if isinstance(p, Attachment)] == ["scan.pdf"]


async def test_a_retry_reuses_the_upload_and_a_later_session_uploads_again_once_it_is_gone(
    setup, big, tmp_path
):
    server, store, config = setup
    copy = tmp_path / "scan.pdf"
    copy.write_bytes(big.read_bytes())
    server.queue(fixture("gemini_error_503_unavailable.json"))  # the first try: overloaded
    first = ChatSession(config, store)
    target = first.target("gemini", MODEL)
    turn = await first.send("Summarise", target, attached=[load(str(copy))])
    assert turn.status == "complete" and turn.attempts == 2
    assert len(upload_starts(server)) == 1
    tries = generate_requests(server)
    assert len(tries) == 2 and file_parts(tries[0]) == file_parts(tries[1])
    ((first_name, _),) = server.files.uploaded().items()
    assert [r["name"] for r in remembered(store)] == [first_name]
    # Later, in a new process (a new session), with the file gone here and at Google (it
    # expired early, or the key is another project's): the thread replays it from the
    # store, through a new upload that replaces the record.
    copy.unlink()
    server.reset()
    server.files.forget(first_name)
    later = ChatSession(config, store, store.latest_thread())
    events: list = []
    turn = await later.send(
        "And the cover page?", later.target("gemini", MODEL), on_event=events.append
    )
    assert turn.status == "complete", turn.error
    # Said, as the first upload was: the file goes to Google again.
    assert [e.notice for e in events if isinstance(e, Notice)] == [
        "ba-chat: scan.pdf, from earlier in this thread, went to Gemini's Files API again "
        "(its earlier copy was gone or expired), which keeps it for 48 hours"
    ]
    body = generate_requests(server)[-1]
    (sent,) = file_parts(body)
    stored = next(f for f in server.files.files.values() if f.resource["uri"] == sent["file_uri"])
    # Asked about once (answered 403), then only the new upload, until it was ACTIVE.
    first_look, *waits = file_looks(server)
    assert first_look == first_name and set(waits) == {stored.resource["name"]}
    assert stored.data == big.read_bytes()
    assert len(upload_starts(server)) == 1
    assert [(r["name"], r["uri"]) for r in remembered(store)] == [
        (stored.resource["name"], sent["file_uri"])
    ]
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["contents"][0]["parts"][1] == {"text": "Summarise"}


def test_ask_c_in_a_new_process_sends_the_earlier_upload_and_the_store_keeps_no_key(
    server, env, home, big
):
    ask = ("ask", "--no-reasoning", "-p", "gemini", "-m", MODEL)
    first = run_cli(*ask, "-a", str(big), "Summarise", env=env)
    assert first.returncode == 0, first.stderr
    ((name, _),) = server.files.uploaded().items()
    uri = server.files.files[name].resource["uri"]
    server.reset()
    later = run_cli(*ask, "-c", "next", env=env)
    assert later.returncode == 0, later.stderr
    assert later.stderr == ""  # reusing the copy Google keeps is not news
    assert upload_starts(server) == []
    assert file_looks(server) == [name]  # one check that this key can still use it
    (body,) = generate_requests(server)
    assert file_parts(body) == [{"file_uri": uri, "mime_type": "application/pdf"}]
    with Store.open(home / "ba-chat.db") as store:
        assert [(r["base_url"], r["name"], r["uri"]) for r in remembered(store)] == [
            (server.url, name, uri)
        ]
    key = KEYS["GEMINI_API_KEY"].encode()
    for path in home.glob("ba-chat.db*"):
        assert key not in path.read_bytes(), path


def test_a_file_gemini_cannot_process_is_one_line_and_the_prompt_is_kept(
    server, env, home, tmp_path, big
):
    failing = tmp_path / "fail-processing.pdf"  # the fake Files API fails this name
    failing.write_bytes(big.read_bytes())
    done = run_cli(
        "ask", "--no-reasoning", "-p", "gemini", "-m", MODEL, "-a", str(failing), "Summarise",
        env=env,
    )  # fmt: skip
    assert done.returncode == 4
    assert done.stderr.splitlines() == [
        note("fail-processing.pdf", "47.7 MB"),
        "ba-chat: error: gemini could not process fail-processing.pdf in its Files API (File "
        "processing failed.); try again; if it fails again, attach a range of pages or a "
        "smaller file",
    ]
    assert done.stdout == ""
    assert generate_requests(server) == []  # nothing was asked of the model
    with Store.open(home / "ba-chat.db") as store:
        user, reply = store.messages(store.latest_thread().id)
    (part,) = [p for p in user.parts if isinstance(p, Attachment)]
    assert (part.name, part.size) == ("fail-processing.pdf", INLINE_PDF + 1)
    assert store_blob(home, part.sha256) == big.read_bytes()
    assert (reply.status, reply.content) == ("error", "")


def store_blob(home: Path, sha256: str) -> bytes:
    with Store.open(home / "ba-chat.db") as store:
        return store.blobs({sha256})[sha256].data


async def test_a_file_still_processing_past_the_wait_is_one_line(server, monkeypatch):
    from google import genai
    from google.genai import types

    from ba_tui.errors import ProviderError
    from ba_tui.providers import gemini_files

    monkeypatch.setattr(gemini_files, "READY_SECONDS", 1.0)  # not two minutes in a test
    options = types.HttpOptions(base_url=server.url, api_version="v1beta")
    client = genai.Client(api_key="k", http_options=options)
    piece = fit.Native("stay-processing.pdf", kinds.PDF, b"%PDF-1.4\n" + b"0" * 100, "cd" * 32)
    caps = replace(GEMINI, inline_file_bytes=10)  # a small file to the Files API
    try:
        with pytest.raises(ProviderError) as failed:
            await gemini_files.references(client, [piece, "Summarise"], caps)
    finally:
        await client.aio.aclose()
    assert failed.value.line() == (
        "gemini's Files API was still processing stay-processing.pdf after 1 s; try again in "
        "a few minutes"
    )
    # It asked again, after short waits, before giving up.
    assert len([r for r in server.requests if r.method == "GET"]) >= 2


async def test_an_earlier_upload_near_its_expiry_is_not_used_and_an_outage_is_no_reupload(server):
    from datetime import UTC, datetime, timedelta

    from google import genai
    from google.genai import errors as genai_errors
    from google.genai import types

    from ba_tui.events import Uploaded
    from ba_tui.providers import gemini_files

    options = types.HttpOptions(base_url=server.url, api_version="v1beta")
    piece = fit.Native("small.pdf", kinds.PDF, b"%PDF-1.4\n" + b"0" * 100, "ef" * 32)
    caps = replace(GEMINI, inline_file_bytes=10)  # a small file to the Files API

    async def references(earlier: Uploaded) -> list[Uploaded]:
        made: list[Uploaded] = []
        client = genai.Client(api_key="k", http_options=options)  # a new process's
        try:
            await gemini_files.references(client, [piece], caps, [earlier], made)
        finally:
            await client.aio.aclose()
        return made

    later = (datetime.now(UTC) + timedelta(hours=40)).isoformat()
    lost = Uploaded(piece.sha256, piece.mime, "files/lost", "https://x/files/lost", later)
    (upload,) = await references(lost)  # 403: not this key's, or gone
    assert file_looks(server)[0] == "files/lost" and upload.name != "files/lost"
    assert upload.expires is not None
    # Good for 30 minutes more: under the hour a reply with tools may take, so made again
    # without asking about the old one.
    soon = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    server.reset()
    (again,) = await references(replace(upload, expires=soon))
    assert again.name != upload.name and file_looks(server)[0] == again.name
    assert len(upload_starts(server)) == 1
    # An outage while checking is the turn's error (the runner retries it), not an upload.
    server.reset()
    server.files.fail_next_look(500, "An internal error has occurred.", "INTERNAL")
    with pytest.raises(genai_errors.ServerError):
        await references(again)
    assert upload_starts(server) == [] and file_looks(server) == [again.name]
    assert await references(again) == []  # and the next try uses it
    assert len(file_looks(server)) == 2 and upload_starts(server) == []
