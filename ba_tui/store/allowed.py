"""The tools a user allowed "always": remembered across sessions until forgotten."""

from __future__ import annotations

from dataclasses import dataclass

from ba_tui.store.database import Database, guarded
from ba_tui.store.ids import iso, now_ms


@dataclass(frozen=True)
class AllowedTool:
    """One tool that runs without asking: its name as the model sees it, where it comes
    from, and when the user allowed it (ISO time)."""

    tool: str
    source: str
    allowed_at: str


class AllowedTools(Database):
    """Approvals with the scope "always"."""

    @guarded
    def allowed_tools(self) -> list[AllowedTool]:
        rows = self._conn.execute(
            "SELECT tool, source, allowed_at FROM allowed_tools ORDER BY tool"
        ).fetchall()
        return [AllowedTool(*row) for row in rows]

    @guarded
    def allow_tool(self, tool: str, source: str) -> None:
        """Remember `tool` as always allowed (again: its time moves on)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO allowed_tools (tool, source, allowed_at) VALUES (?, ?, ?)"
                " ON CONFLICT (tool) DO UPDATE SET source = excluded.source,"
                " allowed_at = excluded.allowed_at",
                (tool, source, iso(now_ms())),
            )

    @guarded
    def forget_tools(self, tools: list[str] | None = None) -> list[str]:
        """Take back "always" for `tools` (None: every one); returns the names forgotten."""
        with self._write() as conn:
            if tools is None:
                names = [row[0] for row in conn.execute("SELECT tool FROM allowed_tools")]
            else:
                names = [
                    name
                    for name in tools
                    if conn.execute(
                        "SELECT 1 FROM allowed_tools WHERE tool = ?", (name,)
                    ).fetchone()
                ]
            conn.executemany("DELETE FROM allowed_tools WHERE tool = ?", [(n,) for n in names])
        return sorted(names)
