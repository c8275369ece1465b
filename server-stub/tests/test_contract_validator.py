"""The validator behind the `client` fixture catches responses that break the contract.

These run against a fake transport, so they show that a passing suite means
something: the same responses from the branch would fail the tests.
"""

from __future__ import annotations

import httpx
import pytest
from contract import ContractValidator, ContractViolation, contract_client

APP = {"name": "pycon", "broker": "amqp://", "arguments": "", "extra_config": {}}
NOT_FOUND = {
    "type": "urn:cyme:problem:not-found",
    "title": "Not found",
    "status": 404,
    "detail": "No app named 'pycon'.",
    "instance": "/pycon",
}


def fake(validator: ContractValidator, response: httpx.Response) -> httpx.Client:
    return contract_client(
        "http://branch.test", validator, transport=httpx.MockTransport(lambda _req: response)
    )


def problem(status: int, body: dict, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, json=body, headers={"content-type": "application/problem+json", **headers}
    )


@pytest.mark.parametrize(
    ("method", "path", "response"),
    [
        ("GET", "/pycon", httpx.Response(200, json=APP)),
        ("GET", "/pycon/", httpx.Response(200, json=APP)),
        ("GET", "/pycon", problem(404, NOT_FOUND)),
        ("GET", "/ping", httpx.Response(200, json={"ok": "pong"})),
        (
            "PUT",
            "/ping",
            problem(
                405,
                {**NOT_FOUND, "type": "urn:cyme:problem:method-not-allowed", "status": 405},
                allow="GET",
            ),
        ),
        ("GET", "/a/b/c/d/e/f", problem(404, NOT_FOUND)),
    ],
)
def test_conforming_responses_pass(validator, method, path, response):
    with fake(validator, response) as http:
        assert http.request(method, path).status_code == response.status_code


@pytest.mark.parametrize(
    ("method", "path", "response", "reason"),
    [
        ("GET", "/pycon", httpx.Response(200, json={"name": "pycon"}), "required"),
        ("GET", "/pycon", httpx.Response(200, json={**APP, "name": "a..b"}), "does not match"),
        ("GET", "/pycon", httpx.Response(200, text="{}"), "content type"),
        ("GET", "/pycon", httpx.Response(404, json=NOT_FOUND), r"application/problem\+json"),
        ("GET", "/pycon", problem(404, {**NOT_FOUND, "status": 400}), "differs"),
        ("GET", "/pycon", problem(404, {**NOT_FOUND, "type": "about:blank"}), "must be urn"),
        (
            "PUT",
            "/pycon",
            problem(422, {**NOT_FOUND, "type": "urn:cyme:problem:validation-error", "status": 422}),
            "errors",
        ),
        (
            "PUT",
            "/ping",
            problem(
                405, {**NOT_FOUND, "type": "urn:cyme:problem:method-not-allowed", "status": 405}
            ),
            "Allow",
        ),
        (
            "PATCH",
            "/pycon",
            problem(
                405,
                {**NOT_FOUND, "type": "urn:cyme:problem:method-not-allowed", "status": 405},
                allow="GET, PATCH",
            ),
            "Allow",
        ),
        ("PATCH", "/pycon", httpx.Response(200, json=APP), "expected 405"),
        ("GET", "/a/b/c/d/e/f", httpx.Response(200, json={}), "expected 404"),
        ("GET", "/pycon", httpx.Response(301, headers={"location": "/pycon/"}), "redirect"),
        ("GET", "/openapi.yaml", httpx.Response(200, json="openapi: 3.1.0"), "content type"),
        ("GET", "/branches", httpx.Response(200, json=["ok", "not ok"]), "does not match"),
    ],
)
def test_breaking_responses_fail(validator, method, path, response, reason):
    with fake(validator, response) as http, pytest.raises(ContractViolation, match=reason):
        http.request(method, path)


def test_undocumented_success_status_fails(validator):
    """createInstance documents 201 only; a 200 would mislead clients."""
    instance = {
        "name": "w1",
        "app": "pycon",
        "broker": "amqp://",
        "pool": "prefork",
        "arguments": "",
        "extra_config": {},
        "queues": [],
        "min_concurrency": 1,
        "max_concurrency": 1,
        "is_enabled": True,
        "state": "running",
        "since": "2026-11-30T21:02:03.114Z",
        "pid": 7700,
        "processes": 1,
        "restarts": 0,
        "last_exit": None,
    }
    with fake(validator, httpx.Response(201, json=instance)) as http:
        assert http.post("/pycon/instances/w1").status_code == 201
    with (
        fake(validator, httpx.Response(200, json=instance)) as http,
        pytest.raises(ContractViolation, match="not documented"),
    ):
        http.post("/pycon/instances/w1")
