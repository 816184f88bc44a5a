"""The case board and department work queues: one row per case, who must act on it next, and the
working-day clock computed at query time from a ``today`` and the calendar.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID

from ledger.authority import SERVICE_CENTRE
from ledger.calendar import WorkingCalendar
from ledger.case import CaseStatus
from ledger.errors import CalendarYearUnknown
from projections.case_facts import (
    SUBMITTED,
    CaseFacts,
    ClockUnavailable,
    Envelope,
    Fields,
    applicant_digest,
)
from projections.case_table import CaseFactsModel, fact_columns, facts_from_row, stored_time
from projections.database import Database, ViewCursor

REVIEWS = "case_board_reviews"

# The lead department acts while the case is under review, suspended or decided; every required
# department (the lead included) owes one opinion while the case is received. The service centre's
# one window receives what applicants submit and sends out what departments issue (一窗受理,
# 一窗出件).
_LEAD_ACTS = (CaseStatus.RECEIVED, CaseStatus.SUSPENDED, CaseStatus.DECIDED)
_WINDOW_ACTS = {CaseStatus.SUBMITTED: "receive", CaseStatus.ISSUED: "dispatch"}


class Action(StrEnum):
    """What a department has to do next on a case."""

    OPINION = "opinion"
    DECIDE = "decide"
    RESUME = "resume"
    ISSUE = "issue"
    CLOSE = "close"
    RECEIVE = "receive"  # the window: receive, notify a correction once, or refuse
    DISPATCH = "dispatch"  # the window: send the result by courier or hand it over


@dataclass(frozen=True)
class WorkingDayClock:
    """The working-day clock of a case as of a day (or as of the start of an open pause)."""

    due: date
    as_of: date
    paused: bool
    working_days_left: int
    overdue_by: int

    @property
    def overdue(self) -> bool:
        """Whether the due day had passed on ``as_of`` (even if only weekend days followed)."""
        return self.as_of > self.due


@dataclass(frozen=True)
class QueueEntry:
    """One case in a department's work queue."""

    case: CaseFacts
    department: str
    lead: bool
    action: Action
    clock: WorkingDayClock | None


def working_day_clock(
    calendar: WorkingCalendar, facts: CaseFacts, today: date
) -> WorkingDayClock | None:
    """The case's clock as of ``today``; None before receipt and once decided or finished."""
    if facts.due is None or facts.decided_at is not None:
        return None
    if facts.status in (CaseStatus.WITHDRAWN, CaseStatus.REFUSED):
        return None
    paused = facts.paused_since
    # A stopped clock shows the time left when it stopped; the due day moves on resumption.
    as_of = paused if paused is not None else today
    try:
        if as_of <= facts.due:
            left, late = calendar.working_days_between(as_of, facts.due), 0
        else:
            left, late = 0, calendar.working_days_between(facts.due, as_of)
    except CalendarYearUnknown as exc:
        raise ClockUnavailable(f"case {facts.case_id}: {exc}") from None
    return WorkingDayClock(facts.due, as_of, paused is not None, left, late)


class CaseBoard(CaseFactsModel):
    """Every case's row, and per department the cases waiting for it."""

    name = "case_board"
    table = "case_board"
    indexes = ("due", "applicant_digest")

    def extra_tables(self) -> Mapping[str, tuple[str, ...]]:
        """One row per (case, required department): lead or joint, and its opinion once given."""
        return {
            REVIEWS: (
                f"CREATE TABLE IF NOT EXISTS {REVIEWS} (case_id TEXT NOT NULL, "
                "department TEXT NOT NULL, lead INTEGER NOT NULL, approve INTEGER, "
                "opinion_seq INTEGER, opinion_at TEXT, PRIMARY KEY (case_id, department))",
                f"CREATE INDEX IF NOT EXISTS {REVIEWS}_department ON {REVIEWS} (department)",
            )
        }

    def on_case_event(self, cursor: ViewCursor, facts: Fields, envelope: Envelope) -> None:
        """Open a review row per required department; fill it when the opinion comes."""
        case_id = str(facts["case_id"])
        if envelope["type"] == SUBMITTED:
            lead = facts["lead_department"]
            cursor.executemany(
                f"INSERT INTO {REVIEWS} (case_id, department, lead) VALUES (?, ?, ?)",
                [(case_id, d, int(d == lead)) for d in facts["required_departments"]],
            )
        elif envelope["type"] == "case.OpinionGiven":
            data = envelope["data"]
            cursor.execute(
                f"UPDATE {REVIEWS} SET approve = ?, opinion_seq = ?, opinion_at = ? "
                "WHERE case_id = ? AND department = ?",
                (
                    int(bool(data["approve"])),
                    envelope["seq"],
                    stored_time(envelope["at"]),
                    case_id,
                    data["department"],
                ),
            )

    # -- queries ---------------------------------------------------------------------------------

    def case(self, database: Database, case_id: UUID) -> CaseFacts | None:
        """Return one case's row, or None."""
        with database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT {fact_columns()} FROM {self.table} WHERE case_id = ?", (str(case_id),)
            )
            row = cursor.fetchone()
        return None if row is None else facts_from_row(row)

    def applicant_cases(self, database: Database, holder_id: str) -> list[CaseFacts]:
        """Return a holder's cases, newest submission first (looked up by the keyed digest)."""
        digest = applicant_digest(holder_id, self.applicant_key)
        with database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT {fact_columns()} FROM {self.table} WHERE applicant_digest = ? "
                "ORDER BY submitted_at DESC, case_id",
                (digest,),
            )
            return [facts_from_row(row) for row in cursor.fetchall()]

    def opinions(self, database: Database, case_id: UUID) -> dict[str, bool | None]:
        """Return each required department's opinion on a case (None while not given)."""
        with database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT department, approve FROM {REVIEWS} WHERE case_id = ? ORDER BY lead DESC",
                (str(case_id),),
            )
            return {str(d): None if a is None else bool(a) for d, a in cursor.fetchall()}

    def queue(self, database: Database, department: str, *, today: date) -> list[QueueEntry]:
        """Return the cases where ``department`` must act, the window's first, then soonest due."""
        statuses = [s.value for s in _LEAD_ACTS]
        with database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT {fact_columns('b')}, r.lead, r.approve FROM {self.table} b "
                f"JOIN {REVIEWS} r ON r.case_id = b.case_id WHERE r.department = ? AND ("
                "(b.status = ? AND r.approve IS NULL) OR (r.lead = 1 AND b.status IN (?, ?, ?))) "
                "ORDER BY b.due, b.case_id",
                (department, CaseStatus.RECEIVED.value, *statuses),
            )
            rows = cursor.fetchall()
        entries = self._window_queue(database, today) if department == SERVICE_CENTRE else []
        for row in rows:
            facts = facts_from_row(row)
            lead, given = bool(row[-2]), row[-1] is not None
            entries.append(
                QueueEntry(
                    case=facts,
                    department=department,
                    lead=lead,
                    action=_action(facts, lead, given),
                    clock=working_day_clock(self.calendar, facts, today),
                )
            )
        return entries

    def _window_queue(self, database: Database, today: date) -> list[QueueEntry]:
        # Submitted cases have no clock yet: the window takes them (and then issued ones) in the
        # order they arrived.
        with database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT {fact_columns('b')} FROM {self.table} b WHERE b.status IN (?, ?) "
                "ORDER BY b.submitted_at, b.case_id",
                tuple(status.value for status in _WINDOW_ACTS),
            )
            rows = cursor.fetchall()
        facts = [facts_from_row(row) for row in rows]
        return [
            QueueEntry(
                case=f,
                department=SERVICE_CENTRE,
                lead=False,
                action=Action(_WINDOW_ACTS[f.status]),
                clock=working_day_clock(self.calendar, f, today),
            )
            for f in sorted(facts, key=lambda f: f.status is not CaseStatus.SUBMITTED)
        ]


def _action(facts: CaseFacts, lead: bool, given: bool) -> Action:
    if facts.status is CaseStatus.RECEIVED:
        return Action.DECIDE if lead and given else Action.OPINION
    if facts.status is CaseStatus.SUSPENDED:
        return Action.RESUME
    return Action.ISSUE if facts.granted else Action.CLOSE
