"""Errors as RFC 9457 problem details: one table maps every domain error type to an HTTP status
and a stable ``type`` URI; request validation is 422, and nothing a client sends yields a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import AuthError
from keys import errors as kx
from ledger import errors as lx
from ledger.commands import IdempotencyConflict
from ledger.kept_answers import AnswerNotRestored
from ledger.signing import SigningIdentityError, SigningKeyUnavailable
from ledger.transcodings import EncodingError
from ledger.vault_service import UnknownLicense
from licenses import errors as cx
from licenses.types import UnknownLicenseType
from licenses.usage import PurposeNotAllowed
from projections import errors as px
from projections.audit_index import InvalidPage
from projections.case_facts import CaseNotSubmitted, ClockUnavailable, ReadModelError

PROBLEM_BASE = "https://caseledger.example/problems/"
PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("caseledger.api")


@dataclass(frozen=True)
class Problem:
    """How one kind of error is shown: HTTP status, stable slug (the ``type`` URI) and title."""

    status: int
    slug: str
    title: str

    @property
    def type(self) -> str:
        """The problem type URI."""
        return PROBLEM_BASE + self.slug


class ProblemPublic(BaseModel):
    """An RFC 9457 problem: a stable type URI, title, status, detail and extension members."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["https://caseledger.example/problems/second-notice-refused"])
    title: str
    status: int
    detail: str
    instance: str


def _p(status: int, slug: str, title: str) -> Problem:
    return Problem(status, slug, title)


# The one mapping from domain error types to problems. Subclasses not listed take their nearest
# listed base; a test checks that every error class of the *errors modules is listed itself.
PROBLEMS: Mapping[type[Exception], Problem] = {
    # ledger: base, integrity, concurrency, actors
    lx.LedgerError: _p(422, "ledger-rule-violated", "A ledger rule refused the request"),
    lx.IntegrityError: _p(500, "integrity-failure", "A stored event failed verification"),
    lx.ConcurrencyError: _p(409, "concurrent-change", "The case changed since the version given"),
    lx.InvalidActor: _p(403, "invalid-actor", "The caller cannot act in the ledger"),
    IdempotencyConflict: _p(
        422, "idempotency-key-reused", "Idempotency key used for another request"
    ),
    SigningIdentityError: _p(403, "no-signing-key", "No registered key may sign for the caller"),
    SigningKeyUnavailable: _p(
        503, "signing-key-unavailable", "The key that signs for the caller must be replaced"
    ),
    EncodingError: _p(422, "unencodable-value", "A value cannot be recorded in a signed event"),
    # ledger: calendar
    lx.CalendarError: _p(422, "calendar-error", "The working-day calendar cannot answer"),
    lx.CalendarYearUnknown: _p(422, "calendar-year-unknown", "No holiday notice for that year"),
    lx.CalendarDataInvalid: _p(500, "calendar-data-invalid", "The holiday data is invalid"),
    lx.InvalidPeriod: _p(422, "invalid-period", "Not a valid span of working days"),
    # ledger: Merkle log and notes
    lx.ProofInvalid: _p(422, "proof-invalid", "The Merkle proof does not verify"),
    lx.RootMismatch: _p(422, "root-mismatch", "The proof leads to another root"),
    lx.MerkleTreeError: _p(422, "tree-request-invalid", "The tree cannot serve that request"),
    lx.CheckpointInvalid: _p(422, "checkpoint-invalid", "Checkpoint text breaks the format"),
    lx.NoteInvalid: _p(422, "note-invalid", "The signed note is invalid"),
    lx.NoteMalformed: _p(422, "note-malformed", "The signed note breaks the format"),
    lx.NoteKeyInvalid: _p(422, "note-key-invalid", "The note verifier key is invalid"),
    lx.NoteSignatureInvalid: _p(422, "note-signature-invalid", "A note signature fails"),
    lx.NoteUnverified: _p(422, "note-unverified", "No trusted signature on the note"),
    # ledger: command arguments
    lx.InvalidTimestamp: _p(422, "invalid-timestamp", "The command time is not acceptable"),
    lx.InvalidCommand: _p(422, "invalid-command", "A command argument is malformed"),
    lx.InvalidDocument: _p(422, "invalid-document", "A document reference is malformed"),
    lx.ELicenseNotAccepted: _p(422, "e-license-not-accepted", "That material takes no e-license"),
    lx.ActionNotPermitted: _p(403, "action-not-permitted", "The caller may not do this"),
    lx.DateInPast: _p(422, "date-in-past", "The date lies before today"),
    # ledger: catalog
    lx.InvalidServiceItem: _p(422, "invalid-service-item", "The item terms break catalog rules"),
    lx.CatalogVersionMismatch: _p(409, "catalog-version-mismatch", "Not the item's next version"),
    lx.EffectiveDateRejected: _p(422, "effective-date-rejected", "Effective date not acceptable"),
    lx.PromisedTimeIncreased: _p(422, "promised-time-increased", "Promised time lengthened"),
    lx.ItemWithdrawn: _p(409, "item-withdrawn", "The service item is withdrawn"),
    lx.NoTermsInForce: _p(409, "no-terms-in-force", "No version of the item is in force"),
    lx.UnknownMaterial: _p(422, "unknown-material", "The item lists no such material"),
    # ledger: case rules
    lx.WrongState: _p(409, "wrong-state", "The case's status does not allow this"),
    lx.MaterialsIncomplete: _p(409, "materials-incomplete", "Materials are missing"),
    lx.SecondNoticeRefused: _p(409, "second-notice-refused", "The one-time notice was given"),
    lx.ELicenseMaterialDemanded: _p(
        422, "e-license-material-demanded", "That material is already proven by an e-license"
    ),
    lx.MaterialNotRequested: _p(422, "material-not-requested", "The notice did not ask for it"),
    lx.ToleranceRefused: _p(409, "tolerance-refused", "Tolerance acceptance is not possible"),
    lx.MainMaterialMissing: _p(409, "main-material-missing", "A main material is missing"),
    lx.MaterialNotTolerable: _p(409, "material-not-tolerable", "A missing material is required"),
    lx.NothingToTolerate: _p(409, "nothing-to-tolerate", "No material is missing"),
    lx.CommitmentDueAfterDeadline: _p(
        422, "commitment-due-after-deadline", "The commitment date is after the deadline"
    ),
    lx.InvalidDueDate: _p(422, "invalid-due-date", "The due date does not fit the item"),
    lx.MaterialNotCommitted: _p(422, "material-not-committed", "That material is not committed"),
    lx.DepartmentNotRequired: _p(403, "department-not-required", "Department not in the review"),
    lx.OpinionAlreadyGiven: _p(409, "opinion-already-given", "The department gave its opinion"),
    lx.WrongDepartment: _p(403, "wrong-department", "The officer acts for another department"),
    lx.StepNotDeclared: _p(422, "step-not-declared", "The item declares no such special step"),
    lx.AlreadyExtended: _p(409, "already-extended", "The time limit was already extended"),
    lx.ApprovalsMissing: _p(409, "approvals-missing", "A required department has not approved"),
    lx.CommitmentOpen: _p(409, "commitment-open", "Committed materials are outstanding"),
    lx.AlreadyRated: _p(409, "already-rated", "The case was already rated"),
    lx.UnknownCase: _p(404, "unknown-case", "No such case"),
    lx.UnknownItem: _p(404, "unknown-item", "No such service item"),
    lx.DuplicateSubmission: _p(409, "duplicate-submission", "That submission was already made"),
    lx.InvalidApplicant: _p(422, "invalid-applicant", "The applicant id does not validate"),
    lx.UnknownRegion: _p(404, "unknown-region", "No such region"),
    lx.RegionConflict: _p(409, "region-conflict", "The region's installed trust contradicts this"),
    lx.RegionDocumentInvalid: _p(422, "region-document-invalid", "The region's document fails"),
    lx.KeyRegistryChanged: _p(409, "key-registry-changed", "The key registry changed; retry"),
    AnswerNotRestored: _p(409, "answer-not-restored", "The first answer cannot be given again"),
    # licenses
    cx.LicenseError: _p(422, "license-error", "The license request cannot be served"),
    cx.InvalidIdentifier: _p(422, "invalid-identifier", "The identifier is malformed"),
    cx.InvalidLicenseId: _p(422, "invalid-license-id", "The license id is malformed"),
    cx.InvalidHolderId: _p(422, "invalid-holder-id", "The holder id does not validate"),
    cx.InvalidCredential: _p(422, "invalid-credential", "The credential is invalid"),
    cx.SignatureInvalid: _p(422, "credential-signature-invalid", "The credential signature fails"),
    cx.DisclosureInvalid: _p(422, "disclosure-invalid", "A disclosed field does not verify"),
    cx.InvalidQRText: _p(422, "invalid-qr-text", "The QR text is malformed"),
    cx.InvalidBase45: _p(422, "invalid-base45", "The QR text is not Base45"),
    cx.QRImageUnreadable: _p(422, "qr-image-unreadable", "No one QR code can be read in the image"),
    cx.UnknownIssuer: _p(422, "unknown-issuer", "The issuer's key is not trusted"),
    cx.KeyNotAllowed: _p(422, "key-not-allowed", "The key may not sign this license"),
    cx.LicenseRevoked: _p(409, "license-revoked", "The license is revoked"),
    cx.LicenseExpired: _p(409, "license-expired", "The license has expired"),
    cx.LicenseSuspended: _p(409, "license-suspended", "The license is suspended"),
    cx.StatusListError: _p(422, "status-list-invalid", "The status list cannot be used"),
    cx.InvalidPolicy: _p(500, "invalid-policy", "The verification policy is unusable"),
    cx.LicenseCommandRefused: _p(409, "license-command-refused", "The license refuses this"),
    UnknownLicenseType: _p(404, "unknown-license-type", "No such license type"),
    PurposeNotAllowed: _p(403, "purpose-not-allowed", "The purpose is not in the policy"),
    UnknownLicense: _p(404, "unknown-license", "No such license"),
    # keys
    kx.KeyManagementError: _p(422, "key-error", "The key request cannot be served"),
    kx.MalformedMessage: _p(422, "malformed-message", "CBOR or COSE bytes are malformed"),
    kx.UnsupportedAlgorithm: _p(422, "unsupported-algorithm", "The algorithm is not supported"),
    kx.SignatureInvalid: _p(422, "signature-invalid", "The signature does not verify"),
    kx.UnknownKey: _p(404, "unknown-key", "No such key"),
    kx.KeyNotValid: _p(403, "key-not-valid", "The key was not valid for this"),
    kx.WrongPassphrase: _p(500, "key-store-locked", "The key store cannot be opened"),
    kx.RegistryConflict: _p(409, "registry-conflict", "The key's history forbids this"),
    # projections
    px.ProjectionError: _p(500, "projection-error", "A read model failed"),
    px.DocumentRejected: _p(422, "document-rejected", "The document store refused the upload"),
    px.DocumentNotStored: _p(422, "document-not-stored", "A referenced document is not uploaded"),
    px.UploadQuotaExceeded: _p(429, "upload-quota-exceeded", "Too many bytes uploaded today"),
    px.UnknownReadModel: _p(500, "unknown-read-model", "The read model is not configured"),
    px.TrackingConflict: _p(503, "read-model-busy", "A read model moved meanwhile; retry"),
    px.TransparencyError: _p(500, "transparency-error", "The transparency log failed"),
    px.ProofUnavailable: _p(404, "proof-unavailable", "The log holds no such proof yet"),
    px.ConsistencyRefused: _p(500, "consistency-refused", "The log refused to sign a checkpoint"),
    px.CheckpointRefused: _p(422, "checkpoint-refused", "The checkpoint is refused"),
    px.ForkDetected: _p(500, "fork-detected", "Two checkpoints disagree"),
    px.AuditFailure: _p(500, "audit-failure", "An event failed the audit"),
    px.BundleInvalid: _p(422, "bundle-invalid", "The case bundle does not verify"),
    ReadModelError: _p(500, "read-model-error", "A read model failed"),
    CaseNotSubmitted: _p(500, "read-model-inconsistent", "A read model missed a submission"),
    ClockUnavailable: _p(503, "clock-unavailable", "The calendar cannot count to that date"),
    InvalidPage: _p(422, "invalid-page", "The page request is out of range"),
}

INTERNAL = _p(500, "internal-error", "Internal error")
_BY_STATUS: Mapping[int, Problem] = {
    400: _p(400, "bad-request", "Bad request"),
    401: _p(401, "unauthenticated", "A valid bearer token is required"),
    403: _p(403, "forbidden", "The caller's role may not do this"),
    404: _p(404, "not-found", "Not found"),
    405: _p(405, "method-not-allowed", "Method not allowed"),
    406: _p(406, "not-acceptable", "Not acceptable"),
    409: _p(409, "conflict", "Conflict"),
    413: _p(413, "payload-too-large", "Payload too large"),
    415: _p(415, "unsupported-media-type", "Unsupported media type"),
    422: _p(422, "validation-failed", "The request is not valid"),
    429: _p(429, "too-many-requests", "Too many requests"),
    503: _p(503, "unavailable", "Service unavailable"),
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem+json answers for ``statuses``."""
    return {
        status: {
            "description": _BY_STATUS[status].title,
            "content": {PROBLEM_JSON: {"schema": ProblemPublic.model_json_schema()}},
        }
        for status in statuses
    }


def problem_for(exc: BaseException) -> Problem:
    """Return the problem of the nearest listed type in ``exc``'s class hierarchy."""
    for kind in type(exc).__mro__:
        found = PROBLEMS.get(kind)
        if found is not None:
            return found
    return INTERNAL


class ApiProblem(HTTPException):
    """An HTTP-level problem raised by the API itself (auth, ownership, headers, courier)."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(status, detail, dict(headers) if headers else None)
        self.problem = Problem(status, slug, title)
        self.extensions = extensions


def unauthenticated(detail: str) -> ApiProblem:
    """Return the 401 problem with the bearer challenge."""
    challenge = 'Bearer realm="caseledger", error="invalid_token"'
    return ApiProblem(
        401,
        "unauthenticated",
        _BY_STATUS[401].title,
        detail,
        headers={"WWW-Authenticate": challenge},
    )


def forbidden(detail: str) -> ApiProblem:
    """Return the 403 problem for a role that may not call a route."""
    return ApiProblem(403, "forbidden", _BY_STATUS[403].title, detail)


def not_found(what: str) -> ApiProblem:
    """Return a 404 that neither confirms nor denies that someone else's record exists."""
    return ApiProblem(404, "not-found", _BY_STATUS[404].title, f"no {what} found")


def problem_response(
    problem: Problem,
    detail: str,
    request: Request,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """Render a problem as ``application/problem+json``."""
    body: dict[str, Any] = {
        "type": problem.type,
        "title": problem.title,
        "status": problem.status,
        "detail": detail,
        "instance": request.url.path,
        **extensions,
    }
    return JSONResponse(body, problem.status, headers=dict(headers or {}), media_type=PROBLEM_JSON)


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    problem = problem_for(exc)
    extensions: dict[str, Any] = {}
    if isinstance(exc, lx.ConcurrencyError):
        extensions["current_version"] = exc.current_version
    if problem.status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
    return problem_response(problem, str(exc), request, **extensions)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    # Inputs are not echoed back: they may hold personal data such as holder ids.
    shown = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errors
    ]
    return problem_response(_BY_STATUS[422], "the request failed validation", request, errors=shown)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ApiProblem):
        return problem_response(
            exc.problem, str(exc.detail), request, headers=exc.headers, **exc.extensions
        )
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
    problem = _BY_STATUS.get(status, Problem(status, f"http-{status}", "HTTP error"))
    detail = str(exc.detail) if isinstance(exc, StarletteHTTPException) else problem.title
    headers = exc.headers if isinstance(exc, StarletteHTTPException) else None
    return problem_response(problem, detail, request, headers=headers)


async def _auth(request: Request, exc: Exception) -> JSONResponse:
    problem = unauthenticated(str(exc))
    return await _http(request, problem)


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.exception("%s %s failed with an unexpected error", request.method, request.url.path)
    return problem_response(INTERNAL, "the service failed; the error was logged", request)


def install_error_handlers(app: FastAPI) -> None:
    """Register the problem+json handlers on ``app``."""
    for base in (lx.LedgerError, cx.LicenseError, kx.KeyManagementError, px.ProjectionError):
        app.add_exception_handler(base, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(AuthError, _auth)
    app.add_exception_handler(Exception, _internal)
