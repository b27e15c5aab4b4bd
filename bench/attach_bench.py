"""Attachment benchmark: how long attaching and sending a 50 MB PDF and a 20-megapixel
image takes through the CLI, and where the time goes.

    python bench/attach_bench.py [--runs 3] [--megabytes 50] [--pages 400]

Makes, in a temp dir, a PDF of `--pages` pages, each with a line of text and an
incompressible grey-scale picture (as a scan is), about `--megabytes` in all, and a
5472×3648 JPEG (20 MP, a phone photo). Then, median of `--runs`:
  load      attachments.load in-process, split into its steps (read, PDF parse and page
            count, text extraction, sha256; for the image, decode + downscale);
  upload    the whole PDF through Gemini's Files API in-process (resumable upload in
            8 MB chunks, then polling until ACTIVE), as the adapter does for a file over
            the inline limit, with a new client each run (so nothing is reused);
  ask       whole `ba-chat ask --no-save -a FILE` processes against the fake server on
            127.0.0.1, until the reply is printed: the PDF to Gemini with `#p=1-100`, and
            whole (over the 50 MB inline limit: uploaded to the Files API, then sent), to
            Anthropic whole (over its request limit: that refusal is timed too), the image
            to OpenAI (downscaled to 1568 px first).
Prints seconds. Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import make_env  # noqa: E402
from tests.servers import FakeServer  # noqa: E402

SIDE = 354  # a 354×354 8-bit picture per page: 125 KB that no filter shrinks


def make_pdf(path: Path, pages: int, megabytes: float) -> None:
    """`pages` pages of text and a random grey picture, about `megabytes` in all."""
    side = max(16, int((megabytes * 1024 * 1024 / pages) ** 0.5))
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    font = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for number in range(1, pages + 1):
        picture = os.urandom(side * side)
        objects.append(
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray"
            b" /BitsPerComponent 8 /Length %d >>\nstream\n%s\nendstream"
            % (side, side, len(picture), picture)
        )
        image = len(objects)
        text = f"Requirement {number}: the system shall keep page {number} searchable"
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET q 200 0 0 200 72 400 cm /Im1 Do Q"
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream.encode()))
        contents = len(objects)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {contents} 0 R"
            f" /Resources << /Font << /F1 {font} 0 R >>"
            f" /XObject << /Im1 {image} 0 R >> >> >>".encode()
        )
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {pages} >>".encode()
    with path.open("wb") as out:
        out.write(b"%PDF-1.4\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(out.tell())
            out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
        xref = out.tell()
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
        for offset in offsets:
            out.write(b"%010d 00000 n \n" % offset)
        out.write(
            b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, xref)
        )


def make_photo(path: Path) -> None:
    from PIL import Image

    noise = Image.effect_noise((5472, 3648), 40).convert("RGB")
    noise.save(path, "JPEG", quality=90)


def median_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def pdf_steps(path: Path, runs: int) -> dict[str, float]:
    from ba_tui.attachments import documents, load

    data = path.read_bytes()
    reader = documents.pdf_reader(data, path.name)
    return {
        "read the file": median_of(runs, path.read_bytes),
        "parse + count pages": median_of(
            runs, lambda: documents.pdf_pages(documents.pdf_reader(data, path.name))
        ),
        "extract text (all pages)": median_of(runs, lambda: documents.pdf_text(reader)),
        "sha256": median_of(runs, lambda: hashlib.sha256(data).hexdigest()),
        "load() whole file": median_of(runs, lambda: load(str(path))),
        "load() #p=1-100": median_of(runs, lambda: load(f"{path}#p=1-100")),
    }


def image_steps(path: Path, runs: int) -> dict[str, float]:
    from ba_tui.attachments import images, load

    data = path.read_bytes()
    return {
        "read the file": median_of(runs, path.read_bytes),
        "decode + downscale": median_of(runs, lambda: images.fit(data, "image/jpeg", "x")),
        "load()": median_of(runs, lambda: load(str(path))),
    }


def gemini_upload(path: Path, server: FakeServer, runs: int) -> dict[str, float]:
    """The Files API part of sending `path` to Gemini, as the adapter does it."""
    import asyncio

    from google import genai
    from google.genai import types

    from ba_tui.attachments import kinds
    from ba_tui.attachments.fit import Native
    from ba_tui.models import provider_capabilities
    from ba_tui.providers import gemini_files

    data = path.read_bytes()
    piece = Native(path.name, kinds.PDF, data, hashlib.sha256(data).hexdigest())
    caps = provider_capabilities("gemini")

    async def upload() -> None:
        options = types.HttpOptions(base_url=server.url, api_version="v1beta")
        client = genai.Client(api_key="bench", http_options=options)
        try:
            assert await gemini_files.references(client, [piece, "Summarise"], caps)
        finally:
            await client.aio.aclose()

    return {
        f"upload {len(data) / 1e6:.0f} MB until ACTIVE": median_of(
            runs, lambda: asyncio.run(upload())
        )
    }


def cli(env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ba_tui", "ask", "--no-save", "--no-reasoning", *args, "Summarise"],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    return time.perf_counter() - started, f"exit {done.returncode}: {done.stderr.strip()[:140]}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--megabytes", type=float, default=50)
    parser.add_argument("--pages", type=int, default=400)
    given = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, FakeServer() as server:
        pdf, photo = Path(folder) / "scan.pdf", Path(folder) / "photo.jpg"
        make_pdf(pdf, given.pages, given.megabytes)
        make_photo(photo)
        print(
            f"PDF: {pdf.stat().st_size / 1e6:.1f} MB, {given.pages} pages; "
            f"photo: 5472×3648 JPEG, {photo.stat().st_size / 1e6:.1f} MB"
        )
        for title, steps in (
            ("PDF", pdf_steps(pdf, given.runs)),
            ("PDF to Gemini's Files API", gemini_upload(pdf, server, given.runs)),
            ("image", image_steps(photo, given.runs)),
        ):
            print(f"\n{title}, in-process (median of {given.runs}):")
            for name, seconds in steps.items():
                print(f"  {name:<26} {seconds:7.3f} s")
        home = Path(folder) / "home"
        home.mkdir()
        env = make_env(server.url, home)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cases = [
            ("PDF #p=1-100 -> gemini", ["-p", "gemini", "-a", f"{pdf}#p=1-100"]),
            ("whole PDF -> gemini (Files API)", ["-p", "gemini", "-a", str(pdf)]),
            ("whole PDF -> anthropic (refused)", ["-p", "anthropic", "-a", str(pdf)]),
            ("photo -> openai", ["-p", "openai", "-a", str(photo)]),
            ("no attachment -> openai", ["-p", "openai"]),
        ]
        print(f"\nwhole `ba-chat ask` processes (median of {given.runs}, after one warm-up):")
        for name, args in cases:
            cli(env, *args)
            results = [cli(env, *args) for _ in range(given.runs)]
            seconds = statistics.median(r[0] for r in results)
            print(f"  {name:<34} {seconds:7.3f} s   ({results[-1][1] or 'exit 0'})")


if __name__ == "__main__":
    main()
