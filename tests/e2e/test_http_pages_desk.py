"""The officer's desk (办件台) and the supervision dashboard (效能监督): a department's queue with
its working-day clocks and each case's next action (CSRF-protected, at the version shown), and the
reform's figures with findings; each only for its roles."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response

from api.auth import verify_token
from api.pages.errors import SESSION_COOKIE
from api.pages.session import Session
from tests.e2e.browser import browser, form_token, signed_in
from tests.e2e.conftest import (
    BUSINESS_DESK,
    DESK,
    Service,
    business_case,
    ok,
    played_permit,
    post,
    received,
)
from tests.e2e.test_http_cases import NOTICE
from tests.scenarios import COMPANY


def test_the_desk_lists_the_departments_queue_with_its_clocks(service: Service) -> None:
    case_id = received(service)
    queue = service.client.get("/v1/cases", headers=service.tokens.officer(BUSINESS_DESK)).json()
    page = signed_in(service, service.tokens.officer(BUSINESS_DESK)).get("/pages/desk")
    assert page.status_code == 200 and f"办件台：{BUSINESS_DESK}" in page.text
    assert [c["case_id"] for c in queue] == [case_id]
    assert f'href="/pages/cases/{case_id}"' in page.text and "出具审查意见" in page.text
    assert "剩余" in page.text and "个工作日" in page.text and COMPANY not in page.text


def act(client: TestClient, case_id: str, action: str, **fields: str) -> Response:
    """Submit a case's action form on the desk with the version and token the desk shows."""
    target = f"/pages/desk/cases/{case_id}/{action}"
    desk = client.get("/pages/desk").text
    found = re.search(re.escape(target) + r'".*?name="version" value="(\d+)"', desk)
    assert found, f"no {action} form for {case_id}"
    data = {"csrf": form_token(desk, target), "version": found.group(1), **fields}
    return client.post(target, data=data)


def test_an_officer_gives_an_opinion_and_then_decides_from_the_desk(service: Service) -> None:
    case_id = received(service)
    client = signed_in(service, service.tokens.officer(BUSINESS_DESK))
    assert act(client, case_id, "opinion", yes="true").headers["location"] == "/pages/desk"
    assert "作出决定" in client.get("/pages/desk").text
    refused = act(client, case_id, "decide", yes="true", text=" ")
    assert refused.status_code == 422 and "决定依据" in refused.text
    assert act(client, case_id, "decide", yes="true", text="《公司法》第六条").status_code == 303
    case = ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.auditor()))
    assert (case["status"], case["opinions"]) == ("decided", {BUSINESS_DESK: True})
    assert case["decision"]["legal_basis"] == "《公司法》第六条"


def test_a_stale_or_forged_desk_form_changes_nothing(service: Service) -> None:
    case_id = received(service)
    client = signed_in(service, service.tokens.officer(BUSINESS_DESK))
    target = f"/pages/desk/cases/{case_id}/opinion"
    token = form_token(client.get("/pages/desk").text, target)
    before = ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.auditor()))
    stale = client.post(target, data={"csrf": token, "version": "1", "yes": "true"})
    assert stale.status_code == 409 and "concurrent-change" in stale.text
    version = str(before["version"])
    for forged in ({}, {"csrf": "0" * 64}):
        response = client.post(target, data={"version": version, "yes": "true", **forged})
        assert response.status_code == 403 and "CSRF" in response.text
    verifier = signed_in(service, service.tokens.verifier(BUSINESS_DESK))
    response = verifier.post(target, data={"csrf": token, "version": version, "yes": "true"})
    assert response.status_code == 403
    after = ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.auditor()))
    assert after["version"] == before["version"] and after["opinions"] == {}


def test_a_department_with_nothing_to_do_sees_an_empty_desk(service: Service) -> None:
    received(service)
    page = signed_in(service, service.tokens.officer("swj")).get("/pages/desk")
    assert page.status_code == 200 and "本部门暂无待办件" in page.text


def test_the_dashboard_shows_the_figures_and_findings(service: Service) -> None:
    played_permit(service)
    figures = ok(service.client.get("/v1/stats", headers=service.tokens.auditor()))
    page = signed_in(service, service.tokens.auditor()).get("/pages/supervision")
    assert page.status_code == 200 and "效能监督" in page.text
    assert "按部门" in page.text and "最多跑一次" in page.text and "监督发现" in page.text
    overall = f"<td>全部</td><td>{figures['overall']['cases']}</td>"
    assert overall in page.text


def test_a_refused_second_notice_is_a_finding_on_the_dashboard(service: Service) -> None:
    case_id = business_case(service, complete=False)
    ok(post(service, case_id, "notify-correction", service.tokens.officer(DESK), NOTICE))
    post(service, case_id, "notify-correction", service.tokens.officer(DESK), NOTICE)
    page = signed_in(service, service.tokens.auditor()).get("/pages/supervision").text
    assert "二次告知" in page and f'href="/pages/cases/{case_id}"' in page
    others = signed_in(service, service.tokens.officer("rfb")).get("/pages/supervision").text
    assert "今日无监督发现" in others  # an officer sees only their own department's findings


def test_pages_of_staff_refuse_other_roles_with_a_403_page(service: Service) -> None:
    for headers, path in (
        (service.tokens.verifier("swj"), "/pages/desk"),
        (service.tokens.auditor(), "/pages/desk"),
        (service.tokens.applicant(), "/pages/supervision"),
        (service.tokens.verifier("swj"), "/pages/supervision"),
    ):
        response = signed_in(service, headers).get(path)
        assert response.status_code == 403 and "无权访问" in response.text, path


def test_without_a_session_the_desk_and_dashboard_send_the_browser_to_sign_in(
    service: Service,
) -> None:
    client = browser(service)
    for path in ("/pages/desk", "/pages/supervision"):
        response = client.get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/pages/login")


def test_the_service_centres_desk_lists_submitted_cases_for_its_window(service: Service) -> None:
    case_id = business_case(service, complete=False)
    client = signed_in(service, service.tokens.officer(DESK))
    queue = ok(service.client.get("/v1/cases", headers=service.tokens.officer(DESK)))
    assert [(c["case_id"], c["action"]) for c in queue] == [(case_id, "receive")]
    page = client.get("/pages/desk").text
    assert f'<a href="/pages/desk/window/{case_id}">窗口受理</a>' in page
    # The desk's own action route takes no window action: that is the window page's work.
    target = f"/pages/desk/cases/{case_id}/receive"
    before = ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.auditor()))
    token = client.cookies[SESSION_COOKIE]
    principal = verify_token(token, service.app.state.runtime.get().auth, service.clock.now)
    csrf = Session(principal, token).csrf("desk")  # the token any desk form of the session has
    data = {"csrf": csrf, "version": str(before["version"])}
    refused = client.post(target, data=data)
    assert refused.status_code == 404 and "unknown-action" in refused.text
    after = ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.auditor()))
    assert (after["version"], after["status"]) == (before["version"], "submitted")
