"""Who acted and through which channel: the accountable party recorded in every signed event."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ledger.errors import InvalidActor


class Role(StrEnum):
    """Roles a principal can act in."""

    APPLICANT = "applicant"
    OFFICER = "officer"
    VERIFIER = "verifier"
    AUDITOR = "auditor"
    COURIER = "courier"
    ADMIN = "admin"
    SYSTEM = "system"


class Channel(StrEnum):
    """How an action reached the ledger."""

    ONLINE = "online"
    WINDOW = "window"
    COURIER = "courier"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """An accountable principal; ``on_behalf_of`` is set when staff act for an applicant (代办)."""

    principal: str
    role: Role
    department: str | None = None
    on_behalf_of: str | None = None

    def __post_init__(self) -> None:
        if not self.principal:
            raise InvalidActor("actor principal must be a non-empty string, got ''")
        if self.role is Role.OFFICER and not self.department:
            raise InvalidActor("an officer must act for a department, got department=None")

    def as_dict(self) -> dict[str, str | None]:
        """Return the actor as plain data (the signed payload's ``actor`` map)."""
        return {
            "principal": self.principal,
            "role": self.role.value,
            "department": self.department,
            "on_behalf_of": self.on_behalf_of,
        }

    @classmethod
    def from_dict(cls, data: dict[str, str | None]) -> Actor:
        """Rebuild an actor from ``as_dict`` output."""
        return cls(
            principal=str(data["principal"]),
            role=Role(str(data["role"])),
            department=data.get("department"),
            on_behalf_of=data.get("on_behalf_of"),
        )
