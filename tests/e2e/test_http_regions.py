"""Other regions' e-licenses (跨区域互认) over HTTP: an administrator pins a region's root key and
installs its trust list and status lists; a department here then verifies that region's
credentials, the use is recorded for the holder, and revocations in the region's status list
show. Forged, older or misdirected documents are refused and change nothing."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest

from keys.signer import Ed25519Signer
from ledger.regions import MAX_DOCUMENT_BYTES
from tests.e2e.browser import form_token, signed_in
from tests.e2e.conftest import Service, ok
from tests.foreign_region import HOLDER, LIST_ID, ForeignRegion

COSE = {"Content-Type": "application/cose; cose-type=cose-sign1"}


@pytest.fixture(scope="module")
def hunan() -> ForeignRegion:
    return ForeignRegion()


def register(svc: Service, region: ForeignRegion, title: str = "湖南省") -> Any:
    body = {"title": title, "root_public_key": base64.b64encode(region.root_key).decode()}
    return svc.client.put(f"/v1/regions/{region.name}", json=body, headers=svc.tokens.admin())


def install(svc: Service, region: ForeignRegion, path: str, data: bytes) -> Any:
    url = f"/v1/regions/{region.name}/{path}"
    method = svc.client.put if path == "trust-list" else svc.client.post
    return method(url, content=data, headers={**svc.tokens.admin(), **COSE})


def verify(svc: Service, qr_text: str, department: str = "zjj") -> dict[str, Any]:
    body = {"purpose": "异地办理施工许可", "qr_text": qr_text}
    return ok(svc.client.post("/v1/verify", json=body, headers=svc.tokens.verifier(department)))


def trusted(svc: Service, region: ForeignRegion) -> None:
    assert register(svc, region).status_code == 201
    ok(install(svc, region, "trust-list", region.trust_list()))


def events(svc: Service) -> int:
    return svc.ledger.recorder.max_notification_id() or 0


def test_before_its_region_is_trusted_a_foreign_credential_is_an_unknown_issuer(
    service: Service, hunan: ForeignRegion
) -> None:
    found = verify(service, hunan.qr_text())
    assert (found["status"], found["step"], found["issuer_region"]) == ("unknown_issuer", 6, None)


def test_a_trusted_regions_credential_verifies_and_its_holder_sees_the_use(
    service: Service, hunan: ForeignRegion
) -> None:
    trusted(service, hunan)
    found = verify(service, hunan.qr_text())
    assert (found["status"], found["issuer_region"], found["issuer"]) == (
        "valid",
        "hunan",
        "hnscjgj",
    )
    assert found["status_checked"] is False and "has sent no status list" in found["reason"]
    # A holder id is national: the holder signs in here and sees who used the license.
    uses = ok(service.client.get("/v1/licenses/uses", headers=service.tokens.applicant(HOLDER)))
    assert [(u["department"], u["purpose"], u["result"]) for u in uses] == [
        ("zjj", "异地办理施工许可", "valid")
    ]


def test_the_regions_status_list_shows_a_revocation_and_a_newer_list_lifts_nothing_back(
    service: Service, hunan: ForeignRegion
) -> None:
    trusted(service, hunan)
    issued = service.clock.now - timedelta(days=1)
    listed = hunan.status_list(revoked=(77,), issued_at=issued)
    shown = ok(install(service, hunan, "status-lists", listed))
    assert [s["list_id"] for s in shown["status_lists"]] == [LIST_ID]
    found = verify(service, hunan.qr_text(slot=77))
    assert (found["status"], found["step"], found["status_checked"]) == ("revoked", 12, False)
    other = verify(service, hunan.qr_text("202600000002", slot=78))
    assert (other["status"], other["status_checked"]) == ("valid", True)
    assert f"status as of its list issued {issued:%Y-%m-%d %H:%M} UTC" in other["reason"]
    # An older copy of the list would hide the revocation: refused, and the revocation stands.
    before = events(service)
    older = hunan.status_list(issued_at=issued - timedelta(hours=1))  # before the installed one
    stale = install(service, hunan, "status-lists", older)
    assert stale.status_code == 409 and "issued after" in stale.json()["detail"]
    assert events(service) == before
    assert verify(service, hunan.qr_text(slot=77))["status"] == "revoked"


def test_a_regions_status_list_older_than_a_week_vouches_for_no_good_status_but_revocations_stand(
    service: Service, hunan: ForeignRegion
) -> None:
    trusted(service, hunan)
    issued = service.clock.now - timedelta(days=8)
    ok(install(service, hunan, "status-lists", hunan.status_list(revoked=(77,), issued_at=issued)))
    good = verify(service, hunan.qr_text("202600000002", slot=78))
    assert (good["status"], good["status_checked"]) == ("valid", False)
    assert f"sent its status list last on {issued:%Y-%m-%d %H:%M} UTC" in good["reason"]
    assert "status not checked" in good["reason"]
    assert verify(service, hunan.qr_text(slot=77))["status"] == "revoked"


def test_the_same_documents_again_answer_as_before_and_record_nothing(
    service: Service, hunan: ForeignRegion
) -> None:
    trusted(service, hunan)
    ok(install(service, hunan, "status-lists", hunan.status_list()))
    before = events(service)
    again = register(service, hunan)
    assert again.status_code == 200 and again.json()["trust_list"]["sequence"] == 1
    ok(install(service, hunan, "trust-list", hunan.trust_list()))
    ok(install(service, hunan, "status-lists", hunan.status_list()))
    assert events(service) == before


@pytest.mark.parametrize(
    ("forge", "status", "slug"),
    [
        ("signed by another root", 422, "region-document-invalid"),
        ("not cose", 422, "region-document-invalid"),
        ("empty", 422, "region-document-invalid"),
        ("older sequence", 409, "region-conflict"),
    ],
)
def test_a_trust_list_that_is_forged_or_older_is_refused_and_changes_nothing(
    service: Service, hunan: ForeignRegion, forge: str, status: int, slug: str
) -> None:
    assert register(service, hunan).status_code == 201
    ok(install(service, hunan, "trust-list", hunan.trust_list(sequence=2)))
    data = {
        "signed by another root": hunan.trust_list(3, signed_by=Ed25519Signer.generate()),
        "not cose": b"\xa1\x01\x02",
        "empty": b"",
        "older sequence": hunan.trust_list(sequence=1),
    }[forge]
    before = events(service)
    refused = install(service, hunan, "trust-list", data)
    assert refused.status_code == status, refused.text
    assert refused.json()["type"].endswith(f"/{slug}")
    assert events(service) == before
    listed = ok(service.client.get("/v1/regions", headers=service.tokens.auditor()))
    assert listed[0]["trust_list"]["sequence"] == 2


def test_a_status_list_needs_a_trust_list_and_a_key_on_it(
    service: Service, hunan: ForeignRegion
) -> None:
    assert register(service, hunan).status_code == 201
    early = install(service, hunan, "status-lists", hunan.status_list())
    assert early.status_code == 409 and "install that first" in early.json()["detail"]
    ok(install(service, hunan, "trust-list", hunan.trust_list()))
    stranger = ForeignRegion(name="hubei", issuer=Ed25519Signer.generate())
    foreign = install(service, hunan, "status-lists", stranger.status_list())
    assert foreign.status_code == 422 and "status list of region 'hunan'" in foreign.text


def test_a_regions_root_is_pinned_for_good_and_our_own_root_is_no_region(
    service: Service, hunan: ForeignRegion
) -> None:
    assert register(service, hunan).status_code == 201
    moved = ForeignRegion(root=Ed25519Signer.generate())
    changed = register(service, moved)
    assert changed.status_code == 409 and "pinned for good" in changed.json()["detail"]
    twin = ForeignRegion(name="hunan-2")
    assert register(service, twin).status_code == 409  # the same root under another name
    own = base64.b64encode(service.handle.keys.signer("root").public_key_der()).decode()
    mine = service.client.put(
        "/v1/regions/here",
        json={"title": "本省", "root_public_key": own},
        headers=service.tokens.admin(),
    )
    assert mine.status_code == 409 and "own root key" in mine.json()["detail"]


@pytest.mark.parametrize(
    ("name", "body", "slug"),
    [
        ("Hunan", None, "invalid-command"),
        ("hunan", {"title": "湖南", "root_public_key": "not base64!"}, "region-document-invalid"),
        ("hunan", {"title": "湖南", "root_public_key": "AAAA"}, "region-document-invalid"),
        ("hunan", {"title": "", "root_public_key": "AAAA"}, "validation-failed"),
    ],
)
def test_malformed_registrations_are_422_and_record_nothing(
    service: Service, hunan: ForeignRegion, name: str, body: dict[str, str] | None, slug: str
) -> None:
    before = events(service)
    sent = body or {"title": "湖南", "root_public_key": base64.b64encode(hunan.root_key).decode()}
    refused = service.client.put(f"/v1/regions/{name}", json=sent, headers=service.tokens.admin())
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith(f"/{slug}")
    assert events(service) == before


def test_a_withdrawn_region_is_no_longer_trusted_but_stays_on_record(
    service: Service, hunan: ForeignRegion
) -> None:
    trusted(service, hunan)
    url = f"/v1/regions/{hunan.name}/withdraw"
    shown = ok(
        service.client.post(url, json={"reason": "互认协议到期"}, headers=service.tokens.admin())
    )
    assert (shown["active"], shown["withdrawal_reason"]) == (False, "互认协议到期")
    assert verify(service, hunan.qr_text())["status"] == "unknown_issuer"
    late = install(service, hunan, "trust-list", hunan.trust_list(sequence=5))
    assert late.status_code == 409 and "was withdrawn" in late.json()["detail"]


def test_unknown_regions_are_404(service: Service, hunan: ForeignRegion) -> None:
    missing = install(service, hunan, "trust-list", hunan.trust_list())
    assert missing.status_code == 404 and missing.json()["type"].endswith("/unknown-region")


def test_only_administrators_change_trust_and_applicants_read_none(
    service: Service, hunan: ForeignRegion
) -> None:
    body = {"title": "湖南省", "root_public_key": base64.b64encode(hunan.root_key).decode()}
    for headers in (service.tokens.officer("zjj"), service.tokens.auditor(), {}):
        refused = service.client.put("/v1/regions/hunan", json=body, headers=headers)
        assert refused.status_code in (401, 403)
    assert service.client.get("/v1/regions", headers=service.tokens.applicant()).status_code == 403
    assert ok(service.client.get("/v1/regions", headers=service.tokens.verifier("zjj"))) == []


def test_the_verifier_page_names_the_region_that_issued_the_license(
    service: Service, hunan: ForeignRegion
) -> None:
    trusted(service, hunan)
    client = signed_in(service, service.tokens.verifier("zjj"))
    page = client.post(
        "/pages/verify",
        data={
            "csrf": form_token(client.get("/pages/verify").text, "/pages/verify"),
            "qr_text": hunan.qr_text(),
            "purpose": "异地办理施工许可",
        },
    )
    assert page.status_code == 200, page.text
    assert "核验通过：证照有效" in page.text and "<td>湖南省</td>" in page.text


def test_a_document_over_the_cap_is_refused_with_413_before_it_is_read_whole(
    service: Service, hunan: ForeignRegion
) -> None:
    assert register(service, hunan).status_code == 201
    before = events(service)
    refused = install(service, hunan, "trust-list", b"\x00" * (MAX_DOCUMENT_BYTES + 1))
    assert refused.status_code == 413, refused.text
    assert refused.json()["type"].endswith("/region-document-too-large")
    assert events(service) == before
