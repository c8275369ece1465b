"""Driving the admin page (`/ui`) in Chromium, as a person would: for its tests,
`make screenshots` and bench/ui_bench.py.

The page marks what a test needs to find: each app's section has
`data-app`, each instance's row `data-instance` and its cells `data-col`
(`state`, `pool`, `queues`, `restarts`, `exit`), each form `data-form`
and each field the API's name for it in `data-field`; `<body
data-ready>` once the first poll is shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chromium import console, csp_violations, wait_until

AXE = Path(__file__).resolve().parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"


def open_ui(driver: Any, url: str) -> None:
    """Load the page and wait until it shows the branch (or asks for a token)."""
    driver.get(f"{url}/ui")
    wait_until(
        driver,
        lambda d: d.execute_script(
            "return document.body.dataset.ready === 'true'"
            " || !document.getElementById('login').hidden"
        ),
    )


def open_marked(driver: Any, url: str) -> Any:
    """The page loaded afresh, its console emptied, and marked: the mark is
    gone if the page is loaded again, so what a test sees after it came
    without a reload (`still_the_same_document`)."""
    open_ui(driver, url)
    console(driver)  # drop what came before
    driver.execute_script("window.__sameDocument = true;")
    return driver


def still_the_same_document(driver: Any) -> bool:
    return bool(driver.execute_script("return window.__sameDocument === true"))


def no_policy_violations(driver: Any) -> None:
    assert csp_violations(driver) == []
    assert not [m for m in console(driver) if "Content Security Policy" in m]


def css(driver: Any, selector: str) -> Any:
    """The element, once it is there."""
    return wait_until(driver, lambda d: d.find_elements("css selector", selector))[0]


def app_section(driver: Any, app: str) -> Any:
    return css(driver, f'section[data-app="{app}"]')


def row(driver: Any, app: str, instance: str) -> Any:
    return css(driver, f'section[data-app="{app}"] tr[data-instance="{instance}"]')


def cell_text(driver: Any, app: str, instance: str, column: str) -> str:
    found = driver.find_elements(
        "css selector",
        f'section[data-app="{app}"] tr[data-instance="{instance}"] [data-col="{column}"]',
    )
    return str(found[0].text) if found else ""


def wait_cell(driver: Any, app: str, instance: str, column: str, text: str) -> str:
    """The cell's text, once it contains `text` (the page updates it by itself)."""
    return str(
        wait_until(
            driver,
            lambda d: text in (t := cell_text(d, app, instance, column)) and t,
        )
    )


def fill(form: Any, **fields: str) -> None:
    """Type into the form's fields (by their API name) and submit it."""
    for name, value in fields.items():
        field = form.find_element("css selector", f'[data-field="{name}"]')
        field.clear()
        field.send_keys(value)
    form.find_element("css selector", "button[type=submit]").click()


def field_error(form: Any, name: str) -> str:
    """The error shown beside a field of the form ('' for none)."""
    field = form.find_element("css selector", f'[data-field="{name}"]')
    error = form.find_element("css selector", f"#{field.get_attribute('id')}-error")
    return str(error.text)


def open_details(driver: Any, app: str, instance: str) -> Any:
    """The instance's row, with its "Scale, consume" forms shown."""
    found = row(driver, app, instance)
    details = found.find_element("css selector", "details")
    if not details.get_attribute("open"):
        details.find_element("css selector", "summary").click()
    return found


def axe_violations(driver: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the current document (its rules for WCAG 2.1 A and AA)."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    script = """
    const done = arguments[arguments.length - 1];
    axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a",
      "wcag21aa", "best-practice"]}, resultTypes: ["violations"]})
      .then((r) => done(r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5)}))),
            (e) => done([{id: "axe failed", impact: "critical", help: String(e), nodes: []}]));
    """
    return list(driver.execute_async_script(script))
