"""The License aggregate: one license lineage from issuance through amendments and renewals to
suspension, reinstatement or revocation; expiry is derived from validity, never recorded.
"""

# Each public command checks everything first, then triggers one past-tense event.

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from licenses.errors import (
    LicenseCommandRefused,
    LicenseExpired,
    LicenseRevoked,
    LicenseSuspended,
)
from licenses.guards import (
    Actor,
    check_actor,
    check_credential,
    check_fields,
    check_text,
    check_utc_time,
    check_validity,
    lineage_of,
    parse_license_id,
)
from licenses.holder_ids import is_holder_id
from licenses.identifiers import LicenseId
from licenses.model import FieldValue, LicenseState, SlotStatus

__all__ = ["License", "lineage_of"]

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:caseledger:license")


class License(Aggregate):
    """One license lineage (all versions of one license id) and its status history."""

    TOPIC_PREFIX: ClassVar[str] = "license"
    ACTOR_FORMAT: ClassVar[str] = "mapping"

    @classmethod
    def create_id(cls, lineage: str) -> UUID:
        """Return the aggregate id of a lineage (see ``lineage_of``)."""
        return uuid5(_NAMESPACE, lineage)

    @classmethod
    def issue(
        cls,
        *,
        case_id: UUID,
        license_id: str,
        license_type: str,
        holder_id: str,
        issuer: str,
        fields: Mapping[str, FieldValue],
        valid_from: datetime,
        valid_to: datetime | None,
        credential: bytes,
        status_index: int,
        at: datetime,
        actor: Actor,
        channel: str,
    ) -> License:
        """Issue a license on a case decision; ``issuer`` is the department code (its iss)."""
        parsed = parse_license_id(license_id)
        if not isinstance(case_id, UUID):
            raise LicenseCommandRefused(f"case id: expected a UUID, got {case_id!r}")
        if license_type != parsed.type_code:
            raise LicenseCommandRefused(
                f"license type: expected the license id's type code {parsed.type_code!r}, "
                f"got {license_type!r}"
            )
        check_actor(actor, channel, at, check_text("issuer", issuer))
        if not isinstance(holder_id, str) or not is_holder_id(holder_id):
            raise LicenseCommandRefused(
                "holder id: expected a normalised citizen id or credit code, got another text"
            )
        check_validity(valid_from, valid_to)
        check_credential(credential, status_index)
        return cls(
            lineage=lineage_of(license_id),
            case_id=case_id,
            license_id=license_id,
            license_type=license_type,
            holder_id=holder_id,
            issuer=issuer,
            fields=check_fields(fields),
            valid_from=valid_from,
            valid_to=valid_to,
            credential=credential,
            status_index=status_index,
            at=at,
            actor=dict(actor),
            channel=channel,
        )

    @event("Issued")
    def __init__(
        self,
        *,
        lineage: str,
        case_id: UUID,
        license_id: str,
        license_type: str,
        holder_id: str,
        issuer: str,
        fields: dict[str, FieldValue],
        valid_from: datetime,
        valid_to: datetime | None,
        credential: bytes,
        status_index: int,
        at: datetime,
        actor: Actor,
        channel: str,
    ) -> None:
        self.lineage = lineage
        self.case_id = case_id
        self.license_type = license_type
        self.holder_id = holder_id
        self.issuer = issuer
        self.issued_at = at
        self.revoked_at: datetime | None = None
        self.revocation_reason: str | None = None
        self.suspensions: list[tuple[datetime, datetime | None]] = []
        self.retired_indexes: list[int] = []
        # Each version in force from the time it was made: (from, license id, valid from, to).
        self.versions: list[tuple[datetime, str, datetime, datetime | None]] = []
        self._new_version(license_id, fields, valid_from, valid_to, credential, status_index, at)

    def _new_version(
        self,
        license_id: str,
        fields: Mapping[str, FieldValue],
        valid_from: datetime,
        valid_to: datetime | None,
        credential: bytes,
        status_index: int,
        at: datetime,
    ) -> None:
        self.license_id = license_id
        self.fields = dict(fields)
        self.valid_from = valid_from
        self.valid_to = valid_to
        self.credential = credential
        self.status_index = status_index
        self.updated_at = at
        self.versions.append((at, license_id, valid_from, valid_to))

    # --- queries -------------------------------------------------------------------------------

    @property
    def license_version(self) -> int:
        """The current version number of the license id."""
        return LicenseId.parse(self.license_id).version

    @property
    def suspended(self) -> bool:
        """Whether a suspension is in force now (the latest has no end)."""
        return bool(self.suspensions) and self.suspensions[-1][1] is None

    def status_at(self, at: datetime) -> LicenseState:
        """Return the license's state at ``at`` from its history and its validity then."""
        check_utc_time("at", at)
        if self.revoked_at is not None and at >= self.revoked_at:
            return LicenseState.REVOKED
        # The validity in force at ``at``: the latest version made by then (else the first).
        in_force = self.versions[0]
        for version in self.versions:
            if version[0] <= at:
                in_force = version
        _, _, valid_from, valid_to = in_force
        if valid_to is not None and at >= valid_to:
            return LicenseState.EXPIRED
        if any(start <= at and (end is None or at < end) for start, end in self.suspensions):
            return LicenseState.SUSPENDED
        if at < valid_from:
            return LicenseState.NOT_YET_VALID
        return LicenseState.ACTIVE

    def status_slots(self) -> dict[int, SlotStatus]:
        """Return what the status list must say for this license's slots (retired ones revoked)."""
        slots = dict.fromkeys(self.retired_indexes, SlotStatus.REVOKED)
        if self.revoked_at is not None:
            slots[self.status_index] = SlotStatus.REVOKED
        elif self.suspended:
            slots[self.status_index] = SlotStatus.SUSPENDED
        else:
            slots[self.status_index] = SlotStatus.VALID
        return slots

    # --- guards --------------------------------------------------------------------------------

    def _check_command(self, action: str, at: datetime, actor: Actor, channel: str) -> None:
        check_actor(actor, channel, at, self.issuer)
        if at < self.updated_at:
            raise LicenseCommandRefused(
                f"cannot {action} at {at.isoformat()}: expected a time on or after the last "
                f"change {self.updated_at.isoformat()}"
            )
        if self.revoked_at is not None:
            raise LicenseRevoked(
                f"cannot {action}: expected a license in force, got one revoked at "
                f"{self.revoked_at.isoformat()} ({self.revocation_reason})"
            )

    def _require_in_force(self, action: str, at: datetime) -> None:
        if self.suspended:
            raise LicenseSuspended(
                f"cannot {action}: expected a license in force, got one suspended since "
                f"{self.suspensions[-1][0].isoformat()}; reinstate it first"
            )
        if self.valid_to is not None and at >= self.valid_to:
            raise LicenseExpired(
                f"cannot {action} at {at.isoformat()}: expected a license in force, "
                f"got one expired at {self.valid_to.isoformat()}"
            )

    def _check_next_version(self, license_id: str, credential: bytes, status_index: int) -> None:
        if lineage_of(license_id) != self.lineage:
            raise LicenseCommandRefused(
                f"license id: expected lineage {self.lineage!r}, got {lineage_of(license_id)!r}"
            )
        expected = self.license_version + 1
        if LicenseId.parse(license_id).version != expected:
            raise LicenseCommandRefused(
                f"license id version: expected {expected:03d}, got {license_id.rsplit('.')[-2]}"
            )
        check_credential(credential, status_index)
        if status_index == self.status_index or status_index in self.retired_indexes:
            raise LicenseCommandRefused(
                f"status index: expected a fresh slot, got {status_index}, used by this license"
            )

    # --- commands ------------------------------------------------------------------------------

    def amend(
        self,
        *,
        license_id: str,
        fields: Mapping[str, FieldValue],
        credential: bytes,
        status_index: int,
        reason: str,
        at: datetime,
        actor: Actor,
        channel: str,
    ) -> None:
        """Change the license's fields as a new version with a new credential and slot."""
        self._check_command("amend the license", at, actor, channel)
        self._require_in_force("amend the license", at)
        self._check_next_version(license_id, credential, status_index)
        check_text("reason", reason)
        self._amended(
            license_id=license_id,
            fields=check_fields(fields),
            credential=credential,
            status_index=status_index,
            retired_index=self.status_index,
            reason=reason,
            at=at,
            actor=dict(actor),
            channel=channel,
        )

    @event("Amended")
    def _amended(
        self,
        *,
        license_id: str,
        fields: dict[str, FieldValue],
        credential: bytes,
        status_index: int,
        retired_index: int,
        reason: str,
        at: datetime,
        actor: Actor,
        channel: str,
    ) -> None:
        self.retired_indexes.append(retired_index)
        self._new_version(
            license_id, fields, self.valid_from, self.valid_to, credential, status_index, at
        )

    def renew(
        self,
        *,
        license_id: str,
        valid_from: datetime,
        valid_to: datetime | None,
        credential: bytes,
        status_index: int,
        at: datetime,
        actor: Actor,
        channel: str,
    ) -> None:
        """Extend the license's validity as a new version, before it expires."""
        self._check_command("renew the license", at, actor, channel)
        self._require_in_force("renew the license", at)
        self._check_next_version(license_id, credential, status_index)
        check_validity(valid_from, valid_to)
        if self.valid_to is not None and valid_to is not None and valid_to <= self.valid_to:
            raise LicenseCommandRefused(
                f"valid_to: expected after the current {self.valid_to.isoformat()}, "
                f"got {valid_to.isoformat()}"
            )
        self._renewed(
            license_id=license_id,
            valid_from=valid_from,
            valid_to=valid_to,
            credential=credential,
            status_index=status_index,
            retired_index=self.status_index,
            at=at,
            actor=dict(actor),
            channel=channel,
        )

    @event("Renewed")
    def _renewed(
        self,
        *,
        license_id: str,
        valid_from: datetime,
        valid_to: datetime | None,
        credential: bytes,
        status_index: int,
        retired_index: int,
        at: datetime,
        actor: Actor,
        channel: str,
    ) -> None:
        self.retired_indexes.append(retired_index)
        self._new_version(
            license_id, self.fields, valid_from, valid_to, credential, status_index, at
        )

    def suspend(self, *, reason: str, at: datetime, actor: Actor, channel: str) -> None:
        """Suspend the license until it is reinstated."""
        self._check_command("suspend the license", at, actor, channel)
        self._require_in_force("suspend the license", at)
        check_text("reason", reason)
        self._suspended(reason=reason, at=at, actor=dict(actor), channel=channel)

    @event("Suspended")
    def _suspended(self, *, reason: str, at: datetime, actor: Actor, channel: str) -> None:
        self.suspensions.append((at, None))
        self.updated_at = at

    def reinstate(self, *, reason: str, at: datetime, actor: Actor, channel: str) -> None:
        """End the current suspension."""
        self._check_command("reinstate the license", at, actor, channel)
        if not self.suspended:
            raise LicenseCommandRefused(
                "cannot reinstate the license: expected a suspended license, got one in force"
            )
        check_text("reason", reason)
        self._reinstated(reason=reason, at=at, actor=dict(actor), channel=channel)

    @event("Reinstated")
    def _reinstated(self, *, reason: str, at: datetime, actor: Actor, channel: str) -> None:
        start, _ = self.suspensions[-1]
        self.suspensions[-1] = (start, at)
        self.updated_at = at

    def revoke(self, *, reason: str, at: datetime, actor: Actor, channel: str) -> None:
        """Revoke the license for good (a suspended or expired one too)."""
        self._check_command("revoke the license", at, actor, channel)
        check_text("reason", reason)
        self._revoked(reason=reason, at=at, actor=dict(actor), channel=channel)

    @event("Revoked")
    def _revoked(self, *, reason: str, at: datetime, actor: Actor, channel: str) -> None:
        self.revoked_at = at
        self.revocation_reason = reason
        self.updated_at = at
