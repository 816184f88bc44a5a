"""Running commands on the signed log: each runs once per command id (a repeat returns the first
result and writes nothing) and saves atomically; a case command first loads the case and checks
the acting department and the expected version (optimistic concurrency).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from ledger.authority import check_department
from ledger.case import Case
from ledger.commands import Command, CommandRecord, fingerprint
from ledger.errors import ConcurrencyError, LedgerError, UnknownCase
from ledger.store import SignedApplication

Result = dict[str, Any]


class CommandApplication(SignedApplication):
    """A signed application whose commands run once per command id, each saved atomically."""

    def execute(
        self,
        command: str,
        args: Mapping[str, Any],
        run: Callable[[], tuple[list[Any], Result]],
        cmd: Command,
        conflict: Callable[[], LedgerError],
    ) -> Result:
        """Run a command once per command id; a repeat returns the first result, writing nothing.

        ``run`` loads and changes aggregates and returns them with the result to record.
        """
        digest = fingerprint(command, dict(args))
        if cmd.command_id is not None:
            previous = self.command_record(cmd.actor.principal, cmd.command_id)
            if previous is not None:
                previous.check_repeat(command, digest)
                return previous.result
        aggregates, result = run()
        if cmd.command_id is not None:
            aggregates.append(
                CommandRecord(
                    principal=cmd.actor.principal,
                    command_id=cmd.command_id,
                    command=command,
                    fingerprint=digest,
                    result=result,
                    at=cmd.at,
                    actor=cmd.actor,
                    channel=cmd.channel,
                )
            )
        try:
            self.save(*aggregates)
        except RecordConflictError:
            if cmd.command_id is not None:
                previous = self.command_record(cmd.actor.principal, cmd.command_id)
                if previous is not None:  # a concurrent repeat won the race
                    previous.check_repeat(command, digest)
                    return previous.result
            raise conflict() from None
        return result

    def command_record(self, principal: str, command_id: str) -> CommandRecord | None:
        """The first outcome recorded under a principal's command id, if any."""
        try:
            record: CommandRecord = self.repository.get(
                CommandRecord.create_id(principal, command_id)
            )
        except AggregateNotFoundError:
            return None
        return record

    def case(self, case_id: UUID) -> Case:
        """Return a verified case or raise ``UnknownCase``."""
        try:
            case: Any = self.repository.get(case_id)
        except AggregateNotFoundError:
            raise UnknownCase(f"no case with id {case_id}") from None
        if not isinstance(case, Case):
            raise UnknownCase(f"{case_id} is not a case")
        return case

    def _on_case(
        self,
        case_id: UUID,
        cmd: Command,
        command: str,
        args: Mapping[str, Any],
        derived: Callable[[Case], dict[str, Any]],
    ) -> Result:
        """Load the case, check authority and version, run the command, save atomically."""

        def run() -> tuple[list[Any], Result]:
            case = self.case(case_id)
            if cmd.expected_version is not None and case.version != cmd.expected_version:
                raise ConcurrencyError(case_id, cmd.expected_version, case.version)
            check_department(command, cmd.actor, case.terms.required_departments)
            extra = {k: v for k, v in derived(case).items() if v is not None}
            getattr(case, command)(**args, **extra, at=cmd.at, actor=cmd.actor, channel=cmd.channel)
            return [case], {"case_id": str(case_id), "version": case.version, "due": case.due}

        def conflict() -> LedgerError:
            current = self.case(case_id).version
            return ConcurrencyError(case_id, cmd.expected_version or current - 1, current)

        return self.execute(command, {"case_id": case_id, **args}, run, cmd, conflict)

    def _act(self, case_id: UUID, cmd: Command, command: str, **args: Any) -> int:
        return self._version(self._on_case(case_id, cmd, command, args, lambda case: {}))

    @staticmethod
    def _version(result: Result) -> int:
        return int(result["version"])

    @staticmethod
    def _due(result: Result) -> date:
        due = result["due"]
        if not isinstance(due, date):
            raise LedgerError(f"expected a deadline after this command, got {due!r}")
        return due
