"""Helpers for the issue-13 browser walks: a tablet (820 px) or desktop context with axe checks."""

from __future__ import annotations

from contextlib import contextmanager

from tests.browser.conftest import UI

TABLET = {"width": 820, "height": 1180}
LAPTOP = {"width": 1366, "height": 768}


@contextmanager
def viewport(browser, live_server, size: dict, **context_args):
    """A UI in a fresh browser context of the given size (pages checked with axe-core like ``ui``)."""
    context = browser.new_context(viewport=size, **context_args)
    page = context.new_page()
    page.set_default_timeout(10_000)
    helper = UI(page, live_server)
    try:
        yield helper
        assert helper.checked >= helper.loads, "a loaded page was not checked with axe-core"
        assert not helper.console_errors, f"browser console errors: {helper.console_errors}"
    finally:
        context.close()


def fits_on_one_line(page) -> None:
    """The header is one line high and nothing makes the page scroll sideways."""
    sizes = page.evaluate("""() => ({
        header: document.querySelector('.site-header').getBoundingClientRect().height,
        brand: document.querySelector('.brand').getBoundingClientRect().height,
        page: document.documentElement.scrollWidth, view: window.innerWidth})""")
    assert sizes["header"] < 2 * sizes["brand"] + 24, sizes  # one row of header items
    assert sizes["page"] <= sizes["view"], sizes
