"""Another region's e-license system, as far as this ledger sees it: its root key, an issuing
department's key, the trust list and status lists it signs, and credentials it issues."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from keys.keyring import KeyRing, KeyRingApplication
from keys.registry import KeyRole, kid_for
from keys.signer import Ed25519Signer
from keys.trustlist import build_trust_list
from licenses.identifiers import LicenseId
from licenses.issuance import issue_credential
from licenses.model import FieldValue, LicenseClaims, SlotStatus, StatusReference
from licenses.qr import encode_qr_text
from licenses.status import StatusList

T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
ADMIN: dict[str, str | None] = {
    "principal": "hn-admin",
    "role": "admin",
    "department": None,
    "on_behalf_of": None,
}
DEPARTMENT = "hnscjgj"  # the region's market regulator
TYPE_CODE = "11100000000013338W011"
ISSUER_USCC = "11430000006122244L"
HOLDER = "11010519491231002X"  # the GB 11643 worked example
LIST_ID = "hnscjgj/2026/1"
FIELDS: dict[str, FieldValue] = {"名称": "湖南某某科技有限公司", "法定代表人": "张三"}


def _signer(label: str) -> Ed25519Signer:
    return Ed25519Signer.from_seed(hashlib.sha256(label.encode()).digest())


@dataclass
class ForeignRegion:
    """A region's keys, registered under its own root, and what it publishes."""

    name: str = "hunan"
    root: Ed25519Signer = field(default_factory=lambda: _signer("hunan root"))
    issuer: Ed25519Signer = field(default_factory=lambda: _signer("hunan scjgj"))

    def __post_init__(self) -> None:
        app = KeyRingApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.ring = KeyRing(app, self.root.public_key_der())
        self.ring.bootstrap(
            self.root, owner="platform", valid_from=T0, valid_to=None, at=T0, actor=ADMIN
        )
        self.ring.register(
            root=self.root,
            public_key_der=self.issuer.public_key_der(),
            owner=DEPARTMENT,
            role=KeyRole.ISSUER,
            department=DEPARTMENT,
            license_types=[TYPE_CODE],
            valid_from=T0,
            at=T0,
            actor=ADMIN,
        )

    @property
    def root_key(self) -> bytes:
        """The region's root public key (DER), as pinned out of band."""
        return self.root.public_key_der()

    def trust_list(self, sequence: int = 1, *, signed_by: Ed25519Signer | None = None) -> bytes:
        """The region's trust list, signed by its root (or by ``signed_by``)."""
        return build_trust_list(
            self.ring.entries(),
            root=signed_by or self.root,
            issued_at=T0 + timedelta(days=sequence),
            sequence=sequence,
        )

    def qr_text(self, serial: str = "202600000001", *, slot: int = 77) -> str:
        """The QR text of a five-year license the region issued to HOLDER at T0 + 1 day."""
        claims = LicenseClaims(
            iss=DEPARTMENT,
            sub=HOLDER,
            iat=T0 + timedelta(days=1),
            nbf=T0 + timedelta(days=1),
            exp=T0 + timedelta(days=1 + 5 * 365),
            license_id=str(LicenseId(TYPE_CODE, ISSUER_USCC, serial)),
            license_type=TYPE_CODE,
            version=1,
            status=StatusReference(LIST_ID, slot),
            fields=FIELDS,
        )
        credential = issue_credential(
            claims, self.issuer, kid=kid_for(self.issuer.public_key_der())
        )
        return encode_qr_text(credential)

    def status_list(
        self, *, revoked: tuple[int, ...] = (), issued_at: datetime | None = None
    ) -> bytes:
        """The issuing department's status list with ``revoked`` slots, signed by its key."""
        status_list = StatusList()
        for slot in revoked:
            status_list.set(slot, SlotStatus.REVOKED)
        return status_list.to_signed(
            self.issuer,
            kid=kid_for(self.issuer.public_key_der()),
            issued_at=issued_at or T0 + timedelta(days=2),
            list_id=LIST_ID,
        )
