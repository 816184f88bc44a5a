"""The applicant's portal (我的办件 / 我的证照 / 用证记录) and a case's page: the signed-in holder
sees their own cases, licenses and who used them; anyone else's is a 404 page, other roles a 403
page, and a browser without a session is sent to sign in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.browser import browser, signed_in
from tests.e2e.conftest import OTHER_COMPANY, Service, ok, open_service, played_permit
from tests.scenarios import COMPANY, DOCUMENT_BYTES, doc


@dataclass
class Holder:
    service: Service
    case_id: str
    license_id: str


@pytest.fixture(scope="module")
def holder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Holder]:
    for service in open_service(tmp_path_factory.mktemp("portal")):
        case_id, license_id = played_permit(service)
        body = {"license_id": license_id, "purpose": "不动产登记"}
        ok(service.client.post("/v1/verify", json=body, headers=service.tokens.verifier("swj")))
        yield Holder(service, case_id, license_id)


def qr_link(license_id: str) -> str:
    return f"/pages/my/licenses/{license_id}/qr.png"


def test_my_cases_show_each_case_with_its_status_and_deadline(holder: Holder) -> None:
    svc = holder.service
    listed = svc.client.get("/v1/cases", headers=svc.tokens.applicant()).json()
    page = signed_in(svc, svc.tokens.applicant()).get("/pages/my")
    assert page.status_code == 200 and "我的办件" in page.text
    assert f'href="/pages/cases/{holder.case_id}"' in page.text and "已寄出" in page.text
    assert listed[0]["due"] and listed[0]["due"] in page.text
    assert COMPANY not in page.text


def test_my_licenses_link_a_qr_code_that_only_the_holder_fetches(holder: Holder) -> None:
    svc = holder.service
    client = signed_in(svc, svc.tokens.applicant())
    page = client.get("/pages/my/licenses")
    assert page.status_code == 200 and holder.license_id in page.text and "有效" in page.text
    assert f'href="{qr_link(holder.license_id)}"' in page.text
    png = client.get(qr_link(holder.license_id))
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    stranger = signed_in(svc, svc.tokens.applicant(OTHER_COMPANY))
    refused = stranger.get(qr_link(holder.license_id))
    assert refused.status_code == 404 and "未找到" in refused.text


def test_my_license_printout_is_a_pdf_only_the_holder_fetches(holder: Holder) -> None:
    svc = holder.service
    printout = f"/pages/my/licenses/{holder.license_id}/printout.pdf"
    client = signed_in(svc, svc.tokens.applicant())
    assert f'href="{printout}"' in client.get("/pages/my/licenses").text
    pdf = client.get(printout)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    stranger = signed_in(svc, svc.tokens.applicant(OTHER_COMPANY))
    assert stranger.get(printout).status_code == 404


def test_who_used_my_data_lists_each_verification_with_its_purpose(holder: Holder) -> None:
    svc = holder.service
    page = signed_in(svc, svc.tokens.applicant()).get("/pages/my/uses")
    assert page.status_code == 200 and "用证记录" in page.text
    assert "swj" in page.text and "不动产登记" in page.text and "核验证照" in page.text
    others = signed_in(svc, svc.tokens.applicant(OTHER_COMPANY)).get("/pages/my/uses")
    assert "不动产登记" not in others.text and "尚未被任何部门使用" in others.text


def test_the_case_page_shows_the_progress_with_each_step_verified(holder: Holder) -> None:
    svc = holder.service
    page = signed_in(svc, svc.tokens.applicant()).get(f"/pages/cases/{holder.case_id}")
    assert page.status_code == 200 and "办理进度" in page.text
    assert "容缺受理" in page.text and "✓ 签名有效" in page.text and "✗" not in page.text
    assert holder.license_id in page.text and COMPANY not in page.text


def test_the_case_page_links_the_documents_the_case_has_as_pdf(holder: Holder) -> None:
    svc = holder.service
    client = signed_in(svc, svc.tokens.applicant())
    documents = f"/pages/cases/{holder.case_id}/documents"
    page = client.get(f"/pages/cases/{holder.case_id}").text
    assert f'href="{documents}/receipt.pdf"' in page and f'href="{documents}/decision.pdf"' in page
    assert "correction-notice.pdf" not in page  # this case was never given one
    decision = client.get(f"{documents}/decision.pdf")
    assert decision.headers["content-type"] == "application/pdf"
    assert client.get(f"{documents}/correction-notice.pdf").status_code == 404
    assert client.get(f"{documents}/gossip.pdf").status_code == 422
    stranger = signed_in(svc, svc.tokens.applicant(OTHER_COMPANY))
    assert stranger.get(f"{documents}/decision.pdf").status_code == 404


def test_the_case_page_lists_its_materials_and_each_document_opens(holder: Holder) -> None:
    svc = holder.service
    client = signed_in(svc, svc.tokens.applicant())
    page = client.get(f"/pages/cases/{holder.case_id}").text
    form = doc("application form")
    link = f"/pages/cases/{holder.case_id}/materials/{form.sha256}"
    assert "申请材料" in page and f'href="{link}"' in page
    assert "电子证照（免交纸质材料）" in page  # the planning permit, given by number
    opened = client.get(link)
    assert opened.status_code == 200 and opened.content == DOCUMENT_BYTES[form.sha256]
    assert opened.headers["content-type"] == "application/pdf"
    stranger = signed_in(svc, svc.tokens.applicant(OTHER_COMPANY))
    assert stranger.get(link).status_code == 404
    outside = f"/pages/cases/{holder.case_id}/materials/{'0' * 64}"
    assert client.get(outside).status_code == 404


def test_another_applicants_case_is_a_404_page_as_if_it_did_not_exist(holder: Holder) -> None:
    svc = holder.service
    stranger = signed_in(svc, svc.tokens.applicant(OTHER_COMPANY))
    response = stranger.get(f"/pages/cases/{holder.case_id}")
    assert response.status_code == 404 and "unknown-case" in response.text
    assert "您还没有办件" in stranger.get("/pages/my").text
    assert "您还没有电子证照" in stranger.get("/pages/my/licenses").text


def test_a_department_outside_the_case_gets_a_404_and_an_auditor_reads_it(holder: Holder) -> None:
    svc = holder.service
    outsider = signed_in(svc, svc.tokens.officer("swj"))
    assert outsider.get(f"/pages/cases/{holder.case_id}").status_code == 404
    auditor = signed_in(svc, svc.tokens.auditor())
    assert auditor.get(f"/pages/cases/{holder.case_id}").status_code == 200


def test_other_roles_get_a_403_page_at_the_portal(holder: Holder) -> None:
    svc = holder.service
    client = signed_in(svc, svc.tokens.verifier("swj"))
    for path in ("/pages/my", "/pages/my/licenses", "/pages/my/uses"):
        response = client.get(path)
        assert response.status_code == 403 and "仅供申请人使用" in response.text


def test_without_a_session_every_portal_page_sends_the_browser_to_sign_in(holder: Holder) -> None:
    client = browser(holder.service)
    for path in (
        "/pages/my",
        "/pages/my/licenses",
        "/pages/my/uses",
        qr_link(holder.license_id),
        f"/pages/cases/{holder.case_id}",
    ):
        response = client.get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/pages/login")


def test_a_malformed_case_id_is_a_422_page(holder: Holder) -> None:
    svc = holder.service
    response = signed_in(svc, svc.tokens.auditor()).get("/pages/cases/not-a-uuid")
    assert response.status_code == 422 and "请求的参数格式不正确" in response.text
