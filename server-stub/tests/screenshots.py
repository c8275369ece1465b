"""`make screenshots`: the admin page (`/ui`) of a busy branch, as docs/ui.png.

Starts a simulated branch (`LiveBranch`, with fault injection), gives it the
talk's app with three instances and two queues, and opens the page in the
same headless Chromium as the tests (chromium.py). For about twenty
seconds the queues fill and drain (`Cyme-Fault: depth=N`) and the pools
grow, so that the charts have a history; one worker is killed behind the
page's back. Then the whole page is saved as a PNG.

    python server-stub/tests/screenshots.py docs/ui.png
"""

from __future__ import annotations

import base64
import sys
import tempfile
import time
from pathlib import Path

import httpx
from chromium import chromium
from ui_page import open_details, open_ui, wait_cell

from cyme_branch.testing import LiveBranch

WIDTH = 1280
SECONDS = 20


def fault(http: httpx.Client, path: str, setting: str, n: int) -> None:
    http.get(path, headers={"Cyme-Fault": f"{setting}; id=shot-{n}-{setting}"})


def main(output: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="cyme-screenshots-") as root:
        (Path(root) / "profile").mkdir()
        return shoot(Path(root), output)


def shoot(root: Path, output: Path) -> int:
    with (
        LiveBranch(root / "branch", "pc1", fault_injection=True, sup_interval=1) as branch,
        httpx.Client(base_url=branch.url, timeout=10) as http,
        chromium(root / "profile") as driver,
    ):
        http.put("/pycon", data={"broker": "amqp://guest:secret@rabbit.local:5672//"})
        for queue in ("celery", "reports"):
            http.put(f"/pycon/queues/{queue}")
        workers = ["w1", "w2", "w3"]
        for name in workers:
            http.post(f"/pycon/instances/{name}")
        http.put("/pycon/instances/w1/queues/celery")
        http.put("/pycon/instances/w2/queues/celery")
        http.put("/pycon/instances/w3/queues/reports")
        http.put("/pycon/instances/w1/autoscale", json={"min": 2, "max": 8})
        driver.set_window_size(WIDTH, 900)
        open_ui(driver, branch.url)
        for n in range(SECONDS):
            fault(http, "/pycon/queues/celery", f"depth={[0, 4, 9, 15, 22, 18, 12][n % 7]}", n)
            fault(http, "/pycon/queues/reports", f"depth={n // 2}", n)
            if n % 5 == 4:
                size = 2 + n // 5 * 2
                http.put("/pycon/instances/w1/autoscale", json={"min": size, "max": 8})
            if n == SECONDS - 6:
                fault(http, "/pycon/instances/w3", "kill=SIGKILL", n)
            time.sleep(1)
        wait_cell(driver, "pycon", "w3", "exit", "SIGKILL")
        open_details(driver, "pycon", "w2")
        # The whole page, beyond the window: Chromium's own full-page capture.
        size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(base64.b64decode(shot["data"]))
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/ui.png")))
