"""Courier reports over HTTP: dispatch and delivery reports signed by the courier's registered
key are recorded (the delivery event keeps the report); unsigned, wrongly signed, stale and
replayed reports are refused."""

from __future__ import annotations

import base64
from datetime import timedelta

from keys import cbor
from keys.signer import Ed25519Signer
from tests.e2e.conftest import (
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


def send(svc: Service, report: str, courier: str = "ems") -> object:
    return svc.client.post(
        "/v1/courier/reports", json={"report": report}, headers=svc.tokens.courier(courier)
    )


def event_types(svc: Service, case_id: str) -> list[str]:
    events = ok(svc.client.get(f"/v1/cases/{case_id}/timeline", headers=svc.tokens.auditor()))
    return [e["type"] for e in events]


def test_a_signed_delivery_is_recorded_with_its_report(service: Service) -> None:
    case_id, _ = played_permit(service)
    service.clock.advance(timedelta(hours=20))
    result = ok(send(service, courier_report(service, case_id, nonce="n-0001-delivery")))
    case = ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.applicant()))
    assert (case["status"], case["visits"], case["version"]) == ("delivered", 0, result["version"])
    events = ok(
        service.client.get(f"/v1/cases/{case_id}/timeline", headers=service.tokens.auditor())
    )
    report = events[-1]["data"]["report"]
    assert (report["nonce"], report["signed_by"], events[-1]["signer"]) == (
        "n-0001-delivery",
        "张三",
        "courier ems",
    )


def test_the_courier_reports_the_dispatch_itself(service: Service) -> None:
    case_id = submit_permit(service)
    accept_with_tolerance(service, case_id)
    review_and_grant(service, case_id)
    ok(post(service, case_id, "issue-license", service.tokens.officer(LEAD)))
    ok(send(service, courier_report(service, case_id, event="dispatched")))
    assert event_types(service, case_id)[-1] == "case.Dispatched"


def test_an_unsigned_report_is_refused(service: Service) -> None:
    case_id, _ = played_permit(service)
    plain = cbor.dumps_canonical({"case_id": case_id, "event": "delivered"})
    response = send(service, base64.b64encode(plain).decode())
    problem(response, 422, "courier-report-unsigned")
    problem(send(service, "not base64!"), 422, "courier-report-unsigned")


def test_a_report_signed_by_an_unregistered_key_is_refused(service: Service) -> None:
    case_id, _ = played_permit(service)
    forged = courier_report(service, case_id, signer=Ed25519Signer.generate())
    problem(send(service, forged), 403, "courier-report-wrong-key")


def test_a_report_signed_by_another_partys_registered_key_is_refused(service: Service) -> None:
    case_id, _ = played_permit(service)
    intake = service.handle.keys.signer("intake")
    problem(
        send(service, courier_report(service, case_id, signer=intake)),
        403,
        "courier-report-wrong-key",
    )


def test_a_courier_cannot_send_another_couriers_report(service: Service) -> None:
    case_id, _ = played_permit(service)
    problem(
        send(service, courier_report(service, case_id), courier="sf"),
        403,
        "courier-report-wrong-key",
    )


def test_a_tampered_report_fails_its_signature(service: Service) -> None:
    case_id, _ = played_permit(service)
    raw = bytearray(base64.b64decode(courier_report(service, case_id)))
    raw[-70] ^= 0x01  # a byte of the payload, just before the signature
    problem(send(service, base64.b64encode(bytes(raw)).decode()), 403, "courier-report-wrong-key")


def test_a_replayed_report_is_refused_and_recorded_once(service: Service) -> None:
    case_id, _ = played_permit(service)
    report = courier_report(service, case_id, nonce="replay-nonce-1")
    ok(send(service, report))
    problem(send(service, report), 409, "courier-report-replayed")
    assert event_types(service, case_id).count("case.Delivered") == 1


def test_a_stale_report_is_refused(service: Service) -> None:
    case_id, _ = played_permit(service)
    old = courier_report(service, case_id, at=service.clock.now - timedelta(hours=1))
    problem(send(service, old), 422, "courier-report-stale")


def test_a_delivery_report_must_name_who_signed_for_it(service: Service) -> None:
    case_id, _ = played_permit(service)
    problem(
        send(service, courier_report(service, case_id, signed_by="")), 422, "courier-report-invalid"
    )


def test_a_report_for_a_case_not_yet_dispatched_is_a_conflict(service: Service) -> None:
    case_id = submit_permit(service)
    problem(send(service, courier_report(service, case_id)), 409, "wrong-state")


def test_another_courier_companys_signed_delivery_report_is_refused(service: Service) -> None:
    case_id, _ = played_permit(service)  # dispatched by EMS
    device = Ed25519Signer.generate()
    enrol = {"courier": "sf", "public_key": base64.b64encode(device.public_key_der()).decode()}
    ok(service.client.post("/v1/keys/enrolments", json=enrol, headers=service.tokens.admin()), 201)
    before = event_types(service, case_id)
    report = courier_report(service, case_id, nonce="sf-not-ours-0001", signer=device)
    problem(send(service, report, courier="sf"), 403, "action-not-permitted")
    assert event_types(service, case_id) == before
    assert ok(send(service, courier_report(service, case_id)))["version"] > 0  # EMS's own is
