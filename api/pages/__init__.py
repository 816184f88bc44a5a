"""Server-rendered pages in Simplified Chinese under /pages: the catalog, signing in, the
verifier's page, the applicant's portal and a case's page; ``router`` assembles them for the app."""

from __future__ import annotations

from fastapi import APIRouter

from api.pages import case, catalog, portal, session, verifier

router = APIRouter()
for _module in (catalog, session, verifier, portal, case):
    router.include_router(_module.router)

__all__ = ["router"]
