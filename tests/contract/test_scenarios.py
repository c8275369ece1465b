"""The Python runner: every scenario through `cyme.Client` and `cyme.AsyncClient`,
each run against a fresh branch."""

from __future__ import annotations

import pytest

from branches import BranchPool
from contract import Scenario, load_all, run
from python_ops import Mode, PythonSdk

SCENARIOS = load_all()


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_scenario(scenario: Scenario, mode: Mode, pool: BranchPool) -> None:
    with pool.take(scenario.branch) as branch:
        sdk = PythonSdk(mode, branch.url, branch.token)
        try:
            run(scenario, sdk, {"branch_id": branch.id})
        finally:
            sdk.close()
