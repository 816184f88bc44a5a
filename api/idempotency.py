"""Idempotency-Key mapped onto the ledger's command ids: the ledger saves the first result with the
command's events, so a repeat (from any process) returns that result and writes nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from api.auth import Principal
from ledger.application import CaseLedger
from ledger.commands import Command
from ledger.vault_service import IssuedLicense


@dataclass(frozen=True)
class Outcome:
    """What a case command left: the case, its version and deadline, and any license issued."""

    case_id: UUID
    version: int
    due: date | None
    license_id: str | None = None


def submission_id(principal: Principal, key: str | None) -> str:
    """The submission id of a new case: derived from the caller and key, else a fresh one."""
    if key is None:
        return uuid.uuid4().hex
    # Scoped by caller, so two callers' keys never name the same case; a digest, so the id
    # stored in the event carries no holder id.
    return "k" + hashlib.sha256(f"{principal.sub}\x00{key}".encode()).hexdigest()[:32]


def recorded_result(ledger: CaseLedger, cmd: Command) -> dict[str, Any] | None:
    """Return the first result the ledger recorded under the command's id, if any."""
    if cmd.command_id is None:
        return None
    record = ledger.command_record(cmd.actor.principal, cmd.command_id)
    return None if record is None else dict(record.result)


def outcome(ledger: CaseLedger, cmd: Command, case_id: UUID, returned: object) -> Outcome:
    """The response of a case command: the recorded first result, else what it returned."""
    first = recorded_result(ledger, cmd)
    if first is not None:
        due = first.get("due")
        license_id = first.get("license_id")
        return Outcome(
            UUID(str(first["case_id"])),
            int(first["version"]),
            due if isinstance(due, date) else None,
            None if license_id is None else str(license_id),
        )
    # Without a key the case is read back for what the command did not return.
    case = ledger.case(case_id)
    version = returned if isinstance(returned, int) else case.version
    license_id = returned.license_id if isinstance(returned, IssuedLicense) else None
    return Outcome(case_id, version, case.due, license_id)
