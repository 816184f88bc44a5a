"""The license registry: one row per lineage found by any version, by holder and by issuer; the
status follows the license's events and the issuer's slots match the aggregate's own."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from ledger.application import CaseLedger
from ledger.commands import Command
from ledger.sharing_service import holder_ref
from ledger.vault_service import IssuedLicense
from licenses.domain import License
from licenses.identifiers import LicenseId
from licenses.model import LicenseState, SlotStatus
from licenses.types import load_license_types
from projections.database import Database
from projections.license_registry import LicenseRegistry
from projections.license_table import LicenseNotIssued, NaiveTime, RegistryStatus
from projections.license_use import LicenseUseLog
from projections.runtime import ProjectionRunner
from projections.shared_views import SharedViews
from tests.scenarios import COMPANY, Clock, officer
from tests.unit.ledger.test_vault_service import issued_world
from tests.unit.projections.ledger_views import memory_database

ZJJ = officer("zjj")
PERMIT_TYPE = load_license_types().get("sgxkz").type_code


@dataclass
class LicenseViews:
    """A ledger with one issued construction permit and the license-side read models."""

    ledger: CaseLedger
    clock: Clock
    issued: IssuedLicense
    database: Database
    runner: ProjectionRunner
    registry: LicenseRegistry
    uses: LicenseUseLog
    shared: SharedViews

    def run(self) -> int:
        """Catch every model up with the log."""
        return self.runner.run_once()

    def command(self) -> Command:
        """A command of the issuing department's officer, one tick later."""
        return Command(at=self.clock.tick(), actor=ZJJ)

    def license(self) -> License:
        """The issued license as the write side holds it."""
        return self.ledger.vault.license(self.issued.license_id)

    def new_version(self, change: str, **kwargs: object) -> str:
        """Amend or renew the license as version 2 in a fresh slot; return the new id."""
        license_ = self.license()
        new_id = str(replace(LicenseId.parse(license_.license_id), version=2))
        getattr(license_, change)(
            license_id=new_id,
            credential=b"version-2 credential",
            status_index=(license_.status_index + 1) % 100_000,
            at=self.clock.tick(),
            actor=ZJJ.as_dict(),
            channel="system",
            **kwargs,
        )
        self.ledger.save(license_)
        return new_id


def license_views() -> LicenseViews:
    """Play a permit to issuance, then project it into a private in-memory database."""
    ledger, _, clock, issued = issued_world()
    models = (
        LicenseRegistry(),
        LicenseUseLog(),
        SharedViews(ledger.sharing.policies, ledger.vault.types),
    )
    runner = ProjectionRunner(ledger.recorder, models, database=memory_database())
    views = LicenseViews(ledger, clock, issued, runner.database, runner, *models)  # type: ignore[arg-type]
    views.run()
    return views


@pytest.fixture
def views() -> LicenseViews:
    return license_views()


def test_an_issued_license_has_one_row_with_its_type_issuer_validity_and_slot(
    views: LicenseViews,
) -> None:
    record = views.registry.license(views.database, views.issued.license_id)
    license_ = views.license()
    assert record is not None
    assert (record.license_id, record.lineage, record.aggregate_id) == (
        views.issued.license_id,
        license_.lineage,
        license_.id,
    )
    assert (record.type_code, record.issuer, record.case_id) == (
        PERMIT_TYPE,
        "zjj",
        license_.case_id,
    )
    assert (record.version, record.status, record.status_index) == (
        1,
        RegistryStatus.ACTIVE,
        views.issued.status_index,
    )
    assert (record.valid_from, record.valid_to) == (license_.valid_from, None)
    assert record.issued_at == record.updated_at == license_.issued_at
    assert record.field_names == tuple(sorted(license_.fields))
    assert record.state(views.clock.now) is LicenseState.ACTIVE


def test_a_holder_is_found_by_their_id_but_only_a_reference_is_stored(
    views: LicenseViews,
) -> None:
    [record] = views.registry.by_holder(views.database, COMPANY)
    assert record.holder_ref == holder_ref(COMPANY)
    assert views.registry.by_holder(views.database, "91512000MA6CXXXXX0") == []
    with views.database.transaction(write=False) as cursor:
        for table in ("license_registry", "license_status_slots", "shared_view_licenses"):
            cursor.execute(f"SELECT * FROM {table}")
            assert COMPANY not in repr(cursor.fetchall())


def test_licenses_are_listed_by_issuer(views: LicenseViews) -> None:
    assert [r.license_id for r in views.registry.by_issuer(views.database, "zjj")] == [
        views.issued.license_id
    ]
    assert views.registry.by_issuer(views.database, "scjgj") == []


def test_an_unknown_or_malformed_license_id_finds_nothing(views: LicenseViews) -> None:
    other = str(replace(LicenseId.parse(views.issued.license_id), serial="0000000000000000"))
    assert views.registry.license(views.database, other) is None
    assert views.registry.license(views.database, "not a license id") is None


def test_suspension_reinstatement_and_revocation_follow_into_the_row_and_the_slots(
    views: LicenseViews,
) -> None:
    index = views.issued.status_index
    steps = [
        (views.ledger.vault.suspend, RegistryStatus.SUSPENDED, {index: SlotStatus.SUSPENDED}),
        (views.ledger.vault.reinstate, RegistryStatus.ACTIVE, {}),
        (views.ledger.vault.revoke, RegistryStatus.REVOKED, {index: SlotStatus.REVOKED}),
    ]
    for change, status, slots in steps:
        change(views.issued.license_id, views.command(), reason="依法处理")
        views.run()
        record = views.registry.license(views.database, views.issued.license_id)
        assert record is not None and record.status is status
        assert record.updated_at == views.clock.now
        assert views.registry.status_slots(views.database, "zjj") == slots
        assert (
            views.registry.status_slots(views.database, "zjj", include_valid=True)
            == views.license().status_slots()
        )
    assert views.registry.status_list(views.database, "zjj").get(index) is SlotStatus.REVOKED


def test_an_amended_license_is_found_by_either_version_and_its_old_slot_is_revoked(
    views: LicenseViews,
) -> None:
    old_index = views.issued.status_index
    fields = {"名称": "建筑工程施工许可证", "事项": "变更"}
    new_id = views.new_version("amend", fields=fields, reason="变更建设单位")
    views.run()
    by_old = views.registry.license(views.database, views.issued.license_id)
    assert by_old is not None and by_old == views.registry.license(views.database, new_id)
    assert (by_old.license_id, by_old.version, by_old.field_names) == (
        new_id,
        2,
        ("事项", "名称"),
    )
    assert views.registry.status_slots(views.database, "zjj") == {old_index: SlotStatus.REVOKED}
    assert (
        views.registry.status_slots(views.database, "zjj", include_valid=True)
        == views.license().status_slots()
    )


def test_expiry_is_derived_at_query_time_from_a_renewed_validity(views: LicenseViews) -> None:
    now = views.clock.now
    valid_to = datetime(2031, 3, 1, tzinfo=UTC)
    views.new_version("renew", valid_from=now.replace(microsecond=0), valid_to=valid_to)
    views.run()
    record = views.registry.license(views.database, views.issued.license_id)
    assert record is not None and record.valid_to == valid_to
    assert record.state(valid_to - timedelta(seconds=1)) is LicenseState.ACTIVE
    assert record.state(valid_to) is LicenseState.EXPIRED
    counts = views.registry.status_counts(views.database, now=valid_to, issuer="zjj")
    assert counts[LicenseState.EXPIRED] == 1 and sum(counts.values()) == 1
    assert views.registry.status_counts(views.database, now=now)[LicenseState.ACTIVE] == 1


def test_counts_cover_every_state_and_revocation_outranks_expiry(views: LicenseViews) -> None:
    views.ledger.vault.suspend(views.issued.license_id, views.command(), reason="整改")
    views.run()
    counts = views.registry.status_counts(views.database, now=views.clock.now)
    assert counts == {state: int(state is LicenseState.SUSPENDED) for state in LicenseState}
    views.ledger.vault.revoke(views.issued.license_id, views.command(), reason="依法撤销")
    views.run()
    later = views.registry.status_counts(views.database, now=views.clock.now)
    assert later[LicenseState.REVOKED] == 1
    assert views.registry.status_counts(views.database, now=views.clock.now, issuer="x") == {
        state: 0 for state in LicenseState
    }


def test_a_naive_query_time_is_refused(views: LicenseViews) -> None:
    with pytest.raises(NaiveTime, match="expected a timezone-aware datetime as now"):
        views.registry.status_counts(views.database, now=datetime(2026, 3, 5))
    record = views.registry.license(views.database, views.issued.license_id)
    assert record is not None
    with pytest.raises(NaiveTime, match="got datetime.datetime"):
        record.state(datetime(2026, 3, 5))


def test_a_status_change_without_the_issuance_is_refused(views: LicenseViews) -> None:
    views.ledger.vault.suspend(views.issued.license_id, views.command(), reason="整改")
    [suspended] = [
        n
        for n in views.ledger.recorder.select_notifications(start=1, limit=10_000)
        if n.topic == "license.Suspended"
    ]
    fresh = LicenseRegistry()
    database = memory_database()
    with database.transaction() as cursor:
        fresh.create_tables(cursor)
        with pytest.raises(LicenseNotIssued, match="expected license.Issued first for stream"):
            fresh.apply(cursor, suspended)


def test_a_rebuild_gives_the_same_rows(views: LicenseViews) -> None:
    views.ledger.vault.suspend(views.issued.license_id, views.command(), reason="整改")
    views.run()
    before = views.registry.by_issuer(views.database, "zjj")
    slots = views.registry.status_slots(views.database, "zjj", include_valid=True)
    assert views.runner.rebuild("license_registry") > 0
    assert views.registry.by_issuer(views.database, "zjj") == before
    assert views.registry.status_slots(views.database, "zjj", include_valid=True) == slots
