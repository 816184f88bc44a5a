"""Supervision findings (电子监察): overdue cases, refused second-notice attempts, visits above the
item's target and overdue commitments, each naming its case, department and evidence event.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from ledger.case import CaseStatus
from ledger.errors import CalendarYearUnknown
from ledger.rules import local_date
from projections.case_facts import CaseFacts, ClockUnavailable, Envelope
from projections.case_table import (
    CaseFactsModel,
    OtherHandler,
    fact_columns,
    facts_from_row,
    read_time,
    stored_time,
)
from projections.database import Database, ViewCursor

ATTEMPTS = "supervision_attempts"
_GONE = (CaseStatus.WITHDRAWN.value, CaseStatus.REFUSED.value)


class FindingKind(StrEnum):
    """What a finding is about."""

    OVERDUE = "overdue"
    SECOND_NOTICE = "second_notice"
    REFUSED_ATTEMPT = "refused_attempt"
    EXTRA_VISITS = "extra_visits"
    OVERDUE_COMMITMENT = "overdue_commitment"


@dataclass(frozen=True)
class Evidence:
    """The signed event a finding rests on."""

    stream: UUID
    seq: int
    at: datetime


@dataclass(frozen=True)
class Finding:
    """One supervision finding; ``working_days_late`` is set for the overdue kinds."""

    kind: FindingKind
    case_id: UUID
    department: str
    item_code: str | None
    evidence: Evidence
    detail: str
    working_days_late: int | None = None


class Supervision(CaseFactsModel):
    """Case facts plus the refused attempts recorded against cases."""

    name = "supervision"
    table = "supervision_cases"
    indexes = ("due", "commitment_due")

    def extra_tables(self) -> Mapping[str, tuple[str, ...]]:
        """One row per refused attempt (``finding.AttemptRefused``)."""
        return {
            ATTEMPTS: (
                f"CREATE TABLE IF NOT EXISTS {ATTEMPTS} (stream TEXT NOT NULL, "
                "seq INTEGER NOT NULL, at TEXT NOT NULL, case_id TEXT NOT NULL, "
                "rule TEXT NOT NULL, detail TEXT NOT NULL, principal TEXT NOT NULL, "
                "department TEXT, PRIMARY KEY (stream, seq))",
                f"CREATE INDEX IF NOT EXISTS {ATTEMPTS}_case ON {ATTEMPTS} (case_id)",
            )
        }

    def other_handlers(self) -> Mapping[str, OtherHandler]:
        """Refused attempts arrive as their own aggregate's events."""
        return {"finding.AttemptRefused": self._attempt}

    def _attempt(self, cursor: ViewCursor, envelope: Envelope, _: Notification) -> None:
        data, actor = envelope["data"], envelope["actor"]
        cursor.execute(
            f"INSERT INTO {ATTEMPTS} (stream, seq, at, case_id, rule, detail, principal, "
            "department) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(envelope["stream"]),
                envelope["seq"],
                stored_time(envelope["at"]),
                str(data["case_id"]),
                data["rule"],
                data["detail"],
                actor["principal"],
                actor.get("department"),
            ),
        )

    # -- queries ---------------------------------------------------------------------------------

    def findings(
        self,
        database: Database,
        *,
        today: date,
        department: str | None = None,
        kinds: Collection[FindingKind] = tuple(FindingKind),
    ) -> list[Finding]:
        """Return every finding as of ``today`` (of one department, of some kinds), oldest first."""
        day = today.isoformat()
        with database.transaction(write=False) as cursor:
            # Narrowed in SQL so that the many cases decided on time are never read; the
            # Python checks below decide each candidate.
            cursor.execute(
                f"SELECT {fact_columns()} FROM {self.table} WHERE visits > visit_target "
                "OR (status NOT IN (?, ?) AND ((due < ? AND (on_time IS NULL OR on_time = 0)) "
                "OR (commitment_due < ? AND open_commitments <> '[]' "
                "AND (granted IS NULL OR granted = 1))))",
                (*_GONE, day, day),
            )
            cases = [facts_from_row(row) for row in cursor.fetchall()]
            cursor.execute(
                f"SELECT a.stream, a.seq, a.at, a.case_id, a.rule, a.detail, a.principal, "
                "a.department, "
                f"c.lead_department, c.item_code FROM {ATTEMPTS} a "
                f"LEFT JOIN {self.table} c ON c.case_id = a.case_id"
            )
            attempts = cursor.fetchall()
        found = self._attempts(attempts)
        for facts in cases:
            found += self._case_findings(facts, today)
        selected = [
            f
            for f in found
            if f.kind in kinds and (department is None or f.department == department)
        ]
        return sorted(selected, key=lambda f: (f.evidence.at, str(f.case_id), f.kind.value))

    def _case_findings(self, facts: CaseFacts, today: date) -> list[Finding]:
        found: list[Finding] = []
        late = self._overdue(facts, today)
        if late is not None:
            found.append(late)
        if facts.visits > facts.visit_target and facts.over_target_seq is not None:
            found.append(
                _finding(
                    FindingKind.EXTRA_VISITS,
                    facts,
                    facts.over_target_seq,
                    facts.over_target_at,
                    f"{facts.visits} visits, item target {facts.visit_target}",
                )
            )
        commitment = self._overdue_commitment(facts, today)
        if commitment is not None:
            found.append(commitment)
        return found

    def _overdue(self, facts: CaseFacts, today: date) -> Finding | None:
        """Not decided by the due day: still open past it, or decided after it."""
        due = facts.due
        if due is None or facts.status.value in _GONE or due >= today:
            return None
        if facts.decided_at is not None and facts.decided_seq is not None:
            decided_on = local_date(facts.decided_at)
            if decided_on <= due:
                return None
            days = self._working_days(facts, due, decided_on)
            return _finding(
                FindingKind.OVERDUE,
                facts,
                facts.decided_seq,
                facts.decided_at,
                f"decided on {decided_on}, due {due}",
                days,
            )
        # A clock stopped before the due day is not overdue: the due day moves on resumption.
        as_of = facts.paused_since or today
        if as_of <= due or facts.due_seq is None:
            return None
        days = self._working_days(facts, due, as_of)
        return _finding(
            FindingKind.OVERDUE,
            facts,
            facts.due_seq,
            facts.due_at,
            f"{facts.status.value} and not decided, due {due}",
            days,
        )

    def _overdue_commitment(self, facts: CaseFacts, today: date) -> Finding | None:
        """Committed materials still missing after their promised day (a denial ends the duty)."""
        due = facts.commitment_due
        if (
            due is None
            or due >= today
            or not facts.open_commitments
            or facts.commitment_seq is None
        ):
            return None
        if facts.status.value in _GONE or facts.granted is False:
            return None
        return _finding(
            FindingKind.OVERDUE_COMMITMENT,
            facts,
            facts.commitment_seq,
            facts.commitment_at,
            f"materials {list(facts.open_commitments)} committed by {due} still missing",
            self._working_days(facts, due, today),
        )

    def _working_days(self, facts: CaseFacts, start: date, end: date) -> int:
        try:
            return self.calendar.working_days_between(start, end)
        except CalendarYearUnknown as exc:
            raise ClockUnavailable(f"case {facts.case_id}: {exc}") from None

    @staticmethod
    def _attempts(rows: list[tuple[Any, ...]]) -> list[Finding]:
        found = []
        for stream, seq, at, case_id, rule, detail, principal, department, lead, item in rows:
            kind = (
                FindingKind.SECOND_NOTICE
                if rule == "one-time-notice"
                else FindingKind.REFUSED_ATTEMPT
            )
            found.append(
                Finding(
                    kind=kind,
                    case_id=UUID(case_id),
                    department=str(department or lead or ""),
                    item_code=None if item is None else str(item),
                    evidence=Evidence(UUID(stream), int(seq), read_time(at)),
                    detail=f"{principal} broke rule {rule}, refused: {detail}",
                )
            )
        return found


def _finding(
    kind: FindingKind,
    facts: CaseFacts,
    seq: int,
    at: datetime | None,
    detail: str,
    working_days_late: int | None = None,
) -> Finding:
    return Finding(
        kind=kind,
        case_id=facts.case_id,
        department=facts.lead_department,
        item_code=facts.item_code,
        evidence=Evidence(facts.case_id, seq, at or facts.last_event_at),
        detail=detail,
        working_days_late=working_days_late,
    )
