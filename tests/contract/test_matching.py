"""The matchers and variables of contract.py decide the cases of matchers.yaml
as written; matching_test.rb holds contract.rb to the same cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from contract import StepFailed, dig, substitute
from matching import ScenarioError, mismatches

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "matchers.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", CASES, ids=lambda case: repr(case["expected"]))
def test_matchers_yaml(case: dict[str, Any]) -> None:
    if case.get("error"):
        with pytest.raises(ScenarioError):
            mismatches(case["expected"], case["actual"])
    else:
        assert (not mismatches(case["expected"], case["actual"])) is case["matches"]


def test_variables() -> None:
    variables = {"name": "w1", "names": ["a"], "count": 3}
    assert substitute("${names}", variables) == ["a"]
    assert substitute({"q": "dq.${name}", "n": "${count}"}, variables) == {"q": "dq.w1", "n": 3}
    assert substitute("${name}-${count}", variables) == "w1-3"
    with pytest.raises(ScenarioError, match="unknown variable"):
        substitute("${nope}", variables)
    with pytest.raises(ScenarioError, match="inside a string"):
        substitute("x${names}", variables)


def test_dig() -> None:
    result = {"pool": {"processes": [7, 8]}, "a.b": 1}
    assert dig(result, "pool.processes.1") == 8
    assert dig(result, ".") is result
    with pytest.raises(StepFailed):
        dig(result, "pool.threads")
    with pytest.raises(StepFailed):
        dig(result, "pool.processes.2")
