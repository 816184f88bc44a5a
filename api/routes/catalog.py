"""The published service catalog (事项目录): the listing and one item's terms in force; public."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query

from api.deps import LedgerDep, Now, ReadsDep
from api.errors import problem_responses
from api.schemas import ItemPublic, jsonable
from projections.catalog_view import CatalogView

router = APIRouter(prefix="/v1/catalog", tags=["catalog"], responses=problem_responses(404, 422))
ItemCode = Path(min_length=1, max_length=64, examples=["11512000MB1546347P000101003000"])


@router.get("/items")
def list_items(
    reads: ReadsDep,
    department: str | None = Query(default=None, max_length=64),
    offset: int = Query(default=0, ge=0, le=1_000_000),
    limit: int = Query(default=50, ge=1, le=200),
) -> list[ItemPublic]:
    """Every published item (of one lead department), by implementation code. Anyone."""
    items = reads.model(CatalogView).items(reads.database, department=department)
    return [
        ItemPublic(
            code=item.code,
            name=item.latest.name,
            name_en=item.latest.name_en,
            item_type=item.latest.item_type,
            lead_department=item.latest.lead_department,
            joint_departments=list(item.latest.joint_departments),
            promised_days=item.latest.promised_days,
            statutory_days=item.latest.statutory_days,
            visit_target=item.latest.visit_target,
            version=item.latest.version,
            withdrawn=item.withdrawn_from is not None,
        )
        for item in items[offset : offset + limit]
    ]


@router.get("/items/{item_code}")
def get_item(ledger: LedgerDep, now: Now, item_code: str = ItemCode) -> dict[str, Any]:
    """The terms of one item in force now: materials, time limits, visits, fees. Anyone."""
    terms: dict[str, Any] = jsonable(ledger.item(item_code).terms_at(now).as_dict())
    return terms
