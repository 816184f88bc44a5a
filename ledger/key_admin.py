"""Key administration, as administrators use it and auditors read it: the registry with each key's
state; replacing (rotating) a key this service holds, with an overlap in which both keys sign so
that every process has switched before the old one retires; revoking a key from the time it was
compromised; enrolling a courier's own device key.

Each command runs once per command id, its registry changes saved with its answer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from keys.algorithms import load_public_key, public_key_der
from keys.errors import KeyManagementError, RegistryConflict, UnknownKey, UnsupportedAlgorithm
from keys.registry import KeyEntry, KeyIndex, KeyRole, kid_for
from keys.signer import Signer
from keys.store import KeyStore
from ledger.actors import Role
from ledger.commands import Command
from ledger.errors import ActionNotPermitted, KeyRegistryChanged, LedgerError
from ledger.key_views import Answer, Replacement, key_answer, key_answers
from ledger.keydirectory import acts_for, store_name, successor_store_name
from ledger.signing import SigningIdentity

if TYPE_CHECKING:
    from ledger.application import CaseLedger

KEY_ADMINISTRATORS = frozenset({Role.ADMIN, Role.SYSTEM})
# Keys this service holds and replaces; the root anchors the registry and the log key is pinned
# by witnesses, so neither is replaced here.
REPLACEABLE = frozenset({KeyRole.DEPARTMENT_SEAL, KeyRole.INTAKE, KeyRole.COURIER})
# Longer than any process's key ring staleness bound (1 s by default) with room for clock skew.
ROTATION_OVERLAP = timedelta(seconds=30)
# How far ahead a replacement key may be published before it signs: time for offline verifiers
# to fetch the trust list that names it, without a key waiting unused for long.
MAX_PUBLICATION_AHEAD = timedelta(days=90)


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
        """Every registered key with its state at ``at``, by validity start, then key id."""
        return key_answers(self._ledger.keyring.entries(), at)

    def key(self, kid: bytes, at: datetime) -> Answer:
        """One registered key with its state at ``at`` (``UnknownKey`` if not registered)."""
        entry = self._ledger.keyring.entry(kid)
        successor = None if entry.successor is None else self._ledger.keyring.entry(entry.successor)
        return key_answer(entry, at, None if successor is None else successor.valid_from)

    # -- commands ---------------------------------------------------------------------------------

    def rotate(self, cmd: Command, kid: bytes, *, starts_at: datetime | None = None) -> Replacement:
        """Replace a key this service holds with a new one for the same signer: the new key signs
        from now, or from ``starts_at`` when published ahead so that offline verifiers fetch it
        first, and the old one until the overlap after that (a revoked one is simply replaced)."""
        self._administrator(cmd)
        ring = self._ledger.keyring
        # Whole seconds, as trust lists carry them; up, so that the start is never early.
        starts = cmd.at if starts_at is None else _second_after(starts_at.astimezone(UTC))

        def run() -> tuple[list[Any], Answer]:
            old = ring.entry(kid)
            identity = self._replaceable(old)
            if self._ledger.key_directory.held_name(identity, old.kid) is None:
                raise RegistryConflict(
                    f"this service does not hold the private key of {kid.hex()} "
                    f"({old.role} of {old.owner!r}); enrol its holder's new public key instead"
                )
            self._check_live(old, identity, cmd.at)
            if starts_at is not None:
                self._check_start(old, cmd.at, starts)
            name, signer = self._store.generate_named(
                lambda der: successor_store_name(identity, kid_for(der))
            )
            generated.append(name)
            index = ring.index(at=cmd.at, actor=cmd.actor.as_dict())
            aggregates, answer = self._replacement(
                cmd, old, signer.public_key_der(), index, starts=starts
            )
            return [*aggregates, index], answer

        generated: list[str] = []
        # A rotation from now is fingerprinted as it always was: only a given start is added.
        arguments = {"kid": kid.hex()}
        if starts_at is not None:
            arguments["starts_at"] = starts.isoformat()
        answer = self._execute("rotate-key", arguments, run, cmd, generated)
        return Replacement(dict(answer["key"]), dict(answer["replaces"]))

    def enrol(
        self,
        cmd: Command,
        *,
        courier: str,
        public_key_der: bytes,
        replaces: bytes | None = None,
    ) -> Replacement:
        """Register a courier's own device key for signing its reports (its private key never
        reaches this service; the ledger's events for the courier are signed by a key held here,
        made now for a courier new here); with ``replaces``, that earlier device key retires
        after the overlap."""
        self._administrator(cmd)
        ring = self._ledger.keyring
        directory = self._ledger.key_directory
        identity = SigningIdentity(KeyRole.COURIER, courier)
        public_key_der = _ed25519_der(public_key_der)

        def run() -> tuple[list[Any], Answer]:
            held = directory.signing_keys(identity)
            index = ring.index(at=cmd.at, actor=cmd.actor.as_dict())
            # A courier new here (or whose own key here was revoked) gets one, to sign its
            # events with, as provisioning would have made it.
            aggregates: list[Any] = (
                [] if held else [self._courier_key(cmd, identity, index, generated)]
            )
            if replaces is None:
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
                answer: Answer = {"key": key_answer(record.entry(), cmd.at)}
                return [*aggregates, record, index], answer
            old = ring.entry(replaces)
            if not acts_for(old, identity):
                raise RegistryConflict(
                    f"key {replaces.hex()} is a {old.role} key of {old.owner!r}, "
                    f"not courier {courier!r}'s"
                )
            if directory.held_name(identity, old.kid) is not None:
                raise RegistryConflict(
                    f"key {replaces.hex()} is held by this service; rotate it instead"
                )
            if old.rotated_at is not None or old.revoked_at is not None:
                raise RegistryConflict(f"key {replaces.hex()} is already rotated or revoked")
            replacing, answer = self._replacement(cmd, old, public_key_der, index)
            return [*aggregates, *replacing, index], answer

        arguments = {
            "courier": courier,
            "public_key": public_key_der.hex(),
            "replaces": None if replaces is None else replaces.hex(),
        }
        generated: list[str] = []
        answer = self._execute("enrol-key", arguments, run, cmd, generated)
        replaced = answer.get("replaces")
        return Replacement(dict(answer["key"]), None if replaced is None else dict(replaced))

    def revoke(
        self, cmd: Command, kid: bytes, *, reason: str, revoked_at: datetime | None = None
    ) -> Answer:
        """Revoke a key from ``revoked_at`` (default now; earlier for a compromise): whatever it
        signed from then on fails verification, in every process within its staleness bound."""
        self._administrator(cmd)
        ring = self._ledger.keyring
        # Whole seconds, as trust lists carry them: online and offline checks then agree; down,
        # so that the revocation covers the moment it names.
        when = (cmd.at if revoked_at is None else revoked_at).astimezone(UTC).replace(microsecond=0)

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

        # The request as given: a repeat of "from now" is the same request a moment later.
        given = None if revoked_at is None else when.isoformat()
        arguments = {"kid": kid.hex(), "reason": reason, "revoked_at": given}
        return dict(self._execute("revoke-key", arguments, run, cmd, generated=[]))

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

    def _check_live(self, entry: KeyEntry, identity: SigningIdentity, at: datetime) -> None:
        # Only the held key that signs now (or a revoked one nothing replaced yet) is replaced:
        # a second rotation of the same key would leave two successors.
        signing = [entry for entry, _ in self._ledger.key_directory.signing_keys(identity)]
        if entry.rotated_at is not None:
            raise RegistryConflict(
                f"key {entry.kid.hex()} was already replaced by {_hex(entry.successor)}"
            )
        if entry.revoked_at is None and entry.valid_from > at:
            raise RegistryConflict(
                f"key {entry.kid.hex()} starts signing at {entry.valid_from.isoformat()}; to call "
                "off its start, revoke it, then replace it"
            )
        if entry.revoked_at is None and signing and entry.kid not in {e.kid for e in signing}:
            raise RegistryConflict(
                f"key {entry.kid.hex()} is not the one that signs now; that is "
                f"{signing[0].kid.hex()}"
            )
        if entry.revoked_at is not None and signing:
            raise RegistryConflict(
                f"revoked key {entry.kid.hex()} was already replaced by {signing[0].kid.hex()}"
            )

    def _check_start(self, old: KeyEntry, at: datetime, starts: datetime) -> None:
        # A start ahead of the command: within the publication bound, and before the old key
        # ends, so that one of the two signs at every moment in between.
        if old.revoked_at is not None:
            raise RegistryConflict(
                f"key {old.kid.hex()} is revoked: its replacement signs at once, not from "
                f"{starts.isoformat()}"
            )
        if not at < starts <= at + MAX_PUBLICATION_AHEAD:
            raise RegistryConflict(
                f"a replacement's start must lie after the command time {at.isoformat()} and "
                f"at most {MAX_PUBLICATION_AHEAD.days} days ahead, got {starts.isoformat()}"
            )
        if old.valid_to is not None and old.valid_to < starts + self.overlap:
            raise RegistryConflict(
                f"key {old.kid.hex()} expires at {old.valid_to.isoformat()}, before its "
                f"replacement would take over from {starts.isoformat()}"
            )

    def _replacement(
        self,
        cmd: Command,
        old: KeyEntry,
        public_key_der: bytes,
        index: KeyIndex,
        *,
        starts: datetime | None = None,
    ) -> tuple[list[Any], Answer]:
        # The new key inherits what the old one was registered for and signs from ``starts``
        # (default the command time); the old one retires after the overlap from then, unless
        # it is revoked already. The caller saves the index.
        ring = self._ledger.keyring
        actor = cmd.actor.as_dict()
        starts = cmd.at if starts is None else starts
        valid_to = old.valid_to if old.valid_to is not None and old.valid_to > starts else None
        record = ring.registration(
            index,
            root=self._root(),
            public_key_der=public_key_der,
            owner=old.owner,
            role=old.role,
            department=old.department,
            license_types=old.license_types,
            valid_from=starts,
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
                retire_at=_second_after(starts + self.overlap),
            )
            aggregates.append(retired)
            replaced = retired.entry()
        answer = {
            "key": key_answer(record.entry(), cmd.at),
            "replaces": key_answer(replaced, cmd.at, starts),
        }
        return [*aggregates, index], answer

    def _courier_key(
        self, cmd: Command, identity: SigningIdentity, index: KeyIndex, generated: list[str]
    ) -> Any:
        base = store_name(identity)
        taken = set(self._store.names())

        def name_for(der: bytes) -> str:
            return base if base not in taken else successor_store_name(identity, kid_for(der))

        name, signer = self._store.generate_named(name_for)
        generated.append(name)
        return self._ledger.keyring.registration(
            index,
            root=self._root(),
            public_key_der=signer.public_key_der(),
            owner=str(identity.owner),
            role=KeyRole.COURIER,
            valid_from=cmd.at,
            at=cmd.at,
            actor=cmd.actor.as_dict(),
        )

    def _execute(
        self,
        command: str,
        arguments: dict[str, Any],
        run: Callable[[], tuple[list[Any], Answer]],
        cmd: Command,
        generated: list[str],
    ) -> Answer:
        # Keys made for a command that is not recorded (refused, or beaten by a concurrent
        # repeat with keys of its own) are destroyed: nothing may ever sign with them.
        try:
            return self._ledger.execute(command, arguments, run, cmd, _conflict)
        finally:
            self._ledger.keyring.sync()
            for name in generated:
                kid = kid_for(self._store.signer(name).public_key_der())
                try:
                    self._ledger.keyring.entry(kid)
                except UnknownKey:
                    with contextlib.suppress(KeyManagementError):
                        self._store.discard(name)

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


def _ed25519_der(data: bytes) -> bytes:
    # One form per key, so one key has one kid: 32 raw bytes become the DER they stand for.
    loaded = load_public_key(data)
    if not isinstance(loaded, Ed25519PublicKey):
        raise UnsupportedAlgorithm(
            f"a courier's device key must be Ed25519, got {type(loaded).__name__}"
        )
    return public_key_der(loaded)


def _second_after(at: datetime) -> datetime:
    # Whole seconds, as trust lists carry them; up, so that the overlap is never cut short.
    whole = at.replace(microsecond=0)
    return whole if whole == at else whole + timedelta(seconds=1)


def _hex(kid: bytes | None) -> str:
    return "nothing" if kid is None else kid.hex()
