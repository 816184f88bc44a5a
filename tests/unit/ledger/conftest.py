"""A provisioned ledger in memory (POPO recorder): keys, sample catalog, a fixed clock; online
commands and an event count for the application tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from keys.store import InMemoryKeyStore
from ledger.actors import Actor, Channel, Role
from ledger.application import CaseLedger
from ledger.calendar import load_calendar
from ledger.catalog_data import load_sample_catalog, load_sample_departments
from ledger.commands import Command
from ledger.provisioning import provision
from licenses.types import load_license_types
from tests.scenarios import APPLICANT, Clock

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in China
ADMIN = Actor("admin-zhao", Role.ADMIN)
PERMIT_ITEM = "11512000MB1546347P000101003000"


def make_ledger(env: dict[str, str] | None = None) -> tuple[CaseLedger, InMemoryKeyStore]:
    """Return a provisioned ledger over ``env`` (in-memory by default) and its key store."""
    store = InMemoryKeyStore()
    root = store.generate("root")
    ledger = CaseLedger(
        env or {"PERSISTENCE_MODULE": "eventsourcing.popo"},
        key_store=store,
        root_public_key_der=root.public_key_der(),
        calendar=load_calendar(),
    )
    catalog = load_sample_catalog()
    license_types = load_license_types().type_codes_by_issuer()
    provision(
        ledger,
        store,
        departments=load_sample_departments(),
        license_types=license_types,
        couriers=["ems"],
        catalog=catalog,
        admin=ADMIN,
        at=T0,
    )
    return ledger, store


def event_count(ledger: CaseLedger) -> int:
    """The number of events the ledger has recorded so far."""
    return ledger.recorder.max_notification_id() or 0


def online(clock: Clock, **kwargs: object) -> Command:
    """An online command by the applicant at the clock's next tick."""
    return Command(at=clock.tick(), actor=APPLICANT, channel=Channel.ONLINE, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def ledger() -> CaseLedger:
    return make_ledger()[0]
