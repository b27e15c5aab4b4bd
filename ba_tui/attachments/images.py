"""Images as providers want them: no larger than any of them uses.

Anthropic downscales anything over 1568 px on its long edge, OpenAI fits its high detail
into 2048 px and then 768 px on the short side, Gemini tiles at 768 px: past 1568 px a
bigger image only costs upload time and request size. So one downscale, done when the
file is attached, serves every provider, and the store keeps what was sent. Pillow is
imported only here, when an image is attached.
"""

from __future__ import annotations

import io

from ba_tui.attachments.documents import Unreadable

MAX_EDGE = 1568
# Pillow refuses larger images as a decompression bomb; the refusal is our line instead.
MAX_PIXELS = 200_000_000


def fit(data: bytes, mime: str, name: str) -> tuple[bytes, str, str | None]:
    """(the bytes to send, their type, a note when they were downscaled). A small image
    is sent as it is; a large one is resized to MAX_EDGE on its long edge, as PNG when it
    has transparency or was a PNG, else as JPEG (quality 90)."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if max(width, height) <= MAX_EDGE:
                return data, mime, None
            if getattr(image, "n_frames", 1) > 1:
                raise Unreadable(
                    f"{name} is an animated image of {width}×{height} px",
                    f"attach a still image no larger than {MAX_EDGE} px",
                )
            image.draft("RGB", (MAX_EDGE, MAX_EDGE))  # JPEG: decode at a smaller scale
            scale = MAX_EDGE / max(width, height)
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            smaller = image.convert("RGBA" if _has_alpha(image) else "RGB")
            smaller = smaller.resize(size, Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as exc:
        raise Unreadable(
            f"{name} is not an image ba-chat can read ({exc})", "check the file"
        ) from None
    out = io.BytesIO()
    if smaller.mode == "RGBA" or mime == "image/png":
        smaller.save(out, "PNG", optimize=False)
        sent = "image/png"
    else:
        smaller.save(out, "JPEG", quality=90)
        sent = "image/jpeg"
    note = f"{name} was downscaled from {width}×{height} to {size[0]}×{size[1]} px"
    return out.getvalue(), sent, note


def _has_alpha(image: object) -> bool:
    mode = getattr(image, "mode", "")
    info = getattr(image, "info", {})
    return mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in info)
