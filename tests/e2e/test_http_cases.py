"""Every case route over HTTP, one happy and one unhappy path each: the command's effect, its
ETag, and the problem a refusal gives (status and stable type)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.conftest import (
    BUSINESS_DESK,
    DESK,
    OTHER_COMPANY,
    Service,
    accept_with_tolerance,
    business_case,
    materials_json,
    ok,
    post,
    problem,
    received,
    submit_permit,
)
from tests.scenarios import BUSINESS, doc

# --- submission ------------------------------------------------------------------------------


def test_submitting_answers_201_with_the_case_location_and_version(service: Service) -> None:
    body = {"item_code": BUSINESS, "materials": {}}
    response = service.client.post("/v1/cases", json=body, headers=service.tokens.applicant())
    created = ok(response, 201)
    assert response.headers["location"] == f"/v1/cases/{created['case_id']}"
    assert (created["version"], response.headers["etag"]) == (1, '"1"')


def test_submitting_for_an_unknown_item_is_404(service: Service) -> None:
    body = {"item_code": "nope", "materials": {}}
    response = service.client.post("/v1/cases", json=body, headers=service.tokens.applicant())
    problem(response, 404, "unknown-item")


def test_an_applicant_cannot_submit_in_someone_elses_name(service: Service) -> None:
    body = {"item_code": BUSINESS, "applicant_id": OTHER_COMPANY}
    response = service.client.post("/v1/cases", json=body, headers=service.tokens.applicant())
    problem(response, 403, "forbidden")


def test_window_staff_submit_for_a_named_applicant_and_it_counts_as_a_visit(
    service: Service,
) -> None:
    body = {"item_code": BUSINESS, "applicant_id": OTHER_COMPANY}
    response = service.client.post("/v1/cases", json=body, headers=service.tokens.officer(DESK))
    case_id = ok(response, 201)["case_id"]
    case = ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.officer(DESK)))
    assert case["visits"] == 1 and case["applicant_masked"].startswith("915120")


def test_window_staff_must_give_a_valid_applicant_id(service: Service) -> None:
    body = {"item_code": BUSINESS, "applicant_id": "91512000MA62A0XC00"}
    response = service.client.post("/v1/cases", json=body, headers=service.tokens.officer(DESK))
    detail = problem(response, 422, "invalid-applicant")["detail"]
    assert "MA62A0XC00" not in detail  # holder ids are masked in messages


# --- intake ---------------------------------------------------------------------------------


def test_receiving_a_complete_case_starts_the_clock(service: Service) -> None:
    case_id = business_case(service)
    response = post(service, case_id, "receive", service.tokens.officer(DESK))
    assert ok(response)["due"] and response.headers["etag"] == '"2"'


def test_receiving_an_incomplete_case_is_a_conflict(service: Service) -> None:
    case_id = submit_permit(service)
    problem(
        post(service, case_id, "receive", service.tokens.officer(DESK)), 409, "materials-incomplete"
    )


def test_tolerance_acceptance_records_the_commitment(service: Service) -> None:
    case_id = submit_permit(service)
    accept_with_tolerance(service, case_id)
    case = ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.applicant()))
    assert case["status"] == "received" and set(case["open_commitments"]) == {
        "zjls",
        "aqxk",
        "zljd",
    }


def test_tolerance_with_nothing_missing_is_refused(service: Service) -> None:
    case_id = business_case(service)
    body = {
        "commitment": "承诺",
        "commitment_due": (service.clock.now + timedelta(days=1)).date().isoformat(),
    }
    response = post(service, case_id, "accept-with-tolerance", service.tokens.officer(DESK), body)
    problem(response, 409, "nothing-to-tolerate")


NOTICE = {"items": {"zc": "章程缺少股东签字"}, "text": "请一次性补正以下材料"}


def test_the_one_time_notice_is_given_once_and_a_second_is_refused(service: Service) -> None:
    case_id = business_case(service, complete=False)
    ok(post(service, case_id, "notify-correction", service.tokens.officer(DESK), NOTICE))
    second = post(service, case_id, "notify-correction", service.tokens.officer(DESK), NOTICE)
    problem(second, 409, "second-notice-refused")


def test_the_applicant_corrects_online_without_a_visit(service: Service) -> None:
    case_id = business_case(service, complete=False)
    ok(post(service, case_id, "notify-correction", service.tokens.officer(DESK), NOTICE))
    applicant = service.tokens.applicant()
    body = {"materials": materials_json(service, applicant, {"zc": doc("articles, signed")})}
    ok(post(service, case_id, "correct", applicant, body))
    case = ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.applicant()))
    assert case["visits"] == 0 and "zc" in case["materials"]


def test_another_applicant_cannot_correct_the_case(service: Service) -> None:
    case_id = business_case(service, complete=False)
    other = service.tokens.applicant(OTHER_COMPANY)
    body = {"materials": materials_json(service, other, {"zc": doc("articles")})}
    response = post(service, case_id, "correct", other, body)
    problem(response, 404, "unknown-case")


def test_refusing_to_accept_states_reasons_and_basis(service: Service) -> None:
    case_id = business_case(service)
    body = {"reasons": ["不属于本机关职权范围"], "legal_basis": "《行政许可法》第三十二条"}
    ok(post(service, case_id, "refuse", service.tokens.officer(DESK), body))


def test_a_refusal_without_reasons_fails_validation(service: Service) -> None:
    case_id = business_case(service)
    body = {"reasons": [], "legal_basis": "《行政许可法》第三十二条"}
    problem(
        post(service, case_id, "refuse", service.tokens.officer(DESK), body),
        422,
        "validation-failed",
    )


def test_supplementing_a_material_that_was_not_committed_is_refused(service: Service) -> None:
    case_id = submit_permit(service)
    accept_with_tolerance(service, case_id)
    applicant = service.tokens.applicant()
    body = {
        "materials": materials_json(service, applicant, {"sqb": doc("form again")}),
        "via": "online",
    }
    response = post(service, case_id, "supplement", applicant, body)
    problem(response, 422, "material-not-committed")


# --- reads ----------------------------------------------------------------------------------------


def test_the_case_carries_its_version_as_etag(service: Service) -> None:
    case_id = received(service)
    response = service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.applicant())
    assert ok(response)["version"] == 2 and response.headers["etag"] == '"2"'


@pytest.mark.parametrize("who", ["other applicant", "other department", "missing case"])
def test_a_case_the_caller_may_not_see_looks_exactly_like_a_missing_one(
    service: Service, who: str
) -> None:
    case_id = received(service)
    headers = {
        "other applicant": service.tokens.applicant(OTHER_COMPANY),
        "other department": service.tokens.officer("rfb"),
        "missing case": service.tokens.applicant(),
    }[who]
    target = "3f1f2b8e-1111-4c3a-9d7e-2b9c0a5d4e6f" if who == "missing case" else case_id
    body = problem(service.client.get(f"/v1/cases/{target}", headers=headers), 404, "unknown-case")
    assert body["detail"] == f"no case with id {target}"


def test_the_timeline_shows_each_signer_and_verification(service: Service) -> None:
    case_id = received(service)
    events = ok(
        service.client.get(f"/v1/cases/{case_id}/timeline", headers=service.tokens.applicant())
    )
    assert [(e["type"], e["signer"], e["verified"]) for e in events] == [
        ("case.Submitted", "intake platform", True),
        ("case.Received", f"department-seal {DESK}", True),
    ]


def test_verifiers_may_not_read_timelines(service: Service) -> None:
    case_id = received(service)
    response = service.client.get(
        f"/v1/cases/{case_id}/timeline", headers=service.tokens.verifier("swj")
    )
    problem(response, 403, "forbidden")


def test_applicants_list_their_own_cases_and_officers_their_queue(service: Service) -> None:
    mine = received(service)
    business_case(service, holder=OTHER_COMPANY)
    listed = ok(service.client.get("/v1/cases", headers=service.tokens.applicant()))
    assert [c["case_id"] for c in listed] == [mine]
    queue = ok(service.client.get("/v1/cases", headers=service.tokens.officer(BUSINESS_DESK)))
    assert [(c["case_id"], c["action"]) for c in queue] == [(mine, "opinion")]


def test_auditors_have_no_case_list(service: Service) -> None:
    problem(service.client.get("/v1/cases", headers=service.tokens.auditor()), 403, "forbidden")
