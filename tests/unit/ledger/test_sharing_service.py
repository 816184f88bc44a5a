"""Departments verify instead of asking for paper: online verification and shared-data views,
each use recorded as a signed event; purposes and field policies bound what is seen."""

from __future__ import annotations

import pytest

from keys.registry import KeyRole
from ledger.actors import Actor, Role
from ledger.commands import Command
from ledger.errors import ActionNotPermitted
from ledger.signing import SigningIdentity
from licenses.credential import decode_credential
from licenses.qr import decode_qr_text
from licenses.usage import LicenseUse, PurposeNotAllowed
from licenses.verify import VerificationStatus
from tests.scenarios import COMPANY, officer
from tests.unit.ledger.conftest import ADMIN, T0
from tests.unit.ledger.test_vault_service import issued_world

ZRZYGHJ = Actor("verifier-liu", Role.VERIFIER, department="zrzyghj")


def uses(ledger: object, since: int) -> list[LicenseUse]:
    notes = ledger.recorder.select_notifications(start=since + 1, limit=100)  # type: ignore[attr-defined]
    return [
        ledger.repository.get(n.originator_id)
        for n in notes  # type: ignore[attr-defined]
        if n.topic == "license.use.Used"
    ]


def test_a_department_verifies_a_license_by_qr_and_the_use_is_recorded() -> None:
    ledger, _, clock, issued = issued_world()
    before = ledger.recorder.max_notification_id() or 0
    result = ledger.sharing.verify(
        Command(at=clock.tick(), actor=ZRZYGHJ), purpose="规划核实", qr_text=issued.qr_text
    )
    assert result.status is VerificationStatus.VALID, result.reason
    assert result.status_checked
    [use] = uses(ledger, before)
    assert (use.license_id, use.department, use.purpose, use.result) == (
        issued.license_id,
        "zrzyghj",
        "规划核实",
        "valid",
    )


def test_verification_by_number_reflects_the_online_status() -> None:
    ledger, _, clock, issued = issued_world()
    ledger.vault.revoke(
        issued.license_id, Command(at=clock.tick(), actor=officer("zjj")), reason="依法撤销"
    )
    result = ledger.sharing.verify(
        Command(at=clock.tick(), actor=ZRZYGHJ), purpose="规划核实", license_id=issued.license_id
    )
    assert result.status is VerificationStatus.REVOKED
    assert result.reason == "online status: revoked"


def test_an_altered_qr_is_invalid_and_its_use_is_still_recorded() -> None:
    ledger, _, clock, issued = issued_world()
    before = ledger.recorder.max_notification_id() or 0
    result = ledger.sharing.verify(
        Command(at=clock.tick(), actor=ZRZYGHJ), purpose="规划核实", qr_text=issued.qr_text[:-3]
    )
    assert not result.valid and result.step is not None
    assert [u.result for u in uses(ledger, before)] == [result.status.value]


def test_verification_needs_a_purpose_and_a_department() -> None:
    ledger, _, clock, issued = issued_world()
    before = ledger.recorder.max_notification_id()
    with pytest.raises(ActionNotPermitted, match="must state its purpose"):
        ledger.sharing.verify(
            Command(at=clock.tick(), actor=ZRZYGHJ), purpose=" ", qr_text=issued.qr_text
        )
    with pytest.raises(ActionNotPermitted, match="got applicant"):
        ledger.sharing.verify(
            Command(at=clock.tick(), actor=Actor(COMPANY, Role.APPLICANT)),
            purpose="x",
            qr_text=issued.qr_text,
        )
    assert ledger.recorder.max_notification_id() == before


def test_a_shared_view_shows_only_the_fields_the_policy_allows_and_they_verify() -> None:
    ledger, _, clock, issued = issued_world()
    [shared] = ledger.sharing.shared_view(
        Command(at=clock.tick(), actor=ZRZYGHJ), holder_id=COMPANY, purpose="规划核实"
    )
    assert shared.license_id == issued.license_id
    assert set(shared.fields) == {"名称", "事项", "决定依据"}
    presented = decode_credential(decode_qr_text(shared.presentation))
    assert set(presented.claims.fields) == {"名称", "事项", "决定依据"}
    assert "受理编号" in presented.undisclosed


def test_a_purpose_outside_the_policy_is_refused_and_nothing_is_read() -> None:
    ledger, _, clock, _ = issued_world()
    before = ledger.recorder.max_notification_id()
    with pytest.raises(PurposeNotAllowed, match="got '营销'"):
        ledger.sharing.shared_view(
            Command(at=clock.tick(), actor=ZRZYGHJ), holder_id=COMPANY, purpose="营销"
        )
    assert ledger.recorder.max_notification_id() == before


def test_a_department_without_a_rule_for_the_type_sees_nothing_but_the_question_is_recorded() -> (
    None
):
    ledger, _, clock, _ = issued_world()
    swj = Actor("verifier-tax", Role.VERIFIER, department="swj")
    before = ledger.recorder.max_notification_id() or 0
    assert (
        ledger.sharing.shared_view(
            Command(at=clock.tick(), actor=swj), holder_id=COMPANY, purpose="税务登记"
        )
        == []
    )
    [use] = uses(ledger, before)
    assert (use.kind, use.result, use.fields) == ("shared-view", "none", [])


ZJJ_SEAL = SigningIdentity(KeyRole.DEPARTMENT_SEAL, "zjj")


def test_a_key_revoked_after_a_verification_fails_the_next_one() -> None:
    ledger, _, clock, issued = issued_world()
    first = ledger.sharing.verify(
        Command(at=clock.tick(), actor=ZRZYGHJ), purpose="规划核实", qr_text=issued.qr_text
    )
    assert first.status is VerificationStatus.VALID
    _, kid = ledger.key_directory.signer_for(ZJJ_SEAL, clock.now)
    ledger.keyring.revoke(
        kid, revoked_at=T0, reason="私钥泄露", at=clock.tick(), actor=ADMIN.as_dict()
    )
    second = ledger.sharing.verify(
        Command(at=clock.tick(), actor=ZRZYGHJ), purpose="规划核实", qr_text=issued.qr_text
    )
    assert (second.status, second.step) == (VerificationStatus.KEY_NOT_ALLOWED, 9)
    assert "revoked" in second.reason


def test_a_key_registered_after_a_verification_is_trusted_by_the_next_one() -> None:
    ledger, store, clock, _ = issued_world()
    other, _, _, foreign = issued_world()
    unknown = ledger.sharing.verify(
        Command(at=clock.tick(), actor=ZRZYGHJ), purpose="规划核实", qr_text=foreign.qr_text
    )
    assert (unknown.status, unknown.step) == (VerificationStatus.UNKNOWN_ISSUER, 6)
    _, kid = other.key_directory.signer_for(ZJJ_SEAL, clock.now)
    entry = other.keyring.entry(kid)
    ledger.keyring.register(
        root=store.signer("root"),  # type: ignore[attr-defined]
        public_key_der=entry.public_key,
        owner="zjj",
        role=KeyRole.DEPARTMENT_SEAL,
        department="zjj",
        license_types=entry.license_types,
        valid_from=entry.valid_from,
        at=clock.tick(),
        actor=ADMIN.as_dict(),
    )
    known = ledger.sharing.verify(
        Command(at=clock.tick(), actor=ZRZYGHJ), purpose="规划核实", qr_text=foreign.qr_text
    )
    assert known.step != 6 and known.claims is not None
    assert known.claims.license_id == foreign.license_id
