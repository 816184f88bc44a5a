"""The verifier's page (用证核验): a department checks a license by its QR text or number, sees
the result in Chinese, and every check is a recorded use the holder sees; forged forms, other
roles and browsers without a session are refused without recording anything."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.browser import browser, form_token, sign_in, signed_in
from tests.e2e.conftest import LEAD, Issued, holder_uses, issued_permit, open_service
from tests.scenarios import COMPANY

VERIFY = "/pages/verify"


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issued]:
    for service in open_service(tmp_path_factory.mktemp("verifier-page")):
        yield issued_permit(service)


def test_a_pasted_qr_text_shows_a_valid_result_and_is_recorded_for_the_holder(
    issued: Issued,
) -> None:
    svc = issued.service
    client = signed_in(svc, svc.tokens.verifier("swj"))
    response = client.post(
        VERIFY,
        data={
            "csrf": form_token(client.get(VERIFY).text, VERIFY),
            "qr_text": issued.qr_text,
            "purpose": "不动产登记",
        },
    )
    assert response.status_code == 200, response.text
    page = response.text
    assert "核验通过：证照有效" in page and issued.license_id in page and "已核对" in page
    assert LEAD in page and "受理编号" in page and COMPANY not in page
    assert ("swj", "不动产登记", "valid") in holder_uses(svc)


def test_an_officer_verifies_by_license_number(issued: Issued) -> None:
    svc = issued.service
    client = signed_in(svc, svc.tokens.officer("zrzyghj"))
    response = client.post(
        VERIFY,
        data={
            "csrf": form_token(client.get(VERIFY).text, VERIFY),
            "license_id": issued.license_id,
            "purpose": "规划核实",
        },
    )
    assert response.status_code == 200 and "核验通过：证照有效" in response.text
    assert ("zrzyghj", "规划核实", "valid") in holder_uses(svc)


def test_a_damaged_qr_text_is_a_result_naming_the_failed_step(issued: Issued) -> None:
    svc = issued.service
    client = signed_in(svc, svc.tokens.verifier(LEAD))
    token = form_token(client.get(VERIFY).text, VERIFY)
    response = client.post(
        VERIFY, data={"csrf": token, "qr_text": "EL1:NOT-BASE45!!", "purpose": "施工许可"}
    )
    assert response.status_code == 200
    assert "核验未通过：二维码或证照格式有误" in response.text
    assert "第 2 步：Base45 解码" in response.text


def test_a_form_without_a_purpose_or_with_both_inputs_is_shown_again_with_an_error(
    issued: Issued,
) -> None:
    svc = issued.service
    client = signed_in(svc, svc.tokens.verifier(LEAD))
    before = holder_uses(svc)
    for fields in (
        {"license_id": issued.license_id, "purpose": " "},
        {"license_id": issued.license_id, "qr_text": issued.qr_text, "purpose": "施工许可"},
        {"purpose": "施工许可"},
    ):
        token = form_token(client.get(VERIFY).text, VERIFY)
        response = client.post(VERIFY, data={"csrf": token, **fields})
        assert response.status_code == 422 and "三选一" in response.text
    assert holder_uses(svc) == before


def test_a_submission_without_or_with_a_forged_csrf_token_is_refused_and_recorded_nowhere(
    issued: Issued,
) -> None:
    svc = issued.service
    client = signed_in(svc, svc.tokens.verifier(LEAD))
    # Another session's token is as foreign to this session as a made-up one.
    foreign = form_token(signed_in(svc, svc.tokens.verifier("swj")).get(VERIFY).text, VERIFY)
    before = holder_uses(svc)
    for token in (None, "", "0" * 64, foreign, "令牌"):
        data = {"license_id": issued.license_id, "purpose": "施工许可"}
        response = client.post(VERIFY, data=data | ({} if token is None else {"csrf": token}))
        assert response.status_code == 403 and "CSRF" in response.text
    assert holder_uses(svc) == before


def test_without_a_session_the_page_and_the_form_send_the_browser_to_sign_in(
    issued: Issued,
) -> None:
    client = browser(issued.service)
    for response in (
        client.get(VERIFY),
        client.post(VERIFY, data={"license_id": issued.license_id, "purpose": "施工许可"}),
    ):
        assert (response.status_code, response.headers["location"]) == (303, "/pages/login")


def test_an_applicant_gets_a_403_page_and_verifies_nothing(issued: Issued) -> None:
    svc = issued.service
    client = browser(svc)
    assert sign_in(client, svc.tokens.applicant()).headers["location"] == "/pages/my"
    response = client.get(VERIFY)
    assert response.status_code == 403 and "无权访问" in response.text
    assert "核验人员" in response.text and response.headers["content-type"].startswith("text/html")
