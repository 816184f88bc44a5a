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


# --- Merkle log, checkpoints and signed notes ---------------------------------------------------


class ProofInvalid(LedgerError):
    """A Merkle inclusion or consistency proof that fails RFC 9162 §2.1.3.2 or §2.1.4.2."""


class RootMismatch(ProofInvalid):
    """A proof that is well formed but recomputes a root other than the expected one."""

    def __init__(self, proof: str, which: str, expected: bytes, actual: bytes) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{proof} proof: {which} mismatch: expected {expected.hex()}, calculated {actual.hex()}"
        )


class MerkleTreeError(LedgerError):
    """A request a Merkle tree cannot serve: an index, size or node it lacks, or a bad leaf hash."""


class CheckpointInvalid(LedgerError):
    """Checkpoint text that breaks the C2SP tlog-checkpoint format."""


class NoteInvalid(LedgerError):
    """Base of the C2SP signed-note, verifier key and cosignature errors."""


class NoteMalformed(NoteInvalid):
    """A signed note, signature line or cosignature that breaks the C2SP format."""


class NoteKeyInvalid(NoteInvalid):
    """A verifier key (vkey) or signer that is malformed, inconsistent or of another algorithm."""


class NoteSignatureInvalid(NoteInvalid):
    """A signature from a known key that does not verify over the exact note text."""


class NoteUnverified(NoteInvalid):
    """A note that carries no signature from any of the verifier keys given."""

