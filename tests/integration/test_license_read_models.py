"""The license-side read models on real SQLite and PostgreSQL: the registry and the issuer's slots
follow a license through suspension, reinstatement and revocation; uses reach the holder's view
newest first; a rebuild of each model equals the live one."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ledger.actors import Actor, Role
from ledger.application import CaseLedger
from ledger.commands import Command
from ledger.sharing_service import holder_ref
from ledger.vault_service import IssuedLicense
from licenses.model import SlotStatus
from projections.database import Database
from projections.license_registry import SLOTS, LicenseRegistry
from projections.license_table import RegistryStatus
from projections.license_use import TABLE as USE_TABLE
from projections.license_use import LicenseUseLog
from projections.runtime import ProjectionRunner, ReadModel
from projections.shared_views import VIEWS, SharedViews
from tests.scenarios import (
    COMPANY,
    Clock,
    finish_by_courier,
    officer,
    play_permit_until_decision,
    supplement_all,
)
from tests.unit.ledger.conftest import T0, make_ledger

ZJJ = officer("zjj")
ZRZYGHJ = Actor("verifier-liu", Role.VERIFIER, department="zrzyghj")
SCJGJ = Actor("verifier-ma", Role.VERIFIER, department="scjgj")


@dataclass
class World:
    """A ledger on real storage with one issued permit, and the license models fed from it."""

    ledger: CaseLedger
    clock: Clock
    issued: IssuedLicense
    runner: ProjectionRunner
    registry: LicenseRegistry
    uses: LicenseUseLog
    shared: SharedViews

    @property
    def database(self) -> Database:
        return self.runner.database


@pytest.fixture
def world(storage_env: dict[str, str]) -> Iterator[World]:
    ledger, _ = make_ledger(storage_env)
    clock = Clock(T0)
    story = play_permit_until_decision(ledger, clock, "license-views-1")
    supplement_all(ledger, clock, story.case_id)
    issued = finish_by_courier(ledger, clock, story.case_id)
    registry, uses = LicenseRegistry(), LicenseUseLog()
    shared = SharedViews(ledger.sharing.policies, ledger.vault.types)
    runner = ProjectionRunner(ledger.recorder, [registry, uses, shared], page_size=7)
    yield World(ledger, clock, issued, runner, registry, uses, shared)
    ledger.close()


def checksum(database: Database, tables: list[str]) -> str:
    digest = hashlib.sha256()
    with database.transaction(write=False) as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")
            rows = cursor.fetchall()
            assert rows, f"expected rows in {table}"
            for row in sorted(repr(row) for row in rows):
                digest.update(f"{table}:{row}\n".encode())
    return digest.hexdigest()


def tables(model: ReadModel) -> list[str]:
    if isinstance(model, LicenseUseLog):
        return [USE_TABLE]
    extra = {"license_registry": [SLOTS], "shared_views": [VIEWS]}[model.name]
    return [model.table, *extra]  # type: ignore[attr-defined]


def test_the_registry_status_and_the_issuers_slots_follow_the_license(world: World) -> None:
    world.runner.run_once()
    index = world.issued.status_index
    vault = world.ledger.vault
    steps = [
        (None, RegistryStatus.ACTIVE, {}),
        (vault.suspend, RegistryStatus.SUSPENDED, {index: SlotStatus.SUSPENDED}),
        (vault.reinstate, RegistryStatus.ACTIVE, {}),
        (vault.revoke, RegistryStatus.REVOKED, {index: SlotStatus.REVOKED}),
    ]
    for change, status, slots in steps:
        if change is not None:
            change(
                world.issued.license_id, Command(at=world.clock.tick(), actor=ZJJ), reason="依法"
            )
            world.runner.run_once()
        record = world.registry.license(world.database, world.issued.license_id)
        assert record is not None and record.status is status
        assert world.registry.status_slots(world.database, "zjj") == slots
        license_ = vault.license(world.issued.license_id)
        assert (
            world.registry.status_slots(world.database, "zjj", include_valid=True)
            == license_.status_slots()
        )
    [revoked] = world.registry.by_holder(world.database, COMPANY)
    assert revoked.status is RegistryStatus.REVOKED
    assert world.shared.readable(world.database, "zrzyghj", holder_ref(COMPANY)) == []


def test_verifications_and_shared_views_reach_the_holders_view_newest_first(
    world: World,
) -> None:
    sharing = world.ledger.sharing
    sharing.verify(
        Command(at=world.clock.tick(), actor=ZRZYGHJ),
        purpose="规划核实",
        qr_text=world.issued.qr_text,
    )
    sharing.shared_view(
        Command(at=world.clock.tick(), actor=ZRZYGHJ), holder_id=COMPANY, purpose="规划核实"
    )
    sharing.verify(
        Command(at=world.clock.tick(), actor=SCJGJ),
        purpose="市场监管",
        license_id=world.issued.license_id,
    )
    world.runner.run_once()
    page = world.uses.holder_view(world.database, holder_ref(COMPANY), limit=2)
    assert [(e.department, e.purpose, e.kind) for e in page.entries] == [
        ("scjgj", "市场监管", "verify"),
        ("zrzyghj", "规划核实", "shared-view"),
    ]
    assert page.entries[0].at == world.clock.now and page.next_before is not None
    rest = world.uses.holder_view(world.database, holder_ref(COMPANY), before=page.next_before)
    assert [(e.department, e.kind, e.result) for e in rest.entries] == [
        ("zrzyghj", "verify", "valid")
    ]
    assert rest.next_before is None


def test_a_rebuild_of_each_license_model_equals_the_live_model(world: World) -> None:
    world.ledger.sharing.verify(
        Command(at=world.clock.tick(), actor=ZRZYGHJ),
        purpose="规划核实",
        qr_text=world.issued.qr_text,
    )
    world.ledger.vault.suspend(
        world.issued.license_id, Command(at=world.clock.tick(), actor=ZJJ), reason="整改"
    )
    world.runner.run_once()
    for model in world.runner.models.values():
        live = checksum(world.database, tables(model))
        assert world.runner.rebuild(model.name) > 0
        assert checksum(world.database, tables(model)) == live
