"""The License aggregate: issue, amend, renew, suspend, reinstate, revoke; state over time."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest

from licenses.domain import License
from licenses.errors import (
    LicenseCommandRefused,
    LicenseError,
    LicenseExpired,
    LicenseRevoked,
    LicenseSuspended,
)
from licenses.guards import lineage_of
from licenses.identifiers import LicenseId
from licenses.model import LicenseState, SlotStatus
from tests.unit.licenses.conftest import (
    FIELDS,
    HOLDER,
    ISSUER,
    ISSUER_USCC,
    LICENSE_ID,
    OTHER_ISSUER,
    T0,
    TYPE_CODE,
)

CASE = UUID("00000000-0000-4000-8000-000000000001")
OFFICER: dict[str, str | None] = {
    "principal": "officer-7",
    "role": "officer",
    "department": ISSUER,
    "on_behalf_of": None,
}
V2 = str(LicenseId.parse(LICENSE_ID).next_version())
V3 = str(LicenseId.parse(V2).next_version())
VALID_TO = T0 + timedelta(days=365)


def issue(**changes: Any) -> License:
    """A license issued at T0, valid for a year, in slot 10."""
    values: dict[str, Any] = {
        "case_id": CASE,
        "license_id": LICENSE_ID,
        "license_type": TYPE_CODE,
        "holder_id": HOLDER,
        "issuer": ISSUER,
        "fields": dict(FIELDS),
        "valid_from": T0,
        "valid_to": VALID_TO,
        "credential": b"\xd2cose-v1",
        "status_index": 10,
        "at": T0,
        "actor": dict(OFFICER),
        "channel": "window",
    }
    values.update(changes)
    return License.issue(**values)


def later(days: float) -> datetime:
    """T0 plus ``days``."""
    return T0 + timedelta(days=days)


def by(at: datetime) -> dict[str, Any]:
    """The common keyword arguments of a command at ``at``."""
    return {"at": at, "actor": dict(OFFICER), "channel": "online"}


# --- issuing ---------------------------------------------------------------------------------


def test_issued_license_has_a_deterministic_id_per_lineage() -> None:
    license_ = issue()
    lineage = lineage_of(LICENSE_ID)
    assert lineage == f"1.2.156.3005.2.{TYPE_CODE}.{ISSUER_USCC}.20230000403"
    assert license_.id == License.create_id(lineage) == License.create_id(lineage_of(V2))
    assert license_.license_version == 1
    assert license_.status_at(later(1)) is LicenseState.ACTIVE
    assert [type(e).__name__ for e in license_.collect_events()] == ["Issued"]


def test_events_carry_only_primitive_values() -> None:
    event = issue().collect_events()[0]
    allowed = (str, int, bool, bytes, datetime, UUID, list, dict, type(None))
    payload = {k: v for k, v in vars(event).items() if k not in ("originator_topic",)}
    assert all(isinstance(value, allowed) for value in payload.values()), payload
    assert event.actor == OFFICER  # type: ignore[attr-defined]
    assert event.channel == "window"  # type: ignore[attr-defined]


def test_aggregate_declares_the_event_store_conventions() -> None:
    assert License.TOPIC_PREFIX == "license"
    assert License.ACTOR_FORMAT == "mapping"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"license_id": "1.2.3"}, "expected prefix '1.2.156.3005.2.'"),
        ({"license_type": "11100000000013338W012"}, "license type: expected the license id's"),
        ({"holder_id": "110105194912310021"}, "holder id: expected a normalised citizen id"),
        ({"case_id": "case-1"}, "case id: expected a UUID, got 'case-1'"),
        ({"valid_to": T0}, "valid_to: expected after valid_from"),
        ({"valid_from": datetime(2026, 1, 5)}, "valid_from: expected an aware UTC datetime"),
        ({"at": T0.astimezone(timezone(timedelta(hours=8)))}, "at: expected an aware UTC"),
        ({"credential": b""}, "credential: expected non-empty COSE bytes"),
        ({"status_index": -1}, "status index: expected a non-negative int, got -1"),
        ({"fields": {"area": 1.5}}, "field 'area': expected text, int or bool, got float"),
        ({"channel": " "}, "channel: expected non-blank text"),
        ({"actor": {"principal": "x"}}, "actor: expected keys"),
        ({"actor": {**OFFICER, "principal": ""}}, "actor principal: expected non-blank text"),
        ({"actor": {**OFFICER, "department": OTHER_ISSUER}}, "actor department: expected"),
    ],
    ids=[
        "bad-license-id",
        "type-mismatch",
        "bad-holder",
        "case-id-text",
        "empty-validity",
        "naive-validity",
        "non-utc-at",
        "no-credential",
        "negative-index",
        "float-field",
        "blank-channel",
        "actor-keys",
        "blank-principal",
        "other-department",
    ],
)
def test_issue_refuses_bad_arguments(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(LicenseCommandRefused, match=message):
        issue(**changes)


def test_license_errors_share_the_package_base() -> None:
    for error in (LicenseCommandRefused, LicenseExpired, LicenseRevoked, LicenseSuspended):
        assert issubclass(error, LicenseError)


# --- amending and renewing -------------------------------------------------------------------


def amend(license_: License, when: datetime, **changes: Any) -> None:
    """Amend to version 2 in slot 20 at ``when``."""
    values: dict[str, Any] = {
        "license_id": V2,
        "fields": {**FIELDS, "address": "长沙市天心区某路2号"},
        "credential": b"\xd2cose-v2",
        "status_index": 20,
        "reason": "address changed",
        **by(when),
    }
    values.update(changes)
    license_.amend(**values)


def test_amendment_makes_a_new_version_and_retires_the_old_slot() -> None:
    license_ = issue()
    amend(license_, later(10))
    assert license_.license_id == V2 and license_.license_version == 2
    assert license_.fields["address"] == "长沙市天心区某路2号"
    assert license_.credential == b"\xd2cose-v2"
    assert license_.status_slots() == {10: SlotStatus.REVOKED, 20: SlotStatus.VALID}
    assert license_.valid_to == VALID_TO


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"license_id": V3}, "license id version: expected 002, got 003"),
        ({"license_id": LICENSE_ID}, "license id version: expected 002, got 001"),
        (
            {"license_id": str(LicenseId(TYPE_CODE, ISSUER_USCC, "99", 2))},
            "license id: expected lineage",
        ),
        ({"status_index": 10}, "status index: expected a fresh slot, got 10"),
        ({"reason": ""}, "reason: expected non-blank text"),
        ({"at": later(-1)}, "expected a time on or after the last change"),
    ],
    ids=["skips-a-version", "same-version", "other-lineage", "reused-slot", "no-reason", "past"],
)
def test_amendment_refuses_bad_arguments(changes: dict[str, Any], message: str) -> None:
    license_ = issue()
    with pytest.raises(LicenseCommandRefused, match=message):
        amend(license_, later(10), **changes)


def test_renewal_extends_validity_as_a_new_version() -> None:
    license_ = issue()
    new_end = later(2 * 365)
    license_.renew(
        license_id=V2,
        valid_from=VALID_TO,
        valid_to=new_end,
        credential=b"\xd2cose-v2",
        status_index=30,
        **by(later(300)),
    )
    assert license_.valid_to == new_end
    assert license_.status_at(later(400)) is LicenseState.ACTIVE
    # Before the renewal was made, the old validity was in force.
    assert license_.status_at(later(299)) is LicenseState.ACTIVE
    assert license_.status_slots() == {10: SlotStatus.REVOKED, 30: SlotStatus.VALID}


def test_renewal_must_extend_the_validity() -> None:
    with pytest.raises(LicenseCommandRefused, match="valid_to: expected after the current"):
        issue().renew(
            license_id=V2,
            valid_from=T0,
            valid_to=later(100),
            credential=b"\xd2cose-v2",
            status_index=30,
            **by(later(50)),
        )


def test_expired_license_cannot_be_renewed_or_amended() -> None:
    license_ = issue()
    with pytest.raises(LicenseExpired, match="got one expired at 2027-01-05"):
        license_.renew(
            license_id=V2,
            valid_from=later(400),
            valid_to=later(800),
            credential=b"\xd2cose-v2",
            status_index=30,
            **by(later(400)),
        )
    with pytest.raises(LicenseExpired, match="cannot amend the license"):
        amend(license_, later(400))


# --- suspension, reinstatement, revocation ---------------------------------------------------


def test_suspension_and_reinstatement_show_in_state_and_slots() -> None:
    license_ = issue()
    license_.suspend(reason="inspection", **by(later(10)))
    assert license_.status_at(later(11)) is LicenseState.SUSPENDED
    assert license_.status_slots() == {10: SlotStatus.SUSPENDED}
    license_.reinstate(reason="inspection passed", **by(later(20)))
    assert license_.status_at(later(15)) is LicenseState.SUSPENDED
    assert license_.status_at(later(21)) is LicenseState.ACTIVE
    assert license_.status_slots() == {10: SlotStatus.VALID}
    names = [type(e).__name__ for e in license_.collect_events()]
    assert names == ["Issued", "Suspended", "Reinstated"]


def test_suspended_license_cannot_be_suspended_again_or_amended() -> None:
    license_ = issue()
    license_.suspend(reason="inspection", **by(later(10)))
    with pytest.raises(LicenseSuspended, match="suspended since 2026-01-15"):
        license_.suspend(reason="again", **by(later(11)))
    with pytest.raises(LicenseSuspended, match="reinstate it first"):
        amend(license_, later(11))


def test_only_a_suspended_license_can_be_reinstated() -> None:
    with pytest.raises(LicenseCommandRefused, match="expected a suspended license"):
        issue().reinstate(reason="none", **by(later(1)))


def test_revocation_is_final_and_retires_the_slot() -> None:
    license_ = issue()
    license_.suspend(reason="inspection", **by(later(10)))
    license_.revoke(reason="fraud", **by(later(12)))
    assert license_.status_at(later(11)) is LicenseState.SUSPENDED
    assert license_.status_at(later(12)) is LicenseState.REVOKED
    assert license_.status_slots() == {10: SlotStatus.REVOKED}
    for command in (
        lambda: license_.revoke(reason="again", **by(later(13))),
        lambda: license_.reinstate(reason="undo", **by(later(13))),
        lambda: amend(license_, later(13)),
    ):
        with pytest.raises(LicenseRevoked, match="got one revoked at 2026-01-17.*fraud"):
            command()


def test_expired_license_can_still_be_revoked_but_not_suspended() -> None:
    license_ = issue()
    with pytest.raises(LicenseExpired, match="cannot suspend the license"):
        license_.suspend(reason="late", **by(later(400)))
    license_.revoke(reason="cancelled", **by(later(400)))
    assert license_.status_at(later(401)) is LicenseState.REVOKED


def test_state_is_derived_from_validity() -> None:
    license_ = issue(valid_from=later(5))
    assert license_.status_at(later(1)) is LicenseState.NOT_YET_VALID
    assert license_.status_at(later(5)) is LicenseState.ACTIVE
    assert license_.status_at(VALID_TO) is LicenseState.EXPIRED
    with pytest.raises(LicenseCommandRefused, match="at: expected an aware UTC datetime"):
        license_.status_at(datetime(2026, 2, 1))


def test_commands_check_the_actor_department() -> None:
    other = {**OFFICER, "department": OTHER_ISSUER}
    with pytest.raises(LicenseCommandRefused, match="actor department: expected the issuing"):
        issue().suspend(reason="x", at=later(1), actor=other, channel="online")


def test_aggregate_replays_from_its_events() -> None:
    license_ = issue()
    amend(license_, later(10))
    license_.suspend(reason="inspection", **by(later(20)))
    events = license_.collect_events()
    replayed: License | None = None
    for domain_event in events:
        replayed = domain_event.mutate(replayed)  # type: ignore[attr-defined]
    assert replayed is not None
    assert replayed.status_slots() == license_.status_slots()
    assert replayed.license_id == V2 and replayed.suspended


def test_domain_imports_neither_cbor2_nor_cryptography() -> None:
    code = (
        "import sys, licenses.domain; "
        "print(sorted(m for m in ('cbor2', 'cryptography', 'segno') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_ids_differ_between_lineages() -> None:
    other = str(LicenseId(TYPE_CODE, ISSUER_USCC, "20230000404"))
    assert License.create_id(lineage_of(other)) != issue().id
