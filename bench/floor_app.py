"""Floors for ``bench_api.py``: the real service plus a route that authenticates, parses and
answers the way ``POST /v1/verify`` does but verifies nothing and records nothing, and one that
also runs the offline credential check (signature, keys, claims) but neither looks up the license
online nor records the use: what the request costs before the ledger is touched.

    python -m uvicorn bench.floor_app:create_app --factory --port 8002
"""

from __future__ import annotations

from fastapi import FastAPI, Response
from fastapi.routing import APIRoute

from api.deps import LedgerDep, VerifierCommand
from api.license_schemas import VerifyCreate
from api.main import create_app as create_service
from api.routes.verify import verification_public
from keys.trustlist import TrustList
from licenses.verify import Verifier

FLOOR_PATH = "/v1/verify-floor"
CHECK_PATH = "/v1/verify-check"
ANSWER = b'{"status":"valid","valid":true,"step":null,"reason":"constant"}'


async def verify_floor(body: VerifyCreate, cmd: VerifierCommand, ledger: LedgerDep) -> Response:
    """The verify route's dependencies and body, then constant JSON."""
    return Response(ANSWER, media_type="application/json")


class CredentialCheck:
    """The offline verifier over the ledger's key ring, built on first use."""

    def __init__(self) -> None:
        self._verifier: Verifier | None = None

    async def __call__(
        self, body: VerifyCreate, cmd: VerifierCommand, ledger: LedgerDep
    ) -> Response:
        """The verify route's dependencies and body, the credential check, its answer."""
        if self._verifier is None:
            entries = {e.kid: e for e in ledger.keyring.entries()}
            self._verifier = Verifier(TrustList(issued_at=cmd.at, sequence=0, entries=entries))
        result = self._verifier.verify(body.qr_text or "", at=cmd.at)
        shown = verification_public(result).model_dump_json()
        return Response(shown, media_type="application/json")


def create_app() -> FastAPI:
    """Return the service with the floor route matched just before ``POST /v1/verify``."""
    app = create_service()
    app.add_api_route(FLOOR_PATH, verify_floor, methods=["POST"])
    app.add_api_route(CHECK_PATH, CredentialCheck(), methods=["POST"])
    # Routes are matched in order: the floor sits where the verify route does, so both pay the
    # same matching.
    routes = app.router.routes
    floors = [routes.pop(), routes.pop()]
    for floor in floors:
        routes.insert(next(i for i, r in enumerate(routes) if _holds_verify(r)), floor)
    return app


def _holds_verify(route: object) -> bool:
    # Included routers are matched as units; the verify route sits in its own router.
    inner = getattr(getattr(route, "original_router", None), "routes", [route])
    return any(isinstance(r, APIRoute) and r.path == "/v1/verify" for r in inner)
