"""Request and response models of key administration: the registry as administrators and
auditors read it, a key's replacement and revocation, a courier device key's enrolment."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from api.schemas import Strict, Text

KID = r"^[0-9a-f]{32}$"
DEVICE_KEY_EXAMPLE = "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="


class KeyPublic(BaseModel):
    """A registered key, what it may sign, and its state now."""

    kid: str = Field(examples=["4d46562d689d1583b513f271a7b4fa58"])
    role: str = Field(examples=["department-seal"])
    owner: str
    department: str | None
    license_types: list[str]
    state: str = Field(
        description="active (a replaced key too, until its successor starts), retiring "
        "(replaced; signs until rotated_at), rotated, revoked, expired or not-yet-valid",
        examples=["active"],
    )
    valid_from: datetime
    valid_to: datetime | None
    rotated_at: datetime | None = Field(description="when it stops signing, once replaced")
    successor: str | None
    revoked_at: datetime | None
    revocation_reason: str | None


class KeyReplacementPublic(BaseModel):
    """A new key and the key it replaces (which retires after the overlap, if not revoked)."""

    key: KeyPublic
    replaces: KeyPublic | None


class KeyRotate(Strict):
    """When the new key starts signing: now, or later, once offline verifiers have fetched the
    trust list that names it."""

    starts_at: AwareDatetime | None = Field(
        default=None,
        description="the new key's start, up to 90 days ahead (whole seconds, rounded up); the "
        "old key signs until the overlap after it. Now if not given",
        examples=["2026-03-09T00:00:00+08:00"],
    )


class KeyRevoke(Strict):
    """Why a key is revoked, and from when: the moment of a compromise, or now if not given."""

    reason: Text = Field(examples=["签章私钥泄露"])
    revoked_at: AwareDatetime | None = Field(
        default=None,
        description="the compromise time (not in the future); signatures from then on fail",
        examples=["2026-03-02T01:00:00Z"],
    )


class KeyEnrol(Strict):
    """A courier's own device public key (its private key never leaves the device)."""

    courier: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    public_key: str = Field(
        min_length=1,
        max_length=2048,
        description="DER SubjectPublicKeyInfo (Ed25519), base64",
        examples=[DEVICE_KEY_EXAMPLE],
    )
    replaces: str | None = Field(
        default=None, pattern=KID, description="the courier's earlier key, which then retires"
    )
