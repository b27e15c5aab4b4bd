"""What the screens need from the running app, handed to their constructors.

Screens get the store, the config (reloaded in place when Settings saves it), the clock,
the session factory and the provider defaults from here, so a screen can be built and
tested without reaching into `self.app`.

The tools are the app's too: one toolbox for the whole run, shared by every session the
screens make (a chat screen makes one per turn), so "allow for this session" means until
the app quits, and each MCP server is started once and closed when the app quits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

    from ba_tui.config import Config
    from ba_tui.personas import Persona
    from ba_tui.providers import ProviderSpec
    from ba_tui.session import ChatSession, NewThread
    from ba_tui.store import Store, Thread
    from ba_tui.tools import Approver, Toolbox

# Seconds quitting waits for MCP servers to stop; a slower one is left to end with its
# stdin (the process exits right after).
CLOSE_TOOLS_SECONDS = 1.0


def _no_warm_up(provider: str | None) -> None:
    """Warming up SDK imports is the app's business; a bare context skips it."""


@dataclass
class AppContext:
    """The store, the config and the clock of one running app, plus `warm_up`, which
    imports a provider's SDK in the background the first time it is asked for."""

    store: Store
    config: Config
    clock: Callable[[], datetime]
    warm_up: Callable[[str | None], None] = _no_warm_up
    # How the user is asked about a tool call (the chat screen's approval card).
    approve: Approver | None = None
    tools: Toolbox | None = field(default=None, init=False)
    # Why the tools in config.toml cannot be offered (an unknown tool), said once.
    tools_problem: str | None = field(default=None, init=False)
    _tools_made: bool = field(default=False, init=False)

    def reload_config(self) -> None:
        """Read config.toml again (Settings or the welcome screen wrote to it)."""
        from ba_tui.config import load_config

        self.config = load_config(self.config.path)

    def session(
        self,
        thread: Thread | None,
        new: NewThread,
        on_thread: Callable[[Thread], None] | None = None,
    ) -> ChatSession:
        """A conversation's session: where its next turn goes and what it is stored as,
        offering the app's tools (its `compare` offers only the read-only ones)."""
        from ba_tui.session import ChatSession

        session = ChatSession(self.config, self.store, thread, new=new, on_thread=on_thread)
        if not self._tools_made:
            self._make_tools(session)
        session.tools = self.tools
        return session

    def _make_tools(self, session: ChatSession) -> None:
        """The app's toolbox: config's `[tools] enabled` and enabled MCP servers, asked
        about as config's `approve` says (default "ask": the approval card)."""
        from ba_tui.errors import BaChatError

        self._tools_made = True
        policy = str(self.config.data.get("approve") or "ask")
        try:
            self.tools = session.use_tools(policy=policy, approve=self.approve)
        except BaChatError as exc:  # the chat goes on without tools, and says why
            self.tools_problem = f"Tools are off: {exc.line('tui')}"

    async def close_tools(self) -> None:
        """End the MCP servers' connections, waiting at most CLOSE_TOOLS_SECONDS."""
        import asyncio
        from contextlib import suppress

        if self.tools is not None:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.tools.close(), CLOSE_TOOLS_SECONDS)

    def defaults(self) -> tuple[str | None, str | None]:
        """The provider and model a new thread starts with, without asking the keyring
        (so the first frame never waits for it): config first, then a key in the
        environment, then the built-in offline model if it is installed, else None until
        the background key check has run."""
        from ba_tui.errors import BaChatError
        from ba_tui.providers import (
            BUILTIN,
            all_specs,
            get_spec,
            offline_available,
            starting_model,
        )

        config = self.config
        spec: ProviderSpec | None
        try:
            if config.default_provider:
                spec = get_spec(config.default_provider, config)
            else:
                spec = next(
                    (s for s in all_specs(config) if s.key_required and _env_key(s)),
                    None,
                )
                if spec is None and offline_available(config):
                    spec = BUILTIN["local"]
        except BaChatError:
            spec = None
        if spec is None:
            return None, None
        return spec.name, starting_model(spec, config)

    def default_persona(self) -> Persona | None:
        name = self.config.data.get("default_persona")
        if not name:
            return None
        try:
            from ba_tui.personas import get_persona

            return get_persona(str(name), self.config)
        except Exception:
            return None


def _env_key(spec: Any) -> bool:
    import os

    return any(os.environ.get(var, "").strip() for var in spec.key_env)
