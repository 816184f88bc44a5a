"""A small deterministic world for the credential tests: root, department keys, trust list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
import pytest

from keys import cose
from keys.keyring import KeyRing, KeyRingApplication
from keys.registry import KeyRole, kid_for
from keys.signer import Ed25519Signer
from keys.trustlist import TrustList, build_trust_list, load_trust_list
from licenses.credential import SALT_LENGTH
from licenses.issuance import issue_credential
from licenses.model import FieldValue, LicenseClaims, StatusReference

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ADMIN = {"principal": "admin-1", "role": "admin", "department": None, "on_behalf_of": None}
# Published credit codes: the department defining the type, and the issuing authority.
TYPE_CODE = "11100000000013338W011"
OTHER_TYPE_CODE = "11100000000013338W012"
ISSUER_USCC = "11430000006122244L"
# Department codes: the credential's iss, the key owner and the acting officer's department.
ISSUER = "scjgj"
OTHER_ISSUER = "zrzyghj"
LICENSE_ID = f"1.2.156.3005.2.{TYPE_CODE}.{ISSUER_USCC}.20230000403.001.U"
HOLDER = "11010519491231002X"  # the GB 11643 worked example
LIST_ID = "scjgj/2026/1"
FIELDS: dict[str, FieldValue] = {
    "name": "张三",
    "address": "长沙市岳麓区麓山南路1号",
    "scope": "软件开发；信息技术咨询服务",
    "capital": 1_000_000,
    "listed": False,
}
SALTS = {name: bytes([i]) * SALT_LENGTH for i, name in enumerate(sorted(FIELDS))}


@dataclass(frozen=True)
class World:
    """Keys, a signed trust list and the loaded view of it."""

    root: Ed25519Signer
    issuer: Ed25519Signer
    other: Ed25519Signer
    trust_list_bytes: bytes
    trust_list: TrustList

    @property
    def issuer_kid(self) -> bytes:
        """The issuing department's key id."""
        return kid_for(self.issuer.public_key_der())

    @property
    def other_kid(self) -> bytes:
        """The other department's key id."""
        return kid_for(self.other.public_key_der())


def make_world() -> World:
    """Register two departments' keys under a root key and sign the trust list."""
    root = Ed25519Signer.from_seed(b"\x07" * 32)
    issuer = Ed25519Signer.from_seed(b"\x11" * 32)
    other = Ed25519Signer.from_seed(b"\x22" * 32)
    app = KeyRingApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    ring = KeyRing(app, root.public_key_der())
    ring.bootstrap(root, owner="platform", valid_from=T0, valid_to=None, at=T0, actor=ADMIN)
    for signer, owner, types in ((issuer, ISSUER, [TYPE_CODE]), (other, OTHER_ISSUER, [])):
        ring.register(
            root=root,
            public_key_der=signer.public_key_der(),
            owner=owner,
            role=KeyRole.ISSUER,
            department=owner,
            license_types=types,
            valid_from=T0,
            at=T0,
            actor=ADMIN,
        )
    signed = build_trust_list(ring.entries(), root=root, issued_at=T0, sequence=1)
    return World(root, issuer, other, signed, load_trust_list(signed, root.public_key_der()))


def make_claims(**changes: object) -> LicenseClaims:
    """Claims of a five-year license issued at T0 + 1 day, with any field changed."""
    values: dict[str, object] = {
        "iss": ISSUER,
        "sub": HOLDER,
        "iat": T0 + timedelta(days=1),
        "nbf": T0 + timedelta(days=1),
        "exp": T0 + timedelta(days=1 + 5 * 365),
        "license_id": LICENSE_ID,
        "license_type": TYPE_CODE,
        "version": 1,
        "status": StatusReference(LIST_ID, 4242),
        "fields": dict(FIELDS),
    }
    values.update(changes)
    return LicenseClaims(**values)  # type: ignore[arg-type]


def issue(world: World, **changes: object) -> bytes:
    """A credential from the issuer's key with fixed salts."""
    return issue_credential(make_claims(**changes), world.issuer, kid=world.issuer_kid, salts=SALTS)


def parts(credential: bytes) -> tuple[bytes, dict[Any, Any], bytes, bytes]:
    """The four parts of a tagged COSE_Sign1, with a mutable unprotected map."""
    protected, unprotected, payload, signature = cbor2.loads(credential).value
    return protected, dict(unprotected), payload, signature


def disclosure(salt: bytes, name: str, value: FieldValue) -> bytes:
    """A disclosure as the issuer writes it."""
    return cbor2.dumps([salt, name, value], canonical=True)


def resign(message: bytes, signer: Ed25519Signer) -> bytes:
    """The same COSE_Sign1 with its signature replaced by ``signer``'s over the same bytes."""
    protected, unprotected, payload, _ = cbor2.loads(message).value
    signature = signer.sign(cose.sig_structure(protected, payload))
    return cose.encode_sign1(protected, dict(unprotected), payload, signature)


@pytest.fixture(scope="session")
def world() -> World:
    """The shared world (deterministic keys; built once)."""
    return make_world()
