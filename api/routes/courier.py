"""Courier reports: dispatch and delivery reports signed by the courier's registered key
(COSE_Sign1 over CBOR ``{case_id, tracking_number, event, at, nonce}``, plus ``signed_by`` for a
delivery). Unsigned, wrongly signed, stale and replayed reports are refused. Couriers only.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from api.auth import Principal
from api.deps import Caller, DeskCommand, LedgerDep, allow
from api.errors import ApiProblem, problem_responses
from api.idempotency import outcome, recorded_result
from api.schemas import CommandPublic, CourierReportCreate
from keys import cbor, cose
from keys.algorithms import load_public_key
from keys.errors import KeyManagementError
from keys.registry import KeyEntry, KeyRole
from ledger.actors import Role
from ledger.application import CaseLedger
from ledger.commands import Command

router = APIRouter(
    prefix="/v1/courier", tags=["courier"], responses=problem_responses(401, 403, 404, 409, 422)
)
MAX_SKEW = timedelta(minutes=5)  # how far a report's time may lie from the server's clock
EVENTS = ("dispatched", "delivered")
_TEXT_FIELDS = ("case_id", "tracking_number", "event")


@dataclass(frozen=True)
class CourierReport:
    """A verified report: its fields, its exact bytes and the key that signed it."""

    case_id: UUID
    tracking_number: str
    event: str
    at: datetime
    nonce: str
    signed_by: str | None
    raw: bytes
    kid: bytes


def _refuse(status: int, slug: str, detail: str) -> ApiProblem:
    titles = {
        "courier-report-invalid": "The courier report is malformed",
        "courier-report-unsigned": "The courier report is not signed",
        "courier-report-wrong-key": "The report is not signed by the courier's registered key",
        "courier-report-stale": "The courier report's time is too far from now",
        "courier-report-replayed": "The courier report was already received",
    }
    return ApiProblem(status, slug, titles[slug], detail)


def verify_report(
    ledger: CaseLedger, courier: Principal, text: str, now: datetime
) -> CourierReport:
    """Check a report: structure, the courier's registered key and signature, time, fields."""
    # 1. Base64 of one COSE_Sign1 with a key id.
    try:
        raw = base64.b64decode(text, validate=True)
        message = cose.decode_sign1(raw)
    except (binascii.Error, ValueError, KeyManagementError) as exc:
        raise _refuse(
            422, "courier-report-unsigned", f"expected a COSE_Sign1 report: {exc}"
        ) from None
    kid = message.kid
    if kid is None:
        raise _refuse(422, "courier-report-unsigned", "the report names no signing key (kid)")
    # 2. A registered courier key of this courier, and its signature over the exact bytes.
    entry = _courier_key(ledger, kid, courier.sub)
    try:
        if message.alg != entry.alg:
            raise KeyManagementError(f"expected algorithm {entry.alg}, got {message.alg!r}")
        cose.verify_decoded(message, load_public_key(entry.public_key))
    except KeyManagementError as exc:
        raise _refuse(403, "courier-report-wrong-key", f"signature check failed: {exc}") from None
    # 3. The payload's fields.
    fields = _fields(message.payload)
    at = fields["at"]
    # 4. The key was valid when the report says it was made, and that was just now.
    problem = entry.problem(at, owner=courier.sub)
    if problem is not None:
        raise _refuse(403, "courier-report-wrong-key", problem)
    if abs(now - at) > MAX_SKEW:
        raise _refuse(
            422,
            "courier-report-stale",
            f"report made at {at.isoformat()}, expected within {MAX_SKEW} of {now.isoformat()}",
        )
    return CourierReport(raw=raw, kid=kid, **fields)


def _courier_key(ledger: CaseLedger, kid: bytes, courier: str) -> KeyEntry:
    try:
        entry = ledger.keyring.entry(kid)
    except KeyManagementError:
        raise _refuse(
            403, "courier-report-wrong-key", f"key {kid.hex()} is not registered"
        ) from None
    if entry.role != KeyRole.COURIER or entry.owner != courier:
        raise _refuse(
            403,
            "courier-report-wrong-key",
            f"key {kid.hex()} is a {entry.role} key of {entry.owner!r}, "
            f"expected a courier key of {courier!r}",
        )
    return entry


def _fields(payload: bytes) -> dict[str, Any]:
    def invalid(detail: str) -> ApiProblem:
        return _refuse(422, "courier-report-invalid", detail)

    try:
        data = cbor.loads_strict(payload)
    except KeyManagementError as exc:
        raise invalid(f"payload: {exc}") from None
    if not isinstance(data, dict):
        raise invalid("payload: expected a CBOR map")
    for name in _TEXT_FIELDS:
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise invalid(f"{name}: expected non-empty text")
    if data["event"] not in EVENTS:
        raise invalid(f"event: expected one of {list(EVENTS)}, got {data['event']!r}")
    try:
        case_id = UUID(data["case_id"])
    except ValueError:
        raise invalid("case_id: expected a UUID") from None
    nonce = data.get("nonce")
    if isinstance(nonce, bytes):
        nonce = nonce.hex()
    if not isinstance(nonce, str) or not 8 <= len(nonce) <= 128 or not nonce.isprintable():
        raise invalid("nonce: expected 8-128 printable characters (or bytes)")
    signed_by = data.get("signed_by")
    if data["event"] == "delivered" and (not isinstance(signed_by, str) or not signed_by.strip()):
        raise invalid("signed_by: a delivery report names who signed for it")
    return {
        "case_id": case_id,
        "tracking_number": data["tracking_number"],
        "event": data["event"],
        "at": _time(data.get("at"), invalid),
        "nonce": nonce,
        "signed_by": signed_by if isinstance(signed_by, str) else None,
    }


def _time(value: object, invalid: Any) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    raise invalid("at: expected a timestamp (epoch seconds or an aware CBOR date/time)")


def report_data(report: CourierReport) -> dict[str, Any]:
    """The report as the delivery event keeps it: its fields and its exact bytes (base64)."""
    return {
        "case_id": str(report.case_id),
        "tracking_number": report.tracking_number,
        "event": report.event,
        "at": report.at.isoformat(),
        "nonce": report.nonce,
        "signed_by": report.signed_by,
        "kid": report.kid.hex(),
        "cose": base64.b64encode(report.raw).decode("ascii"),
    }


@router.post("/reports", dependencies=[allow(Role.COURIER)])
def courier_report(
    body: CourierReportCreate, caller: Caller, cmd: DeskCommand, ledger: LedgerDep, r: Response
) -> CommandPublic:
    """Record a signed dispatch or delivery report. The courier whose key signed it."""
    report = verify_report(ledger, caller, body.report, cmd.at)
    # The nonce is the command id: the ledger keeps it with the event, so a replay is seen by
    # every process (a concurrent duplicate still records one event).
    cmd = Command(cmd.at, cmd.actor, cmd.channel, command_id=f"courier-report:{report.nonce}")
    if recorded_result(ledger, cmd) is not None:
        raise _refuse(409, "courier-report-replayed", f"nonce {report.nonce!r} was already used")
    case_id = report.case_id
    if report.event == "dispatched":
        returned = ledger.dispatch(
            case_id, cmd, courier=caller.sub, tracking_number=report.tracking_number
        )
    else:
        signed_by = report.signed_by or ""
        returned = ledger.deliver(case_id, cmd, signed_by=signed_by, report=report_data(report))
    result = outcome(ledger, cmd, case_id, returned)
    r.headers["ETag"] = f'"{result.version}"'
    return CommandPublic(**vars(result))
