"""The Case aggregate's vocabulary: its statuses, applicant kinds, supplement routes, admin levels
and the frozen records it keeps (opinions, decisions, transfers, visits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class CaseStatus(StrEnum):
    """Where a case stands."""

    SUBMITTED = "submitted"
    AWAITING_CORRECTION = "awaiting_correction"  # notice given before receipt
    PAUSED_FOR_CORRECTION = "paused_for_correction"  # notice given after receipt: clock stopped
    REFUSED = "refused"
    RECEIVED = "received"
    SUSPENDED = "suspended"
    DECIDED = "decided"
    ISSUED = "issued"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


# Statuses of a received case still under way, and those after which nothing more happens.
UNDER_WAY = (CaseStatus.RECEIVED, CaseStatus.PAUSED_FOR_CORRECTION, CaseStatus.SUSPENDED)
FINISHED = (CaseStatus.REFUSED, CaseStatus.CLOSED, CaseStatus.WITHDRAWN)


class HolderKind(StrEnum):
    """Whether the applicant is a citizen (自然人) or an enterprise (法人)."""

    CITIZEN = "citizen"
    ENTERPRISE = "enterprise"


class SupplementVia(StrEnum):
    """How committed materials arrive after a tolerance acceptance (no visit needed)."""

    ONLINE = "online"
    EMAIL = "email"
    IM = "im"
    FAX = "fax"


class AdminLevel(StrEnum):
    """Administrative level a case is handled at."""

    TOWNSHIP = "township"
    COUNTY = "county"
    CITY = "city"
    PROVINCE = "province"


@dataclass(frozen=True)
class Opinion:
    """One department's review opinion."""

    department: str
    approve: bool
    reasons: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class Decision:
    """The grant or denial, with reasons and legal basis."""

    grant: bool
    reasons: tuple[str, ...]
    legal_basis: str
    at: datetime


@dataclass(frozen=True)
class Transfer:
    """An internal hand-over to another level, with the sending department's opinion."""

    from_department: str | None
    to_level: AdminLevel
    to_unit: str
    opinion: str
    at: datetime


@dataclass(frozen=True)
class Visit:
    """One in-person presence of the applicant, with its reason."""

    at: datetime
    reason: str
