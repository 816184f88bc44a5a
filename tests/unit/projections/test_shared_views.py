"""Shared-data views: each department's policy listing, and per (department, holder) the licenses
it could read with the allowed fields, following issuance, amendment, suspension and revocation."""

from __future__ import annotations

import pytest

from ledger.actors import Actor, Role
from ledger.commands import Command
from ledger.sharing_service import holder_ref
from licenses.model import LicenseState
from licenses.types import load_license_types
from licenses.usage import SharingPolicies, SharingRule, load_sharing_policies
from projections.license_table import RegistryStatus
from projections.shared_views import PolicyEntry, SharedViews, UnknownSharedType
from tests.scenarios import COMPANY
from tests.unit.projections.test_license_registry import PERMIT_TYPE, LicenseViews, license_views

HOLDER = holder_ref(COMPANY)
PLANNING = "规划核实"


@pytest.fixture
def views() -> LicenseViews:
    return license_views()


def test_a_departments_policy_lists_types_fields_and_purposes() -> None:
    shared = SharedViews(load_sharing_policies(), load_license_types())
    assert shared.departments() == ("scjgj", "swj", "zjj", "zrzyghj")
    assert shared.policy("zrzyghj") == (
        PolicyEntry(
            "zrzyghj",
            "yyzz",
            load_license_types().get("yyzz").type_code,
            "营业执照",
            ("名称", "事项"),
            ("不动产登记",),
        ),
        PolicyEntry(
            "zrzyghj",
            "sgxkz",
            PERMIT_TYPE,
            "建筑工程施工许可证",
            ("名称", "事项", "决定依据"),
            (PLANNING,),
        ),
    )
    assert shared.policy("nobody") == ()


def test_a_policy_naming_an_unknown_license_type_is_refused() -> None:
    policies = SharingPolicies({"x": (SharingRule("nope", ("名称",), ("p",)),)})
    with pytest.raises(UnknownSharedType, match="department 'x': expected a license type among"):
        SharedViews(policies, load_license_types())


def test_a_department_could_read_the_holders_permit_with_the_allowed_fields(
    views: LicenseViews,
) -> None:
    [readable] = views.shared.readable(views.database, "zrzyghj", HOLDER)
    assert (readable.license_id, readable.license_type, readable.issuer, readable.purpose) == (
        views.issued.license_id,
        "sgxkz",
        "zjj",
        PLANNING,
    )
    assert readable.fields == ("名称", "事项", "决定依据")
    assert readable.state(views.clock.now) is LicenseState.ACTIVE
    assert views.shared.readable(views.database, "zrzyghj", HOLDER, purpose="不动产登记") == []
    assert views.shared.readable(views.database, "swj", HOLDER) == []
    assert views.shared.readable(views.database, "zrzyghj", holder_ref("someone else")) == []


def test_the_view_agrees_with_what_the_sharing_service_shows(views: LicenseViews) -> None:
    actor = Actor("verifier-liu", Role.VERIFIER, department="zrzyghj")
    [shown] = views.ledger.sharing.shared_view(
        Command(at=views.clock.tick(), actor=actor), holder_id=COMPANY, purpose=PLANNING
    )
    [readable] = views.shared.readable(views.database, "zrzyghj", HOLDER, purpose=PLANNING)
    assert set(shown.fields) == set(readable.fields)
    assert (shown.license_id, shown.license_type) == (readable.license_id, readable.license_type)


def test_an_amendment_that_drops_a_field_narrows_the_view(views: LicenseViews) -> None:
    new_id = views.new_version("amend", fields={"名称": "建筑工程施工许可证"}, reason="更正")
    views.run()
    [readable] = views.shared.readable(views.database, "zrzyghj", HOLDER)
    assert (readable.license_id, readable.fields) == (new_id, ("名称",))


def test_suspension_shows_in_the_view_and_revocation_removes_the_license(
    views: LicenseViews,
) -> None:
    views.ledger.vault.suspend(views.issued.license_id, views.command(), reason="整改")
    views.run()
    [readable] = views.shared.readable(views.database, "zrzyghj", HOLDER)
    assert readable.status is RegistryStatus.SUSPENDED
    assert readable.state(views.clock.now) is LicenseState.SUSPENDED
    views.ledger.vault.revoke(views.issued.license_id, views.command(), reason="依法撤销")
    views.run()
    assert views.shared.readable(views.database, "zrzyghj", HOLDER) == []


def test_a_rebuild_gives_the_same_view(views: LicenseViews) -> None:
    before = views.shared.readable(views.database, "zrzyghj", HOLDER)
    assert views.runner.rebuild("shared_views") > 0
    assert views.shared.readable(views.database, "zrzyghj", HOLDER) == before
