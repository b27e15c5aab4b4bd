"""Masking API keys in any text about to be shown, logged or stored. A leaf: imports
nothing of ours, so errors, logs and the store can all use it.

A provider may echo a key whole, without its `sk-` prefix, or with its last letters
starred out; each of those still hands out most of the key. So any run of `PIECE` or more
characters of a key this process has seen is masked, not just the whole key, and so is
anything shaped like a well-known provider's key.
"""

from __future__ import annotations

import re

MASK = "[redacted]"
# The shortest piece of a known key that is masked. Eight characters of a random key are
# worthless to an attacker but unlikely to occur by chance in ordinary text.
PIECE = 8
# Shorter values are dummies such as "ollama" or "none"; masking them would mangle lines
# that name the provider, and they protect nothing.
MIN_REMEMBERED = 8

# Shapes of real provider keys: OpenAI/DeepSeek/OpenRouter `sk-…`, Anthropic `sk-ant-…`,
# Google `AIza…`, Groq `gsk_…`, xAI `xai-…`, Hugging Face `hf_…`; and the half-masked echo
# in OpenAI's 401 ("sk-proj-****…abcd"), which still shows the key's first and last letters.
_SHAPES = re.compile(
    r"\b(?:sk-[A-Za-z0-9_\-]*(?:[*•]{3,}|…)[A-Za-z0-9]*"
    r"|sk-ant-[A-Za-z0-9_\-]{6,}|sk-[A-Za-z0-9_\-]{6,}|AIza[0-9A-Za-z_\-]{10,}"
    r"|gsk_[A-Za-z0-9]{20,}|xai-[A-Za-z0-9]{20,}|hf_[A-Za-z0-9]{20,})"
)

_seen: set[str] = set()
# Built when a key is remembered (a handful of times per process), so `redact` only scans.
# A piece of PIECE characters always holds a whole GRAM that starts at a multiple of STRIDE
# in the text (STRIDE + GRAM - 1 <= PIECE), and that GRAM is a piece of the key too. So
# `redact` looks up only every STRIDE-th GRAM of the text in `_grams`, and only around a
# hit checks the PIECE-character windows against `_pieces`: about len(text) / 5 set
# look-ups, whatever the number and length of keys (bench/redact_bench.py measures it).
GRAM, STRIDE = 4, 5
_grams: frozenset[str] = frozenset()
_pieces: frozenset[str] = frozenset()


def _windows(width: int) -> frozenset[str]:
    return frozenset(
        key[start : start + width] for key in _seen for start in range(len(key) - width + 1)
    )


def remember(key: str) -> str:
    """Note `key` so `redact` masks it, and any piece of it, from now on; returns it."""
    global _grams, _pieces
    if not key or len(key) < MIN_REMEMBERED or key in _seen:
        return key
    _seen.add(key)
    _grams, _pieces = _windows(GRAM), _windows(PIECE)
    return key


def redact(text: str) -> str:
    """`text` with every known key, every run of PIECE or more characters of one, and
    anything shaped like a key replaced by MASK."""
    # Shapes first: a piece masked inside a key-shaped string would break its match and
    # leave the rest of that (other) key showing.
    text = _SHAPES.sub(MASK, text)
    return _mask_pieces(text) if _pieces else text


def _piece_starts(text: str) -> list[int]:
    """Ascending offsets in `text` where a PIECE-character window of a known key starts."""
    pieces, grams, last = _pieces, _grams, len(text) - PIECE
    starts = []
    for probe in range(0, len(text) - GRAM + 1, STRIDE):
        if text[probe : probe + GRAM] in grams:
            for start in range(max(probe - STRIDE + 1, 0), min(probe, last) + 1):
                if text[start : start + PIECE] in pieces:
                    starts.append(start)
    return starts


def _mask_pieces(text: str) -> str:
    """`text` with each stretch covered by known-key windows masked (overlapping or
    touching windows make one stretch, so a 20-character echo becomes one MASK)."""
    stretches: list[list[int]] = []
    for start in _piece_starts(text):
        if stretches and start <= stretches[-1][1]:
            stretches[-1][1] = start + PIECE
        else:
            stretches.append([start, start + PIECE])
    out, kept = [], 0
    for begin, end in stretches:
        out += [text[kept:begin], MASK]
        kept = end
    out.append(text[kept:])
    return "".join(out)
