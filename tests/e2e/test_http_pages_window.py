"""The window page of a case on the officer's desk: receipt, the one-time notice, tolerance
acceptance, correction and supplement on the applicant's behalf, courier dispatch, pick-up and
refusal, each through the case routes at the version shown and with the form's CSRF token; stale,
forged, invalid and unauthorised submissions are refused with a page and record nothing. The
correction and supplement forms upload each material's file as a browser posts it."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from ledger.documents import ALLOWED_MEDIA_TYPES, DocumentRef
from tests.e2e.browser import NO_FILE, Upload, form_token, post_files, signed_in
from tests.e2e.conftest import (
    BUSINESS_DESK,
    DESK,
    SUPPLEMENT,
    Service,
    accept_with_tolerance,
    business_case,
    granted_business,
    ok,
    post,
    submit_permit,
)
from tests.scenarios import doc, document_bytes

WINDOW = "/pages/desk/window"
ZC = doc("business zc").as_dict()


def desk(service: Service) -> TestClient:
    """A browser signed in as an officer of the service centre's front desk."""
    return signed_in(service, service.tokens.officer(DESK))


def case(service: Service, case_id: str) -> dict[str, Any]:
    """The case as an auditor reads it over the JSON API."""
    return ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.auditor()))


def events(service: Service, case_id: str, kind: str) -> list[dict[str, Any]]:
    """The case's timeline entries of one event type, over the JSON API."""
    headers = service.tokens.auditor()
    response = service.client.get(f"/v1/cases/{case_id}/timeline", headers=headers)
    assert response.status_code == 200, response.text
    timeline: list[dict[str, Any]] = response.json()
    return [e for e in timeline if e["type"] == f"case.{kind}"]


def token(page: str, target: str) -> str:
    """The CSRF token of the window form posting to ``target`` (one with files too)."""
    found = re.search(
        re.escape(target) + r'"[^>]*><input type="hidden" name="csrf" value="([^"]*)"', page
    )
    assert found, f"no form posting to {target}"
    return found.group(1)


def fill(
    client: TestClient,
    case_id: str,
    form: str,
    files: Sequence[Upload] | None = None,
    **fields: str | list[str],
) -> Response:
    """Submit one form of the case's window page with the version and token the page shows, and
    with ``files`` (one a material row) as multipart/form-data."""
    target = f"{WINDOW}/{case_id}/{form}"
    page = client.get(f"{WINDOW}/{case_id}").text
    found = re.search(re.escape(target) + r'".*?name="version" value="(\d+)"', page)
    assert found, f"no {form} form for {case_id}"
    data = {"csrf": token(page, target), "version": found.group(1), **fields}
    if files is not None:
        return post_files(client, target, data, files)
    response: Response = client.post(target, data=data)
    return response


def done(response: Response, case_id: str) -> None:
    """The form went through and the browser is sent back to the case's window page."""
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{WINDOW}/{case_id}"


def pdf(label: str) -> Upload:
    """A PDF file chosen for a material row."""
    return (f"{label}.pdf", document_bytes(label), "application/pdf")


def ref_of(upload: Upload) -> dict[str, Any]:
    """The document reference a case holds for an uploaded file."""
    _, content, media_type = upload
    return DocumentRef(hashlib.sha256(content).hexdigest(), len(content), media_type).as_dict()


def stored_for(service: Service, upload: Upload) -> bytes | None:
    """The bytes the desk officer uploaded as ``upload``, read back over the JSON API, or None."""
    sha256 = ref_of(upload)["sha256"]
    headers = service.tokens.officer(DESK)
    response = service.client.get(f"/v1/documents/{sha256}", headers=headers)
    assert response.status_code in (200, 404), response.text
    return response.content if response.status_code == 200 else None


def rows(codes: Sequence[str], licenses: Sequence[str] | None = None) -> dict[str, list[str]]:
    """The text columns of a material table: each row's code and e-license number."""
    return {"material": list(codes), "license_id": list(licenses or [""] * len(codes))}


def tolerated(service: Service) -> str:
    """A construction permit accepted at the window on the commitment to supply ``SUPPLEMENT``."""
    case_id = submit_permit(service)
    accept_with_tolerance(service, case_id)
    return case_id


def noticed(service: Service, client: TestClient) -> str:
    """An enterprise registration without its articles (zc), noticed to correct them."""
    case_id = business_case(service, complete=False)
    notice = {"material": ["zc"], "pick": ["zc"], "reason": ["章程缺少股东签字"], "text": "请补正"}
    done(fill(client, case_id, "notify-correction", **notice), case_id)
    return case_id


def test_the_desk_opens_a_cases_window_page_by_its_number(service: Service) -> None:
    case_id = business_case(service)
    client = desk(service)
    assert f'action="{WINDOW}"' in client.get("/pages/desk").text
    opened = client.get(WINDOW, params={"case_id": case_id})
    assert (opened.status_code, opened.headers["location"]) == (303, f"{WINDOW}/{case_id}")
    page = client.get(f"{WINDOW}/{case_id}").text
    assert "窗口办理" in page and "已提交" in page
    for form in ("receive", "notify-correction", "accept-with-tolerance", "refuse"):
        assert f'action="{WINDOW}/{case_id}/{form}"' in page
    assert f"{WINDOW}/{case_id}/dispatch" not in page  # nothing to send before a result


def test_the_window_receives_a_submitted_case(service: Service) -> None:
    case_id = business_case(service)
    done(fill(desk(service), case_id, "receive"), case_id)
    received = case(service, case_id)
    assert received["status"] == "received" and received["receipt_number"]
    assert len(events(service, case_id, "Received")) == 1


def test_the_one_time_notice_is_given_from_the_page_and_a_second_is_refused(
    service: Service,
) -> None:
    case_id = business_case(service, complete=False)
    client = desk(service)
    notice: dict[str, str | list[str]] = {
        "material": ["sqs", "zc"],
        "pick": ["zc"],
        "reason": ["", "章程缺少股东签字"],
        "text": "请一次性补正以下材料",
    }
    done(fill(client, case_id, "notify-correction", **notice), case_id)
    assert case(service, case_id)["status"] == "awaiting_correction"
    [given] = events(service, case_id, "CorrectionNotified")
    assert given["data"]["items"] == [{"material": "zc", "reason": "章程缺少股东签字"}]
    # The applicant brings the articles to the window; the case is back to submitted.
    articles = pdf("business zc")
    assert ref_of(articles) == ZC
    done(fill(client, case_id, "correct", [articles], **rows(["zc"])), case_id)
    corrected = case(service, case_id)
    assert (corrected["status"], corrected["materials"]["zc"]) == ("submitted", ZC)
    assert stored_for(service, articles) == articles[1]  # stored as the officer's upload
    assert corrected["visits"] == 1  # a correction handed in at the window is a visit
    refused = fill(client, case_id, "notify-correction", **notice)
    assert refused.status_code == 409 and "second-notice-refused" in refused.text
    assert "当前状态不允许此操作" in refused.text
    assert len(events(service, case_id, "CorrectionNotified")) == 1
    assert case(service, case_id)["version"] == corrected["version"]


def test_a_notice_without_a_reason_or_a_material_is_a_422_form_page(service: Service) -> None:
    case_id = business_case(service, complete=False)
    client = desk(service)
    before = case(service, case_id)
    invalid: list[dict[str, str | list[str]]] = [
        {"material": ["zc"], "pick": ["zc"], "reason": ["  "], "text": "请补正"},
        {"material": ["zc"], "reason": ["章程缺少股东签字"], "text": "请补正"},
        {"material": ["zc"], "pick": ["zc"], "reason": ["章程缺少股东签字"], "text": ""},
    ]
    for fields in invalid:
        response = fill(client, case_id, "notify-correction", **fields)
        assert response.status_code == 422 and "validation-failed" in response.text
        assert "请检查以下内容" in response.text and "notify-correction" in response.text
    assert case(service, case_id)["version"] == before["version"]
    assert events(service, case_id, "CorrectionNotified") == []


def test_the_window_accepts_with_tolerance_on_a_dated_commitment(service: Service) -> None:
    case_id = submit_permit(service)
    client = desk(service)
    page = client.get(f"{WINDOW}/{case_id}").text
    assert all(f"（{code}）" in page for code in SUPPLEMENT)  # the missing secondary materials
    due = (service.clock.now + timedelta(days=10)).date().isoformat()
    commitment = {"commitment": "申请人承诺在10日内补齐材料", "commitment_due": due}
    done(fill(client, case_id, "accept-with-tolerance", **commitment), case_id)
    accepted = case(service, case_id)
    assert (accepted["status"], accepted["commitment_due"]) == ("received", due)
    assert sorted(accepted["open_commitments"]) == sorted(SUPPLEMENT)
    assert len(events(service, case_id, "AcceptedWithTolerance")) == 1


def test_a_past_or_missing_commitment_date_and_an_empty_commitment_record_nothing(
    service: Service,
) -> None:
    case_id = submit_permit(service)
    client = desk(service)
    before = case(service, case_id)
    past = (service.clock.now - timedelta(days=1)).date().isoformat()
    refused = fill(
        client, case_id, "accept-with-tolerance", commitment="承诺补齐", commitment_due=past
    )
    assert refused.status_code == 422 and "date-in-past" in refused.text
    tomorrow = (service.clock.now + timedelta(days=1)).date().isoformat()
    for fields in (
        {"commitment": "承诺补齐", "commitment_due": ""},
        {"commitment": " ", "commitment_due": tomorrow},
    ):
        response = fill(client, case_id, "accept-with-tolerance", **fields)
        assert response.status_code == 422 and "validation-failed" in response.text
    assert case(service, case_id)["version"] == before["version"]
    assert events(service, case_id, "AcceptedWithTolerance") == []


def test_the_correction_and_supplement_forms_upload_files_instead_of_typed_hashes(
    service: Service,
) -> None:
    client = desk(service)
    for case_id, form in (
        (tolerated(service), "supplement"),
        (noticed(service, client), "correct"),
    ):
        page = client.get(f"{WINDOW}/{case_id}").text
        target = f"{WINDOW}/{case_id}/{form}"
        # Only the form with a material table posts files; the others stay plain forms.
        uploading = re.findall(r'action="([^"]*)" enctype="multipart/form-data">', page)
        assert uploading == [target] and token(page, target)
        assert 'name="sha256"' not in page and 'name="size"' not in page
        accepted = re.findall(r'<input type="file" name="file" accept="([^"]*)">', page)
        assert accepted and all(set(a.split(",")) == ALLOWED_MEDIA_TYPES for a in accepted)


def test_the_window_supplements_the_committed_materials_for_the_applicant(
    service: Service,
) -> None:
    case_id = tolerated(service)
    files = [pdf(label) for label in SUPPLEMENT.values()]
    supplied_by = {"via": "email", **rows(list(SUPPLEMENT))}
    done(fill(desk(service), case_id, "supplement", files, **supplied_by), case_id)
    supplied = case(service, case_id)
    assert supplied["open_commitments"] == []
    for code, upload in zip(SUPPLEMENT, files, strict=True):
        assert supplied["materials"][code] == ref_of(upload)
        assert stored_for(service, upload) == upload[1]
    [event] = events(service, case_id, "Supplemented")
    assert event["data"]["via"] == "email"
    assert event["data"]["materials"] == {
        c: ref_of(f) for c, f in zip(SUPPLEMENT, files, strict=True)
    }


def test_a_row_without_a_file_is_skipped_and_an_e_license_number_needs_no_file(
    service: Service,
) -> None:
    case_id = tolerated(service)
    funds = pdf("window zjls")
    table = rows(["zjls", "aqxk", "zljd"], ["", "AQ-2026-000123", ""])
    # The safety licence's file is chosen too, but its e-license number is what the row gives.
    files = [funds, pdf("window aqxk"), NO_FILE]
    done(fill(desk(service), case_id, "supplement", files, via="online", **table), case_id)
    supplied = case(service, case_id)
    assert supplied["materials"]["zjls"] == ref_of(funds)
    assert supplied["materials"]["aqxk"] == {"kind": "e_license", "license_id": "AQ-2026-000123"}
    assert "zljd" not in supplied["materials"] and supplied["open_commitments"] == ["zljd"]
    assert stored_for(service, pdf("window aqxk")) is None


def test_a_file_the_browser_gives_no_type_is_taken_by_its_first_bytes(service: Service) -> None:
    case_id = tolerated(service)
    # Browsers post an .ofd file they do not know as application/octet-stream.
    ofd = (
        "safety.ofd",
        b"PK\x03\x04" + document_bytes("window ofd")[4:],
        "application/octet-stream",
    )
    table = rows(["zjls"])
    done(fill(desk(service), case_id, "supplement", [ofd], via="online", **table), case_id)
    held = case(service, case_id)["materials"]["zjls"]
    assert held["media_type"] == "application/ofd"
    assert stored_for(service, ("safety.ofd", ofd[1], "application/ofd")) == ofd[1]


def test_a_file_the_store_refuses_is_a_422_form_page_and_changes_nothing(
    service: Service,
) -> None:
    case_id = tolerated(service)
    client = desk(service)
    before = case(service, case_id)
    funds = pdf("window refused zjls")
    refused: list[tuple[Upload, str]] = [
        (("licence.pdf", b"this is plain text, not a PDF\n", "application/pdf"), "does not begin"),
        (("licence.pdf", b"", "application/pdf"), "at least one byte"),
        (("licence.txt", b"%PDF-1.7\n", "text/plain"), "media type must be one of"),
    ]
    for bad, reason in refused:
        files = [funds, bad, NO_FILE]
        response = fill(client, case_id, "supplement", files, via="online", **rows(SUPPLEMENT))
        assert response.status_code == 422, response.text
        assert "document-rejected" in response.text and reason in response.text
        assert "材料 aqxk 的文件不能接收" in response.text
        assert f"{WINDOW}/{case_id}/supplement" in response.text  # the form, to try again
    # A table whose files do not line up with its rows is no table at all.
    short = fill(client, case_id, "supplement", [funds], via="online", **rows(SUPPLEMENT))
    assert short.status_code == 422 and "表单内容不完整" in short.text
    after = case(service, case_id)
    assert (after["version"], after["materials"]) == (before["version"], before["materials"])
    assert after["open_commitments"] == before["open_commitments"]
    assert events(service, case_id, "Supplemented") == []
    assert stored_for(service, funds) is None  # the good file of the refused form is not kept


def test_a_correction_without_the_forms_csrf_token_is_refused_and_stores_nothing(
    service: Service,
) -> None:
    client = desk(service)
    case_id = noticed(service, client)
    before = case(service, case_id)
    target = f"{WINDOW}/{case_id}/correct"
    articles = pdf("window forged zc")
    version = str(before["version"])
    other_form = form_token(client.get("/pages/desk").text, "/pages/logout")
    for forged in ({}, {"csrf": ""}, {"csrf": other_form}):
        fields: dict[str, str | list[str]] = {"version": version, **forged, **rows(["zc"])}
        response = post_files(client, target, fields, [articles])
        assert response.status_code == 403 and "CSRF" in response.text
    after = case(service, case_id)
    assert (after["version"], after["materials"]) == (before["version"], before["materials"])
    assert events(service, case_id, "Corrected") == []
    assert stored_for(service, articles) is None


def issued(service: Service) -> str:
    """A granted enterprise registration whose license is issued, over the JSON API."""
    case_id = granted_business(service)
    ok(post(service, case_id, "issue-license", service.tokens.officer(BUSINESS_DESK)))
    return case_id


def test_the_window_hands_the_result_to_a_courier(service: Service) -> None:
    case_id = issued(service)
    client = desk(service)
    before = case(service, case_id)
    bad = fill(client, case_id, "dispatch", courier="ems", tracking_number=" ")
    assert bad.status_code == 422 and "运单号" in bad.text
    assert case(service, case_id)["version"] == before["version"]
    done(fill(client, case_id, "dispatch", courier="ems", tracking_number="EA123456789CN"), case_id)
    assert case(service, case_id)["status"] == "dispatched"
    [sent] = events(service, case_id, "Dispatched")
    assert (sent["data"]["courier"], sent["data"]["tracking_number"]) == ("ems", "EA123456789CN")


def test_the_window_records_a_pickup_as_a_visit(service: Service) -> None:
    case_id = issued(service)
    done(fill(desk(service), case_id, "pick-up"), case_id)
    picked = case(service, case_id)
    assert (picked["status"], picked["visits"]) == ("delivered", 1)
    assert len(events(service, case_id, "PickedUpAtWindow")) == 1


def test_the_window_refuses_to_accept_with_reasons_and_a_legal_basis(service: Service) -> None:
    case_id = business_case(service, complete=False)
    client = desk(service)
    empty = fill(client, case_id, "refuse", reasons=" \n ", legal_basis="《公司登记管理条例》")
    assert empty.status_code == 422 and "不予受理理由" in empty.text
    assert events(service, case_id, "Refused") == []
    reasons = "不属于本机关职权范围\n申请人不具备主体资格"
    done(
        fill(client, case_id, "refuse", reasons=reasons, legal_basis="《行政许可法》第三十二条"),
        case_id,
    )
    assert case(service, case_id)["status"] == "refused"
    [refusal] = events(service, case_id, "Refused")
    assert refusal["data"]["reasons"] == ["不属于本机关职权范围", "申请人不具备主体资格"]


def test_a_stale_or_forged_window_form_changes_nothing(service: Service) -> None:
    case_id = business_case(service)
    client = desk(service)
    target = f"{WINDOW}/{case_id}/receive"
    token = form_token(client.get(f"{WINDOW}/{case_id}").text, target)
    version = str(case(service, case_id)["version"])
    # The case moves on in another tab: the form's version is stale.
    ok(post(service, case_id, "visits", service.tokens.officer(DESK), {"reason": "核验原件"}))
    stale = client.post(target, data={"csrf": token, "version": version})
    assert stale.status_code == 409 and "concurrent-change" in stale.text
    current = str(case(service, case_id)["version"])
    other_form = form_token(client.get("/pages/desk").text, "/pages/logout")
    for forged in ({}, {"csrf": "0" * 64}, {"csrf": other_form}):
        response = client.post(target, data={"version": current, **forged})
        assert response.status_code == 403 and "CSRF" in response.text
    assert case(service, case_id)["status"] == "submitted"
    assert events(service, case_id, "Received") == []


def test_applicants_and_other_departments_get_a_refusal_page_and_nothing_is_recorded(
    service: Service,
) -> None:
    case_id = submit_permit(service)
    before = case(service, case_id)
    applicant = signed_in(service, service.tokens.applicant())
    page = applicant.get(f"{WINDOW}/{case_id}")
    assert page.status_code == 403 and "无权访问" in page.text
    elsewhere = signed_in(service, service.tokens.officer("swj")).get(f"{WINDOW}/{case_id}")
    assert elsewhere.status_code == 404 and "未找到" in elsewhere.text
    # A joint-review department sees the case but may not receive it for the window.
    joint = signed_in(service, service.tokens.officer("rfb"))
    refused = fill(joint, case_id, "receive")
    assert refused.status_code == 403 and "action-not-permitted" in refused.text
    assert case(service, case_id)["version"] == before["version"]
    assert events(service, case_id, "Received") == []
