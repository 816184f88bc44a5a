"""Key administration, as administrators use it and auditors read it: the registry with each key's
state; replacing (rotating) a key this service holds, with an overlap in which both keys sign so
that every process has switched before the old one retires; revoking a key from the time it was
compromised; enrolling a courier's own device key.

Each command runs once per command id, its registry changes saved with its answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from keys.errors import KeyManagementError, RegistryConflict, UnknownKey
from keys.registry import KeyEntry, KeyRole, kid_for
from keys.signer import Signer
from keys.store import KeyStore
from ledger.actors import Role
from ledger.commands import Command
from ledger.errors import ActionNotPermitted, KeyRegistryChanged, LedgerError
from ledger.keydirectory import acts_for, current_entry, store_name, successor_store_name
from ledger.signing import SigningIdentity

if TYPE_CHECKING:
    from ledger.application import CaseLedger

KEY_ADMINISTRATORS = frozenset({Role.ADMIN, Role.SYSTEM})
# Keys this service holds and replaces; the root anchors the registry and the log key is pinned
# by witnesses, so neither is replaced here.
REPLACEABLE = frozenset({KeyRole.DEPARTMENT_SEAL, KeyRole.INTAKE, KeyRole.COURIER})
# Longer than any process's key ring staleness bound (1 s by default) with room for clock skew.
ROTATION_OVERLAP = timedelta(seconds=30)

Answer = dict[str, Any]


def key_state(entry: KeyEntry, at: datetime) -> str:
    """What ``entry`` may do at ``at``: active, retiring (rotated, overlap running), rotated,
    revoked, expired or not-yet-valid."""
    if entry.revoked_at is not None and at >= entry.revoked_at:
        return "revoked"
    if at < entry.valid_from:
        return "not-yet-valid"
    if entry.rotated_at is not None:
        return "rotated" if at >= entry.rotated_at else "retiring"
    if entry.valid_to is not None and at >= entry.valid_to:
        return "expired"
    return "active"


def key_answer(entry: KeyEntry, at: datetime) -> Answer:
    """A key as administrators and auditors see it (JSON-ready: hex ids, ISO times)."""

    def iso(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "kid": entry.kid.hex(),
        "role": entry.role,
        "owner": entry.owner,
        "department": entry.department,
        "license_types": list(entry.license_types),
        "state": key_state(entry, at),
        "valid_from": iso(entry.valid_from),
        "valid_to": iso(entry.valid_to),
        "rotated_at": iso(entry.rotated_at),
        "successor": None if entry.successor is None else entry.successor.hex(),
        "revoked_at": iso(entry.revoked_at),
        "revocation_reason": entry.revocation_reason,
    }


@dataclass(frozen=True)
class Replacement:
    """A new key, and the key it replaces (with when that one retires), if it replaces one."""

    key: Answer
    replaces: Answer | None = None


class KeyAdministration:
    """The key registry's commands and reads for administrators."""

    def __init__(self, ledger: CaseLedger, store: KeyStore, *, overlap: timedelta) -> None:
        if overlap < timedelta(seconds=ledger.keyring.max_staleness):
            raise LedgerError(
                f"a rotation's overlap must be at least the key ring's staleness bound "
                f"({ledger.keyring.max_staleness} s), got {overlap.total_seconds()} s"
            )
        self._ledger = ledger
        self._store = store
        self.overlap = overlap

    # -- reads ------------------------------------------------------------------------------------

    def keys(self, at: datetime) -> list[Answer]:
        """Every registered key with its state at ``at``, oldest first."""
        return [key_answer(entry, at) for entry in self._ledger.keyring.entries()]

    def key(self, kid: bytes, at: datetime) -> Answer:
        """One registered key with its state at ``at`` (``UnknownKey`` if not registered)."""
        return key_answer(self._ledger.keyring.entry(kid), at)

    # -- commands ---------------------------------------------------------------------------------

    def rotate(self, cmd: Command, kid: bytes) -> Replacement:
        """Replace a key this service holds with a new one for the same signer: the new key signs
        from now, the old one retires after the overlap (a revoked one is simply replaced)."""
        self._administrator(cmd)
        ring = self._ledger.keyring

        def run() -> tuple[list[Any], Answer]:
            old = ring.entry(kid)
            identity = self._replaceable(old)
            self._check_live(old, identity)
            name = self._held_name(old, identity)
            if name is None:
                raise RegistryConflict(
                    f"this service does not hold the private key of {kid.hex()} "
                    f"({old.role} of {old.owner!r}); enrol its holder's new public key instead"
                )
            _, signer = self._store.generate_named(
                lambda der: successor_store_name(identity, kid_for(der))
            )
            return self._replacement(cmd, old, signer.public_key_der())

        answer = self._ledger.execute("rotate-key", {"kid": kid.hex()}, run, cmd, _conflict)
        ring.sync()
        return Replacement(dict(answer["key"]), dict(answer["replaces"]))

    def enrol(
        self,
        cmd: Command,
        *,
        courier: str,
        public_key_der: bytes,
        replaces: bytes | None = None,
    ) -> Replacement:
        """Register a courier's own device key (its private key never reaches this service);
        with ``replaces``, that courier's earlier key retires after the overlap."""
        self._administrator(cmd)
        ring = self._ledger.keyring
        identity = SigningIdentity(KeyRole.COURIER, courier)

        def run() -> tuple[list[Any], Answer]:
            if replaces is None:
                current = current_entry(ring.entries(), identity)
                if current is not None:
                    raise RegistryConflict(
                        f"courier {courier!r} already signs with key {current.kid.hex()}; "
                        "name it as the key this one replaces"
                    )
                index = ring.index(at=cmd.at, actor=cmd.actor.as_dict())
                record = ring.registration(
                    index,
                    root=self._root(),
                    public_key_der=public_key_der,
                    owner=courier,
                    role=KeyRole.COURIER,
                    valid_from=cmd.at,
                    at=cmd.at,
                    actor=cmd.actor.as_dict(),
                )
                return [record, index], {"key": key_answer(record.entry(), cmd.at)}
            old = ring.entry(replaces)
            if not acts_for(old, identity):
                raise RegistryConflict(
                    f"key {replaces.hex()} is a {old.role} key of {old.owner!r}, "
                    f"not courier {courier!r}'s"
                )
            self._check_live(old, identity)
            return self._replacement(cmd, old, public_key_der)

        arguments = {
            "courier": courier,
            "public_key": public_key_der.hex(),
            "replaces": None if replaces is None else replaces.hex(),
        }
        answer = self._ledger.execute("enrol-key", arguments, run, cmd, _conflict)
        ring.sync()
        replaced = answer.get("replaces")
        return Replacement(dict(answer["key"]), None if replaced is None else dict(replaced))

    def revoke(
        self, cmd: Command, kid: bytes, *, reason: str, revoked_at: datetime | None = None
    ) -> Answer:
        """Revoke a key from ``revoked_at`` (default now; earlier for a compromise): whatever it
        signed from then on fails verification, in every process within its staleness bound."""
        self._administrator(cmd)
        ring = self._ledger.keyring
        when = cmd.at if revoked_at is None else revoked_at

        def run() -> tuple[list[Any], Answer]:
            entry = ring.entry(kid)
            if entry.role == KeyRole.ROOT:
                raise RegistryConflict(
                    "the root key anchors the registry and every trust list; it is not revoked "
                    "here, a new ledger root is provisioned instead"
                )
            index = ring.index(at=cmd.at, actor=cmd.actor.as_dict())
            record = ring.revocation(
                index, kid, revoked_at=when, reason=reason, at=cmd.at, actor=cmd.actor.as_dict()
            )
            return [record, index], key_answer(record.entry(), cmd.at)

        arguments = {"kid": kid.hex(), "reason": reason, "revoked_at": when.isoformat()}
        answer = self._ledger.execute("revoke-key", arguments, run, cmd, _conflict)
        ring.sync()
        return dict(answer)

    # -- internals --------------------------------------------------------------------------------

    @staticmethod
    def _administrator(cmd: Command) -> None:
        if cmd.actor.role not in KEY_ADMINISTRATORS:
            raise ActionNotPermitted(
                f"keys are administered by {sorted(r.value for r in KEY_ADMINISTRATORS)}, "
                f"got {cmd.actor.role.value}"
            )

    @staticmethod
    def _replaceable(entry: KeyEntry) -> SigningIdentity:
        if entry.role not in REPLACEABLE:
            raise RegistryConflict(
                f"{entry.role} keys are not replaced here; replaceable: {sorted(REPLACEABLE)}"
            )
        owner = None if entry.role == KeyRole.INTAKE else entry.owner
        return SigningIdentity(entry.role, owner)

    def _check_live(self, entry: KeyEntry, identity: SigningIdentity) -> None:
        # Only the key that currently signs (or a revoked one, which nothing replaced yet) is
        # replaced: a second rotation of the same key would leave two successors.
        current = current_entry(self._ledger.keyring.entries(), identity)
        if entry.rotated_at is not None:
            raise RegistryConflict(
                f"key {entry.kid.hex()} was already replaced by {_hex(entry.successor)}"
            )
        if entry.revoked_at is None and current is not None and current.kid != entry.kid:
            raise RegistryConflict(
                f"key {entry.kid.hex()} is not the one that signs now; that is {current.kid.hex()}"
            )
        if entry.revoked_at is not None and current is not None:
            raise RegistryConflict(
                f"revoked key {entry.kid.hex()} was already replaced by {current.kid.hex()}"
            )

    def _held_name(self, entry: KeyEntry, identity: SigningIdentity) -> str | None:
        names = set(self._store.names())
        for name in (successor_store_name(identity, entry.kid), store_name(identity)):
            if name in names and kid_for(self._store.signer(name).public_key_der()) == entry.kid:
                return name
        return None

    def _replacement(
        self, cmd: Command, old: KeyEntry, public_key_der: bytes
    ) -> tuple[list[Any], Answer]:
        # The new key inherits what the old one was registered for; the old one retires after
        # the overlap unless it is revoked already.
        ring = self._ledger.keyring
        actor = cmd.actor.as_dict()
        index = ring.index(at=cmd.at, actor=actor)
        valid_to = old.valid_to if old.valid_to is not None and old.valid_to > cmd.at else None
        record = ring.registration(
            index,
            root=self._root(),
            public_key_der=public_key_der,
            owner=old.owner,
            role=old.role,
            department=old.department,
            license_types=old.license_types,
            valid_from=cmd.at,
            valid_to=valid_to,
            at=cmd.at,
            actor=actor,
        )
        aggregates: list[Any] = [record]
        replaced = old
        if old.revoked_at is None:
            retired = ring.retirement(
                index,
                old.kid,
                successor=record.kid,
                at=cmd.at,
                actor=actor,
                retire_at=cmd.at + self.overlap,
            )
            aggregates.append(retired)
            replaced = retired.entry()
        answer = {
            "key": key_answer(record.entry(), cmd.at),
            "replaces": key_answer(replaced, cmd.at),
        }
        return [*aggregates, index], answer

    def _root(self) -> Signer:
        try:
            return self._store.signer("root")
        except KeyManagementError as error:
            raise UnknownKey(
                f"the root key that certifies registrations is missing: {error}"
            ) from None


def _conflict() -> LedgerError:
    return KeyRegistryChanged(
        "the key command was not recorded: the registry changed meanwhile; read it and retry"
    )


def _hex(kid: bytes | None) -> str:
    return "nothing" if kid is None else kid.hex()
