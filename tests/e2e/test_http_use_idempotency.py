"""An Idempotency-Key on the routes that record a license use (verification by QR text, number or
picture, and a department's shared view): a repeat gets the first answer — even after the license
changed — and records no second use; the key used for another request is refused and records
nothing; keys are the caller's own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import (
    LEAD,
    Issued,
    Service,
    holder_uses,
    issued_permit,
    ok,
    open_service,
)
from tests.pictures import photo, screenshot
from tests.scenarios import COMPANY


@pytest.fixture
def issued(tmp_path: Any) -> Iterator[Issued]:
    for service in open_service(tmp_path):
        yield issued_permit(service)


def verify(svc: Service, body: dict[str, Any], key: str, department: str = "swj") -> Any:
    headers = {**svc.tokens.verifier(department), "Idempotency-Key": key}
    return svc.client.post("/v1/verify", json=body, headers=headers)


def test_a_repeated_verification_gets_the_first_answer_and_records_one_use(
    issued: Issued,
) -> None:
    svc = issued.service
    before = len(holder_uses(svc))
    body = {"purpose": "住房保障审核", "qr_text": issued.qr_text}
    first = verify(svc, body, "check-0412")
    assert ok(first)["status"] == "valid"
    # Between the two the license is revoked: the repeat is the same request, answered as then.
    revoked = svc.client.post(
        f"/v1/licenses/{issued.license_id}/revoke",
        json={"reason": "依法撤销"},
        headers=svc.tokens.officer(LEAD),
    )
    assert revoked.status_code == 200, revoked.text
    again = verify(svc, body, "check-0412")
    assert (again.status_code, again.content) == (200, first.content)
    assert len(holder_uses(svc)) == before + 1
    # Without the key (or with a new one) it is a new verification, and a new use.
    assert ok(verify(svc, body, "check-0413"))["status"] == "revoked"
    assert len(holder_uses(svc)) == before + 2


def test_a_key_used_for_another_request_is_refused_and_records_nothing(issued: Issued) -> None:
    svc = issued.service
    ok(verify(svc, {"purpose": "住房保障审核", "qr_text": issued.qr_text}, "check-1"))
    before = holder_uses(svc)
    for body in (
        {"purpose": "另一用途", "qr_text": issued.qr_text},
        {"purpose": "住房保障审核", "license_id": issued.license_id},
    ):
        refused = verify(svc, body, "check-1")
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"].endswith("/idempotency-key-reused")
    assert holder_uses(svc) == before


def test_keys_are_the_callers_own(issued: Issued) -> None:
    svc = issued.service
    before = len(holder_uses(svc))
    body = {"purpose": "核验", "license_id": issued.license_id}
    ok(verify(svc, body, "same-key", department="swj"))
    ok(verify(svc, body, "same-key", department="zrzyghj"))
    assert len(holder_uses(svc)) == before + 2


def test_two_pictures_of_the_same_code_under_one_key_are_one_verification(
    issued: Issued,
) -> None:
    svc = issued.service
    before = len(holder_uses(svc))
    headers = {**svc.tokens.verifier("swj"), "Idempotency-Key": "scan-7"}
    answers = [
        svc.client.post(
            "/v1/verify/image",
            data={"purpose": "住房保障审核"},
            files={"image": ("p.jpg", picture, "image/jpeg")},
            headers=headers,
        )
        for picture in (photo(issued.qr_text), screenshot(issued.qr_text))
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].content == answers[1].content
    assert len(holder_uses(svc)) == before + 1


def test_a_repeated_shared_view_gets_the_first_answer_and_records_one_read(
    issued: Issued,
) -> None:
    svc = issued.service
    before = len(holder_uses(svc))
    headers = {**svc.tokens.verifier("zrzyghj"), "Idempotency-Key": "view-1"}
    body = {"holder_id": COMPANY, "purpose": "规划核实"}
    first = svc.client.post("/v1/shared/views", json=body, headers=headers)
    again = svc.client.post("/v1/shared/views", json=body, headers=headers)
    assert first.status_code == again.status_code == 200, first.text
    assert first.json() == again.json() and first.json()[0]["license_id"] == issued.license_id
    assert len(holder_uses(svc)) == before + 1
    other = svc.client.post(
        "/v1/shared/views", json={**body, "purpose": "另一用途"}, headers=headers
    )
    assert other.status_code == 422 and len(holder_uses(svc)) == before + 1
