"""The HTTP service: ``create_app`` builds the FastAPI app (nothing opens until the first request);
``serve`` runs it with uvicorn for ``caseledger serve``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api.auth import AuthConfig, local_auth_config
from api.config import Settings, get_settings
from api.deps import Clock, LedgerHandle, ReadSide, Runtime, RuntimeHolder, system_clock
from api.errors import ApiProblem, install_error_handlers
from api.openapi import install_bearer_security
from api.pages import router as pages
from api.routes import (
    audit,
    case_reads,
    cases,
    catalog,
    courier,
    documents,
    keys,
    licenses,
    materials,
    regions,
    shared,
    stats,
    verify,
)
from keys.errors import UnknownKey
from keys.signer import Signer
from ledger.application import CaseLedger
from ledger.documents import APPLICANT_DAILY_UPLOAD_BYTES
from projections.database import Database, open_database
from projections.document_store import DocumentStore
from projections.errors import ProjectionError

DESCRIPTION = """\
The signed case ledger and e-license vault of "run at most once" (最多跑一次) government services.

Every state change is one POST per command; send an `Idempotency-Key` to make a retry safe (the
same key and body return the same response and record one event) and `If-Match: "<version>"` to
refuse the change if the case moved on (409 with `current_version`). Errors are RFC 9457
`application/problem+json` with a stable `type` URI. Callers present an EdDSA bearer JWT naming
their role (applicant, officer, verifier, auditor, courier, admin) and department; each route says
who may call it. Holder ids travel only in request bodies, never in URLs.
"""


def _database(ledger: CaseLedger) -> Database | None:
    """The events' SQL database, or None for in-memory storage (read-model routes answer 503)."""
    try:
        return open_database(ledger.recorder)
    except ProjectionError:
        return None


def open_runtime(
    context_factory: Callable[[], LedgerHandle],
    auth: AuthConfig | None = None,
    *,
    read_models: bool = True,
) -> Runtime:
    """Open the ledger, accept the configured and local token issuers, start the read side."""
    handle = context_factory()
    config = local_auth_config(handle.keys, auth if auth is not None else AuthConfig.from_env())
    reads = None
    database = _database(handle.ledger)
    if database is not None and read_models:
        try:
            log_signer: Signer | None = handle.keys.signer("log")
        except UnknownKey:
            log_signer = None
        reads = ReadSide(handle.ledger, database, log_signer=log_signer)
    documents = None if database is None else DocumentStore(database)
    return Runtime(handle, config, reads, documents)


def _default_context(settings: Settings | None) -> Callable[[], LedgerHandle]:
    def open_from_settings() -> LedgerHandle:
        from api.context import open_ledger

        return open_ledger(settings or get_settings())

    return open_from_settings


def create_app(
    context_factory: Callable[[], LedgerHandle] | None = None,
    *,
    auth: AuthConfig | None = None,
    settings: Settings | None = None,
    read_models: bool = True,
    clock: Clock = system_clock,
    applicant_upload_quota: int = APPLICANT_DAILY_UPLOAD_BYTES,
) -> FastAPI:
    """Return the HTTP service over the ledger ``context_factory`` opens (default: settings);
    ``clock`` stamps every request (tests give a fake one); an applicant may upload
    ``applicant_upload_quota`` bytes a day."""
    factory = context_factory or _default_context(settings)
    holder = RuntimeHolder(lambda: open_runtime(factory, auth, read_models=read_models))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        holder.close()

    app = FastAPI(
        title="caseledger",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "health", "description": "Liveness and readiness; anyone."},
            {"name": "catalog", "description": "The published service catalog; anyone."},
            {"name": "cases", "description": "Cases and their commands."},
            {"name": "licenses", "description": "E-licenses of their holders."},
            {"name": "documents", "description": "Case documents and license printouts as PDF."},
            {"name": "verify", "description": "Departments verify licenses (每次用证留痕)."},
            {"name": "shared", "description": "Departments' shared-data views."},
            {"name": "courier", "description": "Signed courier reports."},
            {"name": "audit", "description": "Traces, checkpoints, proofs, bundles; auditors."},
            {
                "name": "keys",
                "description": "Trust list and status lists, anyone; the registry, "
                "administrators and auditors; replacing, revoking and enrolling keys, "
                "administrators.",
            },
            {"name": "statistics", "description": "Reform figures and supervision findings."},
            {"name": "pages", "description": "Server-rendered pages (简体中文)."},
        ],
    )
    app.state.runtime = holder
    app.state.clock = clock
    app.state.applicant_upload_quota = applicant_upload_quota
    install_error_handlers(app)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is up. Anyone."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz() -> dict[str, Any]:
        """The ledger opens and its database answers. Anyone."""
        try:
            position = holder.get().ledger.recorder.max_notification_id()
        except Exception as exc:  # any failure to open or query means "not ready"
            raise ApiProblem(503, "not-ready", "Not ready", type(exc).__name__) from None
        return {"status": "ready", "events": position or 0}

    # Routes are matched in the order they are included, and each miss costs the request time:
    # the busiest come first (verification, then holders' and departments' reads).
    routers = [
        m.router
        for m in (
            verify,
            shared,
            licenses,
            keys,
            cases,
            case_reads,
            catalog,
            documents,
            materials,
            courier,
            audit,
            stats,
            regions,
        )
    ]
    for router in routers:
        app.include_router(router)
    app.include_router(pages)
    install_bearer_security(app, routers)
    return app


def serve(host: str = "127.0.0.1", port: int = 8000, *, settings: Settings | None = None) -> None:
    """Run the service with uvicorn (``caseledger serve``)."""
    import uvicorn

    uvicorn.run(create_app(settings=settings), host=host, port=port, log_level="info")
