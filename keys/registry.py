"""The key registry: an event-sourced record per key (Registered, Rotated, Revoked).

Every registration carries a certificate — a COSE_Sign1 by the root (platform) key over the key's
metadata — so a registry entry cannot be forged by writing rows. Validity questions ("was key K
valid for owner O at time T, for license type X?") are answered from the key's history by
``KeyEntry.check``, the one place that rule lives; the trust list reuses it offline.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from keys.errors import KeyNotValid, RegistryConflict, UnknownKey

KEY_NAMESPACE = UUID("6f1d3f0e-8a53-5c2e-9d0b-6b3c1c7b2a10")
KID_LENGTH = 16


def kid_for(public_key_der: bytes) -> bytes:
    """Return the key id of a public key: the first 16 bytes of SHA-256 over its SPKI DER."""
    return hashlib.sha256(public_key_der).digest()[:KID_LENGTH]


def _aware(at: datetime, what: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise KeyNotValid(f"{what} must be a timezone-aware UTC datetime, got naive {at!r}")


class KeyRole:
    """Roles a registered key can have (what it is trusted to sign)."""

    ROOT = "root"
    DEPARTMENT_SEAL = "department-seal"
    INTAKE = "intake"
    COURIER = "courier"
    LOG = "log"
    ISSUER = "issuer"
    ALL: ClassVar[frozenset[str]] = frozenset({ROOT, DEPARTMENT_SEAL, INTAKE, COURIER, LOG, ISSUER})


@dataclass(frozen=True)
class KeyEntry:
    """A key's public metadata and history, as the registry and the trust list know it."""

    kid: bytes
    alg: int
    public_key: bytes  # DER SubjectPublicKeyInfo
    owner: str
    role: str
    department: str | None
    license_types: tuple[str, ...]
    valid_from: datetime
    valid_to: datetime | None
    certificate: bytes = b""
    rotated_at: datetime | None = None
    successor: bytes | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def claims(self) -> dict[str, Any]:
        """Return the metadata the root key certifies (history excluded)."""
        return {
            "kid": self.kid,
            "alg": self.alg,
            "public_key": self.public_key,
            "owner": self.owner,
            "role": self.role,
            "department": self.department,
            "license_types": list(self.license_types),
            "valid_from": int(self.valid_from.timestamp()),
            "valid_to": None if self.valid_to is None else int(self.valid_to.timestamp()),
        }

    def end_of_validity(self) -> tuple[datetime | None, str]:
        """Return the earliest time the key stops being valid, and why."""
        ends = [
            (t, why)
            for t, why in (
                (self.revoked_at, "revoked"),
                (self.rotated_at, "rotated"),
                (self.valid_to, "expired"),
            )
            if t is not None
        ]
        if not ends:
            return None, ""
        return min(ends, key=lambda pair: pair[0])

    def problem(
        self, at: datetime, *, owner: str | None = None, license_type: str | None = None
    ) -> str | None:
        """Return why this key may not sign at ``at`` (for ``owner``/``license_type``), or None."""
        _aware(at, "signing time")
        if owner is not None and owner != self.owner:
            return f"key {self.kid.hex()} belongs to {self.owner!r}, not {owner!r}"
        if at < self.valid_from:
            return (
                f"key {self.kid.hex()} is valid from {self.valid_from.isoformat()}, "
                f"signature made at {at.isoformat()}"
            )
        end, why = self.end_of_validity()
        if end is not None and at >= end:
            detail = (
                f" ({self.revocation_reason})"
                if why == "revoked" and self.revocation_reason
                else ""
            )
            return (
                f"key {self.kid.hex()} {why} at {end.isoformat()}{detail}, "
                f"signature made at {at.isoformat()}"
            )
        if license_type is not None and license_type not in self.license_types:
            return (
                f"key {self.kid.hex()} may sign license types {sorted(self.license_types)}, "
                f"not {license_type!r}"
            )
        return None

    def check(
        self, at: datetime, *, owner: str | None = None, license_type: str | None = None
    ) -> None:
        """Raise ``KeyNotValid`` unless this key could sign at ``at``."""
        reason = self.problem(at, owner=owner, license_type=license_type)
        if reason is not None:
            raise KeyNotValid(reason)


class KeyRecord(Aggregate):
    """One registered key and its history."""

    TOPIC_PREFIX: ClassVar[str] = "key"
    # Registry commands record the acting administrator as a plain mapping: ``keys`` sits below
    # the ledger and cannot use the ledger's Actor type.
    ACTOR_FORMAT: ClassVar[str] = "mapping"

    @classmethod
    def create_id(cls, kid: bytes, **_: Any) -> UUID:
        """Return the aggregate id derived from the key id."""
        return uuid5(KEY_NAMESPACE, kid.hex())

    @event("Registered")
    def __init__(
        self,
        *,
        kid: bytes,
        alg: int,
        public_key: bytes,
        owner: str,
        role: str,
        department: str | None,
        license_types: list[str],
        valid_from: datetime,
        valid_to: datetime | None,
        certificate: bytes,
        at: datetime,
        actor: dict[str, str | None],
        channel: str,
    ) -> None:
        self.kid = kid
        self.alg = alg
        self.public_key = public_key
        self.owner = owner
        self.role = role
        self.department = department
        self.license_types = list(license_types)
        self.valid_from = valid_from
        self.valid_to = valid_to
        self.certificate = certificate
        self.rotated_at: datetime | None = None
        self.successor: bytes | None = None
        self.revoked_at: datetime | None = None
        self.revocation_reason: str | None = None

    def rotate(
        self,
        *,
        successor: bytes,
        at: datetime,
        actor: dict[str, str | None],
        channel: str,
        retire_at: datetime | None = None,
    ) -> None:
        """Retire this key for new signatures from ``retire_at`` (default ``at``), which may lie
        a little after ``at`` so that every process switches to the successor before it ends;
        earlier signatures stay valid."""
        _aware(at, "rotation time")
        retire_at = at if retire_at is None else retire_at
        _aware(retire_at, "retirement time")
        if self.revoked_at is not None:
            raise RegistryConflict(f"key {self.kid.hex()} is revoked; cannot rotate it")
        if self.rotated_at is not None:
            raise RegistryConflict(
                f"key {self.kid.hex()} was already rotated at {self.rotated_at.isoformat()}"
            )
        if successor == self.kid:
            raise RegistryConflict("a key cannot be its own successor")
        if retire_at < at:
            raise RegistryConflict(
                f"retirement time {retire_at.isoformat()} lies before the command time "
                f"{at.isoformat()}; to end a key in the past, revoke it"
            )
        self._rotated(successor=successor, at=at, actor=actor, channel=channel, retire_at=retire_at)

    @event("Rotated")
    def _rotated(
        self,
        *,
        successor: bytes,
        at: datetime,
        actor: dict[str, str | None],
        channel: str,
        retire_at: datetime | None = None,
    ) -> None:
        # Rotations recorded before retirement times existed end the key at ``at``.
        self.rotated_at = at if retire_at is None else retire_at
        self.successor = successor

    def revoke(
        self,
        *,
        revoked_at: datetime,
        reason: str,
        at: datetime,
        actor: dict[str, str | None],
        channel: str,
    ) -> None:
        """Revoke the key from ``revoked_at`` (which may precede ``at``, e.g. a compromise)."""
        _aware(revoked_at, "revocation time")
        _aware(at, "command time")
        if self.revoked_at is not None:
            raise RegistryConflict(
                f"key {self.kid.hex()} was already revoked at {self.revoked_at.isoformat()}"
            )
        if not reason.strip():
            raise RegistryConflict("a revocation needs a reason, got an empty one")
        if revoked_at > at:
            raise RegistryConflict(
                f"revocation time {revoked_at.isoformat()} lies after the command time "
                f"{at.isoformat()}; revoke when it happens"
            )
        self._revoked(revoked_at=revoked_at, reason=reason, at=at, actor=actor, channel=channel)

    @event("Revoked")
    def _revoked(
        self,
        *,
        revoked_at: datetime,
        reason: str,
        at: datetime,
        actor: dict[str, str | None],
        channel: str,
    ) -> None:
        self.revoked_at = revoked_at
        self.revocation_reason = reason

    def entry(self) -> KeyEntry:
        """Return the key's current metadata and history as a value."""
        return KeyEntry(
            kid=self.kid,
            alg=self.alg,
            public_key=self.public_key,
            owner=self.owner,
            role=self.role,
            department=self.department,
            license_types=tuple(self.license_types),
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            certificate=self.certificate,
            rotated_at=self.rotated_at,
            successor=self.successor,
            revoked_at=self.revoked_at,
            revocation_reason=self.revocation_reason,
        )


class KeyIndex(Aggregate):
    """The list of registered key ids, so the registry can enumerate its keys."""

    TOPIC_PREFIX: ClassVar[str] = "keyindex"
    ACTOR_FORMAT: ClassVar[str] = "mapping"
    INDEX_ID: ClassVar[UUID] = uuid5(KEY_NAMESPACE, "key-index")

    @classmethod
    def create_id(cls, **_: Any) -> UUID:
        """Return the one index's fixed id."""
        return cls.INDEX_ID

    @event("Started")
    def __init__(self, *, at: datetime, actor: dict[str, str | None], channel: str) -> None:
        self.kids: list[bytes] = []

    @event("KeyAdded")
    def add(self, *, kid: bytes, at: datetime, actor: dict[str, str | None], channel: str) -> None:
        """Record one more registered key id."""
        self.kids.append(kid)

    def changed(
        self, *, kid: bytes, at: datetime, actor: dict[str, str | None], channel: str
    ) -> None:
        """Record that a registered key was rotated or revoked: the index's version then counts
        every change to the registry, so a process can tell with one read that its copies of
        the entries are stale."""
        if kid not in self.kids:
            raise UnknownKey(f"key id {kid.hex()} is not registered")
        self._changed(kid=kid, at=at, actor=actor, channel=channel)

    @event("KeyChanged")
    def _changed(
        self, *, kid: bytes, at: datetime, actor: dict[str, str | None], channel: str
    ) -> None:
        pass


class EntrySource(Protocol):
    """Anything that can answer 'what do we know about key K?' (registry or trust list)."""

    def entry(self, kid: bytes) -> KeyEntry:
        """Return the entry for ``kid`` or raise ``UnknownKey``."""
        ...


def check_key(
    source: EntrySource,
    kid: bytes,
    at: datetime,
    *,
    owner: str | None = None,
    license_type: str | None = None,
) -> KeyEntry:
    """Return the entry of ``kid`` if it was valid at ``at`` for ``owner``/``license_type``."""
    entry = source.entry(kid)
    entry.check(at, owner=owner, license_type=license_type)
    return entry


def require_known(kid: bytes, entries: Mapping[bytes, KeyEntry]) -> KeyEntry:
    """Return ``entries[kid]`` or raise ``UnknownKey`` naming the kid."""
    try:
        return entries[kid]
    except KeyError:
        raise UnknownKey(f"key id {kid.hex()} is not registered") from None


def sorted_entries(entries: Sequence[KeyEntry]) -> list[KeyEntry]:
    """Return entries in a stable order (by validity start, then kid)."""
    return sorted(entries, key=lambda e: (e.valid_from, e.kid))
