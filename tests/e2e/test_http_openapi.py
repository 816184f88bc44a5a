"""The OpenAPI document, fuzzed in-process: schemathesis sends schema-shaped and malformed
requests to every operation as several callers; no input may make the service fail (5xx)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.openapi import from_asgi
from schemathesis.schemas import BaseSchema
from schemathesis.transport import SerializationContext
from schemathesis.transport.serialization import serialize_binary

from api.main import create_app
from tests.e2e.conftest import LEAD, Service, open_service, played_permit

EXAMPLES = 8  # per operation; every example is sent as each caller below


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    for service in open_service(tmp_path_factory.mktemp("fuzzed")):
        played_permit(service)  # something to find: a case, a license, checkpoints
        yield service


def _cose_bytes(context: SerializationContext, value: Any) -> dict[str, Any]:
    # The region documents' bodies are COSE bytes: sent as generated, like any binary body.
    return {"data": serialize_binary(value)}


@pytest.fixture(scope="module")
def api_schema(fuzzed: Service) -> BaseSchema:
    schemathesis.serializer("application/cose")(_cose_bytes)
    return from_asgi("/openapi.json", fuzzed.app)


def _labels() -> list[str]:
    # Building the app opens nothing, so the operations are known at collection time.
    document = create_app().openapi()
    return [f"{m.upper()} {path}" for path, ops in document["paths"].items() for m in ops]


def test_the_document_describes_every_route_with_problem_answers(fuzzed: Service) -> None:
    document = fuzzed.client.get("/openapi.json").json()
    paths = document["paths"]
    assert "/v1/cases/{case_id}/accept-with-tolerance" in paths
    refusal = paths["/v1/cases/{case_id}/decide"]["post"]["responses"]["409"]
    assert "application/problem+json" in refusal["content"]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert all(op.get("description") for path in paths.values() for op in path.values())


def _has_example(schema: dict[str, Any], schemas: dict[str, Any], seen: frozenset[str]) -> bool:
    if "examples" in schema or "example" in schema:
        return True
    ref = schema.get("$ref")
    if ref is not None:
        name = ref.rsplit("/", 1)[-1]
        return name not in seen and _has_example(schemas[name], schemas, seen | {name})
    nested = [*schema.get("properties", {}).values(), *schema.get("anyOf", [])]
    nested += [
        schema[k] for k in ("items", "additionalProperties") if isinstance(schema.get(k), dict)
    ]
    return any(_has_example(n, schemas, seen) for n in nested)


def test_every_json_request_body_carries_an_example(fuzzed: Service) -> None:
    document = fuzzed.client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    without = [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, op in operations.items()
        for media, content in op.get("requestBody", {}).get("content", {}).items()
        if media == "application/json"
        and not _has_example(content.get("schema", {}), schemas, frozenset())
    ]
    assert without == []


def test_exactly_the_operations_that_answer_401_declare_the_bearer_scheme(fuzzed: Service) -> None:
    document = fuzzed.client.get("/openapi.json").json()
    operations = [
        (f"{method.upper()} {path}", op)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
    ]
    secured = {label for label, op in operations if op.get("security") == [{"HTTPBearer": []}]}
    answering_401 = {label for label, op in operations if "401" in op["responses"]}
    assert "POST /v1/verify" in secured
    assert "GET /v1/catalog" not in secured
    assert secured == answering_401


def test_a_request_without_a_bearer_token_is_refused_before_its_body_is_read(
    fuzzed: Service,
) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}):
        answer = fuzzed.client.post("/v1/verify", json={"purpose": ""}, headers=headers)
        assert answer.status_code == 401, answer.text
        assert "Bearer" in answer.json()["detail"]


@pytest.mark.parametrize("label", _labels())
def test_no_request_makes_the_service_fail(
    label: str, fuzzed: Service, api_schema: BaseSchema
) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None
    valid = operation.as_strategy(GenerationMode.POSITIVE)
    invalid = operation.as_strategy(GenerationMode.NEGATIVE)
    tokens = fuzzed.tokens
    callers = (tokens.applicant(), tokens.officer(LEAD), tokens.auditor())

    @given(case=st.one_of(valid, invalid))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        for headers in callers:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

    run()
