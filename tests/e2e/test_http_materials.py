"""Material documents over HTTP: upload before referring, read back as the uploader or through the
case, and every refusal (bad bytes, someone else's upload, a document outside the case) clear and
without effect."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from projections.document_store import MAX_DOCUMENT_BYTES
from tests.e2e.conftest import (
    BUSINESS_DESK,
    DESK,
    OTHER_COMPANY,
    Service,
    business_case,
    materials_json,
    ok,
    open_service,
    post,
    problem,
    upload,
)
from tests.scenarios import BUSINESS, DOCUMENT_BYTES, doc

ARTICLES = doc("articles of association, signed")
NOTICE = {"items": {"zc": "章程缺少股东签字"}, "text": "请一次性补正以下材料"}


def put(service: Service, content: bytes, media_type: str, headers: dict[str, str]) -> Any:
    return service.client.post(
        "/v1/documents", content=content, headers=headers | {"Content-Type": media_type}
    )


def cases_of(service: Service, headers: dict[str, str]) -> list[Any]:
    listed: list[Any] = ok(service.client.get("/v1/cases", headers=headers))
    return listed


def test_an_upload_answers_its_reference_and_repeating_it_changes_nothing(
    service: Service,
) -> None:
    applicant = service.tokens.applicant()
    content = DOCUMENT_BYTES[ARTICLES.sha256]
    first = put(service, content, "application/pdf", applicant)
    assert first.status_code == 201, first.text
    assert first.json() == ARTICLES.as_dict()
    assert first.headers["location"] == f"/v1/documents/{ARTICLES.sha256}"
    again = put(service, content, "application/pdf", applicant)
    assert (again.status_code, again.json()) == (200, first.json())


def test_the_uploader_reads_the_exact_bytes_back_and_no_one_else_does(service: Service) -> None:
    applicant = service.tokens.applicant()
    upload(service, applicant, ARTICLES)
    path = f"/v1/documents/{ARTICLES.sha256}"
    read = service.client.get(path, headers=applicant)
    assert read.status_code == 200 and read.content == DOCUMENT_BYTES[ARTICLES.sha256]
    assert read.headers["content-type"] == "application/pdf"
    assert read.headers["etag"] == f'"{ARTICLES.sha256}"'
    assert hashlib.sha256(read.content).hexdigest() == ARTICLES.sha256
    for other in (service.tokens.applicant(OTHER_COMPANY), service.tokens.officer(DESK)):
        problem(service.client.get(path, headers=other), 404, "not-found")


def test_bytes_that_are_not_what_they_claim_are_refused_and_not_stored(
    service: Service,
) -> None:
    applicant = service.tokens.applicant()
    text = b"just some text, not a PDF"
    refused = problem(put(service, text, "application/pdf", applicant), 422, "document-rejected")
    assert "does not begin as application/pdf" in refused["detail"]
    problem(put(service, text, "text/plain", applicant), 422, "document-rejected")
    sha256 = hashlib.sha256(text).hexdigest()
    problem(service.client.get(f"/v1/documents/{sha256}", headers=applicant), 404, "not-found")


def test_an_oversized_upload_is_refused_with_413(service: Service) -> None:
    content = b"%PDF-" + bytes(MAX_DOCUMENT_BYTES)
    response = put(service, content, "application/pdf", service.tokens.applicant())
    problem(response, 413, "document-too-large")


def test_uploading_needs_a_token_and_a_role_that_supplies_materials(service: Service) -> None:
    content = DOCUMENT_BYTES[ARTICLES.sha256]
    problem(put(service, content, "application/pdf", {}), 401, "unauthenticated")
    problem(put(service, content, "application/pdf", service.tokens.auditor()), 403, "forbidden")


def test_a_case_cannot_refer_to_a_document_that_was_never_uploaded(service: Service) -> None:
    applicant = service.tokens.applicant()
    before = cases_of(service, applicant)
    body = {"item_code": BUSINESS, "materials": {"zc": ARTICLES.as_dict()}}
    refused = problem(
        service.client.post("/v1/cases", json=body, headers=applicant), 422, "document-not-stored"
    )
    assert ARTICLES.sha256 in refused["detail"]
    assert cases_of(service, applicant) == before


def test_a_case_cannot_refer_to_another_partys_upload(service: Service) -> None:
    upload(service, service.tokens.applicant(OTHER_COMPANY), ARTICLES)
    applicant = service.tokens.applicant()
    before = cases_of(service, applicant)
    body = {"item_code": BUSINESS, "materials": {"zc": ARTICLES.as_dict()}}
    response = service.client.post("/v1/cases", json=body, headers=applicant)
    assert "not uploaded by" in problem(response, 422, "document-not-stored")["detail"]
    assert cases_of(service, applicant) == before


def test_a_reference_that_misstates_the_size_is_refused(service: Service) -> None:
    applicant = service.tokens.applicant()
    upload(service, applicant, ARTICLES)
    wrong = ARTICLES.as_dict() | {"size": ARTICLES.size + 1}
    body = {"item_code": BUSINESS, "materials": {"zc": wrong}}
    response = service.client.post("/v1/cases", json=body, headers=applicant)
    problem(response, 422, "document-not-stored")


def test_whoever_sees_the_case_reads_its_documents_through_it(service: Service) -> None:
    case_id = business_case(service)
    case = ok(service.client.get(f"/v1/cases/{case_id}", headers=service.tokens.applicant()))
    sha256 = case["materials"]["zc"]["sha256"]
    path = f"/v1/cases/{case_id}/materials/{sha256}"
    for reader in (
        service.tokens.applicant(),
        service.tokens.officer(DESK),
        service.tokens.officer(BUSINESS_DESK),
        service.tokens.auditor(),
    ):
        read = service.client.get(path, headers=reader)
        assert read.status_code == 200, read.text
        assert read.content == DOCUMENT_BYTES[sha256]
    for stranger in (service.tokens.applicant(OTHER_COMPANY), service.tokens.officer("swj")):
        problem(service.client.get(path, headers=stranger), 404, "unknown-case")


def test_a_stored_document_outside_the_case_is_not_read_through_it(service: Service) -> None:
    case_id = business_case(service)
    applicant = service.tokens.applicant()
    upload(service, applicant, ARTICLES)  # stored, but no event of the case refers to it
    path = f"/v1/cases/{case_id}/materials/{ARTICLES.sha256}"
    problem(service.client.get(path, headers=applicant), 404, "not-found")


def test_a_corrected_document_and_the_one_it_replaced_both_stay_readable(
    service: Service,
) -> None:
    case_id = business_case(service)
    applicant = service.tokens.applicant()
    first = ok(service.client.get(f"/v1/cases/{case_id}", headers=applicant))["materials"]["zc"]
    ok(post(service, case_id, "notify-correction", service.tokens.officer(DESK), NOTICE))
    body = {"materials": materials_json(service, applicant, {"zc": ARTICLES})}
    ok(post(service, case_id, "correct", applicant, body))
    officer = service.tokens.officer(DESK)
    for sha256 in (first["sha256"], ARTICLES.sha256):
        read = service.client.get(f"/v1/cases/{case_id}/materials/{sha256}", headers=officer)
        assert read.status_code == 200 and read.content == DOCUMENT_BYTES[sha256]


def test_an_applicant_past_the_daily_quota_gets_429_and_staff_do_not(
    tmp_path: Path,
) -> None:
    for service in open_service(tmp_path, applicant_upload_quota=3000):
        applicant = service.tokens.applicant()
        upload(service, applicant, doc("first scan"))  # 2,048 bytes
        refused = put(service, DOCUMENT_BYTES[ARTICLES.sha256], "application/pdf", applicant)
        assert "at most 3000 bytes" in problem(refused, 429, "upload-quota-exceeded")["detail"]
        problem(
            service.client.get(f"/v1/documents/{ARTICLES.sha256}", headers=applicant),
            404,
            "not-found",
        )
        # The window scans paper for applicants all day: no quota for officers.
        officer = service.tokens.officer(DESK)
        for label in ("scan one", "scan two"):
            upload(service, officer, doc(label))
