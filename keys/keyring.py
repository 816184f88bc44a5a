"""The key ring service: certifies, registers, rotates and revokes keys in an event store.

It orchestrates only: the root key certifies a registration (COSE_Sign1 over the key's claims),
the ``KeyRecord`` aggregate holds the history, and entries read back are re-verified against the
root public key before anyone relies on them (fail closed).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable
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
    """Registers and answers questions about keys, trusting only the root public key.

    Entries are cached; at most every ``max_staleness`` seconds (of ``clock``) one read of the
    key index tells whether any process registered, rotated or revoked a key since, and if so
    the cache is dropped. A change made through this ring is seen here at once.
    """

    def __init__(
        self,
        app: EventStoreApp,
        root_public_key_der: bytes,
        *,
        max_staleness: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_staleness < 0:
            raise KeyManagementError(f"max_staleness must be >= 0 seconds, got {max_staleness}")
        self._app = app
        self._root_public_key = root_public_key_der
        self.root_kid = kid_for(root_public_key_der)
        self._entries: dict[bytes, KeyEntry] = {}
        self.max_staleness = max_staleness
        self.clock = clock  # seconds, monotonic; a parameter so tests can move time
        self._synced_at: float | None = None
        self._generation = -1  # the key index's version the cached entries belong to

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
        index = self.index(at=at, actor=actor)
        record = self.registration(
            index,
            root=root,
            public_key_der=public_key_der,
            owner=owner,
            role=role,
            department=department,
            license_types=license_types,
            valid_from=valid_from,
            valid_to=valid_to,
            alg=alg,
            at=at,
            actor=actor,
        )
        self._save(record, index)
        return self.entry(record.kid)

    def registration(
        self,
        index: KeyIndex,
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
    ) -> KeyRecord:
        """Certify a public key with the root key; return its registration, added to ``index``,
        for the caller to save with the index."""
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
        if kid in index.kids:
            raise RegistryConflict(f"key {kid.hex()} is already registered")
        index.add(kid=kid, at=at, actor=actor, channel="system")
        return record

    def rotate(
        self,
        kid: bytes,
        *,
        successor: bytes,
        at: datetime,
        actor: Admin,
        retire_at: datetime | None = None,
    ) -> KeyEntry:
        """Retire ``kid`` for new signatures from ``retire_at`` (default ``at``) in favour of a
        registered successor."""
        self.entry(successor)
        index = self.index(at=at, actor=actor)
        record = self.retirement(
            index, kid, successor=successor, at=at, actor=actor, retire_at=retire_at
        )
        self._save(record, index)
        return self.entry(kid)

    def retirement(
        self,
        index: KeyIndex,
        kid: bytes,
        *,
        successor: bytes,
        at: datetime,
        actor: Admin,
        retire_at: datetime | None = None,
    ) -> KeyRecord:
        """Return ``kid``'s record with its rotation, noted in ``index``, for the caller to save."""
        if successor not in index.kids:
            raise UnknownKey(f"successor key id {successor.hex()} is not registered")
        record = self._record(kid)
        record.rotate(
            successor=successor, at=at, actor=actor, channel="system", retire_at=retire_at
        )
        index.changed(kid=kid, at=at, actor=actor, channel="system")
        return record

    def revoke(
        self, kid: bytes, *, revoked_at: datetime, reason: str, at: datetime, actor: Admin
    ) -> KeyEntry:
        """Revoke ``kid`` from ``revoked_at``; signatures made from then on fail."""
        index = self.index(at=at, actor=actor)
        record = self.revocation(
            index, kid, revoked_at=revoked_at, reason=reason, at=at, actor=actor
        )
        self._save(record, index)
        return self.entry(kid)

    def revocation(
        self,
        index: KeyIndex,
        kid: bytes,
        *,
        revoked_at: datetime,
        reason: str,
        at: datetime,
        actor: Admin,
    ) -> KeyRecord:
        """Return ``kid``'s record with its revocation, noted in ``index``, for the caller to
        save."""
        record = self._record(kid)
        record.revoke(revoked_at=revoked_at, reason=reason, at=at, actor=actor, channel="system")
        index.changed(kid=kid, at=at, actor=actor, channel="system")
        return record

    def index(self, *, at: datetime, actor: Admin) -> KeyIndex:
        """Return the key index as stored, or a new one for a registry without keys."""
        try:
            index: KeyIndex = self._app.repository.get(KeyIndex.INDEX_ID)
        except AggregateNotFoundError:
            index = KeyIndex(at=at, actor=actor, channel="system")
        return index

    # -- queries --------------------------------------------------------------------------------

    def entry(self, kid: bytes) -> KeyEntry:
        """Return the verified entry of ``kid`` or raise ``UnknownKey``."""
        self.fresh_generation()
        # Kept in the dict it was looked up in: if the registry changes meanwhile, a copy read
        # before the change lands in the dropped dict, not in the new one.
        entries = self._entries
        cached = entries.get(kid)
        if cached is not None:
            return cached
        entry = self._record(kid).entry()
        verify_certificate(entry, self._root_public_key)
        entries[kid] = entry
        return entry

    def fresh_generation(self) -> int:
        """Return the key index version the cached entries belong to, reading the index first
        if the last read is older than ``max_staleness``."""
        if self._synced_at is None or self.clock() - self._synced_at >= self.max_staleness:
            self.sync()
        return self._generation

    def sync(self) -> bool:
        """Read the key index now; drop the cached entries if the registry changed since they
        were read. Return whether it changed."""
        # Marked fresh first: reading the index verifies its events, which asks for entries.
        self._synced_at = self.clock()
        try:
            index: KeyIndex = self._app.repository.get(KeyIndex.INDEX_ID)
            version = int(index.version)
        except AggregateNotFoundError:
            version = 0
        if version == self._generation:
            return False
        # A new dict rather than clear(): a thread reading the old one keeps a consistent copy.
        self._entries = {}
        self._generation = version
        return True

    def refresh(self) -> None:
        """Forget cached entries now (another process may have rotated or revoked a key)."""
        self._entries = {}
        self._generation = -1
        self._synced_at = None

    def published(self) -> tuple[int, list[KeyEntry]]:
        """Return the registry's version now — it grows with every registration, rotation and
        revocation, so it is a trust list's sequence — and every entry as of that version."""
        self.sync()  # first: a change since the last read drops the cached entries
        return max(self._generation, 0), self.entries()

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

    def _save(self, *aggregates: Any) -> None:
        try:
            self._app.save(*aggregates)
        except RecordConflictError:
            raise RegistryConflict(
                "the key registry changed meanwhile (a concurrent registration, rotation or "
                "revocation); read it again and retry"
            ) from None
        self.sync()


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
