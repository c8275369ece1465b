"""The rules of "Browsers" (openapi.yaml) in a real browser: headless Chromium.

A page served by another local server (another origin: another port of
127.0.0.1, or `evil.example`, which Chromium resolves to 127.0.0.1) tries
what an attacker's page would: post a form to the branch, send it JSON with
`fetch` (which needs a preflight), and read `GET /`. Each fails, the branch's
log shows it refused each, and nothing changed (asked through the API). The
same page, from an origin the branch was started with `--allow-origin`,
does all three, preflight included. A page at a re-pointed host name
(`rebind.example`, the second half of DNS rebinding) reads nothing either,
and the branch's own `/docs` page may call it. test_docs_page.py checks that
Swagger UI renders under the page's Content-Security-Policy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from chromium import console, csp_violations, page_server, wait_until
from contract import unique

from cyme_branch.testing import LiveBranch

pytestmark = pytest.mark.slow

EVIL = "evil.example"
REBIND = "rebind.example"
BROKER = "redis://attacker.example:6379/0"

# Three attempts at once; `window.results` holds how each ended.
ATTACK_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>attack</title></head>
<body>
<iframe name="sink" title="sink"></iframe>
<form id="form" method="POST" target="sink">
  <input name="broker" value="__BROKER__">
</form>
<script>
"use strict";
const params = new URLSearchParams(location.search);
const branch = params.get("branch");
const tag = params.get("tag");
window.results = {};
function settle(name, promise) {
  return promise.then(
    (value) => { window.results[name] = value; },
    (error) => { window.results[name] = "refused: " + error.name; });
}
// 1. A form post: a "simple" request, sent without a preflight.
const form = document.getElementById("form");
form.action = branch + "/" + tag + "-form";
const sink = document.querySelector("iframe");
const posted = new Promise((resolve) => {
  sink.addEventListener("load", () => resolve("loaded"), {once: true});
});
form.submit();
// 2. JSON with fetch: Content-Type application/json asks for a preflight.
const json = fetch(branch + "/" + tag + "-json", {
  method: "PUT",
  headers: {"Content-Type": "application/json"},
  body: JSON.stringify({broker: "__BROKER__"}),
}).then((r) => r.json().then((body) => ({
  status: r.status, name: body.name, requestId: r.headers.get("X-Request-Id"),
})));
// 3. Reading the apps.
const read = fetch(branch + "/").then((r) => r.json().then((body) => ({
  status: r.status, isList: Array.isArray(body),
})));
Promise.all([settle("form", posted), settle("json", json), settle("read", read)])
  .then(() => { window.results.done = true; });
</script>
</body></html>
""".replace("__BROKER__", BROKER)


@pytest.fixture(scope="module")
def pages() -> Iterator[int]:
    with page_server({"/attack.html": ATTACK_PAGE}) as port:
        yield port


def attack(driver: Any, page_origin: str, branch: LiveBranch, tag: str) -> dict[str, Any]:
    """Load the attack page from `page_origin` against `branch`; what each attempt got."""
    query = httpx.QueryParams({"branch": branch.url, "tag": tag})
    driver.get(f"{page_origin}/attack.html?{query}")
    wait_until(driver, lambda d: d.execute_script("return window.results && window.results.done"))
    results: dict[str, Any] = driver.execute_script("return window.results")
    return results


def state(branch: LiveBranch) -> dict[str, Any]:
    """What the branch holds, asked through the API (no Origin: a program)."""
    names = httpx.get(f"{branch.url}/", timeout=10).json()
    return {name: httpx.get(f"{branch.url}/{name}", timeout=10).json() for name in names}


@pytest.mark.parametrize("page_host", ["127.0.0.1", EVIL], ids=["same-site", "cross-site"])
def test_a_page_of_another_origin_cannot_drive_the_branch(
    browser: Any, pages: int, tmp_path: Path, page_host: str
):
    with LiveBranch(tmp_path, "target") as branch:
        httpx.put(f"{branch.url}/kept", data={"broker": "amqp://"}, timeout=10).raise_for_status()
        before = state(branch)
        tag = unique("attack")
        results = attack(browser, f"http://{page_host}:{pages}", branch, tag)
        assert results["form"] == "loaded", results  # posted, and answered
        assert results["json"] == "refused: TypeError", results
        assert results["read"] == "refused: TypeError", results
        assert state(branch) == before
        # The branch refused each one itself (not the browser, on its own).
        for line in (
            f"method=POST path=/{tag}-form status=403",
            f"method=OPTIONS path=/{tag}-json status=403",  # the preflight
            "method=GET path=/ status=403",
        ):
            assert branch.wait_for_log(line), f"{line!r} not in the log:\n{branch.log_tail()}"
        assert f"method=PUT path=/{tag}-json" not in branch.log_text()


def test_a_page_of_an_allowed_origin_drives_the_branch(browser: Any, pages: int, tmp_path: Path):
    page_origin = f"http://{EVIL}:{pages}"
    with LiveBranch(tmp_path, "open-to-one", allow_origins=[page_origin]) as branch:
        tag = unique("allowed")
        results = attack(browser, page_origin, branch, tag)
        assert results["form"] == "loaded", results
        assert results["json"]["status"] == 201, results
        assert results["json"]["name"] == f"{tag}-json"
        assert results["json"]["requestId"], "X-Request-Id is exposed to the page"
        assert results["read"] == {"status": 200, "isList": True}, results
        held = state(branch)
        assert held[f"{tag}-form"]["broker"] == BROKER
        assert held[f"{tag}-json"]["broker"] == BROKER
        assert branch.wait_for_log(f"method=OPTIONS path=/{tag}-json status=204")


FETCH = """
const [path, init, done] = arguments;
fetch(path, init).then(
  (r) => r.text().then((text) => done({status: r.status, body: text})),
  (error) => done({error: error.name}));
"""


def test_a_page_at_a_rebound_name_reads_nothing(browser: Any, tmp_path: Path):
    """The attacker's name now points to 127.0.0.1: its page is same-origin with the
    branch's port, and the browser lets it read. The branch does not answer that name."""
    with LiveBranch(tmp_path, "rebound") as branch:
        before = state(branch)
        browser.get(f"http://{REBIND}:{branch.port}/")
        assert "urn:cyme:problem:host-not-allowed" in browser.page_source
        put = {
            "method": "PUT",
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"broker": BROKER}),
        }
        written = browser.execute_async_script(FETCH, f"/{unique('rebound')}", put)
        assert written["status"] == 403, written
        read = browser.execute_async_script(FETCH, "/", {})
        assert read["status"] == 403, read
        assert json.loads(read["body"])["type"] == "urn:cyme:problem:host-not-allowed"
        assert state(branch) == before


def test_the_branch_s_own_page_calls_it(browser: Any, tmp_path: Path):
    """`/docs` (and a coming `/ui`): same-origin fetches and form posts, under its CSP."""
    with LiveBranch(tmp_path, "own") as branch:
        browser.get(f"{branch.url}/docs")
        wait_until(browser, lambda d: d.execute_script("return !!window.ui"))
        console(browser)  # drop what came before
        name = unique("fetched")
        put = {
            "method": "PUT",
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"broker": "amqp://"}),
        }
        done = browser.execute_async_script(FETCH, f"/{name}", put)
        assert done["status"] == 201, done
        assert csp_violations(browser) == []
        assert not [m for m in console(browser) if "Content Security Policy" in m]
        posted = unique("posted")
        browser.execute_script(
            """
            const form = document.createElement("form");
            form.method = "POST";
            form.action = arguments[0];
            const field = document.createElement("input");
            field.name = "broker";
            field.value = "amqp://";
            form.appendChild(field);
            document.body.appendChild(form);
            form.submit();
            """,
            f"/{posted}",
        )
        wait_until(browser, lambda d: d.current_url == f"{branch.url}/{posted}")
        assert posted in browser.page_source  # the 201's JSON
        assert set(state(branch)) == {name, posted}
