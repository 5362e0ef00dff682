"""One harness for the browser tests: Debian's chromium under Playwright, a page per width that fails the
test on console errors, uncaught exceptions and requests to any other host, and the layout checks every
view must pass (no sideways scroll at 1280 and 390 px).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
WIDTHS = {"desktop": 1280, "phone": 390}


@contextmanager
def launched():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browsing(browser: Browser, base_url: str, width: int = WIDTHS["desktop"], javascript: bool = True):
    """A fresh page at ``width`` px; on leaving, the test fails if the page logged an error, threw, or
    asked another host for anything (the site must work with no third-party host at all)."""
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": 900},
                                  java_script_enabled=javascript, accept_downloads=True)
    page = context.new_page()
    problems = []

    def on_console(message):
        if message.type == "error":
            problems.append(f"console error on {page.url} from {message.location['url']}: {message.text}")

    def on_request(request):
        url = urlsplit(request.url)
        if url.scheme not in ("data", "blob") and url.hostname not in LOCAL_HOSTS:
            problems.append(f"request to another host: {request.method} {request.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"uncaught error on {page.url}: {error}"))
    page.on("request", on_request)
    try:
        yield page
    finally:
        context.close()
    if problems:
        pytest.fail("\n".join(problems))


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} scrolls sideways: {width[0]} px wide in a {width[1]} px window"


def screenshot(page: Page, name: str, directory: Path) -> Path:
    """A full-page screenshot to look at (tests keep them in their tmp_path)."""
    path = directory / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path
