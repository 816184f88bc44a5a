"""The auditor's case trace (审计追溯): each event with its actor, signing key, verification tick
and inclusion proof against the latest signed checkpoint; only auditors, a 404 page for a case
that does not exist, and sign-in first."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests.e2e.browser import browser, signed_in
from tests.e2e.conftest import DESK, LEAD, Service, ok, open_service, played_permit
from tests.scenarios import COMPANY

AUDIT = "/pages/audit"


@dataclass
class Played:
    service: Service
    case_id: str


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    for service in open_service(tmp_path_factory.mktemp("audit-page")):
        case_id, _ = played_permit(service)
        service.clock.advance(timedelta(minutes=5))  # a checkpoint is due a minute after events
        yield Played(service, case_id)


def test_an_auditor_traces_each_event_to_a_signer_a_key_and_a_proof(played: Played) -> None:
    svc = played.service
    trace = ok(
        svc.client.get(f"/v1/audit/cases/{played.case_id}/trace", headers=svc.tokens.auditor())
    )
    page = signed_in(svc, svc.tokens.auditor()).get(AUDIT, params={"case_id": played.case_id})
    assert page.status_code == 200, page.text
    text = page.text
    assert "容缺受理" in text and "intake platform" in text and f"department-seal {DESK}" in text
    assert f"officer-{LEAD}（{LEAD}）" in text and "申请人 " in text and COMPANY not in text
    assert text.count("✓ 已验证") == len(trace) and "✗" not in text
    assert text.count("✓ 已证明") == len(trace) and f"前 {len(trace)} 个事件已纳入并验证" in text
    # Five documents with the submission, three with the supplement: every one in the bundle.
    assert "✓ 8 份材料与签名事件所载哈希一致" in text


def test_the_case_bundle_downloads_from_the_page(played: Played) -> None:
    svc = played.service
    client = signed_in(svc, svc.tokens.auditor())
    bundle = client.get(f"{AUDIT}/cases/{played.case_id}/bundle")
    assert bundle.status_code == 200 and bundle.headers["content-type"] == "application/cbor"


def test_the_page_without_a_case_is_the_search_form(played: Played) -> None:
    svc = played.service
    page = signed_in(svc, svc.tokens.auditor()).get(AUDIT)
    assert page.status_code == 200 and 'name="case_id"' in page.text and "<table>" not in page.text


def test_an_unknown_case_is_a_404_page_and_a_malformed_id_a_422_page(played: Played) -> None:
    svc = played.service
    client = signed_in(svc, svc.tokens.auditor())
    unknown = client.get(AUDIT, params={"case_id": str(uuid.uuid4())})
    assert unknown.status_code == 404 and "unknown-case" in unknown.text
    assert client.get(AUDIT, params={"case_id": "nope"}).status_code == 422


def test_officers_and_applicants_get_a_403_page(played: Played) -> None:
    svc = played.service
    for headers in (svc.tokens.officer(LEAD), svc.tokens.applicant()):
        client = signed_in(svc, headers)
        for path in (f"{AUDIT}?case_id={played.case_id}", f"{AUDIT}/cases/{played.case_id}/bundle"):
            response = client.get(path)
            assert response.status_code == 403 and "仅供审计人员使用" in response.text


def test_without_a_session_the_trace_sends_the_browser_to_sign_in(played: Played) -> None:
    client = browser(played.service)
    for path in (f"{AUDIT}?case_id={played.case_id}", f"{AUDIT}/cases/{played.case_id}/bundle"):
        response = client.get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/pages/login")
