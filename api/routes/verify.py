"""Online verification of a license by QR text, a picture of its QR code, or its number, for a
stated purpose; the service records every call as a license use (用证留痕). A department's
verifiers and officers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile
from fastapi.concurrency import run_in_threadpool

from api.deps import LedgerDep, VerifierCommand
from api.errors import problem_responses
from api.license_schemas import VerificationPublic, VerifyCreate
from api.schemas import jsonable
from licenses.errors import mask_id
from licenses.qr_scan import MAX_IMAGE_BYTES, read_qr_image
from licenses.verify import VerificationResult

router = APIRouter(prefix="/v1/verify", tags=["verify"], responses=problem_responses(401, 403, 422))


def verification_public(result: VerificationResult) -> VerificationPublic:
    """The verifier's result as the API shows it (the holder id masked)."""
    claims = result.claims
    return VerificationPublic(
        status=result.status.value,
        valid=result.valid,
        step=result.step,
        step_name=result.step_name,
        reason=result.reason,
        license_id=None if claims is None else claims.license_id,
        license_type=None if claims is None else claims.license_type,
        issuer=None if claims is None else claims.iss,
        holder_masked=None if claims is None else mask_id(claims.sub),
        fields={} if claims is None else jsonable(dict(claims.fields)),
        undisclosed=sorted(result.undisclosed),
        status_checked=result.status_checked,
        issuer_region=result.region,
    )


# A coroutine: the checks take a fraction of a millisecond of CPU, which a worker-thread round
# trip would cost again, and the use record commits in a worker thread while the loop serves on.
# The model is built here, so its JSON is written directly: FastAPI would validate it once more.
@router.post("", response_model=VerificationPublic)
async def verify_license(body: VerifyCreate, cmd: VerifierCommand, ledger: LedgerDep) -> Response:
    """Verify a license (signature, keys, time, online status) for a purpose; recorded as a use.
    With an Idempotency-Key, a repeat gets the first answer and records no second use."""
    purpose, qr_text, license_id = body.purpose, body.qr_text, body.license_id
    if cmd.command_id is not None:
        result = await run_in_threadpool(
            ledger.sharing.verify_once,
            cmd,
            purpose=purpose,
            qr_text=qr_text,
            license_id=license_id,
        )
    else:
        result = await ledger.sharing.verify_async(
            cmd, purpose=purpose, qr_text=qr_text, license_id=license_id
        )
    return Response(verification_public(result).model_dump_json(), media_type="application/json")


# A plain ``def``: reading the picture is a few milliseconds of CPU in C, off the event loop.
@router.post("/image", response_model=VerificationPublic)
def verify_license_image(
    cmd: VerifierCommand,
    ledger: LedgerDep,
    purpose: Annotated[str, Form(min_length=1, max_length=200, examples=["施工许可"])],
    image: Annotated[UploadFile, File(description="a photo or screenshot of the license's QR")],
) -> Response:
    """Verify a license from a picture of its QR code, for a purpose; recorded as a use (once
    per Idempotency-Key, as ``POST /v1/verify``)."""
    qr_text = read_qr_image(image.file.read(MAX_IMAGE_BYTES + 1))
    if cmd.command_id is not None:
        result = ledger.sharing.verify_once(cmd, purpose=purpose, qr_text=qr_text)
    else:
        result = ledger.sharing.verify(cmd, purpose=purpose, qr_text=qr_text)
    return Response(verification_public(result).model_dump_json(), media_type="application/json")
