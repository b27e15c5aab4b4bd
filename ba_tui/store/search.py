"""Full-text search over every message, best match first, with the matches marked.

The index stems words (Porter, see migrations.m003), so a word finds its other forms:
`risk` finds "risks", `stories` finds "story". The last word of a query also matches as
a prefix once it has PREFIX_FROM letters, so a half-typed word already finds
(`quok` finds "quokka"); the prefix is of the word's stem, so `running` also finds
"runner" (and, less usefully, "rune").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ba_tui.store.database import Database, guarded

SEARCH_WINDOW = 2000
PREFIX_FROM = 3
# Marks for finding the matched words in highlight(): private-use characters, which no
# text a person or model writes is expected to hold.
_MARK_OPEN, _MARK_CLOSE = "\ue000", "\ue001"
_MARKED = re.compile(f"{_MARK_OPEN}(.*?){_MARK_CLOSE}", re.S)
# The hits shown, in one query: a prefix word's matches are gathered afresh for every
# query (2.5 s for 50 single-row queries when the prefix is in most of a million
# messages), so all of them come from one. The rowid range goes to FTS5; the `+` keeps
# the exact list a filter, applied before snippet() and highlight() run.
_SEARCH_HITS = f"""
SELECT messages_fts.rowid, m.id, m.thread_id, t.title, m.role, m.created_at,
  snippet(messages_fts, 0, ?, ?, '…', 16),
  highlight(messages_fts, 0, '{_MARK_OPEN}', '{_MARK_CLOSE}')
FROM messages_fts
JOIN messages AS m ON m.rowid = messages_fts.rowid
JOIN threads AS t ON t.id = m.thread_id
WHERE messages_fts MATCH ? AND messages_fts.rowid BETWEEN ? AND ?
  AND +messages_fts.rowid IN (SELECT value FROM json_each(?))
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
    """A message matching a search; `snippet` marks the matches with the chosen highlight,
    and `matched` lists the words of the message that matched, as written there (`risks`
    for a search for `risk`), for marking them wherever the message is shown."""

    message_id: str
    thread_id: str
    thread_title: str
    role: str
    created_at: str
    snippet: str
    matched: tuple[str, ...] = ()


class Search(Database):
    """Searching the messages' text."""

    @guarded
    def search(
        self, query: str, limit: int = 50, *, highlight: tuple[str, str] = ("[", "]")
    ) -> list[SearchHit]:
        """Messages containing every word of `query` (in any of its forms, the last word
        also as a prefix), best match first.

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
        hits: list[SearchHit] = []
        if ranked:
            rowids = [rowid for (rowid,) in ranked]
            shown = (*highlight, match, min(rowids), max(rowids), json.dumps(rowids))
            found = {row[0]: _hit(row[1:]) for row in conn.execute(_SEARCH_HITS, shown)}
            hits = [found[rowid] for rowid in rowids if rowid in found]
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
    """`text` as an FTS5 query matching all its words literally (empty if it has none),
    the last one also as a prefix when it has PREFIX_FROM letters or digits (a shorter
    prefix matches too much to help, and punctuation alone matches nothing)."""
    words = text.replace("\x00", " ").split()
    quoted = ['"' + word.replace('"', '""') + '"' for word in words]
    if words and sum(char.isalnum() for char in words[-1]) >= PREFIX_FROM:
        quoted[-1] += "*"
    return " ".join(quoted)


def _hit(row: tuple[Any, ...]) -> SearchHit:
    """A hit from a row of _SEARCH_HITS (after its rowid)."""
    message_id, thread_id, title, role, created_at, snippet, marked = row
    return SearchHit(
        message_id, thread_id, title, role, created_at, snippet, _matched_words(marked)
    )


def _matched_words(marked: str) -> tuple[str, ...]:
    """The distinct words highlight() marked, in the order they first appear."""
    return tuple(dict.fromkeys(" ".join(word.split()) for word in _MARKED.findall(marked)))
