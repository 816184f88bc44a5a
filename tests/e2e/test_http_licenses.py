"""Licenses, verification, shared-data views and keys over HTTP: a holder's licenses, the
credential and QR, online verification recorded as a use, a department's view limited to its
policy, and the trust and status lists an offline verifier needs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from keys.trustlist import load_trust_list
from licenses.model import SlotStatus
from licenses.qr import encode_qr_text
from licenses.status import load_status_list
from licenses.verify import verify_qr_text
from tests.e2e.conftest import (
    DESK,
    LEAD,
    OTHER_COMPANY,
    Service,
    ok,
    open_service,
    played_permit,
    problem,
)
from tests.scenarios import COMPANY


@dataclass
class Issued:
    service: Service
    case_id: str
    license_id: str


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issued]:
    for service in open_service(tmp_path_factory.mktemp("licenses")):
        case_id, license_id = played_permit(service)
        yield Issued(service, case_id, license_id)


# --- a holder's licenses -------------------------------------------------------------------


def test_a_holder_lists_their_licenses_by_posting_their_id(issued: Issued) -> None:
    svc = issued.service
    body = {"holder_id": COMPANY}
    listed = ok(svc.client.post("/v1/licenses/query", json=body, headers=svc.tokens.applicant()))
    assert [(x["license_id"], x["state"]) for x in listed] == [(issued.license_id, "active")]
    assert listed[0]["holder_masked"] != COMPANY


def test_window_staff_list_a_holders_licenses_on_their_behalf(issued: Issued) -> None:
    svc = issued.service
    body = {"holder_id": COMPANY}
    listed = ok(svc.client.post("/v1/licenses/query", json=body, headers=svc.tokens.officer(DESK)))
    assert [x["license_id"] for x in listed] == [issued.license_id]


def test_nobody_lists_another_holders_licenses(issued: Issued) -> None:
    svc = issued.service
    body = {"holder_id": COMPANY}
    response = svc.client.post(
        "/v1/licenses/query", json=body, headers=svc.tokens.applicant(OTHER_COMPANY)
    )
    problem(response, 404, "unknown-license")


def test_one_license_with_its_fields(issued: Issued) -> None:
    svc = issued.service
    found = ok(
        svc.client.get(f"/v1/licenses/{issued.license_id}", headers=svc.tokens.officer(LEAD))
    )
    assert found["issuer"] == LEAD and found["case_id"] == issued.case_id
    assert found["fields"]["受理编号"].startswith("SL")


def test_an_unknown_license_is_404(issued: Issued) -> None:
    svc = issued.service
    response = svc.client.get("/v1/licenses/1.2.3", headers=svc.tokens.auditor())
    problem(response, 404, "unknown-license")


def test_the_credential_and_its_qr_verify_offline_with_the_published_keys(issued: Issued) -> None:
    svc = issued.service
    credential = svc.client.get(
        f"/v1/licenses/{issued.license_id}/credential", headers=svc.tokens.applicant()
    )
    assert credential.headers["content-type"].startswith("application/cose")
    trust = svc.client.get("/v1/keys/trust-list").content
    root = svc.client.get("/v1/keys/root.der").content
    status = svc.client.get(f"/v1/keys/status-lists/{LEAD}").content
    result = verify_qr_text(
        encode_qr_text(credential.content), trust, root, status_list=status, at=svc.clock.now
    )
    assert result.valid, result.reason
    png = svc.client.get(f"/v1/licenses/{issued.license_id}/qr.png", headers=svc.tokens.applicant())
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")


def test_another_applicant_cannot_fetch_the_credential(issued: Issued) -> None:
    svc = issued.service
    response = svc.client.get(
        f"/v1/licenses/{issued.license_id}/credential", headers=svc.tokens.applicant(OTHER_COMPANY)
    )
    problem(response, 404, "unknown-license")


def test_an_overlong_license_id_fails_validation(issued: Issued) -> None:
    svc = issued.service
    response = svc.client.get(f"/v1/licenses/{'9' * 200}/qr.png", headers=svc.tokens.auditor())
    problem(response, 422, "validation-failed")


# --- verification and use ------------------------------------------------------------------


def test_verifying_by_qr_text_is_valid_and_recorded_for_the_holder(issued: Issued) -> None:
    svc = issued.service
    found = svc.client.get(
        f"/v1/licenses/{issued.license_id}/credential", headers=svc.tokens.applicant()
    )
    body = {"qr_text": encode_qr_text(found.content), "purpose": "不动产登记"}
    result = ok(svc.client.post("/v1/verify", json=body, headers=svc.tokens.verifier("swj")))
    assert (result["status"], result["step"], result["status_checked"]) == ("valid", None, True)
    uses = ok(svc.client.get("/v1/licenses/uses", headers=svc.tokens.applicant()))
    assert ("swj", "不动产登记") in [(u["department"], u["purpose"]) for u in uses]
    others = ok(svc.client.get("/v1/licenses/uses", headers=svc.tokens.applicant(OTHER_COMPANY)))
    assert others == []


def test_a_damaged_qr_is_a_result_naming_the_failed_step(issued: Issued) -> None:
    svc = issued.service
    body = {"qr_text": "EL1:NOT-BASE45!!", "purpose": "施工许可"}
    result = ok(svc.client.post("/v1/verify", json=body, headers=svc.tokens.verifier("zjj")))
    assert result["valid"] is False and result["step"] in (1, 2)


def test_verification_needs_exactly_one_of_qr_text_and_number(issued: Issued) -> None:
    svc = issued.service
    body = {"purpose": "施工许可"}
    problem(
        svc.client.post("/v1/verify", json=body, headers=svc.tokens.verifier("zjj")),
        422,
        "validation-failed",
    )


def verify(svc: Service, license_id: str) -> str:
    body = {"license_id": license_id, "purpose": "施工许可"}
    return str(
        ok(svc.client.post("/v1/verify", json=body, headers=svc.tokens.verifier(LEAD)))["status"]
    )


def change(svc: Service, license_id: str, action: str, department: str = LEAD) -> object:
    svc.clock.advance()
    return svc.client.post(
        f"/v1/licenses/{license_id}/{action}",
        json={"reason": "依法处理"},
        headers=svc.tokens.officer(department),
    )


def test_the_issuer_suspends_reinstates_and_revokes_and_verifiers_see_it(service: Service) -> None:
    _, license_id = played_permit(service)
    assert ok(change(service, license_id, "suspend"))["state"] == "suspended"
    assert verify(service, license_id) == "suspended"
    assert ok(change(service, license_id, "reinstate"))["state"] == "active"
    assert verify(service, license_id) == "valid"
    assert ok(change(service, license_id, "revoke"))["state"] == "revoked"
    assert verify(service, license_id) == "revoked"
    problem(change(service, license_id, "reinstate"), 409, "license-revoked")


def test_the_served_status_list_matches_the_licenses_in_the_log(service: Service) -> None:
    _, suspended = played_permit(service)
    _, revoked = played_permit(service)
    _, untouched = played_permit(service)
    ok(change(service, suspended, "suspend"))
    ok(change(service, revoked, "revoke"))
    client = service.client
    trust = load_trust_list(
        client.get("/v1/keys/trust-list").content, client.get("/v1/keys/root.der").content
    )
    served = load_status_list(client.get(f"/v1/keys/status-lists/{LEAD}").content, trust)
    from_log = load_status_list(service.ledger.vault.status_list(LEAD, service.clock.now), trust)
    slots = {
        name: service.ledger.vault.license(license_id).status_index
        for name, license_id in (("s", suspended), ("r", revoked), ("u", untouched))
    }
    assert served.get(slots["s"]) is SlotStatus.SUSPENDED
    assert served.get(slots["r"]) is SlotStatus.REVOKED
    assert served.get(slots["u"]) is SlotStatus.VALID
    assert served.compressed() == from_log.compressed()


def test_only_the_issuing_department_changes_a_license(service: Service) -> None:
    _, license_id = played_permit(service)
    problem(change(service, license_id, "revoke", department="rfb"), 403, "action-not-permitted")


# --- shared-data views -----------------------------------------------------------------------


def test_a_department_reads_only_the_fields_its_policy_allows(issued: Issued) -> None:
    svc = issued.service
    body = {"holder_id": COMPANY, "purpose": "规划核实"}
    views = ok(
        svc.client.post("/v1/shared/views", json=body, headers=svc.tokens.verifier("zrzyghj"))
    )
    assert [sorted(v["fields"]) for v in views] == [sorted(["名称", "事项", "决定依据"])]
    assert views[0]["presentation"].startswith("EL1:")


def test_a_purpose_outside_the_policy_is_refused(issued: Issued) -> None:
    svc = issued.service
    body = {"holder_id": COMPANY, "purpose": "好奇"}
    response = svc.client.post(
        "/v1/shared/views", json=body, headers=svc.tokens.verifier("zrzyghj")
    )
    problem(response, 403, "purpose-not-allowed")


# --- keys -------------------------------------------------------------------------------------


def test_the_trust_list_verifies_with_the_root_key_and_lists_the_courier(issued: Issued) -> None:
    client = issued.service.client
    root = client.get("/v1/keys/root.der").content
    trust = load_trust_list(client.get("/v1/keys/trust-list").content, root)
    assert {(e.role, e.owner) for e in trust.entries.values()} >= {
        ("courier", "ems"),
        ("root", "platform"),
    }
    view = ok(client.get("/v1/keys/trust-list.json"))
    assert len(view["keys"]) == len(trust.entries)


def test_a_status_list_verifies_against_the_trust_list(issued: Issued) -> None:
    client = issued.service.client
    root = client.get("/v1/keys/root.der").content
    trust = load_trust_list(client.get("/v1/keys/trust-list").content, root)
    assert load_status_list(client.get(f"/v1/keys/status-lists/{LEAD}").content, trust, owner=LEAD)


def test_a_department_that_issues_nothing_has_no_status_list(issued: Issued) -> None:
    problem(issued.service.client.get("/v1/keys/status-lists/nobody"), 404, "unknown-license-type")
