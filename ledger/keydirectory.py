"""Which key signs for whom: maps signing identities to key-store names and registry entries.

Key-store names: ``root``, ``intake``, ``dept-<department>``, ``courier-<principal>``; a key that
replaced another (rotation) is stored as ``<name>.<first 16 hex digits of its kid>``. The signer for
an identity at a time is the newest registered key of that identity that has started by then, is not
revoked, has not retired by then, and whose private key this store holds; it is handed out only if
valid at the signing time. So a successor published ahead of its start signs only from its start.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from keys.errors import KeyManagementError
from keys.keyring import KeyRing
from keys.registry import KeyEntry, KeyRole, kid_for
from keys.signer import Signer
from keys.store import KeyStore
from ledger.signing import SigningIdentity, SigningIdentityError


def store_name(identity: SigningIdentity) -> str:
    """Return the key-store name of the key acting for ``identity``."""
    if identity.role == KeyRole.ROOT:
        return "root"
    if identity.role == KeyRole.INTAKE:
        return "intake"
    if identity.role == KeyRole.DEPARTMENT_SEAL:
        return f"dept-{identity.owner}"
    if identity.role == KeyRole.COURIER:
        return f"courier-{identity.owner}"
    raise SigningIdentityError(f"no key-store name for key role {identity.role!r}")


def successor_store_name(identity: SigningIdentity, kid: bytes) -> str:
    """Return the key-store name of a key that replaces an earlier key of ``identity``."""
    return f"{store_name(identity)}.{kid.hex()[:16]}"


def acts_for(entry: KeyEntry, identity: SigningIdentity) -> bool:
    """Whether ``entry`` is registered for ``identity`` (any owner, for an identity without)."""
    return entry.role == identity.role and identity.owner in (None, entry.owner)


_Candidate = tuple[datetime, datetime | None, str]  # (starts, retires, store name)


class LedgerKeys:
    """The ledger's ``KeyDirectory``: signers from a key store, entries from the key ring."""

    def __init__(self, store: KeyStore, keyring: KeyRing | None = None) -> None:
        self.store = store
        self.keyring = keyring
        # Each identity's candidate keys with the key ring generation they were read in: a
        # thread that read an older generation never passes its reading off as the current one's.
        self._candidates: dict[SigningIdentity, tuple[int, tuple[_Candidate, ...]]] = {}
        self._by_name: dict[str, tuple[int, Signer, bytes]] = {}

    def attach(self, keyring: KeyRing) -> None:
        """Attach the key ring once the application (its event store) exists."""
        self.keyring = keyring

    def _ring(self) -> KeyRing:
        if self.keyring is None:
            raise KeyManagementError("key directory has no key ring attached")
        return self.keyring

    def signer_for(self, identity: SigningIdentity, at: datetime) -> tuple[Signer, bytes]:
        """Return the signer and kid acting for ``identity`` at ``at``."""
        # Read again whenever the registry changed (here or, seen within the key ring's
        # staleness bound, in another process): a rotation switches every process over.
        generation = -1 if self.keyring is None else self.keyring.fresh_generation()
        cached = self._candidates.get(identity)
        if cached is None or cached[0] != generation:
            cached = (generation, self._read_candidates(identity))
            self._candidates[identity] = cached
        for starts, ends, name in cached[1]:
            if starts <= at and (ends is None or at < ends):
                return self._signer(name, identity, generation)
        return self._signer(store_name(identity), identity, generation)

    def _read_candidates(self, identity: SigningIdentity) -> tuple[_Candidate, ...]:
        # The held keys that were ever to sign for the identity and are not revoked, newest
        # first, each with its start and its retirement (a courier's device key, registered for
        # its reports, is not held here and never signs the ledger's events).
        if self.keyring is None or identity.role == KeyRole.ROOT:
            return ()
        held = self._held(identity, lambda e: e.revoked_at is None)
        return tuple((entry.valid_from, entry.rotated_at, name) for entry, name in held)

    def _signer(
        self, name: str, identity: SigningIdentity, generation: int
    ) -> tuple[Signer, bytes]:
        # Loaded once per registry generation: a name freed by a discarded key may be reused.
        found = self._by_name.get(name)
        if found is not None and found[0] == generation:
            return found[1], found[2]
        try:
            signer = self.store.signer(name)
        except KeyManagementError as exc:
            raise SigningIdentityError(
                f"no signing key for {identity.role} {identity.owner or ''}: {exc}"
            ) from None
        kid = kid_for(signer.public_key_der())
        self._by_name[name] = (generation, signer, kid)
        return signer, kid

    def signing_keys(self, identity: SigningIdentity) -> list[tuple[KeyEntry, str]]:
        """The registered keys of ``identity`` that are neither rotated nor revoked (one not yet
        started included) and whose private key this store holds, with their store names, newest
        first."""
        return self._held(identity, lambda e: e.rotated_at is None and e.revoked_at is None)

    def _held(
        self, identity: SigningIdentity, keep: Callable[[KeyEntry], bool]
    ) -> list[tuple[KeyEntry, str]]:
        # The identity's registered keys that ``keep`` keeps and this store holds, newest first.
        names = set(self.store.names())
        kept = [e for e in self._ring().entries() if acts_for(e, identity) and keep(e)]
        held = []
        for entry in sorted(kept, key=lambda e: (e.valid_from, e.kid), reverse=True):
            name = self.held_name(identity, entry.kid, names)
            if name is not None:
                held.append((entry, name))
        return held

    def held_name(
        self, identity: SigningIdentity, kid: bytes, names: set[str] | None = None
    ) -> str | None:
        """The key-store name of ``kid`` if this store holds its private key, else None."""
        names = set(self.store.names()) if names is None else names
        successor = successor_store_name(identity, kid)
        if successor in names:
            return successor
        base = store_name(identity)
        if base in names and kid_for(self.store.signer(base).public_key_der()) == kid:
            return base
        return None

    def entry(self, kid: bytes) -> KeyEntry:
        """Return the registered entry of ``kid``."""
        return self._ring().entry(kid)

    def check_signer(self, identity: SigningIdentity, at: datetime) -> KeyEntry:
        """Raise unless the key for ``identity`` is registered for it and valid at ``at``."""
        _, kid = self.signer_for(identity, at)
        entry = self.entry(kid)
        if entry.role != identity.role:
            raise SigningIdentityError(
                f"key {kid.hex()} is a {entry.role} key; {identity.role} needed"
            )
        entry.check(at, owner=identity.owner)
        return entry
