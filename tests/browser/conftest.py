"""Browser tests: the real app served by uvicorn on a free port, driven by Playwright in Debian's
Chromium (``/usr/bin/chromium``; ``ONETHREAD_CHROMIUM`` names another). The server shares the
test's container, so a test moves the ``clock`` and reads the database directly while the browser
works the pages. Without Chromium or Playwright the tests skip, and fail under
``ONETHREAD_REQUIRE_ALL=1``.

Each test may save screenshots with ``shot(page, "name")``: they go to ``build/screenshots``
(or ``ONETHREAD_SCREENSHOT_DIR``); ``make tour`` copies the SQLite run's into ``docs/tour``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.environment import skip_or_fail

CHROMIUM = os.environ.get("ONETHREAD_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("ONETHREAD_SCREENSHOT_DIR", Path(__file__).parents[2] / "build" / "screenshots"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app over real HTTP: ``http://127.0.0.1:<port>``."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("Python playwright is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    pw = sync_playwright().start()
    browser = pw.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
              "--no-first-run", "--disable-extensions"],
    )
    yield browser
    browser.close()
    pw.stop()


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser tab (laptop-sized) whose relative URLs go to the live server."""
    context = chromium.new_context(base_url=live_server, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def shot(backend):
    """``shot(page, "store-decision")`` saves a full-page PNG (the SQLite run's are the tour's)."""

    def save(tab, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}{'' if backend == 'sqlite' else '-' + backend}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return save
