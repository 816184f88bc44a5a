"""The case ledger on real SQLite and PostgreSQL: the same story, reloaded and verified by a
fresh process, concurrent writers, idempotent repeats, and nothing stored on bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from eventsourcing.persistence import RecordConflictError

from ledger.actors import Channel
from ledger.case import CaseStatus
from ledger.commands import Command
from ledger.documents import DocumentRef
from ledger.errors import ConcurrencyError, InvalidDocument, MainMaterialMissing
from tests.integration.conftest import Pair
from tests.scenarios import (
    APPLICANT,
    COMPANY,
    DESK,
    PERMIT,
    Clock,
    finish_by_courier,
    permit_materials,
    play_permit_until_decision,
    supplement_all,
)
from tests.unit.ledger.conftest import T0


def test_a_full_case_reloads_verified_in_another_process(pair: Pair) -> None:
    clock = Clock(T0)
    story = play_permit_until_decision(pair.ledger, clock, "permit-int-1")
    supplement_all(pair.ledger, clock, story.case_id)
    issued = finish_by_courier(pair.ledger, clock, story.case_id)
    case = pair.another().case(story.case_id)
    assert case.status is CaseStatus.CLOSED
    assert case.version == pair.ledger.case(story.case_id).version == 15
    assert case.due == story.due
    assert set(case.opinions) == {"zjj", "zrzyghj", "xfjy", "rfb"}
    assert case.license_ref == issued.license_id


def test_two_processes_changing_one_case_conflict_with_the_current_version(pair: Pair) -> None:
    clock = Clock(T0)
    case_id = pair.ledger.submit(
        Command(at=clock.tick(), actor=APPLICANT, channel=Channel.ONLINE),
        submission_id="race",
        item_code=PERMIT,
        applicant_id=COMPANY,
        materials=permit_materials(),
    )
    other = pair.another()
    stale = other.case(case_id)  # loaded at version 1 by the second process
    pair.ledger.accept_with_tolerance(
        case_id,
        Command(at=clock.tick(), actor=DESK, channel=Channel.WINDOW),
        commitment="承诺补齐",
        commitment_due=T0.date() + timedelta(days=5),
    )
    stale.withdraw(reason="不再需要", at=clock.tick(), actor=APPLICANT, channel=Channel.ONLINE)
    with pytest.raises(RecordConflictError):
        other.save(stale)
    with pytest.raises(ConcurrencyError, match="current version 2"):
        other.withdraw(
            case_id,
            Command(at=clock.tick(), actor=APPLICANT, channel=Channel.ONLINE, expected_version=1),
            reason="不再需要",
        )
    assert pair.another().case(case_id).status is CaseStatus.RECEIVED


def test_idempotent_repeat_writes_nothing_on_real_storage(pair: Pair) -> None:
    clock = Clock(T0)
    cmd = Command(at=clock.tick(), actor=APPLICANT, channel=Channel.ONLINE, command_id="c-1")
    first = pair.ledger.submit(
        cmd,
        submission_id="idem",
        item_code=PERMIT,
        applicant_id=COMPANY,
        materials=permit_materials(),
    )
    before = pair.ledger.recorder.max_notification_id()
    again = pair.another().submit(
        cmd,
        submission_id="idem",
        item_code=PERMIT,
        applicant_id=COMPANY,
        materials=permit_materials(),
    )
    assert again == first
    assert pair.ledger.recorder.max_notification_id() == before


def test_bad_commands_store_nothing_on_real_storage(pair: Pair) -> None:
    clock = Clock(T0)
    before = pair.ledger.recorder.max_notification_id()
    with pytest.raises(InvalidDocument, match="sha256 must be 64 lowercase hex"):
        DocumentRef("XYZ", 10, "application/pdf")
    materials = permit_materials()
    del materials["sght"]  # a main material
    case_id = pair.ledger.submit(
        Command(at=clock.tick(), actor=APPLICANT, channel=Channel.ONLINE),
        submission_id="incomplete",
        item_code=PERMIT,
        applicant_id=COMPANY,
        materials=materials,
    )
    after_submit = pair.ledger.recorder.max_notification_id()
    assert after_submit is not None and before is not None and after_submit == before + 1
    with pytest.raises(MainMaterialMissing, match="sght"):
        pair.ledger.accept_with_tolerance(
            case_id,
            Command(at=clock.tick(), actor=DESK, channel=Channel.WINDOW),
            commitment="承诺",
            commitment_due=T0.date() + timedelta(days=3),
        )
    assert pair.ledger.recorder.max_notification_id() == after_submit
