"""The vault's bookkeeping aggregates and the claims a newly issued license carries.

``StatusSlot`` reserves one status-list index (saving a second reservation of the same index
conflicts, so indexes are unique without a central counter); ``HolderLicenses`` lists the
licenses of one holder so a holder retrieves them without scanning the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from licenses.model import FieldValue, LicenseClaims, StatusReference

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:caseledger:vault")
Actor = dict[str, str | None]


def status_list_id(issuer: str) -> str:
    """Return the status list id of an issuing department (one list per issuer)."""
    return f"{issuer}/1"


class StatusSlot(Aggregate):
    """One reserved index of an issuer's status list."""

    TOPIC_PREFIX: ClassVar[str] = "vault.slot"
    ACTOR_FORMAT: ClassVar[str] = "mapping"

    @classmethod
    def create_id(cls, list_id: str, index: int, **_: Any) -> UUID:
        """The slot's id: one per (list, index), so a double reservation conflicts on save."""
        return uuid5(_NAMESPACE, f"slot:{list_id}:{index}")

    @event("Reserved")
    def __init__(
        self,
        *,
        list_id: str,
        index: int,
        license_id: str,
        at: datetime,
        actor: Actor,
        channel: str,
    ) -> None:
        self.list_id = list_id
        self.index = index
        self.license_id = license_id


class HolderLicenses(Aggregate):
    """The license ids one holder has been issued, in issuance order."""

    TOPIC_PREFIX: ClassVar[str] = "vault.holder"
    ACTOR_FORMAT: ClassVar[str] = "mapping"

    @classmethod
    def create_id(cls, holder_id: str, **_: Any) -> UUID:
        """The index's id for a holder."""
        return uuid5(_NAMESPACE, f"holder:{holder_id}")

    @event("Opened")
    def __init__(self, *, holder_id: str, at: datetime, actor: Actor, channel: str) -> None:
        self.license_ids: list[str] = []

    @event("LicenseAdded")
    def add(self, *, license_id: str, at: datetime, actor: Actor, channel: str) -> None:
        """Record one more license of this holder."""
        self.license_ids.append(license_id)


def issuance_claims(
    *,
    issuer: str,
    holder_id: str,
    license_id: str,
    license_type: str,
    issued_at: datetime,
    valid_to: datetime | None,
    status: StatusReference,
    fields: Mapping[str, FieldValue],
    version: int = 1,
    valid_from: datetime | None = None,
) -> LicenseClaims:
    """Return the claims of a credential issued at ``issued_at`` (whole seconds)."""
    at = issued_at.replace(microsecond=0)
    return LicenseClaims(
        iss=issuer,
        sub=holder_id,
        iat=at,
        nbf=at if valid_from is None else valid_from.replace(microsecond=0),
        exp=None if valid_to is None else valid_to.replace(microsecond=0),
        license_id=license_id,
        license_type=license_type,
        version=version,
        status=status,
        fields=dict(fields),
    )
