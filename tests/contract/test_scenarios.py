"""The Python runner: every scenario through `cyme.Client`, and through
`cyme.AsyncClient` on each of its transports (httpx's and aiohttp's), each run
against a fresh branch."""

from __future__ import annotations

import pytest

from branches import BranchPool
from contract import Scenario, load_all, run
from python_ops import MODES, Mode, PythonSdk

SCENARIOS = load_all()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_scenario(scenario: Scenario, mode: Mode, pool: BranchPool) -> None:
    with pool.take(scenario.branch) as branch:
        sdk = PythonSdk(mode, branch.url, branch.token)
        try:
            run(scenario, sdk, {"branch_id": branch.id})
        finally:
            sdk.close()
