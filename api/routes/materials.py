"""Material documents: applicants and window officers upload the bytes (content-addressed, before
a case refers to them); the uploader reads back their own, and whoever may see a case reads the
documents its events refer to. Holders, the case's departments, auditors.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Header, Path, Request, Response, status
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, DocumentsDep, LedgerDep, Now, allow, capped_body, visible_case
from api.errors import not_found, problem_responses
from api.schemas import DocumentPublic
from ledger.actors import Role
from ledger.documents import (
    ALLOWED_MEDIA_TYPES,
    DocumentRef,
    daily_upload_quota,
    referenced_documents,
)
from ledger.timeline import timeline
from projections.document_store import MAX_DOCUMENT_BYTES

APPLICANT, OFFICER, AUDITOR = Role.APPLICANT, Role.OFFICER, Role.AUDITOR
router = APIRouter(tags=["materials"], responses=problem_responses(401, 403, 404))
Sha256 = Path(pattern=r"^[0-9a-f]{64}$", examples=["9f" * 32])
_BINARY = {"schema": {"type": "string", "format": "binary"}}
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": f"the document's bytes, at most {MAX_DOCUMENT_BYTES} of them",
        "content": {media_type: _BINARY for media_type in sorted(ALLOWED_MEDIA_TYPES)},
    }
}
_STORED = {
    "description": "The document's reference, to put in a case's materials",
    "model": DocumentPublic,
    "headers": {"Location": {"schema": {"type": "string"}}},
}


def ref_public(ref: DocumentRef) -> DocumentPublic:
    """A document reference as response JSON (``materials`` take it as it is)."""
    return DocumentPublic(sha256=ref.sha256, size=ref.size, media_type=ref.media_type)


@router.post(
    "/v1/documents",
    status_code=status.HTTP_201_CREATED,
    dependencies=[allow(APPLICANT, OFFICER)],
    openapi_extra=UPLOAD_BODY,
    responses={200: _STORED, 201: _STORED, **problem_responses(413, 422, 429, 503)},
)
async def upload_document(
    request: Request,
    caller: Caller,
    documents: DocumentsDep,
    now: Now,
    response: Response,
    content_type: str = Header(default="", alias="Content-Type", max_length=128),
) -> DocumentPublic:
    """Upload a material's bytes (PDF, OFD, JPEG, PNG, TIFF) with their media type as the
    Content-Type; 201 the first time, 200 for bytes already stored; an applicant may upload
    200 MiB a day (429 beyond). Applicants, officers."""
    content = await capped_body(request, MAX_DOCUMENT_BYTES, "document-too-large", "a document")
    quota = daily_upload_quota(caller.role, request.app.state.applicant_upload_quota)
    stored = await run_in_threadpool(
        documents.put, content, content_type, uploader=caller.sub, at=now, quota=quota
    )
    response.status_code = status.HTTP_201_CREATED if stored.created else status.HTTP_200_OK
    response.headers["Location"] = f"/v1/documents/{stored.ref.sha256}"
    return ref_public(stored.ref)


def _document_response(found: tuple[DocumentRef, bytes] | None) -> Response:
    if found is None:
        raise not_found("document")
    ref, content = found
    return Response(
        content,
        media_type=ref.media_type,
        headers={
            "ETag": f'"{ref.sha256}"',
            # Content-addressed: the bytes at an address never change.
            "Cache-Control": "private, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )


_BYTES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The document's bytes", "content": {"*/*": _BINARY}}
}


@router.get(
    "/v1/documents/{sha256}",
    response_class=Response,
    dependencies=[allow(APPLICANT, OFFICER)],
    responses={**_BYTES, **problem_responses(503)},
)
def get_own_document(caller: Caller, documents: DocumentsDep, sha256: str = Sha256) -> Response:
    """A document the caller uploaded (404 for anyone else's). Its uploader."""
    if not documents.uploaded_by(sha256, caller.sub):
        raise not_found("document")
    return _document_response(documents.get(sha256))


@router.get(
    "/v1/cases/{case_id}/materials/{sha256}",
    response_class=Response,
    dependencies=[allow(APPLICANT, OFFICER, AUDITOR)],
    responses={**_BYTES, **problem_responses(503)},
)
def get_case_document(
    case_id: UUID,
    caller: Caller,
    ledger: LedgerDep,
    documents: DocumentsDep,
    sha256: str = Sha256,
) -> Response:
    """A document the case's events refer to (404 otherwise). As for the case."""
    visible_case(ledger, case_id, caller)
    if sha256 not in {s for e in timeline(ledger, case_id) for s in referenced_documents(e.data)}:
        raise not_found("document")
    return _document_response(documents.get(sha256))
