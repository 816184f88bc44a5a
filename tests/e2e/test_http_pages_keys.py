"""The key administration page (密钥管理): administrators replace and revoke keys, auditors read
the registry; forged forms, other roles and bad input are refused and change nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from api.pages.layout import CHINA
from tests.e2e.browser import browser, form_token, signed_in
from tests.e2e.conftest import Service, ok

PAGE = "/pages/keys"


def registry(svc: Service) -> dict[tuple[str, str], dict[str, Any]]:
    keys = ok(svc.client.get("/v1/keys", headers=svc.tokens.auditor()))
    return {(k["role"], k["owner"]): k for k in keys if k["state"] == "active"}


def events(svc: Service) -> int:
    return svc.ledger.recorder.max_notification_id() or 0


def test_an_administrator_replaces_a_departments_key_from_the_page(service: Service) -> None:
    old = registry(service)[("department-seal", "zjj")]["kid"]
    client = signed_in(service, service.tokens.admin())
    listed = client.get(PAGE)
    assert listed.status_code == 200
    assert "部门电子印章" in listed.text and "有效" in listed.text and old in listed.text
    action = f"{PAGE}/{old}/rotate"
    done = client.post(action, data={"csrf": form_token(listed.text, action)})
    assert done.status_code == 200, done.text
    new = registry(service)[("department-seal", "zjj")]["kid"]
    assert new != old and f"已更换：新密钥 {new}" in done.text
    assert "过渡期" in done.text  # the old key signs on for the overlap
    again = client.post(action, data={"csrf": form_token(listed.text, action)})
    assert again.status_code == 409 and "registry-conflict" in again.text


def test_an_administrator_publishes_a_replacement_ahead_from_a_time_in_china_time(
    service: Service,
) -> None:
    old = registry(service)[("department-seal", "zjj")]["kid"]
    client = signed_in(service, service.tokens.admin())
    action = f"{PAGE}/{old}/rotate"
    csrf = form_token(client.get(PAGE).text, action)
    starts = (service.clock.now + timedelta(days=10)).astimezone(CHINA).replace(second=0)
    done = client.post(action, data={"csrf": csrf, "starts_at": f"{starts:%Y-%m-%dT%H:%M}"})
    assert done.status_code == 200, done.text
    assert f"自 {starts:%Y-%m-%d %H:%M}:00 起启用" in done.text and "尚未生效" in done.text
    keys = ok(service.client.get("/v1/keys", headers=service.tokens.auditor()))
    [new] = [k for k in keys if k["state"] == "not-yet-valid"]
    assert datetime.fromisoformat(new["valid_from"]) == starts
    # The old key signs on until then, and is not offered for a second replacement.
    assert registry(service)[("department-seal", "zjj")]["kid"] == old
    assert action not in done.text


def test_an_administrator_revokes_a_key_from_a_time_in_china_time(service: Service) -> None:
    courier = registry(service)[("courier", "ems")]["kid"]
    client = signed_in(service, service.tokens.admin())
    action = f"{PAGE}/{courier}/revoke"
    csrf = form_token(client.get(PAGE).text, action)
    # 2026-03-02 09:30 in Beijing is 01:30 UTC, before the service's clock.
    form = {"csrf": csrf, "reason": "寄递终端丢失", "revoked_at": "2026-03-02T09:30"}
    done = client.post(action, data=form)
    assert done.status_code == 200, done.text
    assert "已吊销" in done.text and "寄递终端丢失" in done.text
    keys = ok(service.client.get("/v1/keys", headers=service.tokens.auditor()))
    [revoked] = [k for k in keys if k["kid"] == courier]
    assert revoked["revoked_at"] == "2026-03-02T01:30:00Z"


def test_bad_replacements_and_revocations_are_shown_as_errors_and_change_nothing(
    service: Service,
) -> None:
    seal = registry(service)[("department-seal", "zjj")]["kid"]
    courier = registry(service)[("courier", "ems")]["kid"]
    client = signed_in(service, service.tokens.admin())
    listed = client.get(PAGE).text
    rotate, revoke = f"{PAGE}/{seal}/rotate", f"{PAGE}/{courier}/revoke"
    csrf = {action: form_token(listed, action) for action in (rotate, revoke)}
    before = events(service)
    cases = [
        (rotate, {"starts_at": "下周一"}, 422, "validation-failed"),
        (rotate, {"starts_at": "2020-01-01T00:00"}, 409, "registry-conflict"),
        (rotate, {"starts_at": "2999-01-01T00:00"}, 409, "registry-conflict"),
        (revoke, {"reason": "x", "revoked_at": "昨天"}, 422, "validation-failed"),
        (revoke, {"reason": " "}, 422, "validation-failed"),
        (revoke, {"reason": "x", "revoked_at": "2999-01-01T00:00"}, 409, "registry-conflict"),
        (revoke, {"reason": "x", "csrf": "forged"}, 403, "forbidden"),
    ]
    for action, form, status, slug in cases:
        refused = client.post(action, data={"csrf": csrf[action], **form})
        assert (refused.status_code, slug in refused.text) == (status, True), refused.text
    assert events(service) == before


def test_auditors_read_the_page_without_forms_and_may_not_change_a_key(service: Service) -> None:
    kid = registry(service)[("department-seal", "zjj")]["kid"]
    client = signed_in(service, service.tokens.auditor())
    listed = client.get(PAGE)
    assert listed.status_code == 200 and kid in listed.text
    assert "<button>更换</button>" not in listed.text and "吊销原因" not in listed.text
    before = events(service)
    refused = client.post(f"{PAGE}/{kid}/rotate", data={"csrf": "x"})
    assert refused.status_code == 403
    assert events(service) == before


def test_other_roles_get_a_403_page_and_browsers_without_a_session_sign_in(
    service: Service,
) -> None:
    officer = signed_in(service, service.tokens.officer("zjj"))
    assert officer.get(PAGE).status_code == 403
    anonymous = browser(service).get(PAGE, follow_redirects=False)
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/pages/login")
