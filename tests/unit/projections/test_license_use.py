"""The license-use log: every verification and shared-data read, seen by the holder, by license and
by department, newest first and paged."""

from __future__ import annotations

import pytest

from ledger.actors import Actor, Role
from ledger.commands import Command
from ledger.sharing_service import holder_ref
from projections.audit_index import InvalidPage
from projections.license_use import LicenseUseEntry, UsePage
from tests.scenarios import COMPANY
from tests.unit.projections.test_license_registry import LicenseViews, license_views

ZRZYGHJ = Actor("verifier-liu", Role.VERIFIER, department="zrzyghj")
SWJ = Actor("verifier-tax", Role.VERIFIER, department="swj")
HOLDER = holder_ref(COMPANY)


@pytest.fixture
def views() -> LicenseViews:
    """The permit, verified by QR, read in a shared view, verified by number after suspension."""
    views = license_views()
    sharing = views.ledger.sharing
    qr = views.issued.qr_text
    sharing.verify(Command(at=views.clock.tick(), actor=ZRZYGHJ), purpose="规划核实", qr_text=qr)
    sharing.shared_view(
        Command(at=views.clock.tick(), actor=ZRZYGHJ), holder_id=COMPANY, purpose="规划核实"
    )
    views.ledger.vault.suspend(views.issued.license_id, views.command(), reason="整改")
    sharing.verify(
        Command(at=views.clock.tick(), actor=SWJ),
        purpose="税务登记",
        license_id=views.issued.license_id,
    )
    views.run()
    return views


def pages(fetch: object, limit: int) -> list[LicenseUseEntry]:
    entries: list[LicenseUseEntry] = []
    before: int | None = None
    while True:
        page: UsePage = fetch(before=before, limit=limit)  # type: ignore[operator]
        entries += page.entries
        if page.next_before is None:
            return entries
        before = page.next_before


def test_the_holder_sees_who_used_their_license_when_and_why_newest_first(
    views: LicenseViews,
) -> None:
    page = views.uses.holder_view(views.database, HOLDER)
    assert page.next_before is None
    assert [(e.department, e.principal, e.purpose, e.kind, e.result) for e in page.entries] == [
        ("swj", "verifier-tax", "税务登记", "verify", "suspended"),
        ("zrzyghj", "verifier-liu", "规划核实", "shared-view", "read"),
        ("zrzyghj", "verifier-liu", "规划核实", "verify", "valid"),
    ]
    ats = [e.at for e in page.entries]
    assert ats == sorted(ats, reverse=True) and ats[0] == views.clock.now
    ids = [e.notification_id for e in page.entries]
    assert ids == sorted(ids, reverse=True)
    assert {e.license_id for e in page.entries} == {views.issued.license_id}
    assert {e.holder_ref for e in page.entries} == {HOLDER}


def test_each_use_lists_the_fields_that_were_seen(views: LicenseViews) -> None:
    shared, verified = views.uses.holder_view(views.database, HOLDER).entries[1:]
    assert set(shared.fields) == {"名称", "事项", "决定依据"}
    assert set(verified.fields) == {"名称", "事项", "决定依据", "受理编号"}


def test_pages_chain_through_next_before_to_the_same_entries(views: LicenseViews) -> None:
    whole = views.uses.holder_view(views.database, HOLDER).entries
    assert pages(lambda **kw: views.uses.holder_view(views.database, HOLDER, **kw), 1) == list(
        whole
    )
    first = views.uses.holder_view(views.database, HOLDER, limit=2)
    assert first.entries == whole[:2] and first.next_before == whole[1].notification_id


def test_a_licenses_uses_and_a_departments_uses_are_listed(views: LicenseViews) -> None:
    by_license = views.uses.license_uses(views.database, views.issued.license_id)
    assert [e.kind for e in by_license.entries] == ["verify", "shared-view", "verify"]
    by_swj = views.uses.department_uses(views.database, "swj")
    assert [(e.purpose, e.result) for e in by_swj.entries] == [("税务登记", "suspended")]
    assert views.uses.department_uses(views.database, "zjj").entries == ()


def test_a_use_of_an_unreadable_qr_is_the_departments_record_and_nobody_elses(
    views: LicenseViews,
) -> None:
    views.ledger.sharing.verify(
        Command(at=views.clock.tick(), actor=SWJ),
        purpose="税务登记",
        qr_text=views.issued.qr_text[:-3],
    )
    views.run()
    newest = views.uses.department_uses(views.database, "swj").entries[0]
    assert (newest.license_id, newest.holder_ref, newest.fields) == ("?", "", ())
    assert newest.result != "valid"
    assert views.uses.license_uses(views.database, "?").entries == (newest,)
    assert views.uses.holder_view(views.database, "").entries == ()
    assert len(views.uses.holder_view(views.database, HOLDER).entries) == 3


def test_a_page_out_of_range_is_refused(views: LicenseViews) -> None:
    with pytest.raises(InvalidPage, match="expected 1 <= limit <= 1000"):
        views.uses.holder_view(views.database, HOLDER, limit=0)
    with pytest.raises(InvalidPage, match="got limit 5, before 0"):
        views.uses.department_uses(views.database, "swj", before=0, limit=5)


def test_a_rebuild_gives_the_same_log(views: LicenseViews) -> None:
    before = views.uses.department_uses(views.database, "zrzyghj")
    assert views.runner.rebuild("license_use") > 0
    assert views.uses.department_uses(views.database, "zrzyghj") == before
