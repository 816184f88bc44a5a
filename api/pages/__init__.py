"""Server-rendered pages in Simplified Chinese under /pages: the catalog, signing in and the
verifier's page; ``router`` assembles them for the app."""

from __future__ import annotations

from fastapi import APIRouter

from api.pages import catalog, session, verifier

router = APIRouter()
for _module in (catalog, session, verifier):
    router.include_router(_module.router)

__all__ = ["router"]
