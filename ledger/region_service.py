"""Other regions' trust, as the service uses it: an administrator pins a region's root key and
installs the trust lists and status lists the region publishes (each verified first); a
department's verification of a credential no key here signed is then tried against them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from keys.algorithms import load_public_key
from keys.errors import KeyManagementError
from keys.registry import kid_for
from keys.trustlist import TrustList, load_trust_list
from ledger.commands import Command
from ledger.errors import RegionConflict, RegionDocumentInvalid, UnknownRegion
from ledger.regions import Region, RegionDirectory, check_region_name
from licenses.errors import StatusListError
from licenses.status import load_status_list
from licenses.verify import VerificationResult, VerificationStatus, Verifier

if TYPE_CHECKING:
    from ledger.application import CaseLedger


class TrustedRegions:
    """Registers regions, installs their documents, verifies their credentials."""

    def __init__(self, ledger: CaseLedger) -> None:
        self._ledger = ledger
        # A verifier per region and installed trust list: keys are parsed once per list.
        self._verifiers: dict[tuple[str, int], Verifier] = {}

    # -- reads ------------------------------------------------------------------------------------

    def regions(self) -> list[Region]:
        """Every region registered here, withdrawn ones included, by name."""
        directory = self._directory()
        return [] if directory is None else sorted(directory.regions.values(), key=_name)

    def region(self, name: str) -> Region:
        """One registered region, or ``UnknownRegion``."""
        return self._existing(name).region(check_region_name(name))

    def trust_list(self, region: Region) -> TrustList | None:
        """The region's installed trust list, verified against its pinned root (None if none)."""
        if region.trust_list is None:
            return None
        return load_trust_list(region.trust_list, region.root_public_key)

    # -- commands ---------------------------------------------------------------------------------

    def register(self, cmd: Command, *, name: str, title: str, root_public_key: bytes) -> bool:
        """Pin a region's root public key (DER); True if it was new."""
        try:
            load_public_key(root_public_key)
        except (KeyManagementError, ValueError, TypeError) as error:
            raise RegionDocumentInvalid(f"root public key: expected DER SPKI: {error}") from None
        root_kid = kid_for(root_public_key)
        if root_kid == self._ledger.keyring.root_kid:
            raise RegionConflict("that is this ledger's own root key, not another region's")
        directory = self._directory_or_open(cmd)
        changed = directory.register(
            name=name,
            title=title,
            root_public_key=root_public_key,
            root_kid=root_kid,
            at=cmd.at,
            actor=cmd.actor.as_dict(),
            channel=str(cmd.channel),
        )
        return self._save(directory, changed)

    def install_trust_list(self, cmd: Command, *, name: str, data: bytes) -> bool:
        """Verify a region's trust list against its pinned root and install it; True if new."""
        directory = self._existing(name)
        region = directory.region(check_region_name(name))
        try:
            trust = load_trust_list(data, region.root_public_key)
        except (KeyManagementError, ValueError, TypeError) as error:
            raise RegionDocumentInvalid(
                f"trust list of region {name!r}: expected one signed by its root key "
                f"{region.root_kid.hex()}: {error}"
            ) from None
        ours = {entry.kid for entry in self._ledger.keyring.entries()}
        clashing = sorted(kid.hex() for kid in trust.entries if kid in ours)
        if clashing:
            raise RegionConflict(
                f"trust list of region {name!r} lists keys registered here: {clashing}"
            )
        changed = directory.install_trust_list(
            name=name,
            data=data,
            sequence=trust.sequence,
            issued_at=trust.issued_at,
            at=cmd.at,
            actor=cmd.actor.as_dict(),
            channel=str(cmd.channel),
        )
        return self._save(directory, changed)

    def install_status_list(self, cmd: Command, *, name: str, data: bytes) -> bool:
        """Verify a region's status list against its trust list and install it; True if new."""
        directory = self._existing(name)
        region = directory.region(check_region_name(name))
        trust = self.trust_list(region)
        if trust is None:
            raise RegionConflict(f"region {name!r} has no trust list yet: install that first")
        try:
            loaded = load_status_list(data, trust)
        except (StatusListError, KeyManagementError, ValueError, TypeError) as error:
            raise RegionDocumentInvalid(f"status list of region {name!r}: {error}") from None
        if loaded.list_id is None or loaded.issued_at is None:
            raise RegionDocumentInvalid(f"status list of region {name!r} names no list or time")
        changed = directory.install_status_list(
            name=name,
            list_id=loaded.list_id,
            data=data,
            issued_at=loaded.issued_at,
            at=cmd.at,
            actor=cmd.actor.as_dict(),
            channel=str(cmd.channel),
        )
        return self._save(directory, changed)

    def withdraw(self, cmd: Command, *, name: str, reason: str) -> bool:
        """Stop verifying a region's credentials; True if it was active."""
        directory = self._existing(name)
        changed = directory.withdraw(
            name=check_region_name(name),
            reason=reason,
            at=cmd.at,
            actor=cmd.actor.as_dict(),
            channel=str(cmd.channel),
        )
        return self._save(directory, changed)

    # -- verification -----------------------------------------------------------------------------

    def verify(
        self, credential: str | bytes, at: datetime
    ) -> tuple[Region, VerificationResult] | None:
        """Verify a credential against the active regions' trust lists; None if none knows its
        key. With the region's copy of the credential's status list, the status is checked too."""
        for region in self.regions():
            if not region.active or region.trust_list is None:
                continue
            verifier = self._verifier(region, region.trust_list)
            result = verifier.verify(credential, at=at)
            if result.status is VerificationStatus.UNKNOWN_ISSUER and result.step == 6:
                continue  # step 6: the key id is not on this region's list
            claims = result.claims
            copy = None if claims is None else region.status_lists.get(claims.status.list_id)
            shown = "has sent no status list for it"
            if result.valid and copy is not None:
                unchecked = result
                result = verifier.verify(credential, status_list=copy.data, at=at)
                if result.status is VerificationStatus.STATUS_OUTDATED:
                    # A copy too old to vouch for a good status counts as none (its revocations
                    # and suspensions still stand): the region must send a newer one.
                    result = unchecked
                    shown = (
                        f"sent its status list last on {copy.issued_at:%Y-%m-%d %H:%M} UTC, more "
                        f"than {verifier.status_max_age.days} days ago: status not checked"
                    )
            if result.valid:
                if result.status_checked and copy is not None:
                    shown = f"status as of its list issued {copy.issued_at:%Y-%m-%d %H:%M} UTC"
                reason = f"every step passed; region {region.name!r} {shown}"
                result = replace(result, reason=reason)
            return region, result
        return None

    # -- internals --------------------------------------------------------------------------------

    def _verifier(self, region: Region, trust_list: bytes) -> Verifier:
        key = (region.name, region.sequence)
        verifier = self._verifiers.get(key)
        if verifier is None:
            # Verified at installation, and again here: the stored copy is what is relied on.
            verifier = Verifier(load_trust_list(trust_list, region.root_public_key))
            self._verifiers = {k: v for k, v in self._verifiers.items() if k[0] != region.name}
            self._verifiers[key] = verifier
        return verifier

    def _directory(self) -> RegionDirectory | None:
        try:
            directory: RegionDirectory = self._ledger.repository.get(RegionDirectory.create_id())
        except AggregateNotFoundError:
            return None
        return directory

    def _existing(self, name: str) -> RegionDirectory:
        directory = self._directory()
        if directory is None:
            raise UnknownRegion(f"no region named {name!r} is registered")
        return directory

    def _directory_or_open(self, cmd: Command) -> RegionDirectory:
        directory = self._directory()
        if directory is None:
            directory = RegionDirectory(
                at=cmd.at, actor=cmd.actor.as_dict(), channel=str(cmd.channel)
            )
        return directory

    def _save(self, directory: RegionDirectory, changed: bool) -> bool:
        if not changed:
            return False
        try:
            self._ledger.save(directory)
        except RecordConflictError:
            raise RegionConflict(
                "the regions changed while this change was made; read them again and retry"
            ) from None
        return True


def _name(region: Region) -> str:
    return region.name
