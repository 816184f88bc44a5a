"""Request and response models of licenses, online verification and shared data: holder ids
travel only in bodies, and results show them masked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from api.schemas import HolderId, Strict, Text


class HolderQuery(Strict):
    """Whose licenses: the holder id travels in the body, never in a URL."""

    holder_id: HolderId


class StatusChangeCreate(Strict):
    """Why a license's status changes."""

    reason: Text = Field(examples=["许可事项发生变更，依法暂停"])


class LicensePublic(BaseModel):
    """A license record (the holder id masked)."""

    license_id: str
    license_type: str
    issuer: str
    state: str
    holder_masked: str
    case_id: UUID
    valid_from: datetime
    valid_to: datetime | None
    issued_at: datetime
    fields: dict[str, Any]


class VerifyCreate(Strict):
    """Verify a license by QR text or license number, for a stated purpose."""

    purpose: Text = Field(max_length=200, examples=["施工许可"])
    qr_text: str | None = Field(default=None, min_length=1, max_length=8000)
    license_id: str | None = Field(default=None, min_length=1, max_length=128)

    @model_validator(mode="after")
    def _exactly_one(self) -> VerifyCreate:
        if (self.qr_text is None) == (self.license_id is None):
            raise ValueError("give exactly one of qr_text and license_id")
        return self


class VerificationPublic(BaseModel):
    """The verifier's result, naming the failed step if any."""

    status: str
    valid: bool
    step: int | None
    step_name: str | None
    reason: str
    license_id: str | None = None
    license_type: str | None = None
    issuer: str | None = None
    holder_masked: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    undisclosed: list[str] = Field(default_factory=list)
    status_checked: bool = False
    issuer_region: str | None = Field(
        default=None, description="the other region whose trust list holds the signing key"
    )


class SharedViewCreate(Strict):
    """A department's question: this holder's licenses, for this purpose."""

    holder_id: HolderId
    purpose: Text = Field(max_length=200, examples=["施工许可"])


class SharedLicensePublic(BaseModel):
    """One license as the department's policy lets it see it."""

    license_id: str
    license_type: str
    issuer: str
    state: str
    fields: dict[str, Any]
    presentation: str


class LicenseUsePublic(BaseModel):
    """One use of the holder's license: who, when, why, what was seen."""

    license_id: str
    department: str
    purpose: str
    kind: str
    result: str
    fields: list[str]
    at: datetime
