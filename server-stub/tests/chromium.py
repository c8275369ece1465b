"""Headless Chromium for the tests: Debian's `chromium`, driven by Selenium.

Selenium is given Debian's `/usr/bin/chromium` and `/usr/bin/chromedriver`
(packages `chromium` and `chromium-driver`, installed by `make install`),
so Selenium Manager never runs and nothing is downloaded. Chromium starts
with a fresh profile and without its background traffic (its updates, sync,
Google's hosts); every host name it looks up fails but 127.0.0.1,
`localhost` and the names a test maps to 127.0.0.1, so that a page can come
from `http://evil.example:PORT` and still be served from this machine.

Every document records the Content-Security-Policy violations it meets
(`csp_violations`), and Chromium's console is kept (`console`), so a test
can tell that a page ran under its policy without being blocked.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
)
WAIT = 30.0  # seconds, at most, for a condition; polled every POLL
POLL = 0.05

# Runs first in every document, before the page's own scripts.
_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(
    event.violatedDirective + " blocked " + (event.blockedURI || "inline") +
    (event.sample ? ": " + event.sample : ""));
});
"""


def require_chromium() -> None:
    """Skip the test when Chromium or its driver is missing; in CI, fail it."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        message = f"{', '.join(missing)} missing: `make install` (chromium, chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run this test")
        pytest.skip(message)


@contextmanager
def chromium(profile: Path, mapped: Sequence[str] = ()) -> Iterator[Any]:
    """A Selenium driver of headless Chromium; `mapped` names resolve to 127.0.0.1."""
    require_chromium()
    from selenium import webdriver  # noqa: PLC0415 (only the browser tests need it)
    from selenium.webdriver.chrome.options import Options  # noqa: PLC0415
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    rules = [f"MAP {name} 127.0.0.1" for name in mapped]
    rules += ["MAP * ~NOTFOUND", "EXCLUDE 127.0.0.1", "EXCLUDE localhost"]
    options.add_argument(f"--host-resolver-rules={', '.join(rules)}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(profile / "driver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": _RECORD_VIOLATIONS}
        )
        yield driver
    finally:
        driver.quit()


def wait_until(driver: Any, condition: Any, timeout: float = WAIT) -> Any:
    """What `condition(driver)` returns once it is true (polled, never slept on).

    An element the page draws again between finding it and reading it is
    stale: that poll is not an answer, the next one is."""
    from selenium.common.exceptions import StaleElementReferenceException  # noqa: PLC0415
    from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415

    wait = WebDriverWait(
        driver, timeout, poll_frequency=POLL, ignored_exceptions=(StaleElementReferenceException,)
    )
    return wait.until(condition)


def csp_violations(driver: Any) -> list[str]:
    """The violations the current document recorded."""
    found = driver.execute_script("return window.__cspViolations || [];")
    return [str(item) for item in found]


def console(driver: Any) -> list[str]:
    """Chromium's console messages since the last call."""
    return [f"{entry['level']}: {entry['message']}" for entry in driver.get_log("browser")]


# A canned answer: status, headers, body.
Canned = tuple[int, Mapping[str, str], bytes]


@contextmanager
def page_server(pages: Mapping[str, str | Canned]) -> Iterator[int]:
    """An HTTP server on 127.0.0.1 (another origin than any branch) serving
    `pages` to any Host; yields its port. A page is HTML, or a canned answer;
    it is looked up by the request's path and query, then by its path alone
    (`pages` is read at each request: it may be filled in once the port is
    known)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = pages.get(self.path, pages.get(self.path.split("?", 1)[0]))
            if isinstance(found, tuple):
                status, headers, data = found
            else:
                status, data = (200, found.encode()) if found is not None else (404, b"not found")
                headers = {"Content-Type": "text/html; charset=utf-8"}
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="page server", daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
