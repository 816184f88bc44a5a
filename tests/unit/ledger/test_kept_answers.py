"""A keyed verification or shared view keeps its first answer for a repeat without keeping the
holder's data in the log: the values are read again from the repeat's own request and checked
against the digest kept; a request that cannot give them back is refused."""

from __future__ import annotations

import pytest

from ledger.actors import Actor, Role
from ledger.application import CaseLedger
from ledger.commands import Command
from ledger.kept_answers import (
    AnswerNotRestored,
    kept_verification,
    kept_views,
    restored_verification,
    restored_views,
)
from licenses.credential import decode_credential
from licenses.qr import decode_qr_text
from tests.scenarios import (
    COMPANY,
    Clock,
    finish_by_courier,
    play_permit_until_decision,
    supplement_all,
)
from tests.unit.ledger.test_vault_service import issued_world

ZRZYGHJ = Actor("verifier-liu", Role.VERIFIER, department="zrzyghj")


def written_since(ledger: CaseLedger, since: int) -> bytes:
    """Every byte the ledger stored after notification ``since``."""
    notes = ledger.recorder.select_notifications(start=since + 1, limit=1000)
    return b"".join(bytes(n.state) for n in notes)


def holder_data(qr_text: str) -> list[bytes]:
    """The holder's id and every disclosed field value, as they would appear in stored bytes."""
    claims = decode_credential(decode_qr_text(qr_text)).claims
    values = [str(v).encode() for v in claims.fields.values() if len(str(v)) >= 4]
    return [claims.sub.encode(), *values]


def test_a_keyed_verification_keeps_no_holder_data_and_a_repeat_answers_the_same() -> None:
    ledger, _, clock, issued = issued_world()
    before = ledger.recorder.max_notification_id() or 0
    cmd = Command(at=clock.tick(), actor=ZRZYGHJ, command_id="check-1")

    first = ledger.sharing.verify_once(cmd, purpose="规划核实", qr_text=issued.qr_text)

    written = written_since(ledger, before)
    assert written, "the use and the kept answer are stored"
    # The search finds the data where it belongs: the license's own events hold it.
    issuance = written_since(ledger, 0)[: -len(written)]
    for value in holder_data(issued.qr_text):
        assert value in issuance, value.decode()
        assert value not in written, value.decode()
    after = ledger.recorder.max_notification_id()
    again = ledger.sharing.verify_once(cmd, purpose="规划核实", qr_text=issued.qr_text)
    assert again == first and first.claims is not None
    assert dict(again.claims.fields) == dict(first.claims.fields)  # type: ignore[union-attr]
    assert ledger.recorder.max_notification_id() == after


def test_a_keyed_verification_by_number_is_restored_from_the_vaults_credential() -> None:
    ledger, _, clock, issued = issued_world()
    cmd = Command(at=clock.tick(), actor=ZRZYGHJ, command_id="check-2")
    first = ledger.sharing.verify_once(cmd, purpose="规划核实", license_id=issued.license_id)
    again = ledger.sharing.verify_once(cmd, purpose="规划核实", license_id=issued.license_id)
    assert again == first and first.valid


def test_a_kept_verification_is_not_restored_from_another_credential() -> None:
    ledger, _, clock, issued = issued_world()
    other = finish_by_courier(ledger, clock, _decided(ledger, clock, "kept-other"))
    result = ledger.sharing.verify(
        Command(at=clock.tick(), actor=ZRZYGHJ), purpose="规划核实", qr_text=issued.qr_text
    )
    kept = kept_verification(result)
    assert restored_verification(kept, issued.qr_text) == result
    with pytest.raises(AnswerNotRestored, match="expected the credential verified then"):
        restored_verification(kept, other.qr_text)


def test_an_invalid_verification_is_kept_and_restored_without_claims() -> None:
    ledger, _, clock, issued = issued_world()
    cmd = Command(at=clock.tick(), actor=ZRZYGHJ, command_id="check-3")
    first = ledger.sharing.verify_once(cmd, purpose="规划核实", qr_text=issued.qr_text[:-3])
    again = ledger.sharing.verify_once(cmd, purpose="规划核实", qr_text=issued.qr_text[:-3])
    assert again == first and not first.valid and first.claims is None


def test_a_keyed_shared_view_keeps_no_holder_data_and_a_repeat_answers_the_same() -> None:
    ledger, _, clock, issued = issued_world()
    before = ledger.recorder.max_notification_id() or 0
    cmd = Command(at=clock.tick(), actor=ZRZYGHJ, command_id="view-1")

    first = ledger.sharing.shared_view_once(cmd, holder_id=COMPANY, purpose="规划核实")

    assert [s.license_id for s in first] == [issued.license_id]
    written = written_since(ledger, before)
    for value in holder_data(first[0].presentation):
        assert value not in written, value.decode()
    after = ledger.recorder.max_notification_id()
    again = ledger.sharing.shared_view_once(cmd, holder_id=COMPANY, purpose="规划核实")
    assert again == first
    assert ledger.recorder.max_notification_id() == after


def test_a_kept_view_is_not_restored_once_its_license_is_gone_or_shows_otherwise() -> None:
    ledger, _, clock, issued = issued_world()
    shared = ledger.sharing.shared_view(
        Command(at=clock.tick(), actor=ZRZYGHJ), holder_id=COMPANY, purpose="规划核实"
    )
    kept = kept_views(shared)
    credential = ledger.sharing._license(issued.license_id).credential  # type: ignore[union-attr]
    assert restored_views(kept, lambda _: credential) == shared
    with pytest.raises(AnswerNotRestored, match="no longer in this vault"):
        restored_views(kept, lambda _: None)
    kept["views"][0]["fields"] = kept["views"][0]["fields"][:1]
    with pytest.raises(AnswerNotRestored, match="no longer shows what the first answer showed"):
        restored_views(kept, lambda _: credential)


def _decided(ledger: CaseLedger, clock: Clock, submission: str) -> object:
    story = play_permit_until_decision(ledger, clock, submission)
    supplement_all(ledger, clock, story.case_id)
    return story.case_id
