"""The trust list: signed by the root key, loadable with nothing but the root public key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cbor2
import pytest

from keys import cose
from keys.errors import KeyManagementError, MalformedMessage, SignatureInvalid, UnknownKey
from keys.keyring import KeyRing, KeyRingApplication
from keys.registry import KeyRole, kid_for
from keys.signer import Ed25519Signer
from keys.trustlist import build_trust_list, load_trust_list

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ADMIN = {"principal": "admin-1", "role": "admin", "department": None, "on_behalf_of": None}


@pytest.fixture
def root() -> Ed25519Signer:
    return Ed25519Signer.from_seed(b"\x07" * 32)


@pytest.fixture
def ring(root: Ed25519Signer) -> KeyRing:
    ring = KeyRing(
        KeyRingApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}), root.public_key_der()
    )
    ring.bootstrap(root, owner="platform", valid_from=T0, valid_to=None, at=T0, actor=ADMIN)
    return ring


def test_trust_list_round_trips_every_entry_with_its_history(
    ring: KeyRing, root: Ed25519Signer
) -> None:
    seal = Ed25519Signer.generate()
    ring.register(
        root=root,
        public_key_der=seal.public_key_der(),
        owner="scjgj",
        role=KeyRole.DEPARTMENT_SEAL,
        department="scjgj",
        license_types=["yyzz"],
        valid_from=T0,
        at=T0,
        actor=ADMIN,
    )
    kid = kid_for(seal.public_key_der())
    ring.revoke(
        kid,
        revoked_at=T0 + timedelta(days=3),
        reason="compromise",
        at=T0 + timedelta(days=4),
        actor=ADMIN,
    )
    signed = build_trust_list(
        ring.entries(), root=root, issued_at=T0 + timedelta(days=5), sequence=7
    )
    trust = load_trust_list(signed, root.public_key_der())
    assert trust.sequence == 7
    assert trust.entry(kid) == ring.entry(kid)
    with pytest.raises(KeyManagementError, match="revoked at"):
        trust.entry(kid).check(T0 + timedelta(days=3), license_type="yyzz")
    view = trust.to_json()
    assert {k["kid"] for k in view["keys"]} == {kid.hex(), kid_for(root.public_key_der()).hex()}


def test_trust_list_signed_by_another_key_is_refused(ring: KeyRing, root: Ed25519Signer) -> None:
    other = Ed25519Signer.generate()
    signed = build_trust_list(ring.entries(), root=other, issued_at=T0, sequence=1)
    with pytest.raises(UnknownKey, match="must be signed by root key"):
        load_trust_list(signed, root.public_key_der())


def test_trust_list_with_a_flipped_byte_is_refused(ring: KeyRing, root: Ed25519Signer) -> None:
    signed = bytearray(build_trust_list(ring.entries(), root=root, issued_at=T0, sequence=1))
    signed[-70] ^= 0x01  # inside the signature
    with pytest.raises(SignatureInvalid):
        load_trust_list(bytes(signed), root.public_key_der())


def test_trust_list_whose_entry_kid_mismatches_its_key_is_refused(root: Ed25519Signer) -> None:
    doc = {
        "format": "caseledger-trust-list/1",
        "issued_at": 0,
        "sequence": 1,
        "keys": [{"kid": b"\x00" * 16, "public_key": root.public_key_der()}],
    }
    signed = cose.sign1(cbor2.dumps(doc, canonical=True), root, kid=kid_for(root.public_key_der()))
    with pytest.raises(MalformedMessage, match="license_types|does not match"):
        load_trust_list(signed, root.public_key_der())


def test_trust_list_of_an_unknown_format_is_refused(root: Ed25519Signer) -> None:
    signed = cose.sign1(
        cbor2.dumps({"format": "other/9"}), root, kid=kid_for(root.public_key_der())
    )
    with pytest.raises(MalformedMessage, match="format must be 'caseledger-trust-list/1'"):
        load_trust_list(signed, root.public_key_der())
