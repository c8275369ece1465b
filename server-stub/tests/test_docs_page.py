"""`GET /docs`: the API reference page, rendered by a real browser, offline.

The page is loaded in headless Chromium (Debian's `chromium`, installed by
`make install`), with every host name but 127.0.0.1 unresolvable, so it must
render from what the branch sent alone. The rendered DOM must show every
operation's summary from openapi.yaml.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from contract import iter_operations, load_spec

from cyme_branch.docs import TITLE, script_json
from cyme_branch.testing import LiveBranch

SPEC = load_spec()
SUMMARIES = sorted(op["summary"] for _path, _method, op in iter_operations(SPEC))
CHROMIUM_TIMEOUT = 60
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    # No internet: any host but the branch's fails to resolve.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


def chromium() -> str:
    found = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        message = "chromium is not installed: `make install` (or `apt-get install chromium`)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run this test")
        pytest.skip(message)
    return found


def render(url: str, profile: Path) -> str:
    """The DOM of `url` once its scripts have run, from headless Chromium."""
    argv = [
        chromium(),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        "--virtual-time-budget=15000",
        "--dump-dom",
        url,
    ]
    done = subprocess.run(argv, capture_output=True, timeout=CHROMIUM_TIMEOUT, check=False)
    stderr = done.stderr.decode(errors="replace")[-3000:]
    assert done.returncode == 0, f"chromium exited with {done.returncode}:\n{stderr}"
    return done.stdout.decode("utf-8")


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


def test_docs_renders_every_operation_offline(branch: LiveBranch, tmp_path: Path):
    """Chromium, without internet, shows the title, the API and every operation's summary."""
    dom = render(f"{branch.url}/docs", tmp_path / "chromium-profile")
    page = Page(dom)
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
