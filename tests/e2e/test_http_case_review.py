"""Case review, decision and results over HTTP, one happy and one unhappy path per route:
opinions, transfer, suspension, extension, decision, issuance, dispatch, pickup, visits, closing,
withdrawal and rating."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.conftest import (
    BUSINESS_DESK,
    DESK,
    LEAD,
    Service,
    accept_with_tolerance,
    granted_business,
    issue_and_dispatch,
    ok,
    post,
    problem,
    received,
    review_and_grant,
    submit_permit,
)
from tests.scenarios import COMPANY

# --- review and decision ---------------------------------------------------------------------


def test_a_required_department_gives_its_opinion(service: Service) -> None:
    case_id = received(service)
    ok(post(service, case_id, "opinions", service.tokens.officer(BUSINESS_DESK), {"approve": True}))
    case = ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.auditor()))
    assert case["opinions"] == {BUSINESS_DESK: True}


def test_a_department_outside_the_review_may_not_give_an_opinion(service: Service) -> None:
    case_id = received(service)
    response = post(service, case_id, "opinions", service.tokens.officer("swj"), {"approve": True})
    problem(response, 403, "action-not-permitted")


TRANSFER = {"to_level": "province", "to_unit": "四川省市场监督管理局", "opinion": "建议准予"}


def test_the_lead_transfers_a_case_upwards_with_its_opinion(service: Service) -> None:
    case_id = received(service)
    ok(post(service, case_id, "transfer", service.tokens.officer(BUSINESS_DESK), TRANSFER))


def test_the_front_desk_may_not_transfer(service: Service) -> None:
    case_id = received(service)
    problem(
        post(service, case_id, "transfer", service.tokens.officer(DESK), TRANSFER),
        403,
        "action-not-permitted",
    )


def test_suspending_and_resuming_moves_the_deadline(service: Service) -> None:
    case_id = submit_permit(service)
    due = accept_with_tolerance(service, case_id)["due"]
    step = {"step": "expert_review", "reason": "专家评审"}
    ok(post(service, case_id, "suspend", service.tokens.officer(LEAD), step))
    service.clock.advance(timedelta(days=7))
    assert ok(post(service, case_id, "resume", service.tokens.officer(LEAD)))["due"] > due


def test_suspending_for_an_undeclared_step_is_refused(service: Service) -> None:
    case_id = submit_permit(service)
    accept_with_tolerance(service, case_id)
    step = {"step": "hearing", "reason": "听证"}
    problem(
        post(service, case_id, "suspend", service.tokens.officer(LEAD), step),
        422,
        "step-not-declared",
    )


def test_resuming_a_running_clock_is_refused(service: Service) -> None:
    case_id = received(service)
    problem(
        post(service, case_id, "resume", service.tokens.officer(BUSINESS_DESK)), 409, "wrong-state"
    )


def test_the_deadline_is_extended_once(service: Service) -> None:
    case_id = received(service)
    due = ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.auditor()))["due"]
    later = (service.clock.now + timedelta(days=30)).date().isoformat()
    body = {"due": later, "reason": "情况复杂", "approver": "局长 李"}
    assert (
        ok(post(service, case_id, "extend", service.tokens.officer(BUSINESS_DESK), body))["due"]
        == later
        != due
    )
    again = post(service, case_id, "extend", service.tokens.officer(BUSINESS_DESK), body)
    problem(again, 409, "already-extended")


def test_a_grant_needs_every_required_approval(service: Service) -> None:
    case_id = submit_permit(service)
    accept_with_tolerance(service, case_id)
    decision = {"grant": True, "legal_basis": "《建筑工程施工许可管理办法》第四条"}
    problem(
        post(service, case_id, "decide", service.tokens.officer(LEAD), decision),
        409,
        "approvals-missing",
    )


def test_a_denial_is_decided_with_its_reasons(service: Service) -> None:
    case_id = received(service)
    body = {"grant": False, "legal_basis": "《公司法》", "reasons": ["住所证明不实"]}
    ok(post(service, case_id, "decide", service.tokens.officer(BUSINESS_DESK), body))
    case = ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.applicant()))
    assert case["decision"]["grant"] is False and case["decision"]["reasons"] == ["住所证明不实"]


# --- results and closing ---------------------------------------------------------------------


def test_issuing_returns_the_license_id(service: Service) -> None:
    case_id = granted_business(service)
    issued = ok(post(service, case_id, "issue-license", service.tokens.officer(BUSINESS_DESK)))
    assert issued["license_id"].startswith("1.2.156.3005.2.")


def test_issuing_while_commitments_are_open_is_refused(service: Service) -> None:
    case_id = submit_permit(service)
    accept_with_tolerance(service, case_id)
    for department in (LEAD, "zrzyghj", "xfjy", "rfb"):
        ok(
            post(
                service, case_id, "opinions", service.tokens.officer(department), {"approve": True}
            )
        )
    decision = {"grant": True, "legal_basis": "《建筑工程施工许可管理办法》第四条"}
    ok(post(service, case_id, "decide", service.tokens.officer(LEAD), decision))
    problem(
        post(service, case_id, "issue-license", service.tokens.officer(LEAD)),
        409,
        "commitment-open",
    )


def test_dispatching_and_closing_after_issue(service: Service) -> None:
    case_id = submit_permit(service)
    accept_with_tolerance(service, case_id)
    review_and_grant(service, case_id)
    issue_and_dispatch(service, case_id)
    case = ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.applicant()))
    assert case["status"] == "dispatched"


def test_dispatching_before_issue_is_refused(service: Service) -> None:
    case_id = granted_business(service)
    body = {"courier": "ems", "tracking_number": "EA1CN"}
    problem(
        post(service, case_id, "dispatch", service.tokens.officer(DESK), body), 409, "wrong-state"
    )


def test_a_pickup_at_the_window_counts_as_a_visit_and_the_case_closes(service: Service) -> None:
    case_id = granted_business(service)
    ok(post(service, case_id, "issue-license", service.tokens.officer(BUSINESS_DESK)))
    ok(post(service, case_id, "pick-up", service.tokens.officer(DESK)))
    ok(post(service, case_id, "close", service.tokens.officer(BUSINESS_DESK)))
    case = ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.applicant()))
    assert (case["status"], case["visits"]) == ("closed", 1)


def test_a_pickup_before_issue_is_refused(service: Service) -> None:
    case_id = received(service)
    problem(post(service, case_id, "pick-up", service.tokens.officer(DESK)), 409, "wrong-state")


def test_closing_before_the_result_is_out_is_refused(service: Service) -> None:
    case_id = received(service)
    problem(
        post(service, case_id, "close", service.tokens.officer(BUSINESS_DESK)), 409, "wrong-state"
    )


def test_a_visit_is_recorded_with_its_reason(service: Service) -> None:
    case_id = received(service)
    ok(post(service, case_id, "visits", service.tokens.officer(DESK), {"reason": "核验原件"}))
    case = ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.officer(DESK)))
    assert case["visits"] == 1


def test_a_visit_without_a_reason_fails_validation(service: Service) -> None:
    case_id = received(service)
    problem(
        post(service, case_id, "visits", service.tokens.officer(DESK), {"reason": ""}),
        422,
        "validation-failed",
    )


def test_the_applicant_withdraws_online(service: Service) -> None:
    case_id = received(service)
    ok(post(service, case_id, "withdraw", service.tokens.applicant(), {"reason": "不再需要"}))


def test_staff_withdraw_on_the_applicants_behalf(service: Service) -> None:
    case_id = received(service)
    ok(
        post(
            service,
            case_id,
            "withdraw",
            service.tokens.officer(BUSINESS_DESK),
            {"reason": "申请人来电撤回"},
        )
    )
    events = ok(
        service.client.get(f"/v1/cases/{case_id}/timeline", headers=service.tokens.auditor())
    )
    assert events[-1]["actor"]["on_behalf_of"] == COMPANY


def test_withdrawing_after_the_decision_is_refused(service: Service) -> None:
    case_id = granted_business(service)
    response = post(service, case_id, "withdraw", service.tokens.applicant(), {"reason": "晚了"})
    problem(response, 409, "wrong-state")


def closed_business(svc: Service) -> str:
    case_id = granted_business(svc)
    ok(post(svc, case_id, "issue-license", svc.tokens.officer(BUSINESS_DESK)))
    ok(post(svc, case_id, "pick-up", svc.tokens.officer(DESK)))
    ok(post(svc, case_id, "close", svc.tokens.officer(BUSINESS_DESK)))
    return case_id


def test_the_applicant_rates_once(service: Service) -> None:
    case_id = closed_business(service)
    ok(post(service, case_id, "rate", service.tokens.applicant(), {"stars": 4}))
    again = post(service, case_id, "rate", service.tokens.applicant(), {"stars": 5})
    problem(again, 409, "already-rated")


def test_stars_outside_one_to_five_fail_validation(service: Service) -> None:
    case_id = closed_business(service)
    problem(
        post(service, case_id, "rate", service.tokens.applicant(), {"stars": 6}),
        422,
        "validation-failed",
    )
