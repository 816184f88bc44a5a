"""Key administration over HTTP: the registry for administrators and auditors; replacing a
department's key (once per Idempotency-Key) while its licenses keep verifying; revoking a key from
a compromise; a courier's device key signing its reports; refusals as problem+json that change
nothing."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

import pytest

from keys.registry import kid_for
from keys.signer import Ed25519Signer
from licenses.credential import decode_credential
from tests.e2e.conftest import (
    DESK,
    LEAD,
    Service,
    accept_with_tolerance,
    courier_report,
    ok,
    played_permit,
    post,
    problem,
    review_and_grant,
    submit_permit,
)
from tests.scenarios import PERMIT

PURPOSE = {"purpose": "施工许可"}


def registry(svc: Service) -> dict[str, dict[str, Any]]:
    keys = ok(svc.client.get("/v1/keys", headers=svc.tokens.auditor()))
    return {k["kid"]: k for k in keys}


def seal(svc: Service, department: str = "zjj") -> dict[str, Any]:
    [key] = [
        k
        for k in registry(svc).values()
        if k["role"] == "department-seal" and k["owner"] == department and k["state"] == "active"
    ]
    return key


def events(svc: Service) -> int:
    return svc.ledger.recorder.max_notification_id() or 0


def verify(svc: Service, license_id: str) -> dict[str, Any]:
    body = {"license_id": license_id, **PURPOSE}
    return ok(svc.client.post("/v1/verify", json=body, headers=svc.tokens.verifier("zrzyghj")))


def test_administrators_and_auditors_read_the_registry_and_others_may_not(service: Service) -> None:
    keys = ok(service.client.get("/v1/keys", headers=service.tokens.admin()))
    roles = {k["role"] for k in keys}
    assert {"root", "department-seal", "intake", "courier", "log"} <= roles
    assert {k["state"] for k in keys} == {"active"}
    for headers in (service.tokens.officer("zjj"), service.tokens.verifier("zjj")):
        problem(service.client.get("/v1/keys", headers=headers), 403, "forbidden")


def test_a_replaced_department_key_keeps_old_licenses_valid_and_signs_new_ones(
    service: Service,
) -> None:
    _, before = played_permit(service)
    old = seal(service)
    headers = service.tokens.admin() | {"Idempotency-Key": "rotate-zjj-2026"}
    path = f"/v1/keys/{old['kid']}/rotate"
    first = ok(service.client.post(path, headers=headers), 201)
    count = events(service)
    again = ok(service.client.post(path, headers=headers), 201)
    assert again == first and events(service) == count
    assert first["replaces"]["kid"] == old["kid"]
    assert (first["replaces"]["state"], first["replaces"]["successor"]) == (
        "retiring",
        first["key"]["kid"],
    )
    assert seal(service)["kid"] == first["key"]["kid"]
    trust = ok(service.client.get("/v1/keys/trust-list.json"))
    assert first["key"]["kid"] in str(trust)

    _, after = played_permit(service)
    service.clock.advance(timedelta(days=1))  # past the overlap: the old key signs no more
    assert registry(service)[old["kid"]]["state"] == "rotated"
    for license_id in (before, after):
        assert verify(service, license_id)["status"] == "valid"
    problem(service.client.post(path, headers=service.tokens.admin()), 409, "registry-conflict")


def test_a_replacement_published_ahead_signs_from_its_start_and_the_old_key_until_then(
    service: Service,
) -> None:
    old = seal(service)
    path = f"/v1/keys/{old['kid']}/rotate"
    starts = (service.clock.now + timedelta(days=30)).replace(microsecond=0)
    body = {"starts_at": starts.isoformat()}
    headers = service.tokens.admin() | {"Idempotency-Key": "rotate-zjj-ahead"}
    first = ok(service.client.post(path, json=body, headers=headers), 201)
    count = events(service)
    assert ok(service.client.post(path, json=body, headers=headers), 201) == first
    assert events(service) == count
    new = first["key"]["kid"]
    assert first["key"]["state"] == "not-yet-valid"
    assert datetime.fromisoformat(first["key"]["valid_from"]) == starts
    retires = datetime.fromisoformat(first["replaces"]["rotated_at"])
    assert (first["replaces"]["state"], retires) == ("active", starts + timedelta(seconds=30))
    assert new in str(ok(service.client.get("/v1/keys/trust-list.json")))  # published now

    _, before = played_permit(service)
    assert seal(service)["kid"] == old["kid"]  # the old key still signs
    service.clock.now = starts + timedelta(seconds=30)
    _, after = played_permit(service)
    assert seal(service)["kid"] == new
    assert registry(service)[old["kid"]]["state"] == "rotated"
    signers = [
        decode_credential(service.ledger.vault.license(i).credential).kid.hex()
        for i in (before, after)
    ]
    assert signers == [old["kid"], new]
    for license_id in (before, after):
        assert verify(service, license_id)["status"] == "valid"


@pytest.mark.parametrize("path", ["/v1/keys/trust-list", "/v1/keys/trust-list.json"])
def test_a_verifier_polling_the_trust_list_gets_304_until_a_key_changes(
    service: Service, path: str
) -> None:
    first = service.client.get(path)
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag.startswith('W/"')
    assert first.headers["Cache-Control"] == "no-cache"
    for held in (tag, tag.removeprefix("W/"), f'W/"0", {tag}'):
        same = service.client.get(path, headers={"If-None-Match": held})
        assert (same.status_code, same.content, same.headers["ETag"]) == (304, b"", tag)
    other = service.client.get(path, headers={"If-None-Match": 'W/"0"'})
    assert other.status_code == 200 and other.content
    service.client.post(f"/v1/keys/{seal(service)['kid']}/rotate", headers=service.tokens.admin())
    changed = service.client.get(path, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert int(changed.headers["ETag"][3:-1]) > int(tag[3:-1])  # the registry's new sequence


def test_a_start_in_the_past_too_far_ahead_or_without_a_timezone_is_refused(
    service: Service,
) -> None:
    path = f"/v1/keys/{seal(service)['kid']}/rotate"
    count, before = events(service), registry(service)
    cases = [
        ((service.clock.now - timedelta(hours=1)).isoformat(), 409, "registry-conflict"),
        ((service.clock.now + timedelta(days=91)).isoformat(), 409, "registry-conflict"),
        ("2026-11-22T10:00:00", 422, "validation-failed"),
    ]
    for starts_at, status, slug in cases:
        response = service.client.post(
            path, json={"starts_at": starts_at}, headers=service.tokens.admin()
        )
        problem(response, status, slug)
    assert (events(service), registry(service)) == (count, before)


def test_a_key_revoked_from_its_compromise_is_shown_revoked_and_cannot_be_revoked_twice(
    service: Service,
) -> None:
    key = seal(service, "swj")
    compromised = (service.clock.now - timedelta(minutes=5)).isoformat()
    body = {"reason": "签章私钥泄露", "revoked_at": compromised}
    path = f"/v1/keys/{key['kid']}/revoke"
    revoked = ok(service.client.post(path, json=body, headers=service.tokens.admin()))
    assert (revoked["state"], revoked["revocation_reason"]) == ("revoked", "签章私钥泄露")
    count = events(service)
    again = service.client.post(path, json=body, headers=service.tokens.admin())
    problem(again, 409, "registry-conflict")
    assert events(service) == count


def test_refused_key_commands_are_problems_and_change_nothing(service: Service) -> None:
    admin = service.tokens.admin()
    root = next(k for k in registry(service).values() if k["role"] == "root")
    future = (service.clock.now + timedelta(hours=1)).isoformat()
    count, before = events(service), registry(service)
    client = service.client
    cases = [
        (client.post(f"/v1/keys/{root['kid']}/revoke", json={"reason": "x"}, headers=admin), 409),
        (client.post(f"/v1/keys/{root['kid']}/rotate", headers=admin), 409),
        (client.post(f"/v1/keys/{'ab' * 16}/rotate", headers=admin), 404),
        (client.post("/v1/keys/not-a-kid/rotate", headers=admin), 422),
        (
            client.post(
                f"/v1/keys/{seal(service)['kid']}/revoke",
                json={"reason": "x", "revoked_at": future},
                headers=admin,
            ),
            409,
        ),
        (client.post(f"/v1/keys/{root['kid']}/revoke", json={"reason": ""}, headers=admin), 422),
        (
            client.post(
                "/v1/keys/enrolments", json={"courier": "ems", "public_key": "!"}, headers=admin
            ),
            422,
        ),
        (
            client.post(
                "/v1/keys/enrolments",
                json={"courier": "ems", "public_key": base64.b64encode(b"junk").decode()},
                headers=admin,
            ),
            422,
        ),
        (
            client.post(
                f"/v1/keys/{seal(service)['kid']}/rotate", headers=service.tokens.officer("zjj")
            ),
            403,
        ),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert (events(service), registry(service)) == (count, before)


def test_a_couriers_enrolled_device_key_signs_its_reports(service: Service) -> None:
    case_id, _ = played_permit(service)
    device = Ed25519Signer.generate()
    body = {"courier": "ems", "public_key": base64.b64encode(device.public_key_der()).decode()}
    enrolled = ok(
        service.client.post("/v1/keys/enrolments", json=body, headers=service.tokens.admin()), 201
    )
    assert enrolled["key"]["kid"] == kid_for(device.public_key_der()).hex()
    assert enrolled["replaces"] is None
    service.clock.advance(timedelta(hours=20))
    report = courier_report(service, case_id, nonce="device-1", signer=device)
    delivered = service.client.post(
        "/v1/courier/reports", json={"report": report}, headers=service.tokens.courier()
    )
    assert delivered.status_code in (200, 201), delivered.text
    case = ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.auditor()))
    assert case["status"] == "delivered"


def test_a_report_signed_by_a_revoked_device_key_is_refused(service: Service) -> None:
    case_id, _ = played_permit(service)
    device = Ed25519Signer.generate()
    body = {"courier": "ems", "public_key": base64.b64encode(device.public_key_der()).decode()}
    admin = service.tokens.admin()
    kid = ok(service.client.post("/v1/keys/enrolments", json=body, headers=admin), 201)["key"][
        "kid"
    ]
    ok(service.client.post(f"/v1/keys/{kid}/revoke", json={"reason": "手机丢失"}, headers=admin))
    service.clock.advance(timedelta(hours=20))
    report = courier_report(service, case_id, nonce="device-2", signer=device)
    refused = service.client.post(
        "/v1/courier/reports", json={"report": report}, headers=service.tokens.courier()
    )
    problem(refused, 403, "courier-report-wrong-key")


def test_every_registry_change_raises_the_trust_lists_sequence(service: Service) -> None:
    def published() -> tuple[int, dict[str, Any]]:
        trust = ok(service.client.get("/v1/keys/trust-list.json"))
        return trust["sequence"], trust

    first, _ = published()
    key = seal(service, "swj")
    admin = service.tokens.admin()
    ok(service.client.post(f"/v1/keys/{key['kid']}/revoke", json={"reason": "泄露"}, headers=admin))
    # A revocation adds no key, yet other regions must take the new list: its sequence is above.
    second, trust = published()
    assert second > first
    assert "泄露" in str(trust)
    ok(service.client.post(f"/v1/keys/{seal(service)['kid']}/rotate", headers=admin), 201)
    third, _ = published()
    assert third > second


def test_a_courier_new_here_is_enrolled_and_its_signed_delivery_is_recorded(
    service: Service,
) -> None:
    case_id = submit_permit(service)
    accept_with_tolerance(service, case_id)
    review_and_grant(service, case_id)
    ok(post(service, case_id, "issue-license", service.tokens.officer(LEAD)))
    body = {"courier": "sf", "tracking_number": "SF1234567890"}
    ok(post(service, case_id, "dispatch", service.tokens.officer(DESK), body))
    device = Ed25519Signer.generate()
    report = courier_report(
        service, case_id, nonce="sf-delivery-0001", signer=device, tracking_number="SF1234567890"
    )
    send, sf = {"report": report}, service.tokens.courier("sf")
    refused = service.client.post("/v1/courier/reports", json=send, headers=sf)
    problem(refused, 403, "courier-report-wrong-key")  # no key of courier sf is registered yet

    enrol = {"courier": "sf", "public_key": base64.b64encode(device.public_key_der()).decode()}
    ok(service.client.post("/v1/keys/enrolments", json=enrol, headers=service.tokens.admin()), 201)
    delivered = service.client.post("/v1/courier/reports", json=send, headers=sf)
    assert delivered.status_code in (200, 201), delivered.text
    path = f"/v1/cases/{case_id}/timeline"
    last = ok(service.client.get(path, headers=service.tokens.auditor()))[-1]
    assert (last["signer"], last["data"]["report"]["nonce"]) == ("courier sf", "sf-delivery-0001")


def test_a_repeated_revocation_with_the_same_key_answers_the_same_and_writes_nothing(
    service: Service,
) -> None:
    key = seal(service, "swj")
    headers = service.tokens.admin() | {"Idempotency-Key": "revoke-swj-seal"}
    path, body = f"/v1/keys/{key['kid']}/revoke", {"reason": "签章私钥泄露"}
    first = ok(service.client.post(path, json=body, headers=headers))
    count = events(service)
    service.clock.advance(timedelta(minutes=3))  # "from now" is later now: the same request
    again = ok(service.client.post(path, json=body, headers=headers))
    assert again == first and events(service) == count
    other = {"reason": "另一个原因"}
    problem(service.client.post(path, json=other, headers=headers), 422, "idempotency-key-reused")


def test_a_revoked_intake_key_stops_online_submissions_until_it_is_replaced(
    service: Service,
) -> None:
    [intake] = [k for k in registry(service).values() if k["role"] == "intake"]
    admin = service.tokens.admin()
    revoke = {"reason": "密钥泄露"}
    ok(service.client.post(f"/v1/keys/{intake['kid']}/revoke", json=revoke, headers=admin))
    count = events(service)
    refused = service.client.post(
        "/v1/cases",
        json={"item_code": PERMIT, "materials": {}},
        headers=service.tokens.applicant(),
    )
    problem(refused, 503, "signing-key-unavailable")
    assert events(service) == count
    ok(service.client.post(f"/v1/keys/{intake['kid']}/rotate", headers=admin), 201)
    assert submit_permit(service)


def test_an_auditor_lists_what_a_compromised_key_signed_after_the_compromise(
    service: Service,
) -> None:
    played_permit(service)
    key = seal(service)
    auditor, path = service.tokens.auditor(), f"/v1/keys/{key['kid']}/revoke"
    signed = ok(service.client.get(f"/v1/audit/keys/{key['kid']}/events", headers=auditor))
    entries = signed["entries"]
    assert entries and {e["kid"] for e in entries} == {key["kid"]}
    assert all(e["key_valid"] for e in entries)
    # Compromised at its last command: that command's events, and only they, are suspect.
    compromise = entries[-1]["at"]
    revocation = {"reason": "泄露", "revoked_at": compromise}
    ok(service.client.post(path, json=revocation, headers=service.tokens.admin()))
    again = ok(service.client.get(f"/v1/audit/keys/{key['kid']}/events", headers=auditor))
    suspect = [e["notification_id"] for e in again["entries"] if not e["key_valid"]]
    last = [e["notification_id"] for e in entries if e["at"] == compromise]
    assert suspect == last and 0 < len(last) < len(entries)
    unknown = service.client.get(f"/v1/audit/keys/{'ab' * 16}/events", headers=auditor)
    problem(unknown, 404, "unknown-key")
