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


# Words inside attachments (a PDF's text, a Word file's): the messages that carry them.
_ATTACHMENT_HITS = """
SELECT m.id, m.thread_id, t.title, m.role, m.created_at,
    snippet(blobs_fts, 0, ?, ?, '…', 16), bm25(blobs_fts) AS score,
    (SELECT json_extract(value, '$.name') FROM json_each(m.parts)
     WHERE json_extract(value, '$.sha256') = b.sha256)
FROM blobs_fts
JOIN blobs AS b ON b.rowid = blobs_fts.rowid
JOIN message_blobs AS mb ON mb.sha256 = b.sha256
JOIN messages AS m ON m.id = mb.message_id
JOIN threads AS t ON t.id = m.thread_id
WHERE blobs_fts MATCH ?
ORDER BY score LIMIT ?
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
        return self._attachment_hits(match, limit, highlight, hits)

    def _attachment_hits(
        self, match: str, limit: int, highlight: tuple[str, str], hits: list[SearchHit]
    ) -> list[SearchHit]:
        """`hits` and then messages whose attachments hold the words, each message once;
        the snippet says which file it comes from."""
        seen = {hit.message_id for hit in hits}
        rows = self._conn.execute(_ATTACHMENT_HITS, (*highlight, match, limit)).fetchall()
        for message_id, thread_id, title, role, created, snippet, _score, name in rows:
            if len(hits) >= limit or message_id in seen:
                continue
            seen.add(message_id)
            found = f"{name or 'attachment'}: {snippet}"
            hits.append(SearchHit(message_id, thread_id, title, role, created, found))
        return hits


def fts_query(text: str) -> str:
    """`text` as an FTS5 query matching all its words literally (empty if it has none)."""
    words = text.replace("\x00", " ").split()
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)
