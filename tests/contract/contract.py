"""The Python side of the contract suite: scenarios and their rules.

A scenario (tests/contract/scenarios/*.yaml, described in README.md) is run
step by step through an `Sdk`: something that performs one operationId with
SDK-neutral arguments and reports what came back, a result or an error. This
module holds what does not depend on the SDK: reading scenario files,
variables, the step loop and the results files; `matching.py` holds how
`expect` matches, `branches.py` the fresh branches scenarios run against.
`contract.rb` (with matching.rb and branches.rb) is the Ruby twin; the two
must decide every step alike (`matchers.yaml` holds the cases both run).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from matching import ScenarioError, mismatches

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCENARIOS = HERE / "scenarios"
SCHEMA = HERE / "scenario.schema.json"
SPEC = REPO / "openapi.yaml"

# Each error class and what naming it implies (see error_classes.yaml).
ERROR_CLASSES: dict[str, int | str] = yaml.safe_load(
    (HERE / "error_classes.yaml").read_text(encoding="utf-8")
)
# The status each error class stands for, when a step names the class alone.
IMPLIED_STATUS = {name: v for name, v in ERROR_CLASSES.items() if isinstance(v, int)}
# Errors without an answer: nothing to compare but the class.
NO_STATUS = frozenset(name for name, v in ERROR_CLASSES.items() if v == "none")
POLL_INTERVAL = 0.05
STEP_KEYS = (
    *("op", "note", "args", "nowait", "client", "headers", "fault", "idempotency_key"),
    *("expect", "error", "save", "poll", "wait"),
)
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class StepFailed(AssertionError):
    """A step did not get what it expected."""


# -- scenario files ------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    branch: dict[str, Any]
    steps: list[dict[str, Any]]
    path: Path
    digest: str

    def __str__(self) -> str:
        return self.name


def canonical(data: Any) -> str:
    """The JSON text both runners make of a parsed scenario: sorted keys, no spaces."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(data: Any) -> str:
    """What the runners report of each scenario they read, so that the verdict
    can tell that Python and Ruby parsed the same file into the same steps."""
    return hashlib.sha256(canonical(data).encode("utf-8")).hexdigest()


def load(path: Path) -> Scenario:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ScenarioError(f"{path.name}: a scenario is a mapping")
    # A misspelt key would silently change a step's meaning; the rest of the
    # file is checked against scenario.schema.json by test_scenario_files.py.
    for number, step in enumerate(data.get("steps") or [], 1):
        unknown = sorted(set(step) - set(STEP_KEYS))
        if unknown:
            raise ScenarioError(f"{path.name}, step {number}: unknown keys {unknown}")
    return Scenario(
        name=str(data.get("name")),
        description=str(data.get("description")),
        branch=dict(data.get("branch") or {}),
        steps=list(data.get("steps") or []),
        path=path,
        digest=digest(data),
    )


def load_all(directory: Path = SCENARIOS) -> list[Scenario]:
    return [load(path) for path in sorted(directory.glob("*.yaml"))]


# -- variables -------------------------------------------------------------------


def substitute(value: Any, variables: Mapping[str, Any]) -> Any:
    """`value` with `${name}` replaced: a whole-string reference by the variable's
    value (any type), a reference inside a string by its text."""
    if isinstance(value, str):
        whole = VARIABLE.fullmatch(value)
        if whole:
            return copy.deepcopy(lookup(variables, whole.group(1)))
        return VARIABLE.sub(lambda m: as_text(lookup(variables, m.group(1))), value)
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, variables) for key, item in value.items()}
    return value


def lookup(variables: Mapping[str, Any], name: str) -> Any:
    if name not in variables:
        raise ScenarioError(f"unknown variable ${{{name}}}")
    return variables[name]


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ScenarioError(f"only strings and integers go inside a string, not {value!r}")


def dig(value: Any, path: str) -> Any:
    """The part of a result at a dotted path (`pool.processes`, `0`, `.` for all)."""
    if path == ".":
        return value
    for part in path.split("."):
        if isinstance(value, list) and re.fullmatch(r"\d+", part) and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise StepFailed(f"the result has nothing at {path!r}")
    return value


# -- running -----------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """An error an SDK raised, as the scenarios see it."""

    cls: str
    status: int | None = None
    type: str | None = None
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.cls} ({self.status})" if self.status else self.cls


@dataclass(frozen=True)
class Outcome:
    """What one call came back with: a result (JSON data) or a failure."""

    result: Any = None
    failure: Failure | None = None


@dataclass(frozen=True)
class Call:
    """One step, made SDK-neutral and with its variables substituted."""

    op: str
    args: dict[str, Any]
    client: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None
    # With nowait, or on sendTask: seconds to wait on the Scheduled answer or the task
    # (what it comes to is the step's result).
    wait: float | None = None


class Sdk(Protocol):
    """One language's way to perform an operation (see python_ops.py)."""

    def call(self, call: Call) -> Outcome: ...


def prepare(step: Mapping[str, Any], variables: Mapping[str, Any]) -> Call:
    args = dict(substitute(step.get("args", {}), variables))
    if step.get("nowait"):
        args["nowait"] = True
    headers = dict(substitute(step.get("headers", {}), variables))
    if "fault" in step:
        headers["Cyme-Fault"] = substitute(step["fault"], variables)
    key = step.get("idempotency_key")
    return Call(
        op=str(step["op"]),
        args=args,
        client=dict(substitute(step.get("client", {}), variables)),
        headers=headers,
        idempotency_key=substitute(key, variables) if key is not None else None,
        wait=float(step["wait"]) if "wait" in step else None,
    )


def judge(step: Mapping[str, Any], outcome: Outcome, variables: Mapping[str, Any]) -> list[str]:
    """What is wrong with the outcome of a step; empty when it is what the step expects."""
    if "error" in step:
        want = step["error"] if isinstance(step["error"], dict) else {"class": step["error"]}
        got = outcome.failure
        if got is None:
            return [f"expected {want['class']}, got the result {outcome.result!r}"]
        status = want.get("status", IMPLIED_STATUS.get(want["class"]))
        problems = []
        if got.cls != want["class"]:
            problems.append(f"expected {want['class']}, got {got}")
        if want["class"] not in NO_STATUS and got.status != status:
            problems.append(f"expected status {status}, got {got.status}")
        if "type" in want and got.type != want["type"]:
            problems.append(f"expected problem type {want['type']}, got {got.type}")
        missing = [name for name in want.get("fields", []) if name not in got.fields]
        if missing:
            problems.append(f"expected errors on {missing}, got {list(got.fields)}")
        return problems
    if outcome.failure is not None:
        return [f"expected a result, got {outcome.failure}"]
    if "expect" in step:
        return mismatches(substitute(step["expect"], variables), outcome.result)
    return []


def run(scenario: Scenario, sdk: Sdk, variables: dict[str, Any]) -> None:
    """Run every step; raise StepFailed at the first that does not pass."""
    for number, step in enumerate(scenario.steps, 1):
        deadline = time.monotonic() + float(step.get("poll", 0))
        while True:
            call = prepare(step, variables)
            outcome = sdk.call(call)
            problems = judge(step, outcome, variables)
            if not problems or time.monotonic() >= deadline:
                break
            time.sleep(POLL_INTERVAL)
        if problems:
            raise StepFailed(f"{scenario.name}, step {number} ({call.op}): " + "; ".join(problems))
        for name, path in step.get("save", {}).items():
            variables[name] = dig(outcome.result, path)


# -- results --------------------------------------------------------------------------


def results_path(language: str) -> Path:
    """Where a runner writes its verdicts (CYME_CONTRACT_RESULTS is a directory)."""
    directory = Path(os.environ.get("CYME_CONTRACT_RESULTS", str(REPO / "build" / "contract")))
    return directory / f"{language}.json"


def write_results(language: str, runs: Mapping[str, Mapping[str, str]]) -> Path:
    """Write `{scenario: {"digest": ..., "runs": {mode: passed|failed|skipped}}}`."""
    digests = {scenario.name: scenario.digest for scenario in load_all()}
    scenarios = {
        name: {"digest": digests.get(name), "runs": dict(sorted(modes.items()))}
        for name, modes in sorted(runs.items())
    }
    path = results_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"language": language, "scenarios": scenarios}, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")
    return path
