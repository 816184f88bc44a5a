"""The catalog view: published items by code, their versions, the version in force, withdrawals."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from ledger.actors import Channel
from ledger.catalog_data import load_sample_catalog
from ledger.commands import Command
from tests.scenarios import BUSINESS, PERMIT
from tests.unit.ledger.conftest import ADMIN, T0
from tests.unit.projections.ledger_views import Views, open_views


@pytest.fixture
def views() -> Views:
    views = open_views()
    views.run()
    return views


def test_every_published_item_is_listed_by_code_with_its_terms(views: Views) -> None:
    catalog = {terms.implementation_code: terms for terms in load_sample_catalog()}
    items = views.catalog.items(views.database)
    assert [item.code for item in items] == sorted(catalog)
    permit = views.catalog.item(views.database, PERMIT)
    assert permit is not None and permit.withdrawn_from is None
    terms = catalog[PERMIT]
    latest = permit.latest
    assert (latest.name, latest.lead_department, latest.joint_departments) == (
        terms.name,
        "zjj",
        ("zrzyghj", "xfjy", "rfb"),
    )
    assert (latest.version, latest.promised_days, latest.visit_target) == (1, 50, 1)
    assert (latest.effective_from, latest.published_at) == (terms.effective_from, T0)
    assert views.catalog.item(views.database, "nope") is None


def test_items_are_listed_per_lead_department(views: Views) -> None:
    codes = [item.code for item in views.catalog.items(views.database, department="scjgj")]
    assert BUSINESS in codes and PERMIT not in codes
    assert len(codes) == 4


def test_an_amendment_adds_a_version_that_is_in_force_only_from_its_effective_time(
    views: Views,
) -> None:
    current = views.ledger.item(BUSINESS).current
    effective = T0 + timedelta(days=30)
    views.ledger.amend_item(
        replace(current, version=2, effective_from=effective, promised_days=2),
        Command(at=T0 + timedelta(days=1), actor=ADMIN),
    )
    views.run()
    item = views.catalog.item(views.database, BUSINESS)
    assert item is not None and (item.latest.version, item.latest.promised_days) == (2, 2)
    assert [v.version for v in views.catalog.versions(views.database, BUSINESS)] == [1, 2]
    before = views.catalog.in_force(views.database, BUSINESS, effective - timedelta(seconds=1))
    after = views.catalog.in_force(views.database, BUSINESS, effective)
    assert (before and before.version, after and after.version) == (1, 2)


def test_a_withdrawn_item_has_no_version_in_force_from_its_withdrawal(views: Views) -> None:
    item = views.ledger.item(BUSINESS)
    gone = T0 + timedelta(days=10)
    item.withdraw(
        effective_from=gone,
        reason="并入一照通办",
        at=T0 + timedelta(days=1),
        actor=ADMIN,
        channel=Channel.SYSTEM,
    )
    views.ledger.save(item)
    views.run()
    listed = views.catalog.item(views.database, BUSINESS)
    assert listed is not None
    assert (listed.withdrawn_from, listed.withdrawal_reason) == (gone, "并入一照通办")
    assert views.catalog.in_force(views.database, BUSINESS, gone) is None
    assert views.catalog.in_force(views.database, BUSINESS, gone - timedelta(days=1)) is not None
