"""A floor for ``bench_api.py``: the real service plus one route that authenticates, parses and
answers the way ``POST /v1/verify`` does, but verifies nothing and records nothing.

    python -m uvicorn bench.floor_app:create_app --factory --port 8002
"""

from __future__ import annotations

from fastapi import FastAPI, Response
from fastapi.routing import APIRoute

from api.deps import LedgerDep, VerifierCommand
from api.license_schemas import VerifyCreate
from api.main import create_app as create_service

FLOOR_PATH = "/v1/verify-floor"
ANSWER = b'{"status":"valid","valid":true,"step":null,"reason":"constant"}'


async def verify_floor(body: VerifyCreate, cmd: VerifierCommand, ledger: LedgerDep) -> Response:
    """The verify route's dependencies and body, then constant JSON."""
    return Response(ANSWER, media_type="application/json")


def create_app() -> FastAPI:
    """Return the service with the floor route matched just before ``POST /v1/verify``."""
    app = create_service()
    app.add_api_route(FLOOR_PATH, verify_floor, methods=["POST"])
    # Routes are matched in order: the floor sits where the verify route does, so both pay the
    # same matching.
    routes = app.router.routes
    floor = routes.pop()
    routes.insert(next(i for i, r in enumerate(routes) if _holds_verify(r)), floor)
    return app


def _holds_verify(route: object) -> bool:
    # Included routers are matched as units; the verify route sits in its own router.
    inner = getattr(getattr(route, "original_router", None), "routes", [route])
    return any(isinstance(r, APIRoute) and r.path == "/v1/verify" for r in inner)
