"""The key registry answers validity questions from each key's certified history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from keys.errors import KeyManagementError, KeyNotValid, RegistryConflict, UnknownKey
from keys.keyring import KeyRing, KeyRingApplication, certify, verify_certificate
from keys.registry import KeyRole, kid_for
from keys.signer import Ed25519Signer

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ADMIN = {"principal": "admin-1", "role": "admin", "department": None, "on_behalf_of": None}


@pytest.fixture
def root() -> Ed25519Signer:
    return Ed25519Signer.from_seed(bytes(range(32)))


@pytest.fixture
def ring(root: Ed25519Signer) -> KeyRing:
    app = KeyRingApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    ring = KeyRing(app, root.public_key_der())
    ring.bootstrap(root, owner="platform", valid_from=T0, valid_to=None, at=T0, actor=ADMIN)
    return ring


def register_seal(ring: KeyRing, root: Ed25519Signer, **overrides: object) -> Ed25519Signer:
    seal = Ed25519Signer.generate()
    args: dict[str, object] = {
        "root": root,
        "public_key_der": seal.public_key_der(),
        "owner": "scjgj",
        "role": KeyRole.DEPARTMENT_SEAL,
        "department": "scjgj",
        "license_types": ["yyzz"],
        "valid_from": T0,
        "valid_to": T0 + timedelta(days=365),
        "at": T0,
        "actor": ADMIN,
    }
    args.update(overrides)
    ring.register(**args)  # type: ignore[arg-type]
    return seal


def test_a_registered_key_is_valid_inside_its_validity_for_its_owner_and_types(
    ring: KeyRing, root: Ed25519Signer
) -> None:
    seal = register_seal(ring, root)
    kid = kid_for(seal.public_key_der())
    entry = ring.check(kid, T0 + timedelta(days=1), owner="scjgj", license_type="yyzz")
    assert entry.department == "scjgj"
    assert entry.license_types == ("yyzz",)


@pytest.mark.parametrize(
    ("at", "owner", "license_type", "message"),
    [
        (T0 - timedelta(seconds=1), "scjgj", None, "is valid from"),
        (T0 + timedelta(days=366), "scjgj", None, "expired at"),
        (T0 + timedelta(days=1), "zjj", None, "belongs to 'scjgj', not 'zjj'"),
        (T0 + timedelta(days=1), "scjgj", "spjy", "may sign license types \\['yyzz'\\]"),
    ],
    ids=["before-validity", "after-expiry", "other-owner", "type-not-allowed"],
)
def test_a_key_is_refused_outside_what_it_was_registered_for(
    ring: KeyRing,
    root: Ed25519Signer,
    at: datetime,
    owner: str,
    license_type: str | None,
    message: str,
) -> None:
    kid = kid_for(register_seal(ring, root).public_key_der())
    with pytest.raises(KeyNotValid, match=message):
        ring.check(kid, at, owner=owner, license_type=license_type)


def test_revocation_invalidates_signatures_from_the_revocation_time_on(
    ring: KeyRing, root: Ed25519Signer
) -> None:
    kid = kid_for(register_seal(ring, root).public_key_der())
    compromised = T0 + timedelta(days=10)
    ring.revoke(
        kid,
        revoked_at=compromised,
        reason="key compromise",
        at=T0 + timedelta(days=12),
        actor=ADMIN,
    )
    ring.check(kid, compromised - timedelta(seconds=1))
    with pytest.raises(KeyNotValid, match="revoked at .* \\(key compromise\\)"):
        ring.check(kid, compromised)


def test_rotation_keeps_old_signatures_valid_and_stops_new_ones(
    ring: KeyRing, root: Ed25519Signer
) -> None:
    old = kid_for(register_seal(ring, root).public_key_der())
    new = kid_for(register_seal(ring, root).public_key_der())
    rotated = T0 + timedelta(days=30)
    ring.rotate(old, successor=new, at=rotated, actor=ADMIN)
    ring.check(old, rotated - timedelta(seconds=1))
    with pytest.raises(KeyNotValid, match="rotated at"):
        ring.check(old, rotated)
    assert ring.entry(old).successor == new


def test_history_survives_a_reload_from_the_event_store(root: Ed25519Signer) -> None:
    app = KeyRingApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    ring = KeyRing(app, root.public_key_der())
    ring.bootstrap(root, owner="platform", valid_from=T0, valid_to=None, at=T0, actor=ADMIN)
    kid = kid_for(register_seal(ring, root).public_key_der())
    ring.revoke(
        kid,
        revoked_at=T0 + timedelta(days=2),
        reason="left office",
        at=T0 + timedelta(days=2),
        actor=ADMIN,
    )
    fresh = KeyRing(app, root.public_key_der())
    assert fresh.entry(kid).revoked_at == T0 + timedelta(days=2)
    assert {e.kid for e in fresh.entries()} == {kid, kid_for(root.public_key_der())}


def test_revoking_twice_or_in_the_future_is_refused_and_records_nothing(
    ring: KeyRing, root: Ed25519Signer
) -> None:
    kid = kid_for(register_seal(ring, root).public_key_der())
    with pytest.raises(RegistryConflict, match="lies after the command time"):
        ring.revoke(kid, revoked_at=T0 + timedelta(days=5), reason="x", at=T0, actor=ADMIN)
    with pytest.raises(RegistryConflict, match="needs a reason"):
        ring.revoke(kid, revoked_at=T0, reason="  ", at=T0, actor=ADMIN)
    assert ring.entry(kid).revoked_at is None
    ring.revoke(kid, revoked_at=T0, reason="lost", at=T0, actor=ADMIN)
    with pytest.raises(RegistryConflict, match="already revoked"):
        ring.revoke(kid, revoked_at=T0, reason="lost again", at=T0, actor=ADMIN)


def test_registering_the_same_key_twice_is_a_conflict(ring: KeyRing, root: Ed25519Signer) -> None:
    seal = register_seal(ring, root)
    with pytest.raises(RegistryConflict, match="already registered"):
        register_seal(ring, root, public_key_der=seal.public_key_der())


def test_bad_registrations_are_refused_before_anything_is_written(
    ring: KeyRing, root: Ed25519Signer
) -> None:
    before = len(ring.entries())
    with pytest.raises(KeyManagementError, match="key role must be one of"):
        register_seal(ring, root, role="janitor")
    with pytest.raises(KeyManagementError, match="must lie after valid_from"):
        register_seal(ring, root, valid_to=T0)
    with pytest.raises(KeyManagementError):
        register_seal(ring, root, public_key_der=b"not a key")
    assert len(ring.entries()) == before


def test_bootstrap_refuses_a_signer_that_is_not_the_configured_root(root: Ed25519Signer) -> None:
    app = KeyRingApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    ring = KeyRing(app, root.public_key_der())
    impostor = Ed25519Signer.generate()
    with pytest.raises(KeyManagementError, match="does not hold the configured root key"):
        ring.bootstrap(impostor, owner="platform", valid_from=T0, valid_to=None, at=T0, actor=ADMIN)
    assert ring.entries() == []


def test_unknown_kid_is_reported_with_its_hex(ring: KeyRing) -> None:
    with pytest.raises(UnknownKey, match="key id 00ff is not registered"):
        ring.entry(b"\x00\xff")


def test_certificate_binds_every_claim_to_the_root_signature(
    ring: KeyRing, root: Ed25519Signer
) -> None:
    kid = kid_for(register_seal(ring, root).public_key_der())
    entry = ring.entry(kid)
    verify_certificate(entry, root.public_key_der())
    widened = replace(entry, license_types=("yyzz", "spjy"))
    with pytest.raises(KeyNotValid, match="certifies other claims"):
        verify_certificate(widened, root.public_key_der())
    forged = replace(entry, certificate=certify(entry, Ed25519Signer.generate(), b"x"))
    with pytest.raises(KeyNotValid, match="does not verify"):
        verify_certificate(forged, root.public_key_der())
