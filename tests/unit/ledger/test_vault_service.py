"""The vault inside the ledger: a license is issued with its case's event or not at all, its
credential verifies offline, status changes reach the status list, holders see only their own."""

from __future__ import annotations

from datetime import timedelta

import pytest

from keys.trustlist import build_trust_list
from ledger.actors import Actor, Role
from ledger.application import CaseLedger
from ledger.commands import Command
from ledger.errors import ActionNotPermitted, CommitmentOpen, ConcurrencyError
from ledger.vault_service import UnknownLicense
from licenses.domain import License
from licenses.errors import LicenseError
from licenses.verify import VerificationStatus, verify_qr_text
from tests.scenarios import (
    APPLICANT,
    COMPANY,
    Clock,
    finish_by_courier,
    officer,
    play_permit_until_decision,
    supplement_all,
)
from tests.unit.ledger.conftest import T0, make_ledger


def issued_world() -> tuple[CaseLedger, object, Clock, object]:
    ledger, store = make_ledger()
    clock = Clock(T0)
    story = play_permit_until_decision(ledger, clock, "vault-1")
    supplement_all(ledger, clock, story.case_id)
    issued = finish_by_courier(ledger, clock, story.case_id)
    return ledger, store, clock, issued


def offline(
    ledger: CaseLedger, store: object, qr: str, at_offset: timedelta, clock: Clock
) -> object:
    root = store.signer("root")  # type: ignore[attr-defined]
    at = clock.now + at_offset
    trust = build_trust_list(ledger.keyring.entries(), root=root, issued_at=at, sequence=1)
    status = ledger.vault.status_list("zjj", at)
    return verify_qr_text(qr, trust, root.public_key_der(), status_list=status, at=at)


def test_issuance_is_refused_while_a_commitment_is_open_and_nothing_is_stored() -> None:
    ledger, _ = make_ledger()
    clock = Clock(T0)
    story = play_permit_until_decision(ledger, clock, "vault-open")
    before = ledger.recorder.max_notification_id()
    with pytest.raises(CommitmentOpen, match="commitments are open"):
        ledger.issue_license(story.case_id, Command(at=clock.tick(), actor=officer("zjj")))
    assert ledger.recorder.max_notification_id() == before
    assert ledger.vault.licenses_of(COMPANY, APPLICANT) == []


def test_the_case_event_and_the_license_are_saved_in_one_batch() -> None:
    ledger, _ = make_ledger()
    clock = Clock(T0)
    story = play_permit_until_decision(ledger, clock, "vault-batch")
    supplement_all(ledger, clock, story.case_id)
    before = ledger.recorder.max_notification_id() or 0
    issued = ledger.issue_license(story.case_id, Command(at=clock.tick(), actor=officer("zjj")))
    new = list(ledger.recorder.select_notifications(start=before + 1, limit=100))
    assert sorted(n.topic for n in new) == sorted(
        [
            "case.LicenseIssued",
            "license.Issued",
            "vault.slot.Reserved",
            "vault.holder.Opened",
            "vault.holder.LicenseAdded",
        ]
    )
    assert ledger.case(story.case_id).license_ref == issued.license_id


def test_an_issued_credential_verifies_offline_with_the_trust_and_status_lists() -> None:
    ledger, store, clock, issued = issued_world()
    result = offline(ledger, store, issued.qr_text, timedelta(minutes=1), clock)
    assert result.status is VerificationStatus.VALID, result.reason  # type: ignore[attr-defined]
    claims = result.claims  # type: ignore[attr-defined]
    assert claims.sub == COMPANY and claims.iss == "zjj"
    assert claims.fields["名称"] == "建筑工程施工许可证"


def test_revocation_and_suspension_reach_the_offline_verifier() -> None:
    ledger, store, clock, issued = issued_world()
    lead = officer("zjj")
    ledger.vault.suspend(issued.license_id, Command(at=clock.tick(), actor=lead), reason="整改")
    suspended = offline(ledger, store, issued.qr_text, timedelta(minutes=1), clock)
    assert suspended.status is VerificationStatus.SUSPENDED  # type: ignore[attr-defined]
    ledger.vault.reinstate(
        issued.license_id, Command(at=clock.tick(), actor=lead), reason="整改完成"
    )
    valid = offline(ledger, store, issued.qr_text, timedelta(minutes=1), clock)
    assert valid.status is VerificationStatus.VALID  # type: ignore[attr-defined]
    ledger.vault.revoke(issued.license_id, Command(at=clock.tick(), actor=lead), reason="依法撤销")
    revoked = offline(ledger, store, issued.qr_text, timedelta(minutes=1), clock)
    assert revoked.status is VerificationStatus.REVOKED  # type: ignore[attr-defined]
    assert revoked.step == 12  # type: ignore[attr-defined]


def test_only_the_issuing_department_may_change_a_license() -> None:
    ledger, _, clock, issued = issued_world()
    before = ledger.recorder.max_notification_id()
    with pytest.raises(
        ActionNotPermitted, match="is for officers of 'zjj', got officer of 'scjgj'"
    ):
        ledger.vault.revoke(
            issued.license_id, Command(at=clock.tick(), actor=officer("scjgj")), reason="x"
        )
    assert ledger.recorder.max_notification_id() == before


def test_a_holder_sees_their_own_licenses_and_nobody_elses() -> None:
    ledger, _, _, issued = issued_world()
    mine = ledger.vault.licenses_of(COMPANY, APPLICANT)
    assert [lic.license_id for lic in mine] == [issued.license_id]
    assert isinstance(mine[0], License)
    stranger = Actor("91512000MA6CXXXXX0", Role.APPLICANT)
    with pytest.raises(UnknownLicense, match="no licenses for this holder"):
        ledger.vault.licenses_of(COMPANY, stranger)
    proxy = Actor("officer-chen", Role.OFFICER, department="zwfwzx", on_behalf_of=COMPANY)
    assert len(ledger.vault.licenses_of(COMPANY, proxy)) == 1
    with pytest.raises(UnknownLicense):
        ledger.vault.licenses_of(COMPANY, Actor("auditor-1", Role.AUDITOR))


def test_an_unknown_license_id_is_reported() -> None:
    ledger, _ = make_ledger()
    with pytest.raises(UnknownLicense, match="no license with id 'nope'"):
        ledger.vault.license("nope")


def test_a_repeated_status_command_id_changes_the_license_once() -> None:
    ledger, _, clock, issued = issued_world()
    cmd = Command(at=clock.tick(), actor=officer("zjj"), command_id="suspend-1")
    first = ledger.vault.suspend(issued.license_id, cmd, reason="整改")
    before = ledger.recorder.max_notification_id()
    assert ledger.vault.suspend(issued.license_id, cmd, reason="整改") == first
    assert ledger.recorder.max_notification_id() == before


def test_a_stale_license_version_is_a_concurrency_error() -> None:
    ledger, _, clock, issued = issued_world()
    version = ledger.vault.license(issued.license_id).version
    with pytest.raises(ConcurrencyError, match=f"expected version {version + 5}"):
        ledger.vault.revoke(
            issued.license_id,
            Command(at=clock.tick(), actor=officer("zjj"), expected_version=version + 5),
            reason="x",
        )
    assert ledger.vault.license(issued.license_id).revoked_at is None


def test_only_service_centre_staff_acting_for_the_holder_may_list_their_licenses() -> None:
    ledger, _, _, _ = issued_world()
    other_desk = Actor("officer-x", Role.OFFICER, department="zjj", on_behalf_of=COMPANY)
    with pytest.raises(UnknownLicense, match="no licenses for this holder"):
        ledger.vault.licenses_of(COMPANY, other_desk)


def test_an_amendment_issues_version_two_and_retires_the_first_credential() -> None:
    ledger, store, clock, issued = issued_world()
    amended = ledger.vault.amend(
        issued.license_id,
        Command(at=clock.tick(), actor=officer("zjj")),
        fields={"事项": "建筑工程施工许可（变更）"},
        reason="建设单位名称变更",
    )
    assert amended.license_id.split(".")[-2] == "002"
    assert amended.license_id.split(".")[:-2] == issued.license_id.split(".")[:-2]
    new = offline(ledger, store, amended.qr_text, timedelta(minutes=1), clock)
    assert new.status is VerificationStatus.VALID, new.reason  # type: ignore[attr-defined]
    assert new.claims.fields["事项"] == "建筑工程施工许可（变更）"  # type: ignore[attr-defined]
    old = offline(ledger, store, issued.qr_text, timedelta(minutes=1), clock)
    assert old.status is VerificationStatus.REVOKED  # type: ignore[attr-defined]
    assert ledger.vault.license(issued.license_id).license_id == amended.license_id


def test_a_renewal_extends_validity_in_a_new_version_and_a_shorter_one_is_refused() -> None:
    ledger, _, clock, issued = issued_world()
    later = clock.now + timedelta(days=3 * 365)
    renewed = ledger.vault.renew(
        issued.license_id, Command(at=clock.tick(), actor=officer("zjj")), valid_to=later
    )
    assert ledger.vault.license(renewed.license_id).valid_to == later.replace(microsecond=0)
    before = ledger.recorder.max_notification_id()
    with pytest.raises(LicenseError, match="valid_to: expected after the current"):
        ledger.vault.renew(
            renewed.license_id,
            Command(at=clock.tick(), actor=officer("zjj")),
            valid_to=later - timedelta(days=1),
        )
    assert ledger.recorder.max_notification_id() == before


def test_only_the_issuer_may_amend() -> None:
    ledger, _, clock, issued = issued_world()
    with pytest.raises(ActionNotPermitted, match="is for officers of 'zjj'"):
        ledger.vault.amend(
            issued.license_id,
            Command(at=clock.tick(), actor=officer("scjgj")),
            fields={"事项": "x"},
            reason="y",
        )
