"""Full-text search over every message, best match first, with the matches marked."""

from __future__ import annotations

from dataclasses import dataclass

from ba_tui.store.database import Database, guarded

SEARCH_WINDOW = 2000
_SEARCH_HIT = """
SELECT m.id, m.thread_id, t.title, m.role, m.created_at, snippet(messages_fts, 0, ?, ?, '…', 16)
FROM messages_fts
JOIN messages AS m ON m.rowid = messages_fts.rowid
JOIN threads AS t ON t.id = m.thread_id
WHERE messages_fts MATCH ? AND messages_fts.rowid = ?
"""


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A message matching a search; `snippet` marks the matches with the chosen highlight."""

    message_id: str
    thread_id: str
    thread_title: str
    role: str
    created_at: str
    snippet: str


class Search(Database):
    """Searching the messages' text."""

    @guarded
    def search(
        self, query: str, limit: int = 50, *, highlight: tuple[str, str] = ("[", "]")
    ) -> list[SearchHit]:
        """Messages containing every word of `query`, best match first.

        Any text is a valid query: each word is quoted, so FTS syntax (`"`, `*`, `NEAR(`,
        `AND`, `-`) is searched for literally, never parsed. Ranking covers the
        SEARCH_WINDOW most recent matches: ranking every message holding a common word
        takes seconds on a large history, and recent conversations are the likely target.
        """
        match = fts_query(query)
        if not match:
            return []
        conn = self._conn
        ranked = conn.execute(
            "SELECT rowid FROM (SELECT rowid, bm25(messages_fts) AS score FROM messages_fts"
            " WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?) ORDER BY score LIMIT ?",
            (match, SEARCH_WINDOW, limit),
        ).fetchall()
        # Snippets only for the rows shown, each found by rowid within the match.
        hits = []
        for (rowid,) in ranked:
            row = conn.execute(_SEARCH_HIT, (*highlight, match, rowid)).fetchone()
            if row is not None:
                hits.append(SearchHit(*row))
        return hits


def fts_query(text: str) -> str:
    """`text` as an FTS5 query matching all its words literally (empty if it has none)."""
    words = text.replace("\x00", " ").split()
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)
