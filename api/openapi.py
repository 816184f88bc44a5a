"""The OpenAPI document's security: the bearer scheme, and the operations that require it.

Authentication reads the ``Authorization`` header inside the dependency layer rather than through
FastAPI's security dependency (one node fewer on every request), so the document is told here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIRouter

from api.deps import BEARER_SCHEME, authenticates

BEARER = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "EdDSA JWT: sub, role, department",
}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def bearer_operations(routers: Iterable[APIRouter]) -> set[tuple[str, str]]:
    """The (path, lower-case method) of every route whose dependencies read a bearer token."""
    secured: set[tuple[str, str]] = set()
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute) and any(map(authenticates, _calls(route.dependant))):
                secured.update((route.path, method.lower()) for method in route.methods or ())
    return secured


def install_bearer_security(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Make ``app.openapi()`` declare the bearer scheme on the operations that need it."""
    secured = bearer_operations(routers)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        # FastAPI keeps the document until the routes change; marking it again is idempotent.
        document = generate()
        schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes[BEARER_SCHEME] = BEARER
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                if (path, method) in secured:
                    operation["security"] = [{BEARER_SCHEME: []}]
        return document

    app.openapi = openapi  # type: ignore[method-assign]
