"""The documents of a case and a license as PDF over HTTP: what each says (read back from the PDF),
the signed events it cites, who may read it, and the problem when a case has no such document."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from licenses.errors import mask_id
from licenses.qr import encode_qr_text, qr_png
from tests.e2e.browser import signed_in
from tests.e2e.conftest import (
    BUSINESS_DESK,
    DESK,
    LEAD,
    OTHER_COMPANY,
    Service,
    business_case,
    materials_json,
    ok,
    open_service,
    played_permit,
    post,
    problem,
    received,
)
from tests.scenarios import BUSINESS, COMPANY, doc

NOTICE = {
    "items": {"zc": "章程缺少全体股东签字", "zszm": "住所使用证明已过期"},
    "text": "请按以下事项一次性补正后网上提交",
}
IMMEDIATE = "11512000MB1578349K000112006000"  # replacing a lost sole-trader license
DENIAL = {
    "grant": False,
    "legal_basis": "《中华人民共和国公司法》第六条",
    "reasons": ["住所证明不实", "<b>章程&附件</b>不一致"],  # free text, printed as typed
}
REFUSAL = {
    "legal_basis": "《中华人民共和国行政许可法》第三十二条",
    "reasons": ["申请事项依法不需要取得行政许可", "申请人<未>按要求提交委托书"],
}


@dataclass
class World:
    """A service with cases in every state the documents care about."""

    service: Service
    permit: str  # accepted with tolerance, granted, issued
    license_id: str
    noticed: str  # notified before receipt, corrected, received
    denied: str
    undecided: str  # received only
    submitted: str  # not received
    refused: str  # refused at intake


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for svc in open_service(tmp_path_factory.mktemp("documents")):
        permit, license_id = played_permit(svc)
        noticed = business_case(svc, complete=False)
        ok(post(svc, noticed, "notify-correction", svc.tokens.officer(DESK), NOTICE))
        fixed = {"zc": doc("articles, signed"), "zszm": doc("domicile proof, current")}
        body = {"materials": materials_json(svc, svc.tokens.applicant(), fixed)}
        ok(post(svc, noticed, "correct", svc.tokens.applicant(), body))
        ok(post(svc, noticed, "receive", svc.tokens.officer(DESK)))
        denied = received(svc)
        ok(post(svc, denied, "decide", svc.tokens.officer(BUSINESS_DESK), DENIAL))
        refused = business_case(svc)
        ok(post(svc, refused, "refuse", svc.tokens.officer(DESK), REFUSAL))
        undecided, submitted = received(svc), business_case(svc)
        yield World(svc, permit, license_id, noticed, denied, undecided, submitted, refused)


def get(world: World, path: str, headers: dict[str, str] | None = None) -> Any:
    svc = world.service
    return svc.client.get(path, headers=svc.tokens.applicant() if headers is None else headers)


def pdf(response: Any) -> PdfReader:
    """The PDF of a 200 answer."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(response.content))


def text(reader: PdfReader) -> str:
    """Every page's text, without the line breaks the layout put in."""
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def document(world: World, case_id: str, name: str) -> str:
    return text(pdf(get(world, f"/v1/cases/{case_id}/documents/{name}.pdf")))


def events(world: World, case_id: str, *types: str) -> list[dict[str, Any]]:
    """The case's timeline entries of ``types``, as the JSON route gives them."""
    timeline = ok(get(world, f"/v1/cases/{case_id}/timeline"))
    return [e for e in timeline if e["type"] in types]


# --- receipt -----------------------------------------------------------------------------------


def test_the_receipt_names_the_item_the_deadline_and_who_received_it(world: World) -> None:
    case = ok(get(world, f"/v1/cases/{world.undecided}"))
    shown = document(world, world.undecided, "receipt")
    due = case["due"].split("-")
    assert "受理回执" in shown and case["receipt_number"] in shown
    assert "企业设立登记" in shown and BUSINESS in shown
    assert "3个工作日" in shown and f"{due[0]}年{due[1]}月{due[2]}日前办结" in shown
    assert "政务服务中心（zwfwzx）" in shown and "officer-zwfwzx" in shown
    assert "最多1次" in shown and "公司章程" in shown and "已收取" in shown


def test_the_receipt_shows_the_applicant_masked_never_in_full(world: World) -> None:
    shown = document(world, world.undecided, "receipt")
    assert mask_id(COMPANY) in shown and COMPANY not in shown


def test_a_receipt_under_tolerance_lists_the_committed_materials_and_their_date(
    world: World,
) -> None:
    case = ok(get(world, f"/v1/cases/{world.permit}"))
    shown = document(world, world.permit, "receipt")
    year, month, day = case["commitment_due"].split("-")
    assert "容缺受理" in shown and f"承诺于{year}年{month}月{day}日前补齐" in shown
    assert "申请人承诺在10日内补齐安全生产许可证等材料" in shown


def test_the_receipt_of_an_immediate_item_says_it_is_done_the_same_day(service: Service) -> None:
    materials = {code: doc(f"replacement {code}") for code in ("sqs", "sfzm", "ysm")}
    applicant = service.tokens.applicant()
    body = {"item_code": IMMEDIATE, "materials": materials_json(service, applicant, materials)}
    case_id = ok(service.client.post("/v1/cases", json=body, headers=applicant), 201)["case_id"]
    ok(post(service, case_id, "receive", service.tokens.officer(DESK)))
    response = service.client.get(f"/v1/cases/{case_id}/documents/receipt.pdf", headers=applicant)
    assert "即办件，受理当日" in text(pdf(response))


def test_a_case_not_yet_received_has_no_receipt(world: World) -> None:
    response = get(world, f"/v1/cases/{world.submitted}/documents/receipt.pdf")
    problem(response, 404, "document-not-issued")


# --- one-time notice ---------------------------------------------------------------------------


def test_the_one_time_notice_lists_each_material_to_correct_and_why(world: World) -> None:
    shown = document(world, world.noticed, "correction-notice")
    assert "一次性告知书" in shown and "本告知书为一次性告知" in shown
    for name, reason in (
        ("公司章程", "章程缺少全体股东签字"),
        ("住所使用证明", "住所使用证明已过期"),
    ):
        assert name in shown and reason in shown
    assert "请按以下事项一次性补正后网上提交" in shown and "officer-zwfwzx" in shown


def test_a_case_given_no_notice_has_no_notice_document(world: World) -> None:
    response = get(world, f"/v1/cases/{world.undecided}/documents/correction-notice.pdf")
    body = problem(response, 404, "document-not-issued")
    assert "no correction notice" in body["detail"]


# --- refusal notice ----------------------------------------------------------------------------


def test_a_refusal_notice_names_the_item_the_masked_applicant_and_who_refused(
    world: World,
) -> None:
    shown = document(world, world.refused, "refusal-notice")
    assert "不予受理通知书" in shown and world.refused in shown
    assert "企业设立登记" in shown and BUSINESS in shown and "决定不予受理" in shown
    assert mask_id(COMPANY) in shown and COMPANY not in shown
    assert "政务服务中心（zwfwzx）" in shown and "officer-zwfwzx" in shown


def test_a_refusal_notice_numbers_each_reason_and_states_the_legal_basis(world: World) -> None:
    shown = document(world, world.refused, "refusal-notice")
    for number, reason in enumerate(REFUSAL["reasons"], 1):
        assert f"{number}.{reason}" in shown  # free text, printed as typed
    assert "不予受理依据" in shown and REFUSAL["legal_basis"] in shown


def test_a_refusal_notice_tells_of_reconsideration_a_lawsuit_and_applying_again(
    world: World,
) -> None:
    shown = document(world, world.refused, "refusal-notice")
    assert "六十日内依法申请行政复议" in shown and "六个月内依法提起行政诉讼" in shown
    assert "申请人可以重新提出申请" in shown


def test_a_case_that_was_not_refused_has_no_refusal_notice(world: World) -> None:
    for case_id in (world.submitted, world.undecided, world.denied):
        response = get(world, f"/v1/cases/{case_id}/documents/refusal-notice.pdf")
        body = problem(response, 404, "document-not-issued")
        assert "not refused" in body["detail"]


def test_the_refusing_desk_and_auditors_read_the_refusal_notice(world: World) -> None:
    tokens = world.service.tokens
    path = f"/v1/cases/{world.refused}/documents/refusal-notice.pdf"
    assert "不予受理通知书" in text(pdf(get(world, path, tokens.officer(DESK))))
    assert "不予受理通知书" in text(pdf(get(world, path, tokens.auditor())))


def test_a_refused_cases_page_links_its_refusal_notice_and_serves_it(world: World) -> None:
    svc = world.service
    client = signed_in(svc, svc.tokens.applicant())
    link = f"/pages/cases/{world.refused}/documents/refusal-notice.pdf"
    page = client.get(f"/pages/cases/{world.refused}").text
    assert f'href="{link}"' in page and "不予受理通知书" in page
    assert "receipt.pdf" not in page and "decision.pdf" not in page
    served = client.get(link)
    assert served.content == get(world, link.replace("/pages/", "/v1/")).content
    assert "refusal-notice.pdf" not in client.get(f"/pages/cases/{world.undecided}").text
    absent = f"/pages/cases/{world.undecided}/documents/refusal-notice.pdf"
    assert client.get(absent).status_code == 404
    stranger = signed_in(svc, svc.tokens.applicant(OTHER_COMPANY))
    assert stranger.get(link).status_code == 404


# --- decision ----------------------------------------------------------------------------------


def test_a_grant_reads_as_granted_with_the_decided_and_the_catalog_legal_basis(
    world: World,
) -> None:
    shown = document(world, world.permit, "decision")
    assert "准予行政许可决定书" in shown and "不予" not in shown
    assert "《建筑工程施工许可管理办法》第四条" in shown  # as decided
    assert "事项设定依据" in shown and "《中华人民共和国建筑法》" in shown  # from the catalog
    assert "住房和城乡建设局（zjj）" in shown


def test_a_denial_reads_as_denied_with_its_reasons_and_the_right_of_appeal(world: World) -> None:
    shown = document(world, world.denied, "decision")
    assert "不予行政许可决定书" in shown and "住所证明不实" in shown
    assert "《中华人民共和国公司登记管理条例》" in shown and "行政复议" in shown
    assert "<b>章程&附件</b>不一致" in shown


def test_an_undecided_case_has_no_decision_yet(world: World) -> None:
    response = get(world, f"/v1/cases/{world.undecided}/documents/decision.pdf")
    problem(response, 404, "document-not-issued")


# --- sources -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "name", "cited"),
    [
        ("undecided", "receipt", ("case.Submitted", "case.Received")),
        ("permit", "receipt", ("case.Submitted", "case.AcceptedWithTolerance")),
        ("noticed", "correction-notice", ("case.Submitted", "case.CorrectionNotified")),
        ("permit", "decision", ("case.Submitted", "case.AcceptedWithTolerance", "case.Decided")),
        ("permit", "decision", ("case.OpinionGiven",)),
        ("denied", "decision", ("case.Submitted", "case.Received", "case.Decided")),
        ("refused", "refusal-notice", ("case.Submitted", "case.Refused")),
    ],
)
def test_every_case_document_cites_the_hashes_of_the_signed_events_it_was_drawn_from(
    world: World, case: str, name: str, cited: tuple[str, ...]
) -> None:
    case_id = getattr(world, case)
    shown = document(world, case_id, name)
    assert case_id in shown and "生成时间" in shown
    for entry in events(world, case_id, *cited):
        assert entry["event_hash"] in shown and entry["type"] in shown


@pytest.mark.parametrize(("case", "name"), [("permit", "decision"), ("refused", "refusal-notice")])
def test_the_same_record_renders_to_the_same_bytes(world: World, case: str, name: str) -> None:
    path = f"/v1/cases/{getattr(world, case)}/documents/{name}.pdf"
    assert get(world, path).content == get(world, path).content


# --- license printout --------------------------------------------------------------------------


def printout(world: World, headers: dict[str, str] | None = None) -> Any:
    return get(world, f"/v1/licenses/{world.license_id}/printout.pdf", headers)


def test_the_printout_holds_the_license_id_and_only_the_masked_holder_id(world: World) -> None:
    shown = text(pdf(printout(world)))
    assert "电子证照打印件" in shown and world.license_id in shown
    assert mask_id(COMPANY) in shown and COMPANY not in shown
    assert "请扫描二维码核验" in shown and "勿仅凭纸面信任" in shown
    assert "有效" in shown and "住房和城乡建设局" in shown


def test_the_printouts_qr_image_carries_the_licenses_credential(world: World) -> None:
    reader = pdf(printout(world))
    images = [image for page in reader.pages for image in page.images]
    assert len(images) == 1
    credential = get(world, f"/v1/licenses/{world.license_id}/credential").content
    expected = Image.open(io.BytesIO(qr_png(encode_qr_text(credential), scale=10)))
    printed = images[0].image
    assert printed is not None and printed.size == expected.size
    assert printed.convert("L").tobytes() == expected.convert("L").tobytes()


def test_the_printout_cites_the_issuing_event_of_the_case_and_the_license(world: World) -> None:
    shown = text(pdf(printout(world)))
    issued = events(world, world.permit, "case.LicenseIssued")
    assert world.permit in shown and issued[0]["event_hash"] in shown
    assert "license.Issued" in shown


def test_a_revoked_licenses_printout_says_so_and_warns_against_using_it(
    service: Service,
) -> None:
    _, license_id = played_permit(service)
    tokens = service.tokens
    body = {"reason": "以欺骗手段取得许可，依法撤销"}
    ok(
        service.client.post(
            f"/v1/licenses/{license_id}/revoke", json=body, headers=tokens.officer(LEAD)
        )
    )
    response = service.client.get(
        f"/v1/licenses/{license_id}/printout.pdf", headers=tokens.applicant()
    )
    shown = text(pdf(response))
    assert "已注销" in shown and "不处于有效状态" in shown and "license.Revoked" in shown


def test_the_issuing_department_and_auditors_read_the_printout(world: World) -> None:
    tokens = world.service.tokens
    pdf(printout(world, tokens.officer(LEAD)))
    pdf(printout(world, tokens.auditor()))


# --- who may read ------------------------------------------------------------------------------

CASE_DOCUMENTS = ("receipt", "correction-notice", "refusal-notice", "decision")


@pytest.mark.parametrize("name", CASE_DOCUMENTS)
def test_another_applicant_gets_404_as_for_a_missing_case(world: World, name: str) -> None:
    stranger = world.service.tokens.applicant(OTHER_COMPANY)
    response = get(world, f"/v1/cases/{world.noticed}/documents/{name}.pdf", stranger)
    problem(response, 404, "unknown-case")


def test_another_applicant_gets_404_for_the_printout(world: World) -> None:
    response = printout(world, world.service.tokens.applicant(OTHER_COMPANY))
    problem(response, 404, "unknown-license")


@pytest.mark.parametrize("name", CASE_DOCUMENTS)
def test_documents_need_a_bearer_token(world: World, name: str) -> None:
    response = get(world, f"/v1/cases/{world.noticed}/documents/{name}.pdf", {})
    problem(response, 401, "unauthenticated")


def test_a_verifier_may_not_read_case_documents(world: World) -> None:
    verifier = world.service.tokens.verifier(LEAD)
    response = get(world, f"/v1/cases/{world.permit}/documents/receipt.pdf", verifier)
    problem(response, 403, "forbidden")


def test_a_garbage_case_id_fails_validation(world: World) -> None:
    problem(get(world, "/v1/cases/not-a-uuid/documents/receipt.pdf"), 422, "validation-failed")


def test_the_openapi_document_declares_the_pdf_answers(world: World) -> None:
    paths = get(world, "/openapi.json").json()["paths"]
    for path in (
        *(f"/v1/cases/{{case_id}}/documents/{name}.pdf" for name in CASE_DOCUMENTS),
        "/v1/licenses/{license_id}/printout.pdf",
    ):
        answers = paths[path]["get"]["responses"]
        assert "application/pdf" in answers["200"]["content"]
        assert "application/problem+json" in answers["404"]["content"]


def test_a_department_officer_reads_the_decision_of_a_case_it_reviews(world: World) -> None:
    lead = world.service.tokens.officer(BUSINESS_DESK)
    response = get(world, f"/v1/cases/{world.denied}/documents/decision.pdf", lead)
    assert "不予行政许可决定书" in text(pdf(response))
