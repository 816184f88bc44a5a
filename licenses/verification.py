"""What a verification found: its status, the step that failed and why, the claims it read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from licenses.model import LicenseClaims

STEP_NAMES: dict[int, str] = {
    1: "prefix",
    2: "Base45",
    3: "zlib",
    4: "strict CBOR",
    5: "COSE structure",
    6: "kid → trust list",
    7: "algorithm allowed",
    8: "signature",
    9: "key validity at iat",
    10: "key allowed for license type",
    11: "time",
    12: "status list",
    13: "rules",
}


class VerificationStatus(StrEnum):
    """The outcome of a verification."""

    VALID = "valid"
    INVALID = "invalid"
    MALFORMED = "malformed"
    UNKNOWN_ISSUER = "unknown_issuer"
    KEY_NOT_ALLOWED = "key_not_allowed"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    STATUS_OUTDATED = "status_outdated"  # the status list says good, but is too old to rely on
    REJECTED = "rejected"  # a rule of step 13 said no


@dataclass(frozen=True)
class VerificationResult:
    """What the verifier found; ``claims`` only once the signature has verified."""

    status: VerificationStatus
    step: int | None
    step_name: str | None
    reason: str
    claims: LicenseClaims | None
    undisclosed: frozenset[str] = frozenset()
    status_checked: bool = False
    # The other region whose trust list holds the signing key; None for the verifier's own.
    region: str | None = None

    @property
    def valid(self) -> bool:
        """Whether the credential passed every step."""
        return self.status is VerificationStatus.VALID
