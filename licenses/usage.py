"""License use (用证): every verification or shared-data read is a signed event the holder can
see (like Estonia's Data Tracker), and the per-department sharing policies that bound reads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any, ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from licenses.errors import LicenseError

Actor = dict[str, str | None]


class PurposeNotAllowed(LicenseError):
    """A department asked to read licenses for a purpose its policy does not name."""


class LicenseUse(Aggregate):
    """One use of one license by a department: who, when, why, what was seen, and the result."""

    TOPIC_PREFIX: ClassVar[str] = "license.use"
    ACTOR_FORMAT: ClassVar[str] = "mapping"

    @classmethod
    def create_id(cls, **_: Any) -> UUID:
        """Each use is its own record."""
        return uuid4()

    @event("Used")
    def __init__(
        self,
        *,
        license_id: str,
        holder_ref: str,
        department: str,
        purpose: str,
        kind: str,
        result: str,
        fields: list[str],
        at: datetime,
        actor: Actor,
        channel: str,
    ) -> None:
        self.license_id = license_id
        self.holder_ref = holder_ref
        self.department = department
        self.purpose = purpose
        self.kind = kind
        self.result = result
        self.fields = list(fields)


@dataclass(frozen=True)
class SharingRule:
    """One department may read these fields of one license type for these purposes."""

    license_type: str  # catalog code, e.g. "yyzz"
    fields: tuple[str, ...]
    purposes: tuple[str, ...]


@dataclass(frozen=True)
class SharingPolicies:
    """Every consuming department's sharing rules."""

    rules: Mapping[str, Sequence[SharingRule]]

    def rules_for(self, department: str) -> Sequence[SharingRule]:
        """Return the rules of a department (none: it may read nothing)."""
        return self.rules.get(department, ())

    def allowed_fields(self, department: str, license_type: str, purpose: str) -> tuple[str, ...]:
        """Return the fields ``department`` may read of ``license_type`` for ``purpose``."""
        for rule in self.rules_for(department):
            if rule.license_type == license_type and purpose in rule.purposes:
                return rule.fields
        return ()

    def check_purpose(self, department: str, purpose: str) -> None:
        """Raise unless some rule of ``department`` names ``purpose``."""
        purposes = sorted({p for r in self.rules_for(department) for p in r.purposes})
        if not purpose.strip() or purpose not in purposes:
            raise PurposeNotAllowed(
                f"department {department!r} may read licenses for purposes {purposes}, "
                f"got {purpose!r}"
            )


def load_sharing_policies() -> SharingPolicies:
    """Read the sharing policies shipped as package data."""
    text = resources.files("licenses").joinpath("data/sharing_policies.json").read_text("utf-8")
    data = json.loads(text)
    return SharingPolicies(
        {
            department: tuple(
                SharingRule(r["license_type"], tuple(r["fields"]), tuple(r["purposes"]))
                for r in rules
            )
            for department, rules in data["departments"].items()
        }
    )
