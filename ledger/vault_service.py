"""The e-license vault's service side: issue a license from a granted case atomically with the
case's event, change its status, hand a holder their own licenses, publish status lists.

Composition over the ``CaseLedger``: the same signed log holds cases and licenses, so a case's
``LicenseIssued`` and the license's ``Issued`` are saved in one batch or not at all.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from keys.errors import KeyNotValid
from keys.registry import KeyRole
from ledger.actors import Actor, Role
from ledger.authority import SERVICE_CENTRE, check_department
from ledger.commands import Command
from ledger.errors import ActionNotPermitted, ConcurrencyError, LedgerError
from ledger.signing import SigningIdentity, SigningKeyUnavailable
from licenses.domain import License
from licenses.errors import LicenseError
from licenses.guards import lineage_of
from licenses.identifiers import LicenseId
from licenses.issuance import issue_credential
from licenses.model import FieldValue, SlotStatus, StatusReference
from licenses.qr import encode_qr_text
from licenses.status import MIN_SLOTS, StatusList
from licenses.types import LicenseTypes
from licenses.vault import HolderLicenses, StatusSlot, issuance_claims, status_list_id

if TYPE_CHECKING:
    from ledger.application import CaseLedger

_SLOT_ATTEMPTS = 8


class UnknownLicense(LicenseError):
    """No license with that id (or not one the caller may see)."""


@dataclass(frozen=True)
class IssuedLicense:
    """What issuing returns: the license id, its credential and QR text."""

    license_id: str
    credential: bytes
    qr_text: str
    status_index: int


class LicenseVault:
    """Issues and manages e-licenses inside a ``CaseLedger``."""

    def __init__(self, ledger: CaseLedger, types: LicenseTypes, rng: random.Random | None = None):
        self._ledger = ledger
        self.types = types
        # Status indexes are drawn at random so they do not reveal issuance order.
        self._rng = rng or random.SystemRandom()

    # -- issuance --------------------------------------------------------------------------------

    def issue(self, case_id: UUID, cmd: Command) -> IssuedLicense:
        """Issue the item's e-license for a granted case with no open commitment."""
        ledger = self._ledger

        def run() -> tuple[list[Any], dict[str, Any]]:
            case = ledger.case(case_id)
            if cmd.expected_version is not None and case.version != cmd.expected_version:
                raise ConcurrencyError(case_id, cmd.expected_version, case.version)
            check_department("issue_license", cmd.actor, case.terms.required_departments)
            license_type = self.types.for_item(case.item_code)
            license_id = str(
                LicenseId(
                    license_type.type_code, license_type.issuer_uscc, case.id.hex[:16].upper(), 1
                )
            )
            # The case rules first (granted, no open commitment): nothing is signed if they fail.
            case.issue_license(
                license_ref=license_id, at=cmd.at, actor=cmd.actor, channel=cmd.channel
            )
            identity = SigningIdentity(KeyRole.DEPARTMENT_SEAL, license_type.issuer)
            signer, kid = ledger.key_directory.signer_for(identity, cmd.at)
            try:
                ledger.key_directory.entry(kid).check(
                    cmd.at, owner=license_type.issuer, license_type=license_type.type_code
                )
            except KeyNotValid as error:
                raise SigningKeyUnavailable(
                    f"cannot sign the license for {license_type.issuer}: {error}; an "
                    "administrator must replace the key"
                ) from None
            holder_id, _ = case.applicant
            valid_to = None
            if license_type.validity_years:
                years = license_type.validity_years
                valid_to = cmd.at.replace(year=cmd.at.year + years, microsecond=0)
            fields = {
                "名称": license_type.name,
                "事项": case.terms.name,
                "受理编号": case.receipt_number or "",
                "决定依据": case.decision.legal_basis if case.decision else "",
            }
            list_id = status_list_id(license_type.issuer)
            index = self._free_index(list_id)
            claims = issuance_claims(
                issuer=license_type.issuer,
                holder_id=holder_id,
                license_id=license_id,
                license_type=license_type.type_code,
                issued_at=cmd.at,
                valid_to=valid_to,
                status=StatusReference(list_id, index),
                fields=fields,
            )
            credential = issue_credential(claims, signer, kid=kid)
            actor = cmd.actor.as_dict()
            license_ = License.issue(
                case_id=case.id,
                license_id=license_id,
                license_type=license_type.type_code,
                holder_id=holder_id,
                issuer=license_type.issuer,
                fields=fields,
                valid_from=claims.nbf,
                valid_to=valid_to,
                credential=credential,
                status_index=index,
                at=cmd.at,
                actor=actor,
                channel=str(cmd.channel),
            )
            slot = StatusSlot(
                list_id=list_id,
                index=index,
                license_id=license_id,
                at=cmd.at,
                actor=actor,
                channel=str(cmd.channel),
            )
            holder = self._holder_index(holder_id, cmd)
            holder.add(license_id=license_id, at=cmd.at, actor=actor, channel=str(cmd.channel))
            result = {
                "case_id": str(case.id),
                "version": case.version,
                "due": case.due,
                "license_id": license_id,
                "status_index": index,
            }
            return [case, license_, slot, holder], result

        def conflict() -> LedgerError:
            current = ledger.case(case_id).version
            return ConcurrencyError(case_id, cmd.expected_version or current - 1, current)

        result = ledger.execute("issue_license", {"case_id": case_id}, run, cmd, conflict)
        license_ = self.license(str(result["license_id"]))
        return IssuedLicense(
            license_.license_id,
            license_.credential,
            encode_qr_text(license_.credential),
            license_.status_index,
        )

    def _free_index(self, list_id: str) -> int:
        for _ in range(_SLOT_ATTEMPTS):
            index = self._rng.randrange(MIN_SLOTS)
            try:
                self._ledger.repository.get(StatusSlot.create_id(list_id, index))
            except AggregateNotFoundError:
                return index
        raise LedgerError(f"no free status slot in {list_id} after {_SLOT_ATTEMPTS} draws")

    def _holder_index(self, holder_id: str, cmd: Command) -> HolderLicenses:
        try:
            index: HolderLicenses = self._ledger.repository.get(HolderLicenses.create_id(holder_id))
        except AggregateNotFoundError:
            index = HolderLicenses(
                holder_id=holder_id, at=cmd.at, actor=cmd.actor.as_dict(), channel=str(cmd.channel)
            )
        return index

    # -- new versions ----------------------------------------------------------------------------

    def amend(
        self, license_id: str, cmd: Command, *, fields: Mapping[str, FieldValue], reason: str
    ) -> IssuedLicense:
        """Issue the next version with changed fields (same lineage, a new status slot)."""
        return self._new_version(license_id, cmd, "amend", fields=fields, reason=reason)

    def renew(self, license_id: str, cmd: Command, *, valid_to: datetime) -> IssuedLicense:
        """Issue the next version valid from now until ``valid_to`` (same lineage)."""
        return self._new_version(license_id, cmd, "renew", valid_to=valid_to)

    def _new_version(
        self,
        license_id: str,
        cmd: Command,
        command: str,
        *,
        fields: Mapping[str, FieldValue] | None = None,
        reason: str = "",
        valid_to: datetime | None = None,
    ) -> IssuedLicense:
        ledger = self._ledger

        def run() -> tuple[list[Any], dict[str, Any]]:
            license_ = self.license(license_id)
            self._check_issuer(license_, cmd)
            if cmd.expected_version is not None and license_.version != cmd.expected_version:
                raise ConcurrencyError(license_.id, cmd.expected_version, license_.version)
            next_id = str(LicenseId.parse(license_.license_id).next_version())
            identity = SigningIdentity(KeyRole.DEPARTMENT_SEAL, license_.issuer)
            signer, kid = ledger.key_directory.signer_for(identity, cmd.at)
            ledger.key_directory.entry(kid).check(
                cmd.at, owner=license_.issuer, license_type=license_.license_type
            )
            list_id = status_list_id(license_.issuer)
            index = self._free_index(list_id)
            new_fields = {**license_.fields, **(fields or {})}
            new_to = license_.valid_to if command == "amend" else valid_to
            claims = issuance_claims(
                issuer=license_.issuer,
                holder_id=license_.holder_id,
                license_id=next_id,
                license_type=license_.license_type,
                issued_at=cmd.at,
                valid_to=new_to,
                status=StatusReference(list_id, index),
                fields=new_fields,
                version=LicenseId.parse(next_id).version,
                valid_from=license_.valid_from if command == "amend" else cmd.at,
            )
            credential = issue_credential(claims, signer, kid=kid)
            actor, channel = cmd.actor.as_dict(), str(cmd.channel)
            if command == "amend":
                license_.amend(
                    license_id=next_id,
                    fields=new_fields,
                    credential=credential,
                    status_index=index,
                    reason=reason,
                    at=cmd.at,
                    actor=actor,
                    channel=channel,
                )
            else:
                license_.renew(
                    license_id=next_id,
                    valid_from=claims.nbf,
                    valid_to=new_to,
                    credential=credential,
                    status_index=index,
                    at=cmd.at,
                    actor=actor,
                    channel=channel,
                )
            slot = StatusSlot(
                list_id=list_id,
                index=index,
                license_id=next_id,
                at=cmd.at,
                actor=actor,
                channel=channel,
            )
            return [license_, slot], {"license_id": next_id, "version": license_.version}

        def conflict() -> LedgerError:
            current = self.license(license_id)
            return ConcurrencyError(
                current.id, cmd.expected_version or current.version - 1, current.version
            )

        args = {
            "license_id": license_id,
            "fields": dict(fields or {}),
            "reason": reason,
            "valid_to": valid_to,
        }
        result = ledger.execute(f"license.{command}", args, run, cmd, conflict)
        license_ = self.license(str(result["license_id"]))
        return IssuedLicense(
            license_.license_id,
            license_.credential,
            encode_qr_text(license_.credential),
            license_.status_index,
        )

    def _check_issuer(self, license_: License, cmd: Command) -> None:
        if cmd.actor.role is not Role.OFFICER or cmd.actor.department != license_.issuer:
            raise ActionNotPermitted(
                f"changing license {license_.license_id} is for officers of "
                f"{license_.issuer!r}, got {cmd.actor.role.value} of {cmd.actor.department!r}"
            )

    # -- lifecycle -------------------------------------------------------------------------------

    def suspend(self, license_id: str, cmd: Command, *, reason: str) -> int:
        """Suspend a license (its issuer's officers only); returns the license's version."""
        return self._change(license_id, cmd, "suspend", reason)

    def reinstate(self, license_id: str, cmd: Command, *, reason: str) -> int:
        """End a license's suspension."""
        return self._change(license_id, cmd, "reinstate", reason)

    def revoke(self, license_id: str, cmd: Command, *, reason: str) -> int:
        """Revoke a license for good."""
        return self._change(license_id, cmd, "revoke", reason)

    def _change(self, license_id: str, cmd: Command, command: str, reason: str) -> int:
        """Run one status command on a license once per command id, at the expected version."""

        def run() -> tuple[list[Any], dict[str, Any]]:
            license_ = self.license(license_id)
            self._check_issuer(license_, cmd)
            if cmd.expected_version is not None and license_.version != cmd.expected_version:
                raise ConcurrencyError(license_.id, cmd.expected_version, license_.version)
            getattr(license_, command)(
                reason=reason, at=cmd.at, actor=cmd.actor.as_dict(), channel=str(cmd.channel)
            )
            return [license_], {"license_id": license_id, "version": license_.version}

        def conflict() -> LedgerError:
            license_ = self.license(license_id)
            expected = cmd.expected_version or license_.version - 1
            return ConcurrencyError(license_.id, expected, license_.version)

        args = {"license_id": license_id, "reason": reason}
        result = self._ledger.execute(f"license.{command}", args, run, cmd, conflict)
        return int(result["version"])

    # -- queries ---------------------------------------------------------------------------------

    def license(self, license_id: str) -> License:
        """Return a license by id (any version of its lineage)."""
        try:
            license_: License = self._ledger.repository.get(
                License.create_id(lineage_of(license_id))
            )
        except (AggregateNotFoundError, LicenseError):
            raise UnknownLicense(f"no license with id {license_id!r}") from None
        return license_

    def licenses_of(self, holder_id: str, requester: Actor) -> list[License]:
        """Return a holder's own licenses; only the holder (or staff acting for them) may ask."""
        if requester.role is Role.APPLICANT and requester.principal != holder_id:
            raise UnknownLicense("no licenses for this holder")  # never confirm someone else's
        if requester.role is Role.OFFICER and (
            requester.on_behalf_of != holder_id or requester.department != SERVICE_CENTRE
        ):
            raise UnknownLicense("no licenses for this holder")
        if requester.role not in (Role.APPLICANT, Role.OFFICER):
            raise UnknownLicense("no licenses for this holder")
        return self.holder_licenses(holder_id)

    def holder_licenses(self, holder_id: str) -> list[License]:
        """Return a holder's licenses with no access check (callers apply their own policy)."""
        try:
            index: HolderLicenses = self._ledger.repository.get(HolderLicenses.create_id(holder_id))
        except AggregateNotFoundError:
            return []
        return [self.license(license_id) for license_id in index.license_ids]

    def status_list(self, issuer: str, at: datetime) -> bytes:
        """Return the issuer's signed status list, read from the log (the license registry read
        model serves the same list without reading every license)."""
        status = StatusList()
        log, start = self._ledger.notification_log, 1
        while True:
            page = log.select(start=start, limit=1000, topics=["license.Issued"])
            for notification in page:
                license_: License = self._ledger.repository.get(
                    UUID(str(notification.originator_id))
                )
                if license_.issuer == issuer:
                    for index, slot in license_.status_slots().items():
                        if slot is not SlotStatus.VALID:
                            status.set(index, slot)
            if len(page) < 1000:
                break
            start = page[-1].id + 1
        return self.sign_status_list(issuer, status, at)

    def sign_status_list(self, issuer: str, status: StatusList, at: datetime) -> bytes:
        """Sign ``status`` as the issuer's status list with the issuer's seal key."""
        signer, kid = self._ledger.key_directory.signer_for(
            SigningIdentity(KeyRole.DEPARTMENT_SEAL, issuer), at
        )
        return status.to_signed(signer, kid=kid, issued_at=at, list_id=status_list_id(issuer))
