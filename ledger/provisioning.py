"""Setting up a ledger: keys for every signing party registered under the root, and the catalog.

Idempotent: running it again creates and registers only what is missing, so ``caseledger init``
can be repeated safely.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from keys.errors import UnknownKey
from keys.registry import KeyRole, kid_for
from keys.signer import Ed25519Signer
from keys.store import KeyStore
from ledger.actors import Actor
from ledger.application import CaseLedger
from ledger.authority import SERVICE_CENTRE
from ledger.catalog import ItemTerms
from ledger.commands import Command
from ledger.errors import UnknownItem
from ledger.keydirectory import store_name
from ledger.signing import SigningIdentity

PLATFORM = "platform"


@dataclass
class ProvisionReport:
    """What a provisioning run created (empty lists on a repeat run)."""

    keys_created: list[str] = field(default_factory=list)
    keys_registered: list[str] = field(default_factory=list)
    items_published: list[str] = field(default_factory=list)


def ensure_key(store: KeyStore, name: str, report: ProvisionReport) -> Ed25519Signer:
    """Return the signer stored under ``name``, generating the key if it is missing."""
    try:
        return store.signer(name)
    except UnknownKey:
        report.keys_created.append(name)
        return store.generate(name)


def provision(
    ledger: CaseLedger,
    store: KeyStore,
    *,
    departments: Iterable[str],
    license_types: Mapping[str, Iterable[str]],
    couriers: Iterable[str],
    catalog: Iterable[ItemTerms],
    admin: Actor,
    at: datetime,
) -> ProvisionReport:
    """Create and register every key the ledger needs, then publish the catalog."""
    report = ProvisionReport()
    admin_map = admin.as_dict()
    root = ensure_key(store, "root", report)
    ring = ledger.keyring
    known = {e.kid for e in ring.entries()}
    if kid_for(root.public_key_der()) not in known:
        ring.bootstrap(root, owner=PLATFORM, valid_from=at, valid_to=None, at=at, actor=admin_map)
        report.keys_registered.append("root")
    wanted: list[tuple[SigningIdentity, str | None, tuple[str, ...]]] = [
        (SigningIdentity(KeyRole.INTAKE, PLATFORM), None, ()),
        (SigningIdentity(KeyRole.LOG, PLATFORM), None, ()),
    ]
    for department in sorted({*departments, SERVICE_CENTRE}):
        types = tuple(sorted(license_types.get(department, ())))
        wanted.append((SigningIdentity(KeyRole.DEPARTMENT_SEAL, department), department, types))
    for courier in sorted(set(couriers)):
        wanted.append((SigningIdentity(KeyRole.COURIER, courier), None, ()))
    for identity, seal_department, types in wanted:
        name = "log" if identity.role == KeyRole.LOG else store_name(identity)
        signer = ensure_key(store, name, report)
        if kid_for(signer.public_key_der()) in known:
            continue
        ring.register(
            root=root,
            public_key_der=signer.public_key_der(),
            owner=identity.owner or PLATFORM,
            role=identity.role,
            department=seal_department,
            license_types=types,
            valid_from=at,
            at=at,
            actor=admin_map,
        )
        report.keys_registered.append(name)
    cmd = Command(at=at, actor=admin)
    for terms in catalog:
        try:
            ledger.item(terms.implementation_code)
        except UnknownItem:
            ledger.publish_item(terms, cmd)
            report.items_published.append(terms.implementation_code)
    return report
