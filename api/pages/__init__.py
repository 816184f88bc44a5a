"""Server-rendered pages in Simplified Chinese under /pages: the catalog, signing in, the
verifier's page, the applicant's portal, a case's page and the auditor's case trace; ``router``
assembles them for the app."""

from __future__ import annotations

from fastapi import APIRouter

from api.pages import audit, case, catalog, portal, session, verifier

router = APIRouter()
for _module in (catalog, session, verifier, portal, case, audit):
    router.include_router(_module.router)

__all__ = ["router"]
