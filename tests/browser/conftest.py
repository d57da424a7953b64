"""Browser tests: Playwright (Python) driving Debian's Chromium against a live server.

Every page a test loads is checked with axe-core; a serious or critical
violation fails the test. The `ui` fixture does the checking: use
``ui.goto(path)`` and ``ui.after_navigation()`` (or ``ui.click``/``ui.press``
which wait and check for you); the teardown fails if a loaded page was never
checked.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct-horse-battery"

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Every test in this folder is a `browser` test (``-m "not browser"`` leaves them out).

    A ``pytestmark`` in a conftest marks nothing, so the marker is added here, before ``-m`` selects.
    """
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is required (make test installs it)"
    assert AXE.exists(), "axe-core is required (make test runs npm ci)"
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"],
        )
        yield chromium
        chromium.close()


class UI:
    """A page plus accessibility checking of every page it loads."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base = base_url
        self.loads = 0
        self.checked = 0
        self.console_errors: list[str] = []
        page.on("load", lambda _: self._loaded())
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))

    def _console(self, msg):
        # A failed request is reported by _response with its URL; the page's own status is the test's business.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.console_errors.append(msg.text)

    def _response(self, response):
        if response.request.resource_type != "document" and response.status >= 400:
            self.console_errors.append(f"{response.status} for {response.url}")

    def _loaded(self):
        self.loads += 1

    def url(self, path: str) -> str:
        return self.base + path

    def goto(self, path: str):
        response = self.page.goto(self.url(path))
        self.check_a11y()
        return response

    def after_navigation(self):
        self.page.wait_for_load_state("load")
        self.check_a11y()

    def click(self, locator_or_selector, navigates: bool = True):
        target = self.page.locator(locator_or_selector) if isinstance(locator_or_selector, str) else locator_or_selector
        if navigates:
            with self.page.expect_navigation():
                target.click()
            self.check_a11y()
        else:
            target.click()

    def press(self, locator, key: str, navigates: bool = False):
        if navigates:
            with self.page.expect_navigation():
                locator.press(key)
            self.check_a11y()
        else:
            locator.press(key)

    def check_a11y(self):
        """Run axe-core on the current page; fail on serious or critical violations."""
        page = self.page
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(AXE.read_text())  # through DevTools: the page's CSP stays untouched
        result = page.evaluate(
            "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
            " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})); }"
        )
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        assert not bad, f"accessibility violations on {page.url}: {bad}"
        self.checked = self.loads

    def login(self, email: str, password: str = PASSWORD):
        self.goto("/login")
        self.page.get_by_label("E-mail").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.click(self.page.get_by_role("button", name="Sign in"))


@pytest.fixture
def ui(browser, live_server):
    context = browser.new_context(viewport={"width": 1180, "height": 820})
    page = context.new_page()
    page.set_default_timeout(10_000)
    helper = UI(page, live_server)
    yield helper
    try:
        assert helper.checked >= helper.loads, (
            f"{helper.loads - helper.checked} loaded page(s) were not checked with axe-core"
        )
        assert not helper.console_errors, f"browser console errors: {helper.console_errors}"
    finally:
        context.close()
