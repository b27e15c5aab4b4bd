"""An attachment given as an http(s) URL: fetched once, with a size cap and a timeout.

httpx2 comes with every provider SDK; it is imported only when a URL is attached.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from ba_tui.errors import UsageError


def fetch(url: str, cap: int, timeout: float) -> tuple[str, bytes, str | None]:
    """(a file name from the URL, the body, the server's Content-Type without parameters);
    UsageError (exit 2) for a failed download or a body over `cap` bytes."""
    import httpx2

    name = unquote(PurePosixPath(urlsplit(url).path).name) or urlsplit(url).hostname or "download"
    try:
        with (
            httpx2.Client(follow_redirects=True, timeout=timeout) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise UsageError(
                    f"could not fetch {url}: HTTP {response.status_code}",
                    "check the URL, or download the file and attach it",
                )
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > cap:
                raise _too_big(url, cap)
            chunks, total = [], 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > cap:
                    raise _too_big(url, cap)
                chunks.append(chunk)
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    except httpx2.HTTPError as exc:
        raise UsageError(
            f"could not fetch {url}: {exc or type(exc).__name__}",
            "check the URL and your connection, or download the file and attach it",
        ) from None
    return name, b"".join(chunks), kind or None


def _too_big(url: str, cap: int) -> UsageError:
    return UsageError(
        f"{url} is larger than the {cap // (1024 * 1024)} MB ba-chat attaches",
        "download it and attach a part (a PDF's page range: FILE#p=1-50)",
    )
