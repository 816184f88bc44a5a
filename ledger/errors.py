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


# --- commands: time, actors, arguments ----------------------------------------------------------


class InvalidTimestamp(LedgerError):
    """A command time that is naive, not UTC, or earlier than the aggregate's last event."""


class InvalidCommand(LedgerError):
    """A command argument that is malformed: empty text, a value of the wrong kind."""


class ActionNotPermitted(LedgerError):
    """An actor whose role may not perform the command."""


class InvalidDocument(InvalidCommand):
    """A document reference with a bad digest, size or media type."""


class DateInPast(LedgerError):
    """A date a command sets (due date, commitment date) that lies before the command's day."""


# --- service catalog ----------------------------------------------------------------------------


class InvalidServiceItem(LedgerError):
    """Service item terms that break the catalog rules."""


class CatalogVersionMismatch(LedgerError):
    """Terms for another item, or not numbered as the item's next version."""


class EffectiveDateRejected(LedgerError):
    """An effective date that is retroactive or not after the version it replaces."""


class PromisedTimeIncreased(LedgerError):
    """An amendment that lengthens the promised time limit without a stated reason."""


class ItemWithdrawn(LedgerError):
    """A service item that has been withdrawn from the catalog."""


class NoTermsInForce(LedgerError):
    """No version of a service item is in force at the time asked."""


class UnknownMaterial(LedgerError):
    """A material code the item's terms do not list."""


# --- case rules ---------------------------------------------------------------------------------


class WrongState(LedgerError):
    """A command the case's current status does not allow."""

    def __init__(self, actual: str, expected: tuple[str, ...]) -> None:
        self.actual = actual
        self.expected = expected
        super().__init__(f"case is '{actual}', expected one of {list(expected)}")


class MaterialsIncomplete(LedgerError):
    """Receipt asked for while materials are missing (notify a correction or tolerate)."""

    def __init__(self, missing_main: list[str], missing_secondary: list[str]) -> None:
        self.missing_main = missing_main
        self.missing_secondary = missing_secondary
        super().__init__(
            "every material must be present to receive the case, missing main "
            f"{missing_main} and secondary {missing_secondary}"
        )


class ELicenseNotAccepted(InvalidCommand):
    """An e-license reference for a material that no e-license type can satisfy."""


class SecondNoticeRefused(LedgerError):
    """A second one-time correction notice for the same case (一次性告知 is given once)."""

    def __init__(self, case_id: object, first_notice_at: object) -> None:
        self.case_id = case_id
        self.first_notice_at = first_notice_at
        super().__init__(
            f"case {case_id} already had its one-time correction notice at {first_notice_at}; "
            "expected no further notice"
        )


class ELicenseMaterialDemanded(LedgerError):
    """A correction notice demanding a material already satisfied by an e-license."""


class MaterialNotRequested(LedgerError):
    """A correction for a material the correction notice did not list."""


class ToleranceRefused(LedgerError):
    """Base of the reasons a case cannot be accepted with tolerance (容缺受理)."""


class MainMaterialMissing(ToleranceRefused):
    """Tolerance asked for while a main material is missing."""


class MaterialNotTolerable(ToleranceRefused):
    """Tolerance asked for while a missing secondary material is not marked tolerable."""


class NothingToTolerate(ToleranceRefused):
    """Tolerance asked for while no material is missing (receive the case instead)."""


class CommitmentDueAfterDeadline(ToleranceRefused):
    """A commitment date later than the case's promised deadline."""


class InvalidDueDate(LedgerError):
    """A due date that does not fit the item or moves the deadline the wrong way."""


class MaterialNotCommitted(LedgerError):
    """A supplement for a material that is not an open commitment."""


class DepartmentNotRequired(LedgerError):
    """A review opinion from a department outside the item's required set."""


class OpinionAlreadyGiven(LedgerError):
    """A second review opinion from the same department."""


class WrongDepartment(LedgerError):
    """An officer acting for a department other than the one the command names."""


class StepNotDeclared(LedgerError):
    """A suspension for a special step the item's terms do not declare."""


class AlreadyExtended(LedgerError):
    """A second extension of the same case's time limit."""


class ApprovalsMissing(LedgerError):
    """A grant while a required department has not approved."""

    def __init__(self, departments: list[str]) -> None:
        self.departments = departments
        super().__init__(
            "a grant needs an approving opinion from every required department, "
            f"missing {departments}"
        )


class CommitmentOpen(LedgerError):
    """License issuance while committed materials are still outstanding (容缺 not yet made up)."""

    def __init__(self, materials: list[str]) -> None:
        self.materials = materials
        super().__init__(
            f"license cannot be issued while commitments are open: expected none, got {materials}"
        )


class AlreadyRated(LedgerError):
    """A second satisfaction rating of the same case."""


# --- application service ---------------------------------------------------------------------


class UnknownCase(LedgerError):
    """No case with the given id."""


class UnknownItem(LedgerError):
    """No published service item with the given implementation code."""


class DuplicateSubmission(LedgerError):
    """A submission (or item) id that already exists."""


class InvalidApplicant(LedgerError):
    """An applicant id (citizen id or unified social credit code) that does not validate."""


# --- other regions' trust anchors ----------------------------------------------------------------


class UnknownRegion(LedgerError):
    """No region of that name is registered."""


class RegionConflict(LedgerError):
    """A region change that contradicts what is installed (another root, an older list)."""


class RegionDocumentInvalid(LedgerError):
    """A region's root key, trust list or status list that does not verify or parse."""


# --- key administration --------------------------------------------------------------------------


class KeyRegistryChanged(LedgerError):
    """A key command raced another registry change and was not recorded; read and retry."""
