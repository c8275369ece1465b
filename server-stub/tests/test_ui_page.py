"""`GET /ui`, the admin page, in a real browser against a live branch.

Headless Chromium (chromium.py: Debian's `chromium` and `chromium-driver`,
every host name but loopback unresolvable) loads the page from the branch
and a person's steps are played through its forms (ui_page.py): an app and
an instance made, autoscale bounds set, a 422 shown beside its field. A
worker killed behind the page's back (`Cyme-Fault: kill=SIGKILL`, sent by
the test, not the page) shows on the page without a reload. On a branch
with a token the page asks for it, and the token goes nowhere but the
`Authorization` header. axe-core (npm, `make test-server` installs it)
finds no serious or critical accessibility violation.

These run against one branch; test_ui_cluster.py plays the steps that
change with the cluster against a live 3-branch cluster. Here, the page's
cluster view is also checked against canned answers in the cluster's
shapes (`ClusterList`, a member out of reach), served with the page's own
headers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from chromium import Canned, page_server, wait_until
from contract import unique
from ui_page import (
    AXE,
    app_section,
    axe_violations,
    cell_text,
    css,
    field_error,
    fill,
    no_policy_violations,
    open_details,
    open_marked,
    open_ui,
    row,
    still_the_same_document,
    wait_cell,
)

from cyme_branch import ui
from cyme_branch.testing import LiveBranch
from cyme_branch.ui import TITLE

pytestmark = pytest.mark.slow

TOKEN = "ui-token-8d1c"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBranch]:
    """A branch whose workers can be killed (faults), brought back within 0.2 s."""
    root = tmp_path_factory.mktemp("ui")
    with LiveBranch(root, "ui-branch", fault_injection=True, sup_interval=0.2) as branch:
        yield branch


@pytest.fixture
def page(browser: Any, live: LiveBranch) -> Any:
    return open_marked(browser, live.url)


def test_the_page_is_served_with_uplot_inlined_and_no_token(live: LiveBranch):
    answer = httpx.get(f"{live.url}/ui", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert f"<title>{TITLE}</title>" in answer.text
    assert "Copyright (c) 2022 Leon Sorokin" in answer.text  # uPlot's licence, kept
    assert " src=" not in answer.text and " href=" not in answer.text.replace('href="data:', "")


def test_the_page_shows_the_branch_and_its_apps(page: Any, live: LiveBranch):
    app = unique("shown")
    httpx.put(f"{live.url}/{app}", timeout=10).raise_for_status()
    branch_row = css(page, f'#branch-rows tr[data-branch="{live.id}"]')
    assert "this branch" in branch_row.text
    assert "simulated" in branch_row.text
    assert page.title == f"{TITLE}: {live.id}"
    app_section(page, app)  # it appears without a reload
    # The page polls with the ETags it was given: unchanged reads are 304s.
    assert live.wait_for_log(f"method=GET path=/{app}/instances status=304")
    assert still_the_same_document(page)
    no_policy_violations(page)


def test_create_an_app_and_an_instance_and_set_autoscale_through_the_page(
    page: Any, live: LiveBranch
):
    app, name = unique("made"), unique("w")
    fill(css(page, "#app-form"), app=app, broker="amqp://guest:secret@localhost//")
    section = app_section(page, app)
    fill(section.find_element("css selector", '[data-form="add-instance"]'), instance=name)
    assert wait_cell(page, app, name, "state", "running")
    assert cell_text(page, app, name, "pool") == "1 (min 1, max 1)"
    instance_row = open_details(page, app, name)
    fill(instance_row.find_element("css selector", '[data-form="autoscale"]'), min="2", max="5")
    assert wait_cell(page, app, name, "pool", "2 (min 2, max 5)")
    fill(instance_row.find_element("css selector", '[data-form="consume"]'), queue="celery")
    assert wait_cell(page, app, name, "queues", "celery")
    # What the page did, it did through the API.
    held = httpx.get(f"{live.url}/{app}/instances/{name}", timeout=10).json()
    assert (held["min_concurrency"], held["max_concurrency"], held["queues"]) == (2, 5, ["celery"])
    assert httpx.get(f"{live.url}/{app}", timeout=10).json()["broker"] == (
        "amqp://guest:**@localhost//"
    )
    assert "secret" not in page.page_source
    assert still_the_same_document(page)
    no_policy_violations(page)


def test_polls_leave_a_form_being_filled_in_alone(page: Any, live: LiveBranch):
    """With several apps, a poll moves no section: the field keeps its focus and text."""
    first, second = sorted([unique("a"), unique("b")])
    for app in (first, second):
        httpx.put(f"{live.url}/{app}", timeout=10).raise_for_status()
    form = app_section(page, first).find_element("css selector", '[data-form="add-instance"]')
    app_section(page, second)
    field = form.find_element("css selector", '[data-field="instance"]')
    field.send_keys("half-typ")
    for _ in range(2):  # two polls drawn
        shown = css(page, "#status").text
        wait_until(page, lambda d, shown=shown: css(d, "#status").text != shown)
    httpx.post(f"{live.url}/{second}/instances", timeout=10).raise_for_status()  # a change
    wait_until(
        page, lambda d: d.find_elements("css selector", f'[data-app="{second}"] tr[data-instance]')
    )
    assert page.switch_to.active_element == field
    assert field.get_attribute("value") == "half-typ"


def test_a_422_shows_beside_its_field(page: Any, live: LiveBranch):
    app, name = unique("bad"), unique("w")
    httpx.put(f"{live.url}/{app}", timeout=10).raise_for_status()
    httpx.post(f"{live.url}/{app}/instances/{name}", timeout=10).raise_for_status()
    form = open_details(page, app, name).find_element("css selector", '[data-form="autoscale"]')
    fill(form, min="6", max="3")
    shown = wait_until(page, lambda d: field_error(form, "min"))
    assert shown == "must be at most max (3)"  # the branch's own words
    assert form.find_element("css selector", '[data-field="min"]').get_attribute("aria-invalid")
    assert field_error(form, "max") == ""
    assert cell_text(page, app, name, "pool") == "1 (min 1, max 1)"
    # A name the API refuses: its error beside the app's name.
    new_app = css(page, "#app-form")
    fill(new_app, app="no spaces")
    assert wait_until(page, lambda d: field_error(new_app, "app"))
    assert httpx.get(f"{live.url}/", timeout=10).json().count("no spaces") == 0


def test_a_worker_killed_behind_the_page_s_back_shows_without_a_reload(page: Any, live: LiveBranch):
    app, name = unique("killed"), unique("w")
    httpx.put(f"{live.url}/{app}", timeout=10).raise_for_status()
    httpx.post(f"{live.url}/{app}/instances/{name}", timeout=10).raise_for_status()
    assert wait_cell(page, app, name, "state", "running")
    assert cell_text(page, app, name, "restarts") == "0"
    # Not the page: a request of the test's own kills the worker (faults.py).
    fault = {"Cyme-Fault": f"kill=SIGKILL; id={unique('fault')}"}
    httpx.get(f"{live.url}/{app}/instances/{name}", headers=fault, timeout=10)
    assert wait_cell(page, app, name, "exit", "SIGKILL")
    assert wait_cell(page, app, name, "restarts", "1")
    assert wait_cell(page, app, name, "state", "running")  # brought back by the supervisor
    assert still_the_same_document(page)


def test_restart_disable_enable_and_delete_through_the_page(page: Any, live: LiveBranch):
    app, name = unique("levers"), unique("w")
    httpx.put(f"{live.url}/{app}", timeout=10).raise_for_status()
    httpx.post(f"{live.url}/{app}/instances/{name}", timeout=10).raise_for_status()
    instance_row = row(page, app, name)
    assert wait_cell(page, app, name, "state", "running")

    def press(action: str) -> None:
        instance_row.find_element("css selector", f'[data-action="{action}"]').click()

    press("disable")
    assert wait_cell(page, app, name, "state", "disabled")
    press("enable")
    assert wait_cell(page, app, name, "state", "running")
    press("restart")
    assert wait_cell(page, app, name, "exit", "restarted")
    press("delete")
    press("delete")  # the second click confirms
    wait_until(page, lambda d: not d.find_elements("css selector", f'tr[data-instance="{name}"]'))
    assert httpx.get(f"{live.url}/{app}/instances", timeout=10).json() == []
    section = app_section(page, app)
    button = section.find_element("css selector", "button.danger")
    button.click()
    button.click()
    wait_until(page, lambda d: not d.find_elements("css selector", f'section[data-app="{app}"]'))
    assert app not in httpx.get(f"{live.url}/", timeout=10).json()
    assert still_the_same_document(page)


def test_log_in_with_the_token(browser: Any, tmp_path: Path):
    with LiveBranch(tmp_path, "ui-secured", token=TOKEN) as secured:
        app = unique("secret")
        auth = {"Authorization": f"Bearer {TOKEN}"}
        httpx.put(f"{secured.url}/{app}", headers=auth, timeout=10).raise_for_status()
        browser.execute_script("sessionStorage.clear()")  # another test's tab
        open_ui(browser, secured.url)
        login = css(browser, "#login")
        assert login.is_displayed()
        assert not css(browser, "#admin").is_displayed()
        fill(login, **{})  # nothing typed
        token_field = login.find_element("id", "login-token")
        token_field.send_keys("not-the-token")
        login.find_element("css selector", "button[type=submit]").click()
        error = wait_until(browser, lambda d: d.find_element("id", "login-token-error").text)
        assert error == "This is not the branch's token."
        token_field.send_keys(TOKEN)
        login.find_element("css selector", "button[type=submit]").click()
        app_section(browser, app)
        assert not login.is_displayed()
        # The token is in the tab's sessionStorage, and nowhere a person or a log sees it.
        assert browser.execute_script("return sessionStorage.getItem('cyme.token')") == TOKEN
        assert TOKEN not in browser.current_url
        assert TOKEN not in browser.page_source
        assert TOKEN not in secured.log_text()
        # A reload keeps the tab logged in; logging out forgets the token.
        open_ui(browser, secured.url)
        app_section(browser, app)
        css(browser, "#logout").click()
        assert css(browser, "#login").is_displayed()
        assert browser.execute_script("return sessionStorage.getItem('cyme.token')") is None
        no_policy_violations(browser)


def test_no_serious_accessibility_violations(page: Any, live: LiveBranch):
    if not AXE.exists():
        message = f"{AXE} missing: `make test-server` installs axe-core"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    app, name = unique("axe"), unique("w")
    httpx.put(f"{live.url}/{app}", timeout=10).raise_for_status()
    httpx.put(f"{live.url}/{app}/queues/celery", timeout=10).raise_for_status()
    httpx.post(f"{live.url}/{app}/instances/{name}", timeout=10).raise_for_status()
    httpx.put(f"{live.url}/{app}/instances/{name}/queues/celery", timeout=10).raise_for_status()
    open_details(page, app, name)
    wait_until(page, lambda d: d.find_elements("css selector", f'[data-app="{app}"] .uplot'))
    found = axe_violations(page)
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    assert not serious, serious
    login_page = axe_login_page(page)
    assert not [v for v in login_page if v["impact"] in ("serious", "critical")], login_page


def axe_login_page(driver: Any) -> list[dict[str, Any]]:
    """The login form as shown (the admin part hidden), checked too."""
    driver.execute_script(
        "document.getElementById('admin').hidden = true;"
        "document.getElementById('login').hidden = false;"
    )
    return axe_violations(driver)


def canned(body: object, status: int = 200) -> Canned:
    kind = "application/json" if status < 400 else "application/problem+json"
    return status, {"Content-Type": kind}, json.dumps(body).encode()


def cluster_list(parts: list[dict[str, object]], stale: bool = False) -> Canned:
    return canned({"scope": "cluster", "stale": stale, "branches": parts})


def instance(name: str, state: str = "running") -> dict[str, object]:
    return {
        "name": name,
        "app": "pycon",
        "queues": ["celery"],
        "min_concurrency": 1,
        "max_concurrency": 4,
        "is_enabled": True,
        "state": state,
        "processes": 2,
        "restarts": 0,
        "last_exit": None,
    }


def test_a_cluster_is_shown_member_by_member(browser: Any):
    """A branch that answers `?scope=cluster` reads: each member's instances and
    queues with its name, another member's instances linked to its own page, and
    a member out of reach said so."""
    pages: dict[str, str | Canned] = {}
    with page_server(pages) as port:
        here, there, away = (
            f"http://127.0.0.1:{port}/",
            "http://127.0.0.1:1/",
            "http://127.0.0.1:2/",
        )
        page = ui.page()
        lost = {"branch": "b3", "url": away, "state": "unreachable", "detail": "did not answer"}

        def part(branch: str, url: str, items: list[object]) -> dict[str, object]:
            return {"branch": branch, "url": url, "state": "ok", "status": 200, "items": items}

        queue = {"name": "celery", "messages": 3, "consumers": 1, "depth_error": None}
        pages.update(
            {
                "/ui": (200, {**page.headers, "Content-Type": ui.CONTENT_TYPE}, page.html.encode()),
                "/?scope=cluster": cluster_list(
                    [part("b1", here, ["pycon"]), part("b2", there, ["pycon"]), lost], stale=True
                ),
                "/branches": canned(["b1", "b2", "b3"]),
                "/branches/b1": canned({"id": "b1", "url": here, "supervisor": "simulated"}),
                "/branches/b2": canned({"id": "b2", "url": there, "supervisor": "celery"}),
                "/branches/b3": canned({"status": 504, "detail": "b3 did not answer"}, 504),
                "/pycon/instances?details=true&scope=cluster": cluster_list(
                    [
                        part("b1", here, [instance("w1")]),
                        part("b2", there, [instance("w2", "backoff")]),
                        lost,
                    ]
                ),
                "/pycon/queues?details=true&scope=cluster": cluster_list(
                    [part("b1", here, [queue]), part("b2", there, [queue]), lost]
                ),
            }
        )
        open_ui(browser, f"http://127.0.0.1:{port}")
        mine = row(browser, "pycon", "w1")
        theirs = row(browser, "pycon", "w2")
        assert mine.get_attribute("data-branch") == "b1"
        assert theirs.get_attribute("data-branch") == "b2"
        assert mine.find_elements("css selector", '[data-form="autoscale"]')
        assert not theirs.find_elements("css selector", "form")
        link = theirs.find_element("css selector", "a")
        assert link.get_attribute("href") == f"{there}ui"
        assert cell_text(browser, "pycon", "w2", "state") == "backoff"
        assert "b3: unreachable (did not answer)" in css(browser, "#status").text
        assert "Stale: this branch has lost the cluster's broker" in css(browser, "#status").text
        assert "unreachable" in css(browser, '#branch-rows tr[data-branch="b3"]').text
        queues = app_section(browser, "pycon").find_elements("css selector", "tr[data-queue]")
        assert [q.text.split()[:3] for q in queues] == [
            ["celery", "b1", "3"],
            ["celery", "b2", "3"],
        ]
        # Instances are added cluster-wide: the cluster places them.
        assert app_section(browser, "pycon").find_elements("css selector", '[data-field="branch"]')
        no_policy_violations(browser)
