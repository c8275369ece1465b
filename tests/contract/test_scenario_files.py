"""The scenario files are what README.md says, so that a typo fails loudly.

Each file must validate against scenario.schema.json, and its steps must make
sense against openapi.yaml: known operationIds, arguments that the operation
takes, `nowait` and an Idempotency-Key only where the operation declares them,
known matchers, and variables bound before they are used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from cyme_branch.spec import Operation, Spec

from contract import (
    ERROR_CLASSES,
    IMPLIED_STATUS,
    SCENARIOS,
    SCHEMA,
    SPEC,
    VARIABLE,
    Scenario,
    load_all,
)
from matching import MATCHERS, TYPES, ScenarioError, matcher

ALL = load_all()
OPERATIONS = Spec.load(SPEC).operations
VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
BUILTIN = {"branch_id"}


def test_the_schema_is_a_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(VALIDATOR.schema)


def test_the_schema_names_the_error_classes_of_error_classes_yaml() -> None:
    defs = VALIDATOR.schema["$defs"]
    assert defs["errorClass"]["enum"] == list(ERROR_CLASSES)
    alone = [name for name, implied in ERROR_CLASSES.items() if implied != "given"]
    assert defs["shorthandClass"]["enum"] == alone


def test_there_are_scenarios() -> None:
    assert len(ALL) >= 10
    assert sorted(path.name for path in SCENARIOS.iterdir()) == sorted(
        f"{scenario.name}.yaml" for scenario in ALL
    ), "every file of scenarios/ is a scenario named after it, ending in .yaml"


def args_taken(op: Operation) -> set[str]:
    """Path and query parameters and body fields, by the spec's names."""
    names = {p.name for p in op.params if p.location in ("path", "query")}
    return (names | set(op.body_fields)) - {"nowait"}


def walk_matchers(expected: Any) -> list[str]:
    """Unknown matchers, and matchers given the wrong argument, anywhere in an expectation."""
    try:
        found = matcher(expected)
    except ScenarioError as error:
        return [str(error)]
    if found is None:
        values = expected.values() if isinstance(expected, dict) else expected
        if isinstance(expected, dict | list):
            return [p for value in values for p in walk_matchers(value)]
        return []
    name, argument = found
    if name not in MATCHERS:
        return [f"unknown matcher {name}"]
    if name == "$type" and argument not in TYPES:
        return [f"$type takes one of {', '.join(TYPES)}, not {argument!r}"]
    if name in ("$all", "$unordered"):
        if not isinstance(argument, list):
            return [f"{name} takes a list, not {argument!r}"]
        return [p for value in argument for p in walk_matchers(value)]
    if name in ("$len", "$contains", "$not_contains"):
        return walk_matchers(argument)
    return []


def used_variables(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(VARIABLE.findall(value))
    if isinstance(value, list):
        return {name for item in value for name in used_variables(item)}
    if isinstance(value, dict):
        return {name for item in value.values() for name in used_variables(item)}
    return set()


def check(scenario: Scenario) -> list[str]:
    data = yaml.safe_load(scenario.path.read_text(encoding="utf-8"))
    problems = [
        f"{'/'.join(map(str, error.absolute_path)) or 'top'}: {error.message}"
        for error in VALIDATOR.iter_errors(data)
    ]
    if problems:
        return problems
    if scenario.name != scenario.path.stem:
        problems.append(f"name {scenario.name!r} is not the file's name")
    bound = set(BUILTIN)
    for number, step in enumerate(scenario.steps, 1):
        at = f"step {number} ({step['op']})"
        op = OPERATIONS.get(step["op"])
        if op is None:
            problems.append(f"{at}: no such operationId in openapi.yaml")
            continue
        args = set(step.get("args", {}))
        if args - args_taken(op):
            problems.append(f"{at}: {step['op']} takes no {sorted(args - args_taken(op))}")
        path_params = {p.name for p in op.params if p.location == "path"}
        if path_params - args:
            problems.append(f"{at}: missing the path parameters {sorted(path_params - args)}")
        if step.get("nowait") and not op.takes("query", "nowait"):
            problems.append(f"{at}: {step['op']} does not take nowait")
        if "idempotency_key" in step and not op.takes("header", "Idempotency-Key"):
            problems.append(f"{at}: {step['op']} takes no Idempotency-Key")
        error = step.get("error")
        if isinstance(error, dict) and "status" in error:
            implied = IMPLIED_STATUS.get(error["class"])
            status = error["status"]
            if implied is not None and status != implied:
                problems.append(f"{at}: {error['class']} is {implied}, not {status}")
            if error["class"] == "InternalServerError" and status < 500:
                problems.append(f"{at}: InternalServerError is 500 and above")
            if error["class"] == "APIStatusError" and (
                status in IMPLIED_STATUS.values() or status >= 500
            ):
                problems.append(f"{at}: {status} has its own error class")
        problems += [f"{at}: {p}" for p in walk_matchers(step.get("expect"))]
        unbound = used_variables({k: v for k, v in step.items() if k != "save"}) - bound
        if unbound:
            problems.append(f"{at}: variables used before they are saved: {sorted(unbound)}")
        bound |= set(step.get("save", {}))
    return problems


@pytest.mark.parametrize("scenario", ALL, ids=str)
def test_scenario_file(scenario: Scenario) -> None:
    assert check(scenario) == []


def test_a_typo_fails(tmp_path: Path) -> None:
    broken = tmp_path / "typo.yaml"
    broken.write_text(
        "name: typo\ndescription: a typo\nsteps:\n"
        "  - op: getApp\n    args: {app: x}\n    expcet: {name: x}\n"
        "  - op: getApps\n"
        "  - op: getApp\n    args: {ap: x}\n"
        "  - op: getAutoscale\n    args: {app: x, instance: y}\n    nowait: true\n"
        "  - op: getApp\n    args: {app: '${later}'}\n    expect: {name: {$lenn: 1}}\n",
        encoding="utf-8",
    )
    scenario = Scenario("typo", "", {}, [], broken, "")
    assert any("expcet" in problem for problem in check(scenario))
    broken.write_text(broken.read_text().replace("expcet", "expect"), encoding="utf-8")
    data = yaml.safe_load(broken.read_text())
    scenario = Scenario("typo", "", {}, data["steps"], broken, "")
    problems = "\n".join(check(scenario))
    assert "step 2 (getApps): no such operationId" in problems
    assert "step 3 (getApp): getApp takes no ['ap']" in problems
    assert "missing the path parameters ['app']" in problems
    assert "step 4 (getAutoscale): getAutoscale does not take nowait" in problems
    assert "unknown matcher $lenn" in problems
    assert "variables used before they are saved: ['later']" in problems
