"""Running commands: once per command id (a repeat returns the first result and writes nothing,
other arguments are refused), and on a case only at its expected version, by its departments."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger.actors import Channel
from ledger.application import CaseLedger
from ledger.case import Case, CaseStatus
from ledger.commands import Command, IdempotencyConflict
from ledger.errors import ActionNotPermitted, ConcurrencyError, UnknownCase
from tests.scenarios import (
    COMPANY,
    DESK,
    Clock,
    officer,
    permit_materials,
    play_permit_until_decision,
    supplement_all,
)
from tests.unit.ledger.conftest import PERMIT_ITEM, T0, event_count, online


def test_a_repeated_command_id_returns_the_first_result_and_writes_nothing(
    ledger: CaseLedger,
) -> None:
    clock = Clock(T0)
    cmd = online(clock, command_id="cmd-42")
    first = ledger.submit(
        cmd,
        submission_id="idem",
        item_code=PERMIT_ITEM,
        applicant_id=COMPANY,
        materials=permit_materials(),
    )
    before = event_count(ledger)
    again = ledger.submit(
        cmd,
        submission_id="idem",
        item_code=PERMIT_ITEM,
        applicant_id=COMPANY,
        materials=permit_materials(),
    )
    assert again == first
    assert event_count(ledger) == before


def test_a_command_id_reused_with_other_arguments_is_refused(ledger: CaseLedger) -> None:
    clock = Clock(T0)
    cmd = online(clock, command_id="cmd-7")
    ledger.submit(
        cmd,
        submission_id="a",
        item_code=PERMIT_ITEM,
        applicant_id=COMPANY,
        materials=permit_materials(),
    )
    with pytest.raises(IdempotencyConflict, match="command id 'cmd-7' was used for 'submit'"):
        ledger.submit(
            cmd,
            submission_id="b",
            item_code=PERMIT_ITEM,
            applicant_id=COMPANY,
            materials=permit_materials(),
        )
    with pytest.raises(UnknownCase):
        ledger.case(Case.create_id("b"))


def test_a_stale_expected_version_is_a_concurrency_error_with_the_current_version(
    ledger: CaseLedger,
) -> None:
    clock = Clock(T0)
    case_id = ledger.submit(
        online(clock),
        submission_id="cc",
        item_code=PERMIT_ITEM,
        applicant_id=COMPANY,
        materials=permit_materials(),
    )
    with pytest.raises(ConcurrencyError, match="expected version 7, current version 1") as info:
        ledger.accept_with_tolerance(
            case_id,
            Command(at=clock.tick(), actor=DESK, channel=Channel.WINDOW, expected_version=7),
            commitment="承诺补齐",
            commitment_due=T0.date() + timedelta(days=5),
        )
    assert info.value.current_version == 1
    assert ledger.case(case_id).status is CaseStatus.SUBMITTED


def test_a_department_outside_the_case_cannot_act_on_it(ledger: CaseLedger) -> None:
    clock = Clock(T0)
    story = play_permit_until_decision(ledger, clock, "permit-3")
    supplement_all(ledger, clock, story.case_id)
    version = ledger.case(story.case_id).version
    with pytest.raises(ActionNotPermitted, match=r"issue_license on this case is for .*\['zjj'\]"):
        ledger.issue_license(story.case_id, Command(at=clock.tick(), actor=officer("scjgj")))
    with pytest.raises(ActionNotPermitted, match="got an officer of 'xfjy'"):
        ledger.issue_license(story.case_id, Command(at=clock.tick(), actor=officer("xfjy")))
    assert ledger.case(story.case_id).version == version


def test_an_unknown_case_id_is_reported(ledger: CaseLedger) -> None:
    from uuid import uuid4

    missing = uuid4()
    with pytest.raises(UnknownCase, match=f"no case with id {missing}"):
        ledger.receive(missing, Command(at=T0, actor=DESK))
