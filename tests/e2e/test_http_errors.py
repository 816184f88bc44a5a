"""Problems, idempotency and concurrency over HTTP: RFC 9457 bodies with stable types for every
domain error; the same Idempotency-Key and body give the same response and one event; a stale
If-Match is a 409 carrying the current version."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import pytest

from api.errors import PROBLEM_BASE, PROBLEMS, problem_for
from keys.errors import KeyManagementError
from ledger.errors import LedgerError
from licenses.errors import LicenseError
from projections.errors import ProjectionError
from tests.e2e.conftest import DESK, LEAD, Service, accept_with_tolerance, ok, post, submit_permit

BASES = (LedgerError, LicenseError, KeyManagementError, ProjectionError)
# Server-side failures: the only domain errors that may answer 5xx (never caused by input).
SERVER_SIDE = {
    "IntegrityError",
    "CalendarDataInvalid",
    "InvalidPolicy",
    "WrongPassphrase",
    "ProjectionError",
    "UnknownReadModel",
    "TrackingConflict",
    "TransparencyError",
    "ConsistencyRefused",
    "ForkDetected",
    "AuditFailure",
    "ReadModelError",
    "CaseNotSubmitted",
    "ClockUnavailable",
    "LicenseNotIssued",  # a read model that missed an issuance
    "NaiveTime",  # a naive time passed by code, never by a request
    "UnknownSharedType",  # sharing policies naming an unknown type: configuration
    "SigningKeyUnavailable",  # a revoked or retired signing key: an administrator replaces it
}


def domain_errors() -> list[type[Exception]]:
    """Every error class of the four packages (each module imported, subclasses walked)."""
    for package in ("keys", "ledger", "licenses", "projections"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            importlib.import_module(info.name)
    found: list[type[Exception]] = []
    pending: list[type[Exception]] = list(BASES)
    while pending:
        kind = pending.pop()
        if kind not in found:
            found.append(kind)
            pending.extend(kind.__subclasses__())
    return found


def event_count(svc: Service, case_id: str) -> int:
    return len(ok(svc.client.get(f"/v1/cases/{case_id}/timeline", headers=svc.tokens.auditor())))


# --- the mapping table -------------------------------------------------------------------------


def test_every_error_of_an_errors_module_has_its_own_row() -> None:
    missing = [
        f"{k.__module__}.{k.__qualname__}"
        for k in domain_errors()
        if k.__module__.endswith(".errors") and k not in PROBLEMS
    ]
    assert missing == []


@pytest.mark.parametrize("kind", domain_errors(), ids=lambda k: k.__qualname__)
def test_every_domain_error_maps_to_a_stable_problem(kind: type[Exception]) -> None:
    problem = next(PROBLEMS[k] for k in inspect.getmro(kind) if k in PROBLEMS)
    assert problem.type.startswith(PROBLEM_BASE) and problem.slug.islower()
    assert " " not in problem.slug and problem.title
    if problem.status >= 500:
        assert kind.__name__ in SERVER_SIDE, f"{kind.__name__} must not be a server error"


def test_slugs_are_unique() -> None:
    slugs = [p.slug for p in PROBLEMS.values()]
    assert len(slugs) == len(set(slugs))


def test_an_unlisted_error_falls_back_to_its_nearest_listed_base() -> None:
    class Novel(LedgerError):
        pass

    assert problem_for(Novel("x")).slug == "ledger-rule-violated"
    assert problem_for(RuntimeError("x")).status == 500


# --- shapes of refusals ------------------------------------------------------------------------


def test_a_domain_refusal_is_problem_json(service: Service) -> None:
    case_id = submit_permit(service)
    response = post(service, case_id, "receive", service.tokens.officer(DESK))
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "instance"}
    assert body["type"] == "https://caseledger.example/problems/materials-incomplete"
    assert body["instance"] == f"/v1/cases/{case_id}/receive"


@pytest.mark.parametrize(
    ("body", "headers", "field"),
    [
        ({"item_code": 5}, {}, "item_code"),
        ({"item_code": "x", "surprise": 1}, {}, "surprise"),
        (
            {"item_code": "x", "materials": {"a": {"kind": "document", "sha256": "zz"}}},
            {},
            "sha256",
        ),
        ({"item_code": "x"}, {"Idempotency-Key": "has space"}, "Idempotency-Key"),
        ({"item_code": "x"}, {"If-Match": "abc"}, "If-Match"),
    ],
)
def test_malformed_requests_are_422_with_the_fields_named(
    service: Service, body: dict[str, Any], headers: dict[str, str], field: str
) -> None:
    response = service.client.post(
        "/v1/cases", json=body, headers=service.tokens.applicant() | headers
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"].endswith("/validation-failed")
    assert any(field in map(str, e["loc"]) for e in problem["errors"]), problem
    assert all("input" not in e for e in problem["errors"])  # inputs are never echoed


def test_a_body_that_is_not_json_is_422(service: Service) -> None:
    response = service.client.post(
        "/v1/cases",
        content=b"{not json",
        headers=service.tokens.applicant() | {"Content-Type": "application/json"},
    )
    assert response.status_code == 422 and response.json()["type"].endswith("/validation-failed")


def test_unknown_routes_and_methods_are_problems_too(service: Service) -> None:
    assert service.client.get("/v1/nothing").json()["type"].endswith("/not-found")
    response = service.client.delete("/v1/cases")
    assert response.status_code == 405 and response.json()["type"].endswith("/method-not-allowed")


# --- idempotency ----------------------------------------------------------------------------------


def test_the_same_key_and_body_give_the_same_response_and_one_event(service: Service) -> None:
    case_id = submit_permit(service)
    key = {"Idempotency-Key": "accept-7f3a"}
    due = "2026-03-10"
    body = {"commitment": "承诺十日内补齐", "commitment_due": due}
    headers = service.tokens.officer(DESK) | key
    first = post(service, case_id, "accept-with-tolerance", headers, body)
    again = post(
        service, case_id, "accept-with-tolerance", service.tokens.officer(DESK) | key, body
    )
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and first.headers["etag"] == again.headers["etag"]
    assert event_count(service, case_id) == 2  # submitted, accepted: the repeat wrote nothing


def test_a_repeated_submission_makes_one_case(service: Service) -> None:
    first = submit_permit(service, key="submit-1")
    assert submit_permit(service, key="submit-1") == first
    listed = ok(service.client.get("/v1/cases", headers=service.tokens.applicant()))
    assert [c["case_id"] for c in listed] == [first]


def test_the_same_key_with_another_body_is_refused(service: Service) -> None:
    case_id = submit_permit(service)
    key = {"Idempotency-Key": "accept-1"}
    body = {"commitment": "承诺", "commitment_due": "2026-03-10"}
    ok(post(service, case_id, "accept-with-tolerance", service.tokens.officer(DESK) | key, body))
    other = {**body, "commitment_due": "2026-03-11"}
    response = post(
        service, case_id, "accept-with-tolerance", service.tokens.officer(DESK) | key, other
    )
    assert response.status_code == 422
    assert response.json()["type"].endswith("/idempotency-key-reused")


def test_keys_are_scoped_by_caller(service: Service) -> None:
    case_id = submit_permit(service)
    key = {"Idempotency-Key": "same-key"}
    accept_with_tolerance(service, case_id)
    ok(post(service, case_id, "opinions", service.tokens.officer(LEAD) | key, {"approve": True}))
    second = post(
        service, case_id, "opinions", service.tokens.officer("rfb") | key, {"approve": True}
    )
    assert ok(second)["version"] == 4


# --- concurrency -------------------------------------------------------------------------------


def test_a_stale_if_match_is_409_with_the_current_version(service: Service) -> None:
    case_id = submit_permit(service)
    accept_with_tolerance(service, case_id)
    stale = service.tokens.officer(LEAD) | {"If-Match": '"1"'}
    response = post(service, case_id, "opinions", stale, {"approve": True})
    assert response.status_code == 409
    body = response.json()
    assert body["type"].endswith("/concurrent-change") and body["current_version"] == 2


def test_a_current_if_match_is_accepted(service: Service) -> None:
    case_id = submit_permit(service)
    accept_with_tolerance(service, case_id)
    current = service.tokens.officer(LEAD) | {"If-Match": 'W/"2"'}
    assert ok(post(service, case_id, "opinions", current, {"approve": True}))["version"] == 3


def test_issuing_honours_if_match(service: Service) -> None:
    case_id = submit_permit(service)
    stale = service.tokens.officer(LEAD) | {"If-Match": '"7"'}
    response = post(service, case_id, "issue-license", stale)
    assert response.status_code == 409 and response.json()["current_version"] == 1
