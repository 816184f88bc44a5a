"""Which key signs for whom: maps signing identities to key-store names and registry entries.

Key-store names: ``root``, ``intake``, ``dept-<department>``, ``courier-<principal>``; a key that
replaced another (rotation) is stored as ``<name>.<first 16 hex digits of its kid>``. The signer for
an identity is the newest registered key of that identity that is neither rotated nor revoked and
whose private key this store holds; it is handed out only if valid at the signing time.
"""

from __future__ import annotations

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


def current_entry(entries: list[KeyEntry], identity: SigningIdentity) -> KeyEntry | None:
    """The newest key registered for ``identity`` that is neither rotated nor revoked."""
    live = [
        e
        for e in entries
        if acts_for(e, identity) and e.rotated_at is None and e.revoked_at is None
    ]
    return max(live, key=lambda e: (e.valid_from, e.kid), default=None)


class LedgerKeys:
    """The ledger's ``KeyDirectory``: signers from a key store, entries from the key ring."""

    def __init__(self, store: KeyStore, keyring: KeyRing | None = None) -> None:
        self.store = store
        self.keyring = keyring
        # Each choice with the key ring generation it was made in: a thread that chose in an
        # older generation never passes its choice off as the current one's.
        self._signers: dict[SigningIdentity, tuple[int, Signer, bytes]] = {}

    def attach(self, keyring: KeyRing) -> None:
        """Attach the key ring once the application (its event store) exists."""
        self.keyring = keyring

    def _ring(self) -> KeyRing:
        if self.keyring is None:
            raise KeyManagementError("key directory has no key ring attached")
        return self.keyring

    def signer_for(self, identity: SigningIdentity) -> tuple[Signer, bytes]:
        """Return the signer and kid acting for ``identity``."""
        # Chosen again whenever the registry changed (here or, seen within the key ring's
        # staleness bound, in another process): a rotation switches every process over.
        generation = -1 if self.keyring is None else self.keyring.fresh_generation()
        cached = self._signers.get(identity)
        if cached is not None and cached[0] == generation:
            return cached[1], cached[2]
        signer, kid = self._choose(identity)
        self._signers[identity] = (generation, signer, kid)
        return signer, kid

    def _choose(self, identity: SigningIdentity) -> tuple[Signer, bytes]:
        # The newest live key of the identity whose private key is here: a courier's device
        # key, registered for its reports, never signs the ledger's events.
        name = store_name(identity)
        if self.keyring is not None and identity.role != KeyRole.ROOT:
            held = self.signing_keys(identity)
            if held:
                name = held[0][1]
        try:
            signer = self.store.signer(name)
        except KeyManagementError as exc:
            raise SigningIdentityError(
                f"no signing key for {identity.role} {identity.owner or ''}: {exc}"
            ) from None
        return signer, kid_for(signer.public_key_der())

    def signing_keys(self, identity: SigningIdentity) -> list[tuple[KeyEntry, str]]:
        """The registered keys of ``identity`` that are neither rotated nor revoked and whose
        private key this store holds, with their store names, newest first."""
        names = set(self.store.names())
        live = [
            e
            for e in self._ring().entries()
            if acts_for(e, identity) and e.rotated_at is None and e.revoked_at is None
        ]
        held = []
        for entry in sorted(live, key=lambda e: (e.valid_from, e.kid), reverse=True):
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
        _, kid = self.signer_for(identity)
        entry = self.entry(kid)
        if entry.role != identity.role:
            raise SigningIdentityError(
                f"key {kid.hex()} is a {entry.role} key; {identity.role} needed"
            )
        entry.check(at, owner=identity.owner)
        return entry
