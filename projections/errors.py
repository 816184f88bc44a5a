"""The one error hierarchy of ``projections``: tracking, transparency log, witness and audit errors.

Messages state the expected and the actual value.
"""

from __future__ import annotations

from uuid import UUID


class ProjectionError(Exception):
    """Base of every error raised by the ``projections`` package."""


class UnknownReadModel(ProjectionError):
    """A runner asked about a read model it does not hold."""


class TrackingConflict(ProjectionError):
    """Another worker (or a rebuild) moved a read model's tracking position first."""

    def __init__(self, model: str, expected: int, actual: int | None) -> None:
        self.model = model
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"read model {model!r}: expected tracking position {expected}, "
            f"found {actual if actual is not None else 'no tracking row'}"
        )


# --- document store -----------------------------------------------------------------------------


class DocumentRejected(ProjectionError):
    """An upload the document store refuses: media type, size, or content not of its type."""


class UploadQuotaExceeded(DocumentRejected):
    """An upload that would take its uploader past the bytes they may upload in a day."""


class DocumentNotStored(ProjectionError):
    """A reference to a document whose bytes are not in the store (or not as referenced)."""


# --- transparency log ---------------------------------------------------------------------------


class TransparencyError(ProjectionError):
    """Base of the transparency log's and the witness's errors."""


class ProofUnavailable(TransparencyError):
    """A proof, root or leaf asked for beyond what the log holds."""


class ConsistencyRefused(TransparencyError):
    """The log will not sign a checkpoint that no consistency proof joins to its previous one."""


class CheckpointRefused(TransparencyError):
    """A witness refuses a checkpoint: bad signature, other origin, or a size that went back."""


class ForkDetected(TransparencyError):
    """Two checkpoints of one log and one size with different roots (split view)."""

    def __init__(self, origin: str, size: int, seen: bytes, offered: bytes) -> None:
        self.origin = origin
        self.size = size
        self.seen = seen
        self.offered = offered
        super().__init__(
            f"fork in {origin!r} at size {size}: expected root {seen.hex()} "
            f"(already seen), got {offered.hex()}"
        )


# --- audit and offline bundles ------------------------------------------------------------------


class AuditFailure(ProjectionError):
    """The first event (in log order) that failed an audit check, or a log-level failure."""

    def __init__(
        self,
        check: str,
        detail: str,
        *,
        notification_id: int | None = None,
        stream: UUID | None = None,
        seq: int | None = None,
        leaf_index: int | None = None,
    ) -> None:
        self.check = check
        self.detail = detail
        self.notification_id = notification_id
        self.stream = stream
        self.seq = seq
        self.leaf_index = leaf_index
        where = (
            f"event #{notification_id} ({stream}#{seq}, leaf {leaf_index})"
            if notification_id is not None
            else "log"
        )
        super().__init__(f"audit: {where} failed check '{check}': {detail}")

    def __reduce__(self) -> tuple[object, ...]:
        # Raised in audit worker processes: rebuild from the fields, not the message.
        fields = (self.notification_id, self.stream, self.seq, self.leaf_index)
        return (_audit_failure, (self.check, self.detail, *fields))


def _audit_failure(
    check: str,
    detail: str,
    notification_id: int | None,
    stream: UUID | None,
    seq: int | None,
    leaf_index: int | None,
) -> AuditFailure:
    return AuditFailure(
        check,
        detail,
        notification_id=notification_id,
        stream=stream,
        seq=seq,
        leaf_index=leaf_index,
    )


class BundleInvalid(ProjectionError):
    """An offline case bundle that fails a verification step (named in ``step``)."""

    def __init__(self, step: str, detail: str) -> None:
        self.step = step
        self.detail = detail
        super().__init__(f"bundle failed step '{step}': {detail}")
