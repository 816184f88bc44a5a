"""The audit index: every signed event under its actor and department, with its key id, paged."""

from __future__ import annotations

from datetime import timedelta

import pytest

from keys.registry import kid_for
from projections.audit_index import AuditEntry, InvalidPage
from projections.runtime import decode_envelope
from tests.scenarios import BUSINESS, COMPANY, Clock, play_permit_until_decision
from tests.unit.ledger.conftest import T0
from tests.unit.projections.ledger_views import PROXY, Desk, Views, local_day, open_views


@pytest.fixture
def views() -> Views:
    views = open_views()
    play_permit_until_decision(views.ledger, Clock(T0), "permit-1")
    views.run()
    return views


def everything(views: Views, principal: str, limit: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    after: int | None = 0
    while after is not None:
        page = views.audit.by_actor(views.database, principal, after=after, limit=limit)
        entries += page.entries
        after = page.next_after
    return entries


def test_every_signed_event_is_indexed_under_its_actor(views: Views) -> None:
    log = views.ledger.recorder.select_notifications(start=1, limit=10_000)
    with views.database.transaction(write=False) as cursor:
        cursor.execute("SELECT COUNT(*) FROM audit_index")
        assert cursor.fetchone() == (len(log),)
    expected = [
        (n.id, n.topic)
        for n in log
        if decode_envelope(n.state)["actor"]["principal"] == "officer-zjj"
    ]
    found = everything(views, "officer-zjj", limit=100)
    assert [(e.notification_id, e.type) for e in found] == expected
    assert [e.type for e in found][:2] == ["case.OpinionGiven", "case.Suspended"]
    assert {(e.role, e.department, e.on_behalf_of) for e in found} == {("officer", "zjj", None)}


def test_each_entry_names_the_key_that_signed_it(views: Views) -> None:
    seal = kid_for(views.store.signer("dept-zjj").public_key_der()).hex()
    assert {e.kid for e in everything(views, "officer-zjj", limit=100)} == {seal}
    [opinion] = everything(views, "officer-xfjy", limit=100)
    assert opinion.kid == kid_for(views.store.signer("dept-xfjy").public_key_der()).hex()
    # Submission, acceptance and two opinions came first, ten minutes apart.
    assert (opinion.at, opinion.channel) == (T0 + timedelta(minutes=50), "system")


def test_pages_chain_through_next_after_to_the_same_entries(views: Views) -> None:
    whole = everything(views, "officer-zjj", limit=100)
    assert len(whole) >= 4
    assert everything(views, "officer-zjj", limit=1) == whole
    page = views.audit.by_actor(views.database, "officer-zjj", limit=len(whole))
    assert page.next_after is None and list(page.entries) == whole


def test_a_department_sees_every_event_its_officers_signed(views: Views) -> None:
    page = views.audit.by_department(views.database, "zwfwzx", limit=100)
    assert [(e.principal, e.type) for e in page.entries] == [
        ("officer-chen", "case.AcceptedWithTolerance")
    ]
    assert views.audit.by_department(views.database, "nobody").entries == ()


def test_staff_acting_on_behalf_of_an_applicant_are_found_under_the_applicant(
    views: Views,
) -> None:
    case_id = Desk(views.ledger).submit(BUSINESS, local_day(3), window=True, actor=PROXY)
    views.run()
    [entry] = views.audit.on_behalf_of(views.database, COMPANY).entries
    assert (entry.principal, entry.stream, entry.type) == (
        "officer-wang",
        case_id,
        "case.Submitted",
    )


@pytest.mark.parametrize(("after", "limit"), [(0, 0), (0, 1001), (-1, 10)])
def test_a_page_out_of_range_is_refused(views: Views, after: int, limit: int) -> None:
    with pytest.raises(InvalidPage, match=rf"got limit {limit}, after {after}"):
        views.audit.by_actor(views.database, "officer-zjj", after=after, limit=limit)
