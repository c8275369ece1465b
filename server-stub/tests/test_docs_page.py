"""`GET /docs`: the API reference page, rendered by a real browser, offline.

The page is loaded in headless Chromium (chromium.py: Debian's `chromium`
driven by Selenium), with every host name but 127.0.0.1 unresolvable, so it
must render from what the branch sent alone, under its
Content-Security-Policy: the rendered DOM must show every operation's
summary from openapi.yaml, "Try it out" must reach the branch, and the
browser must report no violation of the policy.
"""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from typing import Any

import httpx
from chromium import console, csp_violations, wait_until
from contract import iter_operations, load_spec

from cyme_branch.docs import TITLE, script_json
from cyme_branch.testing import LiveBranch

SPEC = load_spec()
SUMMARIES = sorted(op["summary"] for _path, _method, op in iter_operations(SPEC))


class Page(HTMLParser):
    """What a page shows: its title, and the text and classes inside #swagger-ui.

    Script and style text (where the spec and Swagger UI itself are inlined)
    is not shown, so it never counts.
    """

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"})
    VOID |= frozenset({"source", "track", "wbr"})

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.ui_text: list[str] = []
        self.ui_classes: list[str] = []
        self.summaries: list[str] = []
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.styles: list[str] = []
        self._stack: list[tuple[str, bool, bool]] = []  # (tag, in #swagger-ui, in a summary)
        self._in: str | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name in ("src", "href", "xlink:href", "action", "poster"):
            if name in values:
                self.urls.append((tag, name, values[name]))
        classes = values.get("class", "").split()
        in_ui, in_summary = self._stack[-1][1:] if self._stack else (False, False)
        in_ui = in_ui or values.get("id") == "swagger-ui"
        in_summary = in_summary or "opblock-summary-description" in classes
        if in_ui:
            self.ui_classes.extend(classes)
        if in_summary and "opblock-summary-description" in classes:
            self.summaries.append("")
        if tag not in self.VOID:
            self._stack.append((tag, in_ui, in_summary))
        self._in = tag

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            if self._stack.pop()[0] == tag:
                break
        self._in = self._stack[-1][0] if self._stack else None

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in == "style":
            self.styles.append(data)
        elif self._in != "script" and self._stack:
            _tag, in_ui, in_summary = self._stack[-1]
            if in_ui:
                self.ui_text.append(data)
            if in_summary and self.summaries:
                self.summaries[-1] += data

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.ui_text).split())


def test_docs_is_one_self_contained_page(client: httpx.Client):
    """An HTML page that names no resource outside itself: no CDN, no /openapi.yaml."""
    response = client.get("/docs")  # the contract client checks it against the spec
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = Page(response.text)
    assert page.title == TITLE
    # Links within the page (#...) and inlined data are all it may refer to.
    external = [u for u in page.urls if not u[2].startswith(("data:", "#"))]
    assert not external, f"the page loads other resources: {external}"
    css_urls = re.findall(r"url\(\s*['\"]?([^'\")\s]*)", "".join(page.styles))
    assert css_urls, "Swagger UI's style sheet is not inlined"
    assert all(u.startswith("data:") for u in css_urls), [
        u for u in css_urls if not u.startswith("data:")
    ]
    assert "@import" not in "".join(page.styles)
    assert "SwaggerUIBundle" in response.text
    assert "validatorUrl: null" in response.text


def test_head_docs(client: httpx.Client):
    response = client.head("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


def test_docs_renders_every_operation_offline_under_its_policy(branch: LiveBranch, browser: Any):
    """Chromium, without internet, shows the title, the API and every operation's
    summary, and "Try it out" reaches the branch; nothing breaks the page's CSP."""
    browser.get(f"{branch.url}/docs")
    summaries = ".opblock-summary-description"
    wait_until(browser, lambda d: len(d.find_elements("css selector", summaries)) == len(SUMMARIES))
    page = Page(browser.page_source)
    assert page.title == TITLE
    assert "version-pragma" not in page.ui_classes, f"Swagger UI refused the spec: {page.text}"
    assert "errors-wrapper" not in page.ui_classes, f"Swagger UI reported errors: {page.text}"
    assert SPEC["info"]["title"] in page.text
    rendered = sorted(html.unescape(" ".join(s.split())) for s in page.summaries)
    missing = [s for s in SUMMARIES if s not in rendered]
    assert not missing, f"summaries not shown on the page: {missing}\nshown: {rendered}"
    assert len(rendered) == len(SUMMARIES)
    for tag in SPEC["tags"]:
        assert tag["name"] in page.text
    # "Try it out" on /ping: Swagger UI's own fetch, to the branch that served it.
    ping = browser.find_element("id", "operations-branch-ping")
    ping.find_element("css selector", ".opblock-summary").click()
    wait_until(browser, lambda d: ping.find_elements("css selector", ".try-out__btn"))[0].click()
    wait_until(browser, lambda d: ping.find_elements("css selector", ".execute"))[0].click()
    status = ".live-responses-table .response .response-col_status"
    shown = wait_until(browser, lambda d: ping.find_elements("css selector", status))
    assert shown[0].text.strip() == "200"
    assert csp_violations(browser) == []
    assert not [m for m in console(browser) if "Content Security Policy" in m]


def test_the_policy_is_enforced_and_its_violations_seen(branch: LiveBranch, browser: Any):
    """The check above can fail: code the policy does not list is blocked, and reported."""
    browser.get(f"{branch.url}/docs")
    wait_until(browser, lambda d: d.execute_script("return !!window.ui"))
    console(browser)
    browser.execute_script(
        "const s = document.createElement('script');"
        "s.textContent = 'window.injected = true';"
        "document.head.appendChild(s);"
    )
    assert wait_until(browser, csp_violations) == ["script-src-elem blocked inline"]
    assert browser.execute_script("return window.injected === undefined")
    assert [m for m in console(browser) if "Content Security Policy" in m]


# The page's building blocks, without a branch.


def test_script_json_cannot_leave_its_script_element():
    text = script_json({"a": "</script><script>alert(1)</script>", "b": "<!-- & -->\u2028"})
    assert "<" not in text
    assert ">" not in text
    assert "&" not in text
    assert "\u2028" not in text
    # ... and it is still the same JSON.
    assert json.loads(text) == {
        "a": "</script><script>alert(1)</script>",
        "b": "<!-- & -->\u2028",
    }
