"""Fixtures of the contract suite, and the Python runner's results file.

Every scenario test records its outcome by scenario and mode; at the end of
the session the outcomes go to build/contract/python.json (or the directory
in CYME_CONTRACT_RESULTS), which verdict.py compares with Ruby's.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from branches import BranchPool
from contract import write_results

RUNS: dict[str, dict[str, str]] = {}


@pytest.fixture(scope="session")
def pool() -> Iterator[BranchPool]:
    branches = BranchPool()
    yield branches
    branches.close()


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDKs read these; a scenario says everything itself.
    for name in ("CYME_URL", "CYME_TOKEN", "CYME_LOG"):
        monkeypatch.delenv(name, raising=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    params = getattr(item, "callspec", None)
    if params is not None and {"scenario", "mode"} <= set(params.params):
        name, mode = str(params.params["scenario"]), str(params.params["mode"])
        # The call's outcome, unless setting up or tearing down failed.
        if report.when == "call" or report.outcome != "passed":
            runs = RUNS.setdefault(name, {})
            if runs.get(mode) != "failed":
                runs[mode] = report.outcome
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    if RUNS:
        write_results("python", RUNS)
