"""Departments verify instead of asking for paper: online verification of a license (by QR text
or number) and a department's shared-data view of a holder's licenses, each use recorded.

Every call writes a signed ``LicenseUse`` event (who, which license, why, what was seen, the
result), so holders can see who used their data and auditors can trace it.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError

from keys.registry import KeyEntry
from keys.trustlist import TrustList
from ledger.actors import Role
from ledger.commands import Command
from ledger.errors import ActionNotPermitted, InvalidCommand, LedgerError
from ledger.kept_answers import (
    Kept,
    SharedLicense,
    kept_verification,
    kept_views,
    restored_verification,
    restored_views,
)
from ledger.use_recorder import UseRecorder
from licenses.credential import decode_credential
from licenses.domain import License
from licenses.errors import LicenseError
from licenses.guards import lineage_of
from licenses.issuance import present
from licenses.model import LicenseState
from licenses.qr import encode_qr_text
from licenses.types import LicenseTypes
from licenses.usage import LicenseUse, SharingPolicies
from licenses.verify import VerificationResult, VerificationStatus, Verifier

if TYPE_CHECKING:
    from ledger.application import CaseLedger

_ONLINE_STATUS = {
    LicenseState.REVOKED: VerificationStatus.REVOKED,
    LicenseState.SUSPENDED: VerificationStatus.SUSPENDED,
    LicenseState.EXPIRED: VerificationStatus.EXPIRED,
    LicenseState.NOT_YET_VALID: VerificationStatus.NOT_YET_VALID,
}


_KEY_LOOKUP = 6  # the verifier's step that finds the signing key on the trust list


def holder_ref(holder_id: str) -> str:
    """Return a pseudonymous reference to a holder for use records and indexes."""
    return hashlib.sha256(b"caseledger/holder/" + holder_id.encode()).hexdigest()[:32]


class LicenseSharing:
    """Online verification and shared-data views over the ledger's licenses."""

    def __init__(self, ledger: CaseLedger, types: LicenseTypes, policies: SharingPolicies):
        self._ledger = ledger
        self.types = types
        self.policies = policies
        self._uses = UseRecorder(ledger.save)
        # The verifier of the key ring's entries as last seen, kept while they stay the same
        # objects: building one per call re-read the key index and re-parsed every public key.
        self._trusted: tuple[tuple[KeyEntry, ...], Verifier] | None = None

    def verify(
        self,
        cmd: Command,
        *,
        purpose: str,
        qr_text: str | None = None,
        license_id: str | None = None,
    ) -> VerificationResult:
        """Verify a license for a stated purpose (signature, keys, time, status); record it."""
        result, use = self._check(cmd, purpose=purpose, qr_text=qr_text, license_id=license_id)
        self._uses.record(use)
        return result

    async def verify_async(
        self,
        cmd: Command,
        *,
        purpose: str,
        qr_text: str | None = None,
        license_id: str | None = None,
    ) -> VerificationResult:
        """``verify`` for an event loop: it goes on serving while the use record commits."""
        result, use = self._check(cmd, purpose=purpose, qr_text=qr_text, license_id=license_id)
        await self._uses.record_async(use)
        return result

    def verify_once(
        self,
        cmd: Command,
        *,
        purpose: str,
        qr_text: str | None = None,
        license_id: str | None = None,
    ) -> VerificationResult:
        """``verify`` once per command id: the first answer is recorded with the use (the
        holder's data only as a digest), and a repeat gets it again and records no second use."""
        first: list[VerificationResult] = []

        def run() -> tuple[list[LicenseUse], Kept]:
            result, use = self._check(cmd, purpose=purpose, qr_text=qr_text, license_id=license_id)
            first.append(result)
            return [use], kept_verification(result)

        arguments = {"purpose": purpose, "qr_text": qr_text, "license_id": license_id}
        kept = self._once(cmd, "verify", arguments, run)
        if first:
            return first[0]
        if qr_text is not None:
            return restored_verification(kept, qr_text)
        license_ = self._license(license_id or "")
        return restored_verification(kept, b"" if license_ is None else license_.credential)

    def shared_view_once(
        self, cmd: Command, *, holder_id: str, purpose: str
    ) -> list[SharedLicense]:
        """``shared_view`` once per command id, as ``verify_once`` is."""
        first: list[list[SharedLicense]] = []

        def run() -> tuple[list[LicenseUse], Kept]:
            shared, uses = self._shared(cmd, holder_id=holder_id, purpose=purpose)
            first.append(shared)
            return uses, kept_views(shared)

        arguments = {"holder_id": holder_id, "purpose": purpose}
        kept = self._once(cmd, "shared-view", arguments, run)
        if first:
            return first[0]

        def credential_of(license_id: str) -> bytes | None:
            license_ = self._license(license_id)
            return None if license_ is None else license_.credential

        return restored_views(kept, credential_of)

    def shared_view(self, cmd: Command, *, holder_id: str, purpose: str) -> list[SharedLicense]:
        """Return a department's view of a holder's licenses for ``purpose``; record each read."""
        shared, uses = self._shared(cmd, holder_id=holder_id, purpose=purpose)
        self._uses.record(*uses)
        return shared

    # -- internals -------------------------------------------------------------------------------

    def _once(
        self,
        cmd: Command,
        command: str,
        arguments: dict[str, Any],
        run: Callable[[], tuple[list[LicenseUse], Kept]],
    ) -> Kept:
        # The ledger's own once-per-command-id run, which saves the uses with what is kept of
        # the answer (not through the group commit: keyed calls are the rare retries).
        if cmd.command_id is None:
            raise InvalidCommand(f"{command} once per command id needs a command id, got none")

        def kept() -> tuple[list[Any], Kept]:
            uses, answer = run()
            return list(uses), answer

        def conflict() -> LedgerError:
            return LedgerError(f"the {command} use was not recorded: its record conflicted")

        return self._ledger.execute(command, arguments, kept, cmd, conflict)

    def _shared(
        self, cmd: Command, *, holder_id: str, purpose: str
    ) -> tuple[list[SharedLicense], list[LicenseUse]]:
        department = self._department(cmd)
        self.policies.check_purpose(department, purpose)
        shared: list[SharedLicense] = []
        uses: list[LicenseUse] = []
        for license_ in self._ledger.vault.holder_licenses(holder_id):
            code = next(
                (
                    t.code
                    for t in self.types.by_code.values()
                    if t.type_code == license_.license_type
                ),
                None,
            )
            allowed = self.policies.allowed_fields(department, code or "", purpose)
            if not allowed:
                continue
            fields = set(allowed) & set(license_.fields)
            presentation = present(license_.credential, fields)
            shared.append(
                SharedLicense(
                    license_id=license_.license_id,
                    license_type=code or license_.license_type,
                    issuer=license_.issuer,
                    state=license_.status_at(cmd.at).value,
                    fields=dict(decode_credential(presentation).claims.fields),
                    presentation=encode_qr_text(presentation),
                )
            )
            uses.append(
                self._use(
                    cmd,
                    department,
                    purpose,
                    "shared-view",
                    "read",
                    sorted(fields),
                    license_.license_id,
                    license_.holder_id,
                )
            )
        if not uses:
            # Even an empty answer is a use of the holder's data: record the question.
            uses.append(
                self._use(cmd, department, purpose, "shared-view", "none", [], "-", holder_id)
            )
        return shared, uses

    def _check(
        self, cmd: Command, *, purpose: str, qr_text: str | None, license_id: str | None
    ) -> tuple[VerificationResult, LicenseUse]:
        # Everything a verification does but saving its use, which the caller awaits or blocks on.
        department = self._department(cmd)
        if not purpose.strip():
            raise ActionNotPermitted("a verification must state its purpose, got an empty one")
        if (qr_text is None) == (license_id is None):
            raise InvalidCommand("give exactly one of a QR text or a license number")
        license_: License | None = None
        if license_id is not None:
            license_ = self._license(license_id)
            credential: str | bytes = b"" if license_ is None else license_.credential
        else:
            credential = qr_text or ""
        result = self._verify(credential, cmd.at)
        holder = None
        if result.status is VerificationStatus.UNKNOWN_ISSUER and result.step == _KEY_LOOKUP:
            # No key here signed it: another region's, if a region registered here knows the key.
            # Its status is that region's status list, if installed; this vault holds no copy.
            foreign = self._ledger.regions.verify(credential, cmd.at)
            if foreign is not None:
                region, result = foreign
                result = replace(result, region=region.name)
                holder = None if result.claims is None else result.claims.sub
        elif result.claims is not None:
            if license_ is None:
                license_ = self._license(result.claims.license_id)
            result = self._online(result, license_, cmd.at)
        if license_ is not None:
            holder = license_.holder_id
        use = self._use(
            cmd,
            department,
            purpose,
            "verify",
            result.status.value,
            sorted(result.claims.fields) if result.claims is not None else [],
            result.claims.license_id if result.claims else license_id or "?",
            holder,
        )
        return result, use

    def _department(self, cmd: Command) -> str:
        if cmd.actor.role not in (Role.VERIFIER, Role.OFFICER) or not cmd.actor.department:
            raise ActionNotPermitted(
                f"license use is for a department's verifiers and officers, "
                f"got {cmd.actor.role.value} of {cmd.actor.department!r}"
            )
        return cmd.actor.department

    def _verify(self, credential: str | bytes, at: datetime) -> VerificationResult:
        trusted = self._trusted
        keyring = self._ledger.keyring
        # The key ring hands out a new entry object whenever a key is rotated, revoked or
        # reloaded, so the same objects mean the same trust list.
        if trusted is not None and all(keyring.entry(e.kid) is e for e in trusted[0]):
            result = trusted[1].verify(credential, at=at)
            if result.status is not VerificationStatus.UNKNOWN_ISSUER:
                return result
            # A key registered since (perhaps by another process) is found in the key index;
            # with none, the answer stands (another region's credential, say) and the verifier,
            # with the keys it has parsed, is kept.
            current = tuple(keyring.entries())
            if len(current) == len(trusted[0]) and all(map(operator.is_, current, trusted[0])):
                return result
            return self._verifier(at, current).verify(credential, at=at)
        return self._verifier(at, tuple(keyring.entries())).verify(credential, at=at)

    def _verifier(self, at: datetime, current: tuple[KeyEntry, ...]) -> Verifier:
        verifier = Verifier(
            TrustList(issued_at=at, sequence=0, entries={e.kid: e for e in current})
        )
        self._trusted = (current, verifier)
        return verifier

    def _license(self, license_id: str) -> License | None:
        """The license as stored, or None; read only, so the cached aggregate itself, not a copy."""
        try:
            license_: License = self._ledger.repository.get(
                License.create_id(lineage_of(license_id)), deepcopy_from_cache=False
            )
        except (AggregateNotFoundError, LicenseError):
            return None
        return license_

    @staticmethod
    def _online(
        result: VerificationResult, license_: License | None, at: datetime
    ) -> VerificationResult:
        if not result.valid:
            return result
        if license_ is None:
            return VerificationResult(
                VerificationStatus.UNKNOWN_ISSUER,
                12,
                "status",
                "the license is not in this vault",
                result.claims,
            )
        state = license_.status_at(at)
        status = _ONLINE_STATUS.get(state)
        if status is None:
            return replace(result, status_checked=True)
        return VerificationResult(
            status,
            12,
            "status",
            f"online status: {state.value}",
            result.claims,
            status_checked=True,
        )

    def _use(
        self,
        cmd: Command,
        department: str,
        purpose: str,
        kind: str,
        result: str,
        fields: list[str],
        license_id: str,
        holder: str | None,
    ) -> LicenseUse:
        return LicenseUse(
            license_id=license_id,
            holder_ref=holder_ref(holder) if holder else "",
            department=department,
            purpose=purpose,
            kind=kind,
            result=result,
            fields=fields,
            at=cmd.at,
            actor=cmd.actor.as_dict(),
            channel=str(cmd.channel),
        )
