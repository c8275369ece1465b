"""`GET /ui` of a member of a live 3-branch cluster, in a real browser.

The page is served by b0 of a `LiveCluster` on the session's own
redis-server and reads the cluster through b0 (`?scope=cluster`). The
steps of test_ui_page.py that change with the cluster are played again:
the members listed, apps made cluster-wide and instances placed on the
member chosen, autoscale bounds set on b0's own instance while another
member's instance links to that member's page, a 422 beside its field, a
worker killed on another member and a member killed with `kill -9`, both
behind the page's back, shown without a reload, and the login of a
cluster whose members have a token.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from chromium import wait_until
from contract import unique
from live import poll
from ui_page import (
    app_section,
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

from cyme_branch.testing import LiveBranch, LiveCluster, RedisServer

pytestmark = pytest.mark.slow

HEARTBEAT = 0.5
TOKEN = "ui-cluster-token-5b2e"
WAIT = 30.0  # seconds, at most, for what the cluster does (polled)


@pytest.fixture(scope="module")
def cluster(redis_server: RedisServer) -> Iterator[LiveCluster]:
    """Shared by the tests that leave every member running (unique names keep them apart)."""
    with LiveCluster(redis_server.url(), 3, heartbeat=HEARTBEAT, fault_injection=True) as live:
        yield live


@pytest.fixture
def page(browser: Any, cluster: LiveCluster) -> Any:
    return open_marked(browser, cluster.members[0].url)


def cluster_app(entry: LiveBranch) -> str:
    """An app declared on every member through `entry`."""
    app = unique("app")
    httpx.put(f"{entry.url}/{app}?scope=cluster", timeout=15).raise_for_status()
    return app


def place(entry: LiveBranch, app: str, member: LiveBranch) -> str:
    """An instance of `app` placed on `member` through `entry`; its name."""
    answer = httpx.post(f"{entry.url}/{app}/instances?scope=cluster&branch={member.id}", timeout=15)
    assert answer.status_code == 201, answer.text
    assert answer.json()["branch"] == member.id
    return str(answer.json()["instance"]["name"])


def held_by(member: LiveBranch, app: str, name: str) -> bool:
    """Whether `member` itself holds the instance (its own URL, no scope)."""
    return httpx.get(f"{member.url}/{app}/instances/{name}", timeout=10).status_code == 200


def branch_row(driver: Any, ident: str) -> Any:
    return css(driver, f'#branch-rows tr[data-branch="{ident}"]')


def shown_instances(driver: Any, app: str) -> set[str]:
    found = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), (r) => r.dataset.instance);",
        f'section[data-app="{app}"] tr[data-instance]',
    )
    return {str(name) for name in found}


def add_instance(driver: Any, app: str, member: LiveBranch) -> str:
    """Through the page's form, on the member chosen: the name the cluster gave
    it, once the page shows it."""
    before = shown_instances(driver, app)
    form = app_section(driver, app).find_element("css selector", '[data-form="add-instance"]')
    fill(form, branch=member.id)
    (name,) = wait_until(driver, lambda d: shown_instances(d, app) - before)
    return str(name)


def test_the_page_lists_every_member(page: Any, cluster: LiveCluster):
    b0, b1, b2 = cluster.members
    assert wait_until(page, lambda d: "this branch" in branch_row(d, b0.id).text)
    for member in (b1, b2):

        def alive_link(d: Any, ident: str = member.id) -> Any:
            shown = branch_row(d, ident)  # read at once: polls draw the rows again
            return "alive" in shown.text and shown.find_element("css selector", "a").get_attribute(
                "href"
            )

        assert wait_until(page, alive_link) == f"{member.url}/ui"
    assert page.title.endswith(b0.id)
    no_policy_violations(page)


def test_an_app_made_through_the_page_is_on_every_member(page: Any, cluster: LiveCluster):
    b0, b1, b2 = cluster.members
    app = unique("made")
    fill(css(page, "#app-form"), app=app)
    app_section(page, app)
    for member in cluster.members:
        assert poll(lambda m=member: app in httpx.get(f"{m.url}/", timeout=10).json(), WAIT)
    # Placed through the API: each shows under the member that holds it.
    on_b1, on_b2 = place(b0, app, b1), place(b0, app, b2)
    for name, member in ((on_b1, b1), (on_b2, b2)):
        assert row(page, app, name).get_attribute("data-branch") == member.id
        assert cell_text(page, app, name, "branch") == member.id
        assert wait_cell(page, app, name, "state", "running")
    # Deleted through the page: from every member.
    button = app_section(page, app).find_element("css selector", "button.danger")
    button.click()
    button.click()  # the second click confirms
    wait_until(page, lambda d: not d.find_elements("css selector", f'section[data-app="{app}"]'))
    for member in cluster.members:
        assert poll(lambda m=member: app not in httpx.get(f"{m.url}/", timeout=10).json(), WAIT)
    assert still_the_same_document(page)


def test_an_instance_added_through_the_page_lands_on_the_member_chosen(
    page: Any, cluster: LiveCluster
):
    b0, b1, b2 = cluster.members
    app = cluster_app(b0)
    # A name typed too: refused beside it (a named create would be b0's own).
    form = app_section(page, app).find_element("css selector", '[data-form="add-instance"]')
    named = unique("w")
    fill(form, instance=named, branch=b2.id)
    assert wait_until(page, lambda d: field_error(form, "instance"))
    assert not any(held_by(member, app, named) for member in cluster.members)
    form.find_element("css selector", '[data-field="instance"]').clear()
    name = add_instance(page, app, b2)
    assert row(page, app, name).get_attribute("data-branch") == b2.id
    assert wait_cell(page, app, name, "state", "running")
    assert held_by(b2, app, name)
    assert not held_by(b0, app, name) and not held_by(b1, app, name)
    assert still_the_same_document(page)


def test_autoscale_on_the_entry_branch_and_a_link_to_the_other_members(
    page: Any, cluster: LiveCluster
):
    b0, b1, _ = cluster.members
    app = cluster_app(b0)
    theirs = place(b0, app, b1)
    row(page, app, theirs)  # shown before another is added
    mine = add_instance(page, app, b0)
    assert row(page, app, mine).get_attribute("data-branch") == b0.id
    assert wait_cell(page, app, mine, "state", "running")
    instance_row = open_details(page, app, mine)
    fill(instance_row.find_element("css selector", '[data-form="autoscale"]'), min="2", max="3")
    assert wait_cell(page, app, mine, "pool", "2 (min 2, max 3)")
    held = httpx.get(f"{b0.url}/{app}/instances/{mine}", timeout=10).json()
    assert (held["min_concurrency"], held["max_concurrency"]) == (2, 3)
    # Another member's instance is acted on from that member's own page.
    other = row(page, app, theirs)
    assert not other.find_elements("css selector", "form")
    link = other.find_element("css selector", '[data-col="actions"] a')
    assert link.get_attribute("href") == f"{b1.url}/ui"
    assert still_the_same_document(page)


def test_a_member_killed_behind_the_page_s_back_shows_lost_without_a_reload(
    browser: Any, redis_server: RedisServer
):
    """A cluster of the test's own: one of its members dies."""
    with LiveCluster(redis_server.url(), 3, heartbeat=HEARTBEAT) as live:
        b0, b1, b2 = live.members
        app = cluster_app(b0)
        on_b1, on_b2 = place(b0, app, b1), place(b0, app, b2)
        page = open_marked(browser, b0.url)
        assert wait_cell(page, app, on_b2, "state", "running")
        assert wait_until(page, lambda d: "alive" in branch_row(d, b2.id).text)
        b2.stop(signal.SIGKILL)  # not the page: the test kills the member
        wait_until(page, lambda d: "lost" in branch_row(d, b2.id).text)
        wait_until(page, lambda d: not cell_text(d, app, on_b2, "state"))
        # The others go on: b1's instance shown, a new one placed on b1 through the page.
        assert wait_until(page, lambda d: "alive" in branch_row(d, b1.id).text)
        assert wait_until(page, lambda d: cell_text(d, app, on_b1, "state").startswith("running"))
        name = add_instance(page, app, b1)
        assert row(page, app, name).get_attribute("data-branch") == b1.id
        assert held_by(b1, app, name)
        assert still_the_same_document(page)


def test_a_422_of_the_cluster_shows_beside_its_field(page: Any, cluster: LiveCluster):
    b0 = cluster.members[0]
    app = cluster_app(b0)
    mine = add_instance(page, app, b0)
    form = open_details(page, app, mine).find_element("css selector", '[data-form="autoscale"]')
    fill(form, min="6", max="3")
    assert wait_until(page, lambda d: field_error(form, "min")) == "must be at most max (3)"
    assert field_error(form, "max") == ""
    new_app = css(page, "#app-form")
    fill(new_app, app="no spaces")
    assert wait_until(page, lambda d: field_error(new_app, "app"))
    assert all(
        "no spaces" not in httpx.get(f"{m.url}/", timeout=10).json() for m in cluster.members
    )


def test_a_worker_killed_on_another_member_shows_without_a_reload(page: Any, cluster: LiveCluster):
    b0, b1, _ = cluster.members
    app = cluster_app(b0)
    theirs = place(b0, app, b1)
    assert wait_cell(page, app, theirs, "state", "running")
    assert cell_text(page, app, theirs, "restarts") == "0"
    # Not the page: a request of the test's own, to b1 itself, kills the worker.
    fault = {"Cyme-Fault": f"kill=SIGKILL; id={unique('fault')}"}
    httpx.get(f"{b1.url}/{app}/instances/{theirs}", headers=fault, timeout=10)
    assert wait_cell(page, app, theirs, "exit", "SIGKILL")
    assert wait_cell(page, app, theirs, "restarts", "1")
    assert wait_cell(page, app, theirs, "state", "running")
    assert still_the_same_document(page)


def test_log_in_to_a_cluster_with_its_token(browser: Any, redis_server: RedisServer):
    """Members with a token: the page asks for it, and then shows every member's instances."""
    with LiveCluster(redis_server.url(), 3, heartbeat=HEARTBEAT, token=TOKEN) as live:
        b0, _, b2 = live.members
        auth = {"Authorization": f"Bearer {TOKEN}"}
        app = unique("secret")
        httpx.put(f"{b0.url}/{app}?scope=cluster", headers=auth, timeout=15).raise_for_status()
        placed = httpx.post(
            f"{b0.url}/{app}/instances?scope=cluster&branch={b2.id}", headers=auth, timeout=15
        ).json()["instance"]["name"]
        browser.execute_script("sessionStorage.clear()")
        open_ui(browser, b0.url)
        login = css(browser, "#login")
        assert login.is_displayed()
        login.find_element("id", "login-token").send_keys(TOKEN)
        login.find_element("css selector", "button[type=submit]").click()
        assert row(browser, app, placed).get_attribute("data-branch") == b2.id
        assert TOKEN not in browser.current_url
        assert TOKEN not in browser.page_source
        assert all(TOKEN not in member.log_text() for member in live.members)
        css(browser, "#logout").click()
        assert browser.execute_script("return sessionStorage.getItem('cyme.token')") is None
