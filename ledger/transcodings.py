"""CBOR transcoding of event data (RFC 8949), strict on the way in.

Event fields are primitives plus the types cbor2 tags natively: aware ``datetime`` (tag 0),
``date`` (tag 1004), ``UUID`` (tag 37), ``Decimal`` (tag 4) and ``bytes`` (credential bytes need
no string transcoding here). Maps are written with cbor2's ``canonical=True`` — length-first key
order (RFC 8949 §4.2.3); our maps have all-text keys, for which that coincides with bytewise order.
"""

from __future__ import annotations

from typing import Any

import cbor2
from eventsourcing.persistence import Transcoder

from ledger.errors import LedgerError


class EncodingError(LedgerError):
    """Event data that cannot be written or read as strict CBOR."""


def dumps(obj: Any) -> bytes:
    """Encode ``obj`` canonically; naive datetimes are refused (time is always UTC-aware)."""
    try:
        return cbor2.dumps(obj, canonical=True)
    except (cbor2.CBOREncodeError, ValueError, TypeError) as exc:
        raise EncodingError(f"cannot encode event data as CBOR: {exc}") from None


def loads(data: bytes) -> Any:
    """Decode exactly one CBOR item; trailing bytes and duplicate map keys are refused."""
    if not data:
        raise EncodingError("expected one CBOR item, got no bytes")
    from io import BytesIO

    stream = BytesIO(data)
    try:
        obj = cbor2.CBORDecoder(stream, allow_duplicate_keys=False).decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, EOFError) as exc:
        raise EncodingError(f"malformed CBOR: {exc}") from None
    if stream.tell() != len(data):
        raise EncodingError(
            f"expected one CBOR item of {stream.tell()} bytes, got {len(data) - stream.tell()} "
            "trailing bytes"
        )
    return obj


class CBORTranscoder(Transcoder):
    """An eventsourcing ``Transcoder`` writing canonical CBOR and reading it strictly."""

    def encode(self, obj: Any) -> bytes:
        """Encode event state as canonical CBOR."""
        return dumps(obj)

    def decode(self, data: bytes) -> Any:
        """Decode strict CBOR."""
        return loads(data)
