"""The key ring service: certifies, registers, rotates and revokes keys in an event store.

It orchestrates only: the root key certifies a registration (COSE_Sign1 over the key's claims),
the ``KeyRecord`` aggregate holds the history, and entries read back are re-verified against the
root public key before anyone relies on them (fail closed).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import JSONTranscoder, RecordConflictError, Transcoding

from keys import cbor, cose
from keys.algorithms import EDDSA, load_public_key
from keys.errors import KeyManagementError, KeyNotValid, RegistryConflict, UnknownKey
from keys.registry import KeyEntry, KeyIndex, KeyRecord, KeyRole, kid_for, sorted_entries
from keys.signer import Signer

Admin = dict[str, str | None]


class EventStoreApp(Protocol):
    """The part of an eventsourcing ``Application`` the key ring needs."""

    @property
    def repository(self) -> Any:
        """The application's repository of aggregates."""
        ...

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Save the aggregates' pending events atomically."""
        ...


def certify(entry: KeyEntry, root: Signer, root_kid: bytes) -> bytes:
    """Return the root's COSE_Sign1 certificate over the entry's claims."""
    return cose.sign1(cbor.dumps_canonical(entry.claims()), root, kid=root_kid)


def verify_certificate(entry: KeyEntry, root_public_key_der: bytes) -> None:
    """Raise unless the entry's certificate is the root's signature over exactly its claims."""
    root_key = load_public_key(root_public_key_der)
    try:
        payload = cose.verify_sign1(entry.certificate, root_key)
    except KeyManagementError as exc:
        raise KeyNotValid(f"certificate of key {entry.kid.hex()} does not verify: {exc}") from None
    claims = cbor.loads_strict(payload)
    if claims != entry.claims():
        raise KeyNotValid(
            f"certificate of key {entry.kid.hex()} certifies other claims than the registry holds"
        )


class KeyRing:
    """Registers and answers questions about keys, trusting only the root public key."""

    def __init__(self, app: EventStoreApp, root_public_key_der: bytes) -> None:
        self._app = app
        self._root_public_key = root_public_key_der
        self.root_kid = kid_for(root_public_key_der)
        self._entries: dict[bytes, KeyEntry] = {}

    # -- commands -------------------------------------------------------------------------------

    def bootstrap(
        self,
        root: Signer,
        *,
        owner: str,
        valid_from: datetime,
        valid_to: datetime | None,
        at: datetime,
        actor: Admin,
    ) -> KeyEntry:
        """Register the root key itself (self-certified); the first command of a new ledger."""
        if root.public_key_der() != self._root_public_key:
            raise KeyManagementError(
                "bootstrap signer does not hold the configured root key: expected kid "
                f"{self.root_kid.hex()}, got {kid_for(root.public_key_der()).hex()}"
            )
        return self.register(
            root=root,
            public_key_der=root.public_key_der(),
            owner=owner,
            role=KeyRole.ROOT,
            valid_from=valid_from,
            valid_to=valid_to,
            at=at,
            actor=actor,
        )

    def register(
        self,
        *,
        root: Signer,
        public_key_der: bytes,
        owner: str,
        role: str,
        department: str | None = None,
        license_types: Iterable[str] = (),
        valid_from: datetime,
        valid_to: datetime | None = None,
        alg: int = EDDSA,
        at: datetime,
        actor: Admin,
    ) -> KeyEntry:
        """Certify a public key with the root key and record its registration."""
        if role not in KeyRole.ALL:
            raise KeyManagementError(f"key role must be one of {sorted(KeyRole.ALL)}, got {role!r}")
        if not owner:
            raise KeyManagementError("a key needs an owner, got an empty owner id")
        if valid_to is not None and valid_to <= valid_from:
            raise KeyManagementError(
                f"valid_to {valid_to.isoformat()} must lie after "
                f"valid_from {valid_from.isoformat()}"
            )
        load_public_key(public_key_der)  # refuse garbage before anything is written
        kid = kid_for(public_key_der)
        draft = KeyEntry(
            kid=kid,
            alg=alg,
            public_key=public_key_der,
            owner=owner,
            role=role,
            department=department,
            license_types=tuple(sorted(set(license_types))),
            valid_from=valid_from.replace(microsecond=0),
            valid_to=None if valid_to is None else valid_to.replace(microsecond=0),
        )
        certificate = certify(draft, root, self.root_kid)
        record = KeyRecord(
            kid=kid,
            alg=alg,
            public_key=public_key_der,
            owner=owner,
            role=role,
            department=department,
            license_types=list(draft.license_types),
            valid_from=draft.valid_from,
            valid_to=draft.valid_to,
            certificate=certificate,
            at=at,
            actor=actor,
            channel="system",
        )
        index = self._index(at=at, actor=actor)
        index.add(kid=kid, at=at, actor=actor, channel="system")
        try:
            self._app.save(record, index)
        except RecordConflictError:
            raise RegistryConflict(f"key {kid.hex()} is already registered") from None
        entry = record.entry()
        self._entries[kid] = entry
        return entry

    def rotate(self, kid: bytes, *, successor: bytes, at: datetime, actor: Admin) -> KeyEntry:
        """Retire ``kid`` for new signatures from ``at`` in favour of a registered successor."""
        self.entry(successor)
        record = self._record(kid)
        record.rotate(successor=successor, at=at, actor=actor, channel="system")
        self._app.save(record)
        self._entries[kid] = record.entry()
        return self._entries[kid]

    def revoke(
        self, kid: bytes, *, revoked_at: datetime, reason: str, at: datetime, actor: Admin
    ) -> KeyEntry:
        """Revoke ``kid`` from ``revoked_at``; signatures made from then on fail."""
        record = self._record(kid)
        record.revoke(revoked_at=revoked_at, reason=reason, at=at, actor=actor, channel="system")
        self._app.save(record)
        self._entries[kid] = record.entry()
        return self._entries[kid]

    # -- queries --------------------------------------------------------------------------------

    def entry(self, kid: bytes) -> KeyEntry:
        """Return the verified entry of ``kid`` or raise ``UnknownKey``."""
        cached = self._entries.get(kid)
        if cached is not None:
            return cached
        entry = self._record(kid).entry()
        verify_certificate(entry, self._root_public_key)
        self._entries[kid] = entry
        return entry

    def refresh(self) -> None:
        """Forget cached entries (another process may have rotated or revoked a key)."""
        self._entries.clear()

    def entries(self) -> list[KeyEntry]:
        """Return every registered key's entry."""
        try:
            index: KeyIndex = self._app.repository.get(KeyIndex.INDEX_ID)
        except AggregateNotFoundError:
            return []
        return sorted_entries([self.entry(kid) for kid in index.kids])

    def check(
        self,
        kid: bytes,
        at: datetime,
        *,
        owner: str | None = None,
        license_type: str | None = None,
    ) -> KeyEntry:
        """Return the entry of ``kid`` if it was valid at ``at`` (for owner/license type)."""
        entry = self.entry(kid)
        entry.check(at, owner=owner, license_type=license_type)
        return entry

    # -- internals ------------------------------------------------------------------------------

    def _record(self, kid: bytes) -> KeyRecord:
        try:
            record: KeyRecord = self._app.repository.get(KeyRecord.create_id(kid))
        except AggregateNotFoundError:
            raise UnknownKey(f"key id {kid.hex()} is not registered") from None
        return record

    def _index(self, *, at: datetime, actor: Admin) -> KeyIndex:
        try:
            index: KeyIndex = self._app.repository.get(KeyIndex.INDEX_ID)
        except AggregateNotFoundError:
            index = KeyIndex(at=at, actor=actor, channel="system")
        return index


class _BytesAsBase64(Transcoding):
    type = bytes
    name = "bytes_b64"

    def encode(self, obj: bytes) -> str:
        return base64.b64encode(obj).decode("ascii")

    def decode(self, data: str) -> bytes:
        return base64.b64decode(data)


class KeyRingApplication(Application[UUID]):
    """A stand-alone event store for a key ring (the ledger hosts its own in its signed store)."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """Add bytes to the default transcodings."""
        super().register_transcodings(transcoder)
        transcoder.register(_BytesAsBase64())
