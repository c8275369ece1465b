"""The Python runner can fail: a deliberately broken SDK fails the scenarios
that use what was broken. Each test runs the runner in a subprocess, with a
pytest plugin that breaks `cyme` before any scenario runs; runner_test.rb does
the same for the Ruby runner, and test_verdict.py for the verdict."""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import cyme
import httpx
import pytest
import yaml
from cyme_branch.spec import Spec

from contract import HERE, REPO, SPEC, Call
from matching import ScenarioError
from python_ops import MODES, OPS, Args, Mode, PythonSdk, Sdk

BREAKAGES = {
    # getApp's route has the wrong path: /apps/NAME instead of /NAME.
    "wrong_path": """
        import dataclasses

        from cyme._routes import ROUTES

        ROUTES["getApp"] = dataclasses.replace(ROUTES["getApp"], path="/apps/{app}")
    """,
    # A 404 raises ConflictError instead of NotFoundError.
    "wrong_error": """
        import cyme
        from cyme._exceptions import STATUS_ERRORS

        STATUS_ERRORS[404] = cyme.ConflictError
    """,
}


def run_runner(tmp_path: Path, scenario: str, breakage: str | None) -> tuple[int, str, Any]:
    """Run one scenario through the Python runner (every mode); return its exit
    status, its output and the results file it wrote."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CYME_")}
    env["CYME_CONTRACT_RESULTS"] = str(tmp_path)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    argv += [f"{HERE / 'test_scenarios.py'}::test_scenario[{scenario}-{mode}]" for mode in MODES]
    if breakage is not None:
        (tmp_path / "breakage.py").write_text(textwrap.dedent(BREAKAGES[breakage]))
        env["PYTHONPATH"] = str(tmp_path)
        argv += ["-p", "breakage"]
    done = subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=120
    )
    results = json.loads((tmp_path / "python.json").read_text())
    return done.returncode, done.stdout + done.stderr, results["scenarios"][scenario]["runs"]


def test_unbroken_the_scenarios_pass(tmp_path: Path) -> None:
    status, output, runs = run_runner(tmp_path, "apps", None)
    assert status == 0, output
    assert runs == dict.fromkeys(MODES, "passed")


def test_a_method_sent_to_the_wrong_path_fails(tmp_path: Path) -> None:
    status, output, runs = run_runner(tmp_path, "apps", "wrong_path")
    assert status == 1
    assert runs == dict.fromkeys(MODES, "failed")
    # The first getApp step expects the app, and gets a 404 from the wrong path.
    assert "apps, step 6 (getApp): expected a result, got NotFoundError (404)" in output


def test_a_wrong_error_mapping_fails(tmp_path: Path) -> None:
    status, output, runs = run_runner(tmp_path, "branch", "wrong_error")
    assert status == 1
    assert runs == dict.fromkeys(MODES, "failed")
    assert "expected NotFoundError, got ConflictError (404)" in output


def test_the_table_has_every_operation() -> None:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    operation_ids = {
        op["operationId"]
        for item in spec["paths"].values()
        for key, op in item.items()
        if key != "parameters"
    }
    assert set(OPS) == operation_ids


@pytest.mark.parametrize("mode", MODES)
def test_an_argument_the_table_ignores_fails(mode: Mode) -> None:
    sdk = PythonSdk(mode, "http://127.0.0.1:9", None)
    try:
        with pytest.raises(ScenarioError, match=r"does not take \['pool'\]"):
            sdk.call(Call("getApp", {"app": "x", "pool": "solo"}, {"max_retries": 0}))
    finally:
        sdk.close()


# Both SDKs perform a create-or-update operation's POST twin with its PUT form.
PUT_FORM = {"postApp": "PUT", "postAutoscale": "PUT", "postConsumer": "PUT", "postQueue": "PUT"}


class _Sent(Exception):
    """What the table's call sent, caught by the transport instead of a branch."""

    def __init__(self, request: httpx.Request) -> None:
        super().__init__(request.method, request.url.path)
        self.request = request


def _intercept(request: httpx.Request) -> httpx.Response:
    raise _Sent(request)


@pytest.mark.parametrize("mode", MODES)
def test_each_entry_sends_its_operation(mode: Mode) -> None:
    """The table's call for an operationId sends that operation's method and path."""
    spec = Spec.load(SPEC)
    transport = httpx.MockTransport(_intercept)
    client = (
        cyme.AsyncClient("http://127.0.0.1:9", http_client=httpx.AsyncClient(transport=transport))
        if mode != "sync"
        else cyme.Client("http://127.0.0.1:9", http_client=httpx.Client(transport=transport))
    )
    loop = asyncio.new_event_loop()
    try:
        for op_id, entry in OPS.items():
            op = spec.operations[op_id]
            values = {p.name: f"{p.name}-1" for p in op.params if p.location == "path"}
            body: dict[str, Any] = {"max": 2} if "Autoscale" in op_id and op.method != "GET" else {}
            if op_id == "applyDeclarations":
                body = {"declarations": []}  # the one body field a spec requires
            with pytest.raises(_Sent) as sent:
                value = entry(Sdk(client, mode), Args(op_id, {**values, **body}), {})
                if inspect.isawaitable(value):
                    loop.run_until_complete(value)
            path = op.template.format(**values)
            assert (sent.value.request.method, sent.value.request.url.path) == (
                PUT_FORM.get(op_id, op.method),
                path,
            ), op_id
    finally:
        loop.close()
