"""The contract itself: a valid OpenAPI 3.1 document, served by the branch as is."""

from __future__ import annotations

import httpx
import yaml
from contract import SPEC_PATH, ContractValidator, iter_operations, load_spec
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename


def test_openapi_yaml_is_a_valid_openapi_31_document():
    spec, base_uri = read_from_filename(str(SPEC_PATH))
    assert spec["openapi"].startswith("3.1")
    validate(spec, base_uri=base_uri)  # raises on any error


def test_spec_has_41_uniquely_named_operations():
    ids = [op["operationId"] for _path, _method, op in iter_operations(load_spec())]
    assert len(ids) == 43
    assert len(set(ids)) == 43


def test_problem_table_covers_every_error_status(validator: ContractValidator):
    assert set(validator.problem_types) == {
        400,
        401,
        403,
        404,
        405,
        409,
        413,
        415,
        422,
        500,
        502,
        503,
        504,
    }


def test_403_has_a_problem_type_for_each_refusal(validator: ContractValidator):
    assert validator.problem_types[403] == {
        "urn:cyme:problem:cross-site-request",
        "urn:cyme:problem:host-not-allowed",
    }


def test_task_problems_have_types_of_their_own(validator: ContractValidator):
    assert validator.problem_types[409] == {
        "urn:cyme:problem:conflict",
        "urn:cyme:problem:no-result-backend",
    }
    assert validator.problem_types[503] == {
        "urn:cyme:problem:worker-unavailable",
        "urn:cyme:problem:broker-unavailable",
        "urn:cyme:problem:backend-unavailable",
    }


def test_branch_serves_the_spec_text(client: httpx.Client):
    response = client.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert response.text == SPEC_PATH.read_text(encoding="utf-8")
    assert yaml.safe_load(response.text)["info"]["title"] == "Cyme branch API"
