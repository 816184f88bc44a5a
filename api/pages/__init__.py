"""Server-rendered pages in Simplified Chinese under /pages: the catalog, signing in, the
verifier's page, the applicant's portal, a case's page, applying and answering online, the
auditor's case trace, the officer's desk, the supervision dashboard and key administration;
``router`` assembles them for the app."""

from __future__ import annotations

from fastapi import APIRouter

from api.pages import (
    apply,
    audit,
    case,
    catalog,
    desk,
    keys,
    portal,
    session,
    supervision,
    verifier,
)

router = APIRouter()
for _module in (catalog, session, verifier, portal, case, apply, audit, desk, supervision, keys):
    router.include_router(_module.router)

__all__ = ["router"]
