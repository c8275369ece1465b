"""The coverage matrix (tools/coverage_matrix.py, `make coverage-matrix`) is
complete today, and shows what a change to openapi.yaml leaves uncovered: a
status documented later is a gap until a scenario exercises it."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from contract import REPO, SCENARIOS, SPEC


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "coverage_matrix", REPO / "tools" / "coverage_matrix.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


matrix = load_tool()


def test_every_cell_is_filled_and_the_file_is_current() -> None:
    operations, classes = matrix.collect()
    assert matrix.gaps(operations, classes) == []
    assert matrix.render(operations, classes) == (REPO / "docs" / "coverage.md").read_text()


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    copy = tmp_path / "openapi.yaml"
    shutil.copy2(SPEC, copy)
    return copy


def test_a_status_documented_later_is_a_gap(spec: Path) -> None:
    text = spec.read_text()
    anchor = '        "202": {$ref: "#/components/responses/Scheduled"}\n        "200":\n'
    # A 429 for the autoscale writes (putAutoscale, postAutoscale share responses).
    autoscale = text.index("operationId: putAutoscale\n      x-sdk-method")
    at = text.index(anchor, autoscale)
    spec.write_text(
        text[:at] + '        "429": {$ref: "#/components/responses/Error"}\n' + text[at:]
    )
    operations, classes = matrix.collect(spec)
    assert matrix.gaps(operations, classes) == [
        "putAutoscale: no scenario step exercises 429",
        "postAutoscale: no scenario step exercises 429",
    ]
    rows = [
        line for line in matrix.render(operations, classes).splitlines() if "Autoscale`" in line
    ]
    assert "**429 missing**" in rows[1] and "**429 missing**" in rows[2]


def test_an_operation_nobody_implements_is_a_gap(spec: Path) -> None:
    spec.write_text(
        spec.read_text().replace(
            "  /branches:\n",
            "  /reload:\n    post:\n      operationId: reloadBranch\n"
            "      responses:\n        '204': {description: Reloaded.}\n"
            "        '401': {$ref: '#/components/responses/Unauthorized'}\n"
            "  /branches:\n",
        )
    )
    operations, classes = matrix.collect(spec)
    assert matrix.gaps(operations, classes) == [
        "reloadBranch: nothing in the column 'served'",
        "reloadBranch: nothing in the column 'python'",
        "reloadBranch: nothing in the column 'ruby'",
        "reloadBranch: no scenario exercises it",
        "reloadBranch: no scenario step exercises 401",
    ]


def test_an_error_class_no_scenario_expects_is_a_gap(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    shutil.copytree(SCENARIOS, scenarios)
    (scenarios / "errors-and-retries.yaml").unlink()
    operations, classes = matrix.collect(SPEC, scenarios)
    gaps = matrix.gaps(operations, classes)
    assert "APITimeoutError: no scenario expects it" in gaps
    assert "RateLimitError: no scenario expects it" in gaps
