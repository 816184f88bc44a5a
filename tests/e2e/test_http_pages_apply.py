"""Applying and answering online from the pages: the item guide's form submits a case with the
applicant's files, and the case page's forms answer a correction notice or supply committed
materials, each posted as a browser posts files; bad files, forged, doubled, stale and foreign
submissions are refused or absorbed and store and record nothing more."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from ledger.documents import DocumentRef
from tests.e2e.browser import (
    NO_FILE,
    Fields,
    Upload,
    browser,
    form_token,
    hidden_fields,
    material_codes,
    post_files,
    signed_in,
)
from tests.e2e.conftest import (
    DESK,
    OTHER_COMPANY,
    SUPPLEMENT,
    Service,
    accept_with_tolerance,
    business_case,
    ok,
    open_service,
    post,
    submit_permit,
)
from tests.scenarios import BUSINESS, COMPANY, PERMIT, document_bytes

GUIDE = f"/pages/items/{BUSINESS}"
APPLY = f"/pages/apply/{BUSINESS}"
CODES = ["sqs", "zc", "rzwj", "zszm", "wtsh"]  # the enterprise registration's materials


def applicant(service: Service, holder: str = COMPANY) -> TestClient:
    """A browser signed in as the applicant ``holder``."""
    return signed_in(service, service.tokens.applicant(holder))


def pdf(label: str) -> Upload:
    """A PDF file chosen for a material row."""
    return (f"{label}.pdf", document_bytes(label), "application/pdf")


def ref_of(upload: Upload) -> dict[str, Any]:
    """The document reference a case holds for an uploaded file."""
    _, content, media_type = upload
    return DocumentRef(hashlib.sha256(content).hexdigest(), len(content), media_type).as_dict()


def stored(service: Service, upload: Upload, holder: str = COMPANY) -> bool:
    """Whether ``holder`` uploaded ``upload``'s bytes (only the uploader reads them back)."""
    headers = service.tokens.applicant(holder)
    response = service.client.get(f"/v1/documents/{ref_of(upload)['sha256']}", headers=headers)
    assert response.status_code in (200, 404), response.text
    return bool(response.status_code == 200 and response.content == upload[1])


def case(service: Service, case_id: str) -> dict[str, Any]:
    """The case as its applicant reads it over the JSON API."""
    return ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.applicant()))


def my_cases(service: Service, holder: str = COMPANY) -> list[str]:
    """The ids of the applicant's cases, over the JSON API."""
    response = service.client.get("/v1/cases", headers=service.tokens.applicant(holder))
    assert response.status_code == 200, response.text
    return [str(c["case_id"]) for c in response.json()]


def events(service: Service, case_id: str, kind: str) -> list[dict[str, Any]]:
    """The case's timeline entries of one event type, over the JSON API."""
    response = service.client.get(
        f"/v1/cases/{case_id}/timeline", headers=service.tokens.applicant()
    )
    assert response.status_code == 200, response.text
    timeline: list[dict[str, Any]] = response.json()
    return [e for e in timeline if e["type"] == f"case.{kind}"]


def apply(
    client: TestClient, files: Sequence[Upload], fields: dict[str, str] | None = None
) -> Response:
    """Fill in the guide's apply form shown now (its token and one-time number) with ``files``,
    one a material row, and post it."""
    page = client.get(GUIDE).text
    given = hidden_fields(page, APPLY) if fields is None else fields
    rows = material_codes(page, APPLY)
    table: Fields = {"material": rows, "license_id": [""] * len(rows)}
    return post_files(client, APPLY, {**given, **table}, files)


def answer(
    client: TestClient,
    case_id: str,
    form: str,
    files: Sequence[Upload],
    licenses: Sequence[str] | None = None,
    **fields: str,
) -> Response:
    """Fill in the case page's ``form`` (correct or supplement) at the version it shows."""
    target = f"/pages/cases/{case_id}/{form}"
    page = client.get(f"/pages/cases/{case_id}").text
    rows = material_codes(page, target)
    table: Fields = {"material": rows, "license_id": list(licenses or [""] * len(rows))}
    return post_files(client, target, {**hidden_fields(page, target), **table, **fields}, files)


def to_case(response: Response) -> str:
    """The id of the case the browser is sent to after a form went through."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/pages/cases/")
    return location.removeprefix("/pages/cases/")


def noticed(service: Service) -> str:
    """An enterprise registration without its articles (zc), noticed by the desk to correct."""
    case_id = business_case(service, complete=False)
    notice = {"items": {"zc": "章程缺少股东签字"}, "text": "请补正公司章程"}
    ok(post(service, case_id, "notify-correction", service.tokens.officer(DESK), notice))
    return case_id


def tolerated(service: Service) -> str:
    """A construction permit accepted at the window on the commitment to supply ``SUPPLEMENT``."""
    case_id = submit_permit(service)
    accept_with_tolerance(service, case_id)
    return case_id


def test_the_guide_offers_applicants_a_form_to_apply_and_tells_others_to_sign_in(
    service: Service,
) -> None:
    for client in (browser(service), signed_in(service, service.tokens.officer(DESK))):
        page = client.get(GUIDE)
        assert page.status_code == 200 and "以申请人身份" in page.text
        assert f'action="{APPLY}"' not in page.text
    page = applicant(service).get(GUIDE).text
    assert "在线申请" in page and 'enctype="multipart/form-data"' in page
    assert material_codes(page, APPLY) == CODES
    assert set(hidden_fields(page, APPLY)) == {"csrf", "nonce"}
    # Each showing of the form carries a fresh one-time number.
    assert (
        hidden_fields(applicant(service).get(GUIDE).text, APPLY)["nonce"]
        != (hidden_fields(page, APPLY)["nonce"])
    )
    # An e-license number box only where the catalog lets an e-license prove the material.
    permit = applicant(service).get(f"/pages/items/{PERMIT}").text
    action = f"/pages/apply/{PERMIT}"
    assert permit.count('<input type="text" name="license_id"') == 2
    assert len(material_codes(permit, action)) == 9 and "主件" in permit and "副件" in permit


def test_an_applicant_applies_online_with_pdf_files_and_lands_on_the_new_case(
    service: Service,
) -> None:
    client = applicant(service)
    files = [pdf(f"online {code}") for code in CODES]
    case_id = to_case(apply(client, files))
    held = case(service, case_id)
    assert held["status"] == "submitted" and held["visits"] == 0
    assert held["materials"] == {code: ref_of(f) for code, f in zip(CODES, files, strict=True)}
    for upload in files:
        sha256 = ref_of(upload)["sha256"]
        read = service.client.get(
            f"/v1/cases/{case_id}/materials/{sha256}", headers=service.tokens.applicant()
        )
        assert read.status_code == 200 and read.content == upload[1]
    [submitted] = events(service, case_id, "Submitted")
    assert submitted["channel"] == "online"
    shown = client.get(f"/pages/cases/{case_id}")
    assert shown.status_code == 200 and "已提交" in shown.text


def test_a_double_posted_apply_form_creates_one_case(service: Service) -> None:
    client = applicant(service)
    fields = hidden_fields(client.get(GUIDE).text, APPLY)
    files = [pdf("twice sqs"), pdf("twice zc"), NO_FILE, NO_FILE, NO_FILE]
    first = to_case(apply(client, files, fields))
    assert to_case(apply(client, files, fields)) == first
    assert my_cases(service) == [first]
    # The form shown again is a new application.
    again = to_case(apply(client, files))
    assert again != first and sorted(my_cases(service)) == sorted([first, again])


def test_a_text_file_posing_as_a_pdf_is_a_422_guide_page_and_nothing_is_kept(
    service: Service,
) -> None:
    client = applicant(service)
    good = pdf("kept back sqs")
    posing = ("zc.pdf", b"this is plain text, not a PDF\n", "application/pdf")
    response = apply(client, [good, posing, NO_FILE, NO_FILE, NO_FILE])
    assert response.status_code == 422, response.text
    assert "document-rejected" in response.text and "does not begin" in response.text
    assert "材料 zc 的文件不能接收" in response.text
    assert f'action="{APPLY}"' in response.text  # the form again, to try once more
    assert my_cases(service) == []
    assert not stored(service, good)
    empty = apply(client, [NO_FILE] * len(CODES))
    assert empty.status_code == 422 and "请至少为一项材料" in empty.text
    assert my_cases(service) == []


def test_files_posted_from_the_pages_count_against_the_daily_upload_quota(
    tmp_path: Path,
) -> None:
    for service in open_service(tmp_path, applicant_upload_quota=3000):
        client = applicant(service)
        files = [pdf("quota sqs"), pdf("quota zc"), NO_FILE, NO_FILE, NO_FILE]  # 2 KiB each
        refused = apply(client, files)
        assert refused.status_code == 429 and "upload-quota-exceeded" in refused.text
        assert my_cases(service) == [] and not stored(service, files[1])
        # Within the quota, one file goes through.
        case_id = to_case(apply(client, [files[0], *[NO_FILE] * 4]))
        assert list(case(service, case_id)["materials"]) == ["sqs"]


def test_an_apply_form_without_its_csrf_token_is_refused_and_keeps_nothing(
    service: Service,
) -> None:
    client = applicant(service)
    page = client.get(GUIDE).text
    nonce = hidden_fields(page, APPLY)["nonce"]
    other_form = form_token(page, "/pages/logout")
    files = [pdf("forged sqs"), NO_FILE, NO_FILE, NO_FILE, NO_FILE]
    for forged in ({}, {"csrf": ""}, {"csrf": other_form}):
        response = apply(client, files, {"nonce": nonce, **forged})
        assert response.status_code == 403 and "CSRF" in response.text
    assert my_cases(service) == []
    assert not stored(service, files[0])


def test_officers_and_signed_out_browsers_cannot_apply(service: Service) -> None:
    files = [pdf("not mine sqs"), NO_FILE, NO_FILE, NO_FILE, NO_FILE]
    fields: Fields = {"csrf": "0" * 64, "nonce": "n" * 32, "material": CODES}
    fields["license_id"] = [""] * len(CODES)
    officer = signed_in(service, service.tokens.officer(DESK))
    refused = post_files(officer, APPLY, fields, files)
    assert refused.status_code == 403 and "无权访问" in refused.text
    signed_out = post_files(browser(service), APPLY, fields, files)
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/pages/login")
    assert my_cases(service) == []
    queue = service.client.get("/v1/cases", headers=service.tokens.officer(DESK))
    assert queue.json() == []


def test_the_applicant_answers_a_correction_notice_online_without_a_visit(
    service: Service,
) -> None:
    case_id = noticed(service)
    officer = signed_in(service, service.tokens.officer(DESK))
    assert f"/pages/cases/{case_id}/correct" not in officer.get(f"/pages/cases/{case_id}").text
    client = applicant(service)
    page = client.get(f"/pages/cases/{case_id}").text
    assert "在线补正" in page and material_codes(page, f"/pages/cases/{case_id}/correct") == ["zc"]
    articles = pdf("online correction zc")
    assert to_case(answer(client, case_id, "correct", [articles])) == case_id
    corrected = case(service, case_id)
    assert (corrected["status"], corrected["materials"]["zc"]) == ("submitted", ref_of(articles))
    assert corrected["visits"] == 0  # data travelled, not the applicant
    [event] = events(service, case_id, "Corrected")
    assert event["channel"] == "online"
    assert stored(service, articles)
    assert "在线补正" not in client.get(f"/pages/cases/{case_id}").text


def test_supplying_committed_materials_online_closes_the_open_commitments(
    service: Service,
) -> None:
    case_id = tolerated(service)
    client = applicant(service)
    target = f"/pages/cases/{case_id}/supplement"
    page = client.get(f"/pages/cases/{case_id}").text
    assert "在线补齐" in page and material_codes(page, target) == list(SUPPLEMENT)
    funds, quality = pdf("online zjls"), pdf("online zljd")
    licenses = ["", "AQ-2026-000123", ""]  # the safety licence by its e-license number
    response = answer(client, case_id, "supplement", [funds, NO_FILE, quality], licenses)
    assert to_case(response) == case_id
    supplied = case(service, case_id)
    assert supplied["open_commitments"] == []
    assert supplied["materials"]["zjls"] == ref_of(funds)
    assert supplied["materials"]["zljd"] == ref_of(quality)
    assert supplied["materials"]["aqxk"] == {"kind": "e_license", "license_id": "AQ-2026-000123"}
    [event] = events(service, case_id, "Supplemented")
    assert (event["channel"], event["data"]["via"]) == ("online", "online")
    assert "在线补齐" not in client.get(f"/pages/cases/{case_id}").text


def test_a_stale_answer_form_is_refused_and_changes_nothing(service: Service) -> None:
    case_id = tolerated(service)
    client = applicant(service)
    target = f"/pages/cases/{case_id}/supplement"
    page = client.get(f"/pages/cases/{case_id}").text
    fields: Fields = {**hidden_fields(page, target), "material": ["zjls"], "license_id": [""]}
    # The case moves on in another tab: the form's version is stale.
    ok(post(service, case_id, "visits", service.tokens.officer(DESK), {"reason": "核验原件"}))
    before = case(service, case_id)
    funds = pdf("stale zjls")
    stale = post_files(client, target, fields, [funds])
    assert stale.status_code == 409 and "concurrent-change" in stale.text
    after = case(service, case_id)
    assert (after["version"], after["materials"]) == (before["version"], before["materials"])
    assert events(service, case_id, "Supplemented") == []
    assert not stored(service, funds)


def test_another_applicant_cannot_post_to_someone_elses_case(service: Service) -> None:
    case_id = tolerated(service)
    before = case(service, case_id)
    # The other applicant's own case gives them a genuine token of the same form.
    theirs = submit_permit(service, holder=OTHER_COMPANY)
    accept_with_tolerance(service, theirs)
    other = applicant(service, OTHER_COMPANY)
    own_page = other.get(f"/pages/cases/{theirs}").text
    token = hidden_fields(own_page, f"/pages/cases/{theirs}/supplement")["csrf"]
    funds = pdf("intruder zjls")
    fields: Fields = {
        "csrf": token,
        "version": str(before["version"]),
        "material": ["zjls"],
        "license_id": [""],
    }
    for form in ("supplement", "correct"):
        refused = post_files(other, f"/pages/cases/{case_id}/{form}", fields, [funds])
        assert refused.status_code == 404 and "未找到" in refused.text
    assert other.get(f"/pages/cases/{case_id}").status_code == 404
    after = case(service, case_id)
    assert (after["version"], after["materials"]) == (before["version"], before["materials"])
    assert not stored(service, funds, OTHER_COMPANY)
