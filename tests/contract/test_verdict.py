"""One verdict: the comparison of the runners' results fails when they differ,
when a run is missing, or when a runner read a scenario differently."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from contract import HERE, load_all
from verdict import RUNS, decide, render

SCENARIOS = {"a": "digest-a", "b": "digest-b"}


def results(language: str, outcome: str = "passed", **changes: Any) -> dict[str, Any]:
    modes = RUNS[language]
    scenarios = {
        name: {"digest": digest, "runs": dict.fromkeys(modes, outcome)}
        for name, digest in SCENARIOS.items()
    }
    scenarios.update(changes)
    return {"language": language, "scenarios": scenarios}


def test_every_run_passed() -> None:
    verdict = decide(SCENARIOS, {"python": results("python"), "ruby": results("ruby")})
    assert verdict.ok
    assert "2 scenarios, every one passed in every run." in render(verdict)


def test_a_scenario_that_fails_in_one_language_only() -> None:
    ruby = results("ruby", b={"digest": "digest-b", "runs": {"sync": "failed"}})
    verdict = decide(SCENARIOS, {"python": results("python"), "ruby": ruby})
    assert verdict.problems == ["b: passes in python but not in ruby (ruby sync: failed)"]


@pytest.mark.parametrize("mode", ["async", "aiohttp"])
def test_one_python_client_failing_is_python_failing(mode: str) -> None:
    """A scenario that fails through one client or transport only fails Python."""
    runs = {**dict.fromkeys(RUNS["python"], "passed"), mode: "failed"}
    python = results("python", a={"digest": "digest-a", "runs": runs})
    verdict = decide(SCENARIOS, {"python": python, "ruby": results("ruby")})
    assert verdict.problems == [f"a: passes in ruby but not in python (python {mode}: failed)"]


def test_failing_everywhere_fails_too() -> None:
    verdict = decide(
        SCENARIOS, {"python": results("python", "failed"), "ruby": results("ruby", "failed")}
    )
    assert verdict.problems == [
        "a: python sync: failed, python async: failed, python aiohttp: failed, ruby sync: failed",
        "b: python sync: failed, python async: failed, python aiohttp: failed, ruby sync: failed",
    ]


def test_a_scenario_missing_or_skipped_in_one_language() -> None:
    ruby = results("ruby")
    del ruby["scenarios"]["a"]
    # b's aiohttp run is missing from Python's results: a runner without that mode.
    python = results(
        "python", b={"digest": "digest-b", "runs": {"sync": "passed", "async": "skipped"}}
    )
    problems = decide(SCENARIOS, {"python": python, "ruby": ruby}).problems
    assert problems == [
        "a: passes in python but not in ruby (ruby sync: missing)",
        "b: passes in ruby but not in python (python async: skipped, python aiohttp: missing)",
    ]


def test_no_results_file() -> None:
    problems = decide(SCENARIOS, {"python": results("python"), "ruby": None}).problems
    assert problems[0] == "no results from the ruby runner"
    assert "a: passes in python but not in ruby (ruby sync: missing)" in problems


def test_a_scenario_read_differently_or_unknown() -> None:
    ruby = results("ruby", a={"digest": "other", "runs": {"sync": "passed"}})
    ruby["scenarios"]["gone"] = {"digest": "x", "runs": {"sync": "passed"}}
    problems = decide(SCENARIOS, {"python": results("python"), "ruby": ruby}).problems
    assert problems == [
        "a: the ruby runner read it differently (digest)",
        "gone: in the ruby results, but no such scenario",
    ]


def test_the_command_fails_on_differing_verdicts(tmp_path: Path) -> None:
    scenarios = load_all()
    for language, modes in RUNS.items():
        data: dict[str, Any] = {
            "language": language,
            "scenarios": {
                s.name: {"digest": s.digest, "runs": dict.fromkeys(modes, "passed")}
                for s in scenarios
            },
        }
        if language == "ruby":
            data["scenarios"][scenarios[0].name]["runs"]["sync"] = "failed"
        (tmp_path / f"{language}.json").write_text(json.dumps(data))
    done = subprocess.run(
        [sys.executable, str(HERE / "verdict.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert f"{scenarios[0].name}: passes in python but not in ruby" in done.stdout


def test_the_table_has_a_column_per_run() -> None:
    python = results("python", a={"digest": "digest-a", "runs": {"sync": "passed"}})
    lines = render(decide(SCENARIOS, {"python": python, "ruby": results("ruby")})).splitlines()
    columns = ["python sync", "python async", "python aiohttp", "ruby sync"]
    assert lines[0].split("  ") == ["scenario", *columns]
    assert lines[1].split() == ["a", "passed", "missing", "missing", "passed"]
    # Each outcome starts under its column's name.
    assert lines[1].index("missing") == lines[0].index("python async")
