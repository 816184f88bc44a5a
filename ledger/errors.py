"""The one error hierarchy of ``ledger``: domain rule violations, integrity failures, conflicts.

Each module may add subclasses here (append, keep them grouped by topic); messages state the
expected and the actual value.
"""

from __future__ import annotations

from uuid import UUID


class LedgerError(Exception):
    """Base of every error raised by the ``ledger`` package."""


class IntegrityError(LedgerError):
    """A stored event failed a verification check on read (fail closed)."""

    def __init__(self, stream: UUID | str, seq: int, check: str, detail: str) -> None:
        self.stream = stream
        self.seq = seq
        self.check = check
        self.detail = detail
        super().__init__(f"event {stream}#{seq} failed check '{check}': {detail}")


class ConcurrencyError(LedgerError):
    """Another command changed the aggregate first; carries the current version."""

    def __init__(self, aggregate_id: UUID, expected_version: int, current_version: int) -> None:
        self.aggregate_id = aggregate_id
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(
            f"aggregate {aggregate_id} changed concurrently: expected version "
            f"{expected_version}, current version {current_version}"
        )


class InvalidActor(LedgerError):
    """An actor without the identity its role requires."""


# --- working-day calendar ---------------------------------------------------------------------


class CalendarError(LedgerError):
    """Base of the working-day calendar's errors."""


class CalendarYearUnknown(CalendarError):
    """A computation reached a year for which no holiday notice is loaded."""

    def __init__(self, year: int, known_years: tuple[int, ...]) -> None:
        self.year = year
        self.known_years = known_years
        known = ", ".join(str(y) for y in known_years) or "none"
        super().__init__(
            f"no holiday notice loaded for {year}: expected one of the known years ({known}); "
            f"add data/holidays/{year}.json once the State Council publishes it"
        )


class CalendarDataInvalid(CalendarError):
    """A holiday data file (or mapping) breaks the calendar's data rules."""

    def __init__(self, source: str, detail: str) -> None:
        self.source = source
        self.detail = detail
        super().__init__(f"{source}: {detail}")


class InvalidPeriod(CalendarError):
    """A period, pause or deadline value that describes no valid span of working days."""
