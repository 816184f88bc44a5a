"""A provisioned ledger in memory (POPO recorder): keys, sample catalog, a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from keys.store import InMemoryKeyStore
from ledger.actors import Actor, Role
from ledger.application import CaseLedger
from ledger.calendar import load_calendar
from ledger.catalog_data import load_sample_catalog, load_sample_departments
from ledger.provisioning import provision
from licenses.types import load_license_types

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in China
ADMIN = Actor("admin-zhao", Role.ADMIN)


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


@pytest.fixture
def ledger() -> CaseLedger:
    return make_ledger()[0]
