"""The construction-permit case end to end over HTTP: online submission, tolerance acceptance,
joint review with a site inspection, supplement, grant, issuance, courier delivery by a signed
report, closing and rating; then another department verifies the license by its number and the
holder sees that use."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.conftest import (
    DESK,
    LEAD,
    Service,
    accept_with_tolerance,
    courier_report,
    issue_and_dispatch,
    ok,
    post,
    review_and_grant,
    submit_permit,
)


def test_a_construction_permit_runs_from_submission_to_a_verified_license(
    service: Service,
) -> None:
    svc, client, tokens = service, service.client, service.tokens
    case_id = submit_permit(svc)
    accepted = accept_with_tolerance(svc, case_id)
    assert accepted["due"] is not None
    review_and_grant(svc, case_id)
    license_id = issue_and_dispatch(svc, case_id)

    svc.clock.advance(timedelta(days=1))
    delivered = client.post(
        "/v1/courier/reports",
        json={"report": courier_report(svc, case_id)},
        headers=tokens.courier(),
    )
    ok(delivered)
    ok(post(svc, case_id, "close", tokens.officer(LEAD)))
    ok(post(svc, case_id, "rate", tokens.applicant(), {"stars": 5, "comment": "不用跑腿"}))

    case = ok(client.get(f"/v1/cases/{case_id}", headers=tokens.applicant()))
    assert (case["status"], case["license_id"], case["visits"], case["rating"]) == (
        "closed",
        license_id,
        0,
        5,
    )
    events = ok(client.get(f"/v1/cases/{case_id}/timeline", headers=tokens.auditor()))
    assert all(e["verified"] for e in events)
    delivery = next(e for e in events if e["type"] == "case.Delivered")
    assert delivery["signer"] == "courier ems"
    assert delivery["data"]["report"]["cose"]  # the signed report is kept inside the event
    assert {e["signer"] for e in events} >= {"intake platform", f"department-seal {DESK}"}

    # Planning verifies the permit by its number instead of asking for a paper copy.
    result = ok(
        client.post(
            "/v1/verify",
            json={"license_id": license_id, "purpose": "规划核实"},
            headers=tokens.verifier("zrzyghj"),
        )
    )
    assert (result["status"], result["valid"], result["license_id"]) == ("valid", True, license_id)

    uses = ok(client.get("/v1/licenses/uses", headers=tokens.applicant()))
    assert [(u["department"], u["purpose"], u["kind"]) for u in uses] == [
        ("zrzyghj", "规划核实", "verify")
    ]
