"""Write docs/coverage.md: every operationId against what serves and exercises it.

    python tools/coverage_matrix.py [--check]

For each operationId of openapi.yaml the table shows the route the reference
branch serves it at (from its own routing: the operations of the spec it
loads that have a handler bound), the Python SDK's method (the `sdk_method`
of its route in `cyme.OPERATIONS`, the SDK's route table), the Ruby SDK's
method (`Cyme::OPERATIONS`, asked of Ruby), the contract scenarios with a
step for it, and the statuses openapi.yaml documents for it
with whether a scenario step exercises each: the success path (200 and 201
look alike through an SDK), 202 through a `nowait` step (or any step of an
operation whose success is a 202: a task sent), and every error status
through a step that expects it.

With --check nothing is written: the exit status is 1 when a cell is empty,
a documented status is exercised by no scenario, or docs/coverage.md is not
what this script writes (`make coverage-matrix` rewrites it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi.yaml"
SCENARIOS = ROOT / "tests" / "contract" / "scenarios"
OUTPUT = ROOT / "docs" / "coverage.md"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# The error classes both SDKs raise (tests/contract/error_classes.yaml), APIError being only
# their base, and the status each stands for: the runners' own table.
ERRORS: dict[str, int | str] = yaml.safe_load(
    (ROOT / "tests" / "contract" / "error_classes.yaml").read_text(encoding="utf-8")
)
ERROR_CLASSES = tuple(ERRORS)
IMPLIED_STATUS = {name: v for name, v in ERRORS.items() if isinstance(v, int)}


@dataclass
class Operation:
    id: str
    method: str
    path: str
    statuses: list[str]
    served: str = ""
    python: str = ""
    ruby: str = ""
    scenarios: set[str] = field(default_factory=set)
    exercised: set[str] = field(default_factory=set)

    def needs(self) -> list[str]:
        """What must be exercised: 'success', '202' and each error status documented."""
        needs = []
        if any(s in ("200", "201") for s in self.statuses):
            needs.append("success")
        needs += [s for s in self.statuses if s == "202" or int(s) >= 400]
        return needs

    def answers_only_202(self) -> bool:
        """Whether 202 is the operation's success (a sent task), not a nowait answer."""
        return "202" in self.statuses and not any(s in ("200", "201") for s in self.statuses)

    def missing(self) -> list[str]:
        return [need for need in self.needs() if need not in self.exercised]

    def status_cell(self) -> str:
        shown = []
        for need in self.needs():
            label = "/".join(s for s in self.statuses if s in ("200", "201"))
            label = label if need == "success" else need
            shown.append(label if need in self.exercised else f"**{label} missing**")
        return ", ".join(shown)


def spec_operations(spec: dict[str, Any]) -> list[Operation]:
    found = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                statuses = sorted(str(s) for s in op["responses"] if str(s) != "default")
                found.append(Operation(op["operationId"], method.upper(), path, statuses))
    return found


def branch_routes() -> dict[str, str]:
    """operationId -> `METHOD /path`, for what the branch routes and handles."""
    # The branch's app module binds every handler (getDocs in docs.py too).
    import cyme_branch.app  # noqa: F401, PLC0415 - the branch, when asked
    from cyme_branch.handlers import HANDLERS  # noqa: PLC0415
    from cyme_branch.spec import Spec  # noqa: PLC0415

    spec = Spec.load()
    return {
        op.operation_id: f"{op.method} {op.template}"
        for route in spec.routes
        for op in route.operations.values()
        if op.operation_id in HANDLERS
    }


def python_methods() -> dict[str, str]:
    from cyme import OPERATIONS  # noqa: PLC0415 - the SDK, when asked

    return {operation_id: route.sdk_method for operation_id, route in OPERATIONS.items()}


def ruby_methods() -> dict[str, str]:
    script = (
        'require "json"; require "cyme"; '
        "print JSON.generate(Cyme::OPERATIONS.transform_values(&:sdk_method))"
    )
    done = subprocess.run(
        ["ruby", "-I", str(ROOT / "ruby-client" / "lib"), "-e", script],
        capture_output=True,
        text=True,
        check=True,
    )
    methods: dict[str, str] = json.loads(done.stdout)
    return methods


def exercised(step: dict[str, Any]) -> str | None:
    """What a step exercises: 'success', '202' or an error status (None: no status).

    A step that waits on its Scheduled answer (`wait`) was answered 202: what the
    change came to (its result or error) is not a status of that request.
    """
    if step.get("wait"):
        return "202"
    error = step.get("error")
    if error is None:
        return "202" if step.get("nowait") else "success"
    want = error if isinstance(error, dict) else {"class": error}
    status = want.get("status", IMPLIED_STATUS.get(want["class"]))
    return None if status is None else str(status)


def error_class(step: dict[str, Any]) -> str | None:
    error = step.get("error")
    return error.get("class") if isinstance(error, dict) else error


Classes = dict[str, set[str]]


def collect(spec_path: Path = SPEC, scenarios: Path = SCENARIOS) -> tuple[list[Operation], Classes]:
    operations = spec_operations(yaml.safe_load(spec_path.read_text(encoding="utf-8")))
    by_id = {op.id: op for op in operations}
    served, python, ruby = branch_routes(), python_methods(), ruby_methods()
    classes: Classes = {name: set() for name in ERROR_CLASSES}
    for path in sorted(scenarios.glob("*.yaml")):
        scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
        for step in scenario["steps"]:
            op = by_id.get(step["op"])
            if op is not None:
                op.scenarios.add(scenario["name"])
                status = exercised(step)
                if status == "success" and op.answers_only_202():
                    status = "202"  # a sent task: its success is a 202
                if status is not None:
                    op.exercised.add(status)
            cls = error_class(step)
            if cls is not None:
                classes.setdefault(cls, set()).add(scenario["name"])
    for op in operations:
        op.served = served.get(op.id, "")
        op.python = python.get(op.id, "")
        op.ruby = ruby.get(op.id, "")
    return operations, classes


def code(text: str) -> str:
    return f"`{text}`" if text else ""


def names(found: Iterable[str]) -> str:
    return ", ".join(sorted(found))


def render(operations: list[Operation], classes: Classes) -> str:
    lines = [
        "# Coverage of the API",
        "",
        "Written by `tools/coverage_matrix.py` (`make coverage-matrix`); `make test`",
        "fails when a cell is empty, a documented status is exercised by no",
        "scenario, or this file is out of date.",
        "",
        "Each operationId of [`openapi.yaml`](../openapi.yaml): the route the",
        "reference branch serves it at, the method of each SDK that performs it",
        "(the POST twins of the create-or-update operations are served by the",
        "method of their PUT form), the contract scenarios",
        "([`tests/contract/scenarios`](../tests/contract/scenarios)) with a step for",
        "it, and the statuses the spec documents for it, each exercised by a step",
        "of those scenarios (200 and 201 are one success path to an SDK; 202 is",
        "a `nowait` step, or the success of `sendTask`).",
        "",
        "| operationId | served by the branch | Python SDK | Ruby SDK | scenarios"
        " | statuses exercised |",
        "|---|---|---|---|---|---|",
    ]
    for op in operations:
        cells = [
            code(op.id),
            code(op.served),
            code(op.python),
            code(op.ruby),
            names(op.scenarios),
            op.status_cell(),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "The error classes of both SDKs, and the scenarios in which a step",
        "expects each:",
        "",
        "| error class | scenarios |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | {names(classes.get(name, set()))} |" for name in ERROR_CLASSES]
    return "\n".join(lines) + "\n"


def gaps(operations: list[Operation], classes: Classes) -> list[str]:
    found = []
    for op in operations:
        for column in ("served", "python", "ruby"):
            if not getattr(op, column):
                found.append(f"{op.id}: nothing in the column {column!r}")
        if not op.scenarios:
            found.append(f"{op.id}: no scenario exercises it")
        found += [f"{op.id}: no scenario step exercises {need}" for need in op.missing()]
    found += [f"{name}: no scenario expects it" for name in ERROR_CLASSES if not classes.get(name)]
    return found


def main(argv: list[str]) -> int:
    operations, classes = collect()
    text = render(operations, classes)
    if "--check" not in argv:
        OUTPUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT.relative_to(ROOT)}")
    problems = gaps(operations, classes)
    current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
    if current != text:
        problems.append(f"{OUTPUT.relative_to(ROOT)} is out of date: run make coverage-matrix")
    for problem in problems:
        print(f"coverage: {problem}", file=sys.stderr)
    if not problems:
        print(
            f"coverage: {len(operations)} operations, each served, in both SDKs and exercised "
            f"with every status documented; {OUTPUT.relative_to(ROOT)} is current"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
