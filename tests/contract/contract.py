"""The Python side of the contract suite: scenarios, their rules, and live branches.

A scenario (tests/contract/scenarios/*.yaml, described in README.md) is run
step by step through an `Sdk`: something that performs one operationId with
SDK-neutral arguments and reports what came back, a result or an error. This
module holds everything that does not depend on the SDK: loading and
checking scenario files, variables, the matchers, the step loop, and the
fresh branches scenarios run against. `contract.rb` is its Ruby twin; the
two must decide every step alike (`matchers.yaml` holds the cases both run).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCENARIOS = HERE / "scenarios"
SCHEMA = HERE / "scenario.schema.json"
SPEC = REPO / "openapi.yaml"
BRANCH_COMMAND = Path(os.environ.get("CYME_BRANCH", str(REPO / ".venv" / "bin" / "cyme-branch")))

# The status each error class stands for, when a step names the class alone.
IMPLIED_STATUS: dict[str, int] = {
    "BadRequestError": 400,
    "AuthenticationError": 401,
    "NotFoundError": 404,
    "ConflictError": 409,
    "UnprocessableEntityError": 422,
    "RateLimitError": 429,
}
# Errors without an answer: nothing to compare but the class.
NO_STATUS = frozenset({"APIConnectionError", "APITimeoutError"})
POLL_INTERVAL = 0.05
STEP_KEYS = (
    *("op", "note", "args", "nowait", "client", "headers", "fault", "idempotency_key"),
    *("expect", "error", "save", "poll"),
)
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
TYPES = ("string", "integer", "number", "boolean", "object", "array", "null")
MATCHERS = (
    *("$eq", "$len", "$type", "$contains", "$not_contains"),
    *("$unordered", "$gte", "$lte", "$regex", "$all"),
)


class ScenarioError(Exception):
    """The scenario itself is wrong (unknown variable, matcher or argument)."""


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


# -- matching --------------------------------------------------------------------


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise ScenarioError(f"not JSON data: {type(value).__name__}")


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def equal(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value, booleans apart from numbers, keys as sets."""
    if is_number(a) and is_number(b):
        return bool(a == b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def matcher(expected: Any) -> tuple[str, Any] | None:
    """(name, argument) when `expected` is a matcher: a one-key mapping whose key starts with $."""
    if isinstance(expected, dict) and any(str(key).startswith("$") for key in expected):
        if len(expected) != 1:
            raise ScenarioError(f"a matcher is a mapping of one $key: {expected!r}")
        ((name, argument),) = expected.items()
        return str(name), argument
    return None


def mismatches(expected: Any, actual: Any, where: str = "") -> list[str]:
    """How `actual` fails to match `expected`; empty when it matches."""
    at = where or "the result"
    if expected == "$any":
        return []
    found = matcher(expected)
    if found is not None:
        return _match_matcher(found[0], found[1], actual, at, where)
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{at}: expected an object, got {actual!r}"]
        problems = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{at}: no key {key!r} in {sorted(actual)}")
            else:
                problems += mismatches(value, actual[key], f"{where}.{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{at}: expected {len(expected)} items {expected!r}, got {actual!r}"]
        problems = []
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            problems += mismatches(want, got, f"{where}[{index}]")
        return problems
    if not equal(expected, actual):
        return [f"{at}: expected {expected!r}, got {actual!r}"]
    return []


def _match_matcher(name: str, argument: Any, actual: Any, at: str, where: str) -> list[str]:
    if name == "$eq":
        if equal(argument, actual):
            return []
        return [f"{at}: expected exactly {argument!r}, got {actual!r}"]
    if name == "$len":
        if not isinstance(actual, str | list | dict):
            return [f"{at}: expected something with a length, got {actual!r}"]
        return mismatches(argument, len(actual), f"{where} (length)")
    if name == "$type":
        if argument not in TYPES:
            raise ScenarioError(f"$type takes one of {', '.join(TYPES)}, not {argument!r}")
        kind = json_type(actual)
        ok = kind == argument or (argument == "number" and kind == "integer")
        return [] if ok else [f"{at}: expected a {argument}, got {actual!r}"]
    if name in ("$contains", "$not_contains"):
        if not isinstance(actual, list | str):
            return [f"{at}: expected a list or a string, got {actual!r}"]
        has = _contains(argument, actual, at)
        if name == "$contains":
            return [] if has else [f"{at}: expected it to contain {argument!r}, got {actual!r}"]
        return [f"{at}: expected it not to contain {argument!r}, got {actual!r}"] if has else []
    if name == "$unordered":
        return _match_unordered(argument, actual, at)
    if name in ("$gte", "$lte"):
        if not is_number(argument):
            raise ScenarioError(f"{name} takes a number, not {argument!r}")
        if not is_number(actual):
            return [f"{at}: expected a number, got {actual!r}"]
        ok = actual >= argument if name == "$gte" else actual <= argument
        return [] if ok else [f"{at}: expected {name[1:]} {argument!r}, got {actual!r}"]
    if name == "$regex":
        if not isinstance(argument, str):
            raise ScenarioError(f"$regex takes a string, not {argument!r}")
        ok = isinstance(actual, str) and re.search(argument, actual) is not None
        return [] if ok else [f"{at}: expected text matching /{argument}/, got {actual!r}"]
    if name == "$all":
        if not isinstance(argument, list):
            raise ScenarioError(f"$all takes a list of matchers, not {argument!r}")
        return [problem for each in argument for problem in mismatches(each, actual, where)]
    raise ScenarioError(f"unknown matcher {name}")


def _contains(argument: Any, actual: list[Any] | str, at: str) -> bool:
    if isinstance(actual, list):
        return any(not mismatches(argument, item) for item in actual)
    if not isinstance(argument, str):
        raise ScenarioError(f"{at}: text can only contain text, not {argument!r}")
    return argument in actual


def _match_unordered(argument: Any, actual: Any, at: str) -> list[str]:
    if not isinstance(argument, list):
        raise ScenarioError(f"$unordered takes a list, not {argument!r}")
    if not isinstance(actual, list) or len(actual) != len(argument):
        return [f"{at}: expected {len(argument)} items in any order {argument!r}, got {actual!r}"]
    left = list(actual)
    for want in argument:
        index = next((i for i, item in enumerate(left) if not mismatches(want, item)), None)
        if index is None:
            return [f"{at}: nothing matches {want!r} among {left!r}"]
        left.pop(index)
    return []


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


# -- live branches --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def branch_key(config: Mapping[str, Any]) -> str:
    return canonical(config)


class Branch:
    """A fresh `cyme-branch` with fault injection, and what its config asks for:
    a token, neighbours (live branches, dead URLs, listeners that never answer)."""

    def __init__(self, config: Mapping[str, Any], branch_id: str = "contract") -> None:
        self.config = dict(config)
        self.id = branch_id
        self.token: str | None = config.get("token")
        self.root = Path(tempfile.mkdtemp(prefix="cyme-contract-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.neighbours: list[Branch] = []
        self.listeners: list[socket.socket] = []
        argv = [str(BRANCH_COMMAND), f"127.0.0.1:{self.port}", "-i", branch_id]
        argv += ["-D", str(self.root / "state"), "--allow-fault-injection"]
        if self.token:
            token_file = self.root / "token"
            token_file.write_text(self.token, encoding="utf-8")
            argv += ["--token-file", str(token_file)]
        for peer, kind in config.get("peers", {}).items():
            argv += ["--peer", f"{peer}={self._peer_url(peer, kind)}"]
        if "peer_timeout" in config:
            argv += ["--peer-timeout", str(config["peer_timeout"])]
        env = {k: v for k, v in os.environ.items() if k != "CYME_BRANCH_TOKEN"}
        self.log = self.root / "branch.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env
            )

    def _peer_url(self, peer: str, kind: str) -> str:
        if kind == "branch":
            neighbour = Branch({"token": self.token} if self.token else {}, peer)
            self.neighbours.append(neighbour)
            return neighbour.url
        if kind == "silent":
            # Connections are accepted by the kernel, and never answered.
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(16)
            self.listeners.append(listener)
            return f"http://127.0.0.1:{listener.getsockname()[1]}"
        if kind == "unreachable":
            return f"http://127.0.0.1:{free_port()}"
        raise ScenarioError(f"unknown kind of neighbour {kind!r}")

    def wait_up(self, timeout: float = 20.0) -> Branch:
        for neighbour in self.neighbours:
            neighbour.wait_up(timeout)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cyme-branch exited:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/ping", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"cyme-branch did not start:\n{self.log.read_text()}")
            time.sleep(0.02)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for neighbour in self.neighbours:
            neighbour.stop()
        for listener in self.listeners:
            listener.close()
        shutil.rmtree(self.root, ignore_errors=True)


class BranchPool:
    """Fresh branches, one per scenario run, started one ahead.

    Taking a branch starts the next one of the same config in the background,
    so a branch's start-up (half a second, mostly imports) overlaps the
    scenario run before it. No branch is used twice.
    """

    def __init__(self) -> None:
        self._spares: dict[str, Branch] = {}

    @contextmanager
    def take(self, config: Mapping[str, Any]) -> Iterator[Branch]:
        key = branch_key(config)
        branch = self._spares.pop(key, None) or Branch(config)
        self._spares[key] = Branch(config)
        try:
            yield branch.wait_up()
        finally:
            branch.stop()

    def close(self) -> None:
        for spare in self._spares.values():
            spare.stop()
        self._spares.clear()


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
