"""Request (``XCreate``) and response (``XPublic``) models of the HTTP API's cases, materials,
catalog, courier reports and audit, with OpenAPI examples, and the types every model shares;
holder ids travel only in bodies, and event data is turned into JSON-safe values here. (Licenses,
verification and shared data: ``api.license_schemas``.)
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ledger.case import AdminLevel, SupplementVia
from ledger.catalog import SpecialStep
from ledger.documents import DocumentRef, ELicenseRef, MaterialRef

Text = Annotated[str, Field(min_length=1, max_length=2000)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
HolderId = Annotated[str, Field(min_length=1, max_length=64, examples=["91512000MA62A0XC5H"])]
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def jsonable(value: Any) -> Any:
    """Event data as JSON: bytes as base64, dates as ISO 8601, UUIDs and enums as text."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class Strict(BaseModel):
    """Refuses unknown fields, so a typo is a 422 rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


# --- materials ----------------------------------------------------------------------------------


class DocumentCreate(Strict):
    """A document addressed by the SHA-256 of its bytes (the bytes go to the blob store)."""

    kind: Literal["document"] = "document"
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", examples=[SHA256])
    size: int = Field(gt=0, le=2**40, examples=[2048])
    media_type: str = Field(max_length=64, examples=["application/pdf"])

    def ref(self) -> MaterialRef:
        """The ledger's reference."""
        return DocumentRef(self.sha256, self.size, self.media_type)


class DocumentPublic(BaseModel):
    """A stored document's reference, as a case's materials take it."""

    kind: Literal["document"] = "document"
    sha256: str = Field(examples=[SHA256])
    size: int = Field(examples=[48213])
    media_type: str = Field(examples=["application/pdf"])


class ELicenseCreate(Strict):
    """A material satisfied by an e-license in the vault: only its number is given."""

    kind: Literal["e_license"]
    license_id: str = Field(min_length=1, max_length=128)

    def ref(self) -> MaterialRef:
        """The ledger's reference."""
        return ELicenseRef(self.license_id)


Material = Annotated[DocumentCreate | ELicenseCreate, Field(discriminator="kind")]
Materials = Annotated[dict[Code, Material], Field(max_length=64)]


def material_refs(
    materials: Mapping[str, DocumentCreate | ELicenseCreate],
) -> dict[str, MaterialRef]:
    """The ledger's references of a request's materials."""
    return {code: material.ref() for code, material in materials.items()}


# --- case commands ------------------------------------------------------------------------------


class CaseCreate(Strict):
    """Submit a case; an applicant submits for themself, window staff name the applicant."""

    item_code: str = Field(min_length=1, max_length=64, examples=["11512000MB1546347P000101003000"])
    applicant_id: HolderId | None = Field(
        default=None, description="citizen id or unified social credit code (staff only)"
    )
    materials: Materials = Field(default_factory=dict)


class ToleranceCreate(Strict):
    """Accept with missing secondary materials on the applicant's commitment (容缺受理)."""

    commitment: Text = Field(examples=["申请人承诺在10日内补齐安全生产许可证等材料"])
    commitment_due: date = Field(examples=["2026-03-12"])


class CorrectionNoticeCreate(Strict):
    """The one-time written correction notice (一次性告知): material → reason."""

    items: Annotated[dict[Code, Text], Field(min_length=1, max_length=64)] = Field(
        examples=[{"sght": "合同缺少签章页"}]
    )
    text: Text = Field(examples=["请补正以下材料"])


class CorrectionCreate(Strict):
    """Corrected materials."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "materials": {
                        "zc": {
                            "kind": "document",
                            "sha256": SHA256,
                            "size": 48213,
                            "media_type": "application/pdf",
                        }
                    }
                }
            ]
        }
    )

    materials: Materials


class SupplementCreate(Strict):
    """Committed materials supplied after a tolerance acceptance."""

    materials: Materials
    via: SupplementVia = Field(examples=["email"])


class OpinionCreate(Strict):
    """The acting officer's department's review opinion."""

    approve: bool = Field(examples=[False])
    reasons: list[Text] = Field(
        default_factory=list, max_length=32, examples=[["消防设计未经审查合格"]]
    )


class TransferCreate(Strict):
    """Pass the case to another level with this level's opinion."""

    to_level: AdminLevel = Field(examples=["city"])
    to_unit: Text = Field(examples=["市住房和城乡建设局"])
    opinion: Text = Field(examples=["初审符合条件，报市级审批"])


class SuspendCreate(Strict):
    """Stop the clock for a special step."""

    step: SpecialStep = Field(examples=["site_inspection"])
    reason: Text = Field(examples=["现场踏勘"])


class ExtendCreate(Strict):
    """Extend the deadline once."""

    due: date = Field(examples=["2026-12-31"])
    reason: Text = Field(examples=["需组织专家评审，报经本机关负责人批准延长"])
    approver: Text = Field(examples=["局长 李明"])


class DecisionCreate(Strict):
    """Grant or deny."""

    grant: bool
    legal_basis: Text = Field(examples=["《建筑工程施工许可管理办法》第四条"])
    reasons: list[Text] = Field(default_factory=list, max_length=32)


class DispatchCreate(Strict):
    """Hand the result to a courier."""

    courier: Code = Field(examples=["ems"])
    tracking_number: Text = Field(max_length=64, examples=["EA123456789CN"])


class VisitCreate(Strict):
    """An in-person visit and its reason."""

    reason: Text = Field(examples=["核验原件"])


class WithdrawCreate(Strict):
    """Withdraw the application."""

    reason: Text = Field(examples=["经营计划调整，申请撤回"])


class RatingCreate(Strict):
    """Rate the service after closing (好差评)."""

    stars: int = Field(ge=1, le=5, examples=[5])
    comment: str = Field(default="", max_length=2000, examples=["全程网办，一次也没跑"])


class RefusalCreate(Strict):
    """Refuse to accept (不予受理)."""

    reasons: list[Text] = Field(
        min_length=1, max_length=32, examples=[["申请事项不属于本机关职权范围"]]
    )
    legal_basis: Text = Field(examples=["《中华人民共和国行政许可法》第三十二条"])


class CommandPublic(BaseModel):
    """What a command did: the case's new version (its ETag) and deadline."""

    case_id: UUID
    version: int = Field(examples=[3])
    due: date | None = None
    license_id: str | None = None


# --- case reads -------------------------------------------------------------------------------


class CasePublic(BaseModel):
    """A case as its handlers and its applicant see it."""

    case_id: UUID
    version: int
    item_code: str
    item_name: str
    status: str
    applicant_kind: str
    applicant_masked: str
    receipt_number: str | None
    due: date | None
    commitment_due: date | None
    open_commitments: list[str]
    materials: dict[str, dict[str, Any]]
    opinions: dict[str, bool]
    decision: dict[str, Any] | None
    license_id: str | None
    visits: int
    visit_target: int
    rating: int | None


class TimelineEntryPublic(BaseModel):
    """One signed event, its signer, and whether it verified."""

    seq: int
    type: str
    at: datetime | None
    actor: dict[str, Any]
    channel: str
    kid: str
    signer: str
    event_hash: str
    verified: bool
    problem: str | None
    data: dict[str, Any]
    leaf_index: int | None = None


class CaseSummaryPublic(BaseModel):
    """A case in a list."""

    case_id: UUID
    item_code: str
    item_name: str
    status: str
    due: date | None
    version: int
    action: str | None = None


# --- catalog -----------------------------------------------------------------------------------


class ItemPublic(BaseModel):
    """A catalog item in the public listing."""

    code: str
    name: str
    name_en: str
    item_type: str
    lead_department: str
    joint_departments: list[str]
    promised_days: int
    statutory_days: int
    visit_target: int
    version: int
    withdrawn: bool


# --- courier -------------------------------------------------------------------------------------


class CourierReportCreate(Strict):
    """A courier's COSE_Sign1 report, base64: CBOR {case_id, tracking_number, event, at, nonce}.
    The example is signed by a throwaway key, so the service refuses it (unknown key)."""

    report: str = Field(
        min_length=1,
        max_length=16_000,
        description="base64 COSE_Sign1 bytes",
        examples=[
            (
                "0oRVogEnBFD9EQ0wHS8HfeFBS4+Z9EGxoFiNpmJhdBppLk8oZWV2ZW50aWRlbGl2ZXJlZGVub25jZXBj"
                "MGZmZWUwMTIzNDU2Nzg5Z2Nhc2VfaWR4JDZmMWMyYTRlLThkM2ItNGM1ZS05YTdmLTBiMWQyZTNmNGE1"
                "YmlzaWduZWRfYnlm5byg5LiJb3RyYWNraW5nX251bWJlcm1FQTEyMzQ1Njc4OUNOWEC/DHf8krAsH6oI"
                "KHHf5wIoqhVWEuZxH0eiTCK1LeOpNYGCkBx6t7eUHvDdaLxq7oPyxrpvpLuziteOnxb6L60O"
            )
        ],
    )


# --- audit ---------------------------------------------------------------------------------------


class CheckpointPublic(BaseModel):
    """A signed checkpoint of the transparency log (C2SP signed note)."""

    number: int
    origin: str
    size: int
    root: str
    note: str
    issued_at: datetime
    verifier_key: str


class InclusionPublic(BaseModel):
    """An event's inclusion proof (hex) in a tree of ``tree_size`` leaves."""

    leaf_index: int
    tree_size: int
    leaf_hash: str
    root: str
    proof: list[str]


class ConsistencyPublic(BaseModel):
    """A consistency proof (hex) between two tree sizes."""

    old_size: int
    new_size: int
    old_root: str
    new_root: str
    proof: list[str]
