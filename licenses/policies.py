"""Verification rules (step 13 of the offline verifier): small policies that compose."""

# A policy looks at the verified claims and the verification context and returns None to accept
# or the reason it rejects. A verifier runs every policy of its set; an empty set is refused, so a
# verifier can never end up accepting by having no rules at all.

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from licenses.errors import InvalidPolicy
from licenses.model import LicenseClaims


@dataclass(frozen=True)
class PolicyContext:
    """What a policy may consult besides the claims."""

    at: datetime
    undisclosed: frozenset[str]
    status_checked: bool


@runtime_checkable
class Policy(Protocol):
    """One verification rule."""

    @property
    def name(self) -> str:
        """A short name, quoted in the result when the rule rejects."""
        ...

    def check(self, claims: LicenseClaims, context: PolicyContext) -> str | None:
        """Return ``None`` to accept, or the reason to reject."""
        ...


@dataclass(frozen=True)
class NotIssuedInFuture:
    """Refuse a credential whose iat lies after the verification time."""

    name: str = "not issued in the future"

    def check(self, claims: LicenseClaims, context: PolicyContext) -> str | None:
        """Reject when iat is after ``context.at``."""
        if claims.iat > context.at:
            return (
                f"expected iat on or before {context.at.isoformat()}, got {claims.iat.isoformat()}"
            )
        return None


@dataclass(frozen=True)
class RequireFields:
    """Require these fields to be disclosed (what the verifying department's purpose needs)."""

    fields: frozenset[str]
    name: str = "required fields disclosed"

    def check(self, claims: LicenseClaims, context: PolicyContext) -> str | None:
        """Reject when a required field is not disclosed."""
        missing = sorted(self.fields - claims.fields.keys())
        if missing:
            return f"expected fields {missing} disclosed, got only {sorted(claims.fields)}"
        return None


@dataclass(frozen=True)
class AcceptLicenseTypes:
    """Accept only these license types."""

    types: frozenset[str]
    name: str = "accepted license types"

    def check(self, claims: LicenseClaims, context: PolicyContext) -> str | None:
        """Reject any other license type."""
        if claims.license_type not in self.types:
            return f"expected a license type in {sorted(self.types)}, got {claims.license_type!r}"
        return None


@dataclass(frozen=True)
class AcceptIssuers:
    """Accept only credentials issued by these departments."""

    issuers: frozenset[str]
    name: str = "accepted issuers"

    def check(self, claims: LicenseClaims, context: PolicyContext) -> str | None:
        """Reject any other issuer."""
        if claims.iss not in self.issuers:
            return f"expected an issuer in {sorted(self.issuers)}, got {claims.iss!r}"
        return None


@dataclass(frozen=True)
class RequireStatusChecked:
    """Refuse to accept without a status list check (for verifiers that must see revocations)."""

    name: str = "status checked"

    def check(self, claims: LicenseClaims, context: PolicyContext) -> str | None:
        """Reject when no status list was checked."""
        if not context.status_checked:
            return "expected a status list check, got no status list"
        return None


@dataclass(frozen=True)
class PolicySet:
    """A non-empty set of policies, all of which must accept."""

    policies: tuple[Policy, ...]

    def __post_init__(self) -> None:
        if not self.policies:
            raise InvalidPolicy("policy set: expected at least one policy, got none")
        for policy in self.policies:
            if not isinstance(policy, Policy):
                raise InvalidPolicy(
                    f"policy set: expected policies with name and check, got {policy!r}"
                )

    @classmethod
    def of(cls, policies: PolicySet | Iterable[Policy]) -> PolicySet:
        """Return ``policies`` as a checked set."""
        if isinstance(policies, PolicySet):
            return policies
        return cls(tuple(policies))

    def first_rejection(
        self, claims: LicenseClaims, context: PolicyContext
    ) -> tuple[str, str] | None:
        """Return the first rejecting policy's name and reason, or ``None`` if all accept."""
        for policy in self.policies:
            reason = policy.check(claims, context)
            if reason is not None:
                return policy.name, reason
        return None


DEFAULT_POLICIES: Sequence[Policy] = (NotIssuedInFuture(),)
