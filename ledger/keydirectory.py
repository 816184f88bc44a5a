"""Which key signs for whom: maps signing identities to key-store names and registry entries.

Key-store names: ``root``, ``intake``, ``dept-<department>``, ``courier-<principal>``. A signer is
handed out only if its key is registered for that identity and valid at the signing time.
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


class LedgerKeys:
    """The ledger's ``KeyDirectory``: signers from a key store, entries from the key ring."""

    def __init__(self, store: KeyStore, keyring: KeyRing | None = None) -> None:
        self.store = store
        self.keyring = keyring
        self._signers: dict[SigningIdentity, tuple[Signer, bytes]] = {}

    def attach(self, keyring: KeyRing) -> None:
        """Attach the key ring once the application (its event store) exists."""
        self.keyring = keyring

    def _ring(self) -> KeyRing:
        if self.keyring is None:
            raise KeyManagementError("key directory has no key ring attached")
        return self.keyring

    def signer_for(self, identity: SigningIdentity) -> tuple[Signer, bytes]:
        """Return the signer and kid acting for ``identity``."""
        cached = self._signers.get(identity)
        if cached is not None:
            return cached
        try:
            signer = self.store.signer(store_name(identity))
        except KeyManagementError as exc:
            raise SigningIdentityError(
                f"no signing key for {identity.role} {identity.owner or ''}: {exc}"
            ) from None
        pair = (signer, kid_for(signer.public_key_der()))
        self._signers[identity] = pair
        return pair

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
