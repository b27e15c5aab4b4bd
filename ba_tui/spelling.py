"""Names close to a mistyped one, for "did you mean ...?" (a leaf: imports nothing of ours)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, names: Iterable[str], limit: int = 3) -> list[str]:
    """The names spelled most like `word`, best first: only those nearly as close as the
    best, so `default_modle` offers default_model and not default_provider beside it."""

    def score(name: str) -> float:
        return difflib.SequenceMatcher(None, word, name).ratio()

    close = difflib.get_close_matches(word, list(names), n=limit, cutoff=0.6)
    return [name for name in close if score(name) >= score(close[0]) - 0.1]
