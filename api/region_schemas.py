"""Request and response models of other regions' trust (跨区域互认): a region's pinned root key,
the trust list and status lists installed from it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas import Strict, Text

ROOT_KEY_EXAMPLE = "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="


class RegionCreate(Strict):
    """Pin a region's root public key: DER SubjectPublicKeyInfo in base64, obtained out of band."""

    title: str = Field(min_length=1, max_length=64, examples=["湖南省"])
    root_public_key: str = Field(min_length=1, max_length=2048, examples=[ROOT_KEY_EXAMPLE])


class RegionWithdraw(Strict):
    """Why a region's credentials are no longer verified here."""

    reason: Text = Field(examples=["互认协议到期"])


class TrustListPublic(BaseModel):
    """The region's installed trust list."""

    sequence: int
    issued_at: datetime | None
    keys: int


class StatusListPublic(BaseModel):
    """One of the region's status lists as installed here."""

    list_id: str
    issued_at: datetime
    installed_at: datetime


class RegionPublic(BaseModel):
    """A region whose credentials this ledger's departments verify."""

    name: str
    title: str
    root_kid: str
    registered_at: datetime
    active: bool
    withdrawn_at: datetime | None = None
    withdrawal_reason: str | None = None
    trust_list: TrustListPublic | None = None
    status_lists: list[StatusListPublic] = Field(default_factory=list)
