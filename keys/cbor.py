"""Strict CBOR decoding and canonical encoding (RFC 8949) for the bytes we sign and verify.

``dumps_canonical`` relies on cbor2's ``canonical=True``, which orders map keys by RFC 8949
§4.2.3 (length-first, the old RFC 7049 canonical rule), not §4.2.1 (bytewise). Our maps use
all-text or all-non-negative-integer keys, where the two rules give the same order; they differ
only for keys of different encoded length whose first bytes sort the other way (e.g. 24 and -1).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import cbor2

from keys.errors import MalformedMessage


def cbor_type_name(value: object) -> str:
    """Return the CBOR type name of a decoded value (``bstr``, ``tstr``, ``map``…), for messages."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, bytes | bytearray):
        return "bstr"
    if isinstance(value, str):
        return "tstr"
    if value is None:
        return "nil"
    if isinstance(value, list | tuple):
        return f"array of {len(value)}"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, cbor2.CBORTag):
        return f"tag {value.tag}"
    return type(value).__name__


def loads_strict(data: bytes) -> Any:
    """Decode exactly one CBOR data item; refuse empty input, trailing bytes and duplicate keys."""
    if not isinstance(data, bytes):
        raise MalformedMessage(f"expected CBOR as bytes, got {type(data).__name__}")
    if not data:
        raise MalformedMessage("expected one CBOR data item, got empty input (0 bytes)")
    stream = io.BytesIO(data)
    # The C decoder reads a seekable stream ahead in blocks and seeks it back to the end of the
    # item it decoded, so tell() is exact without byte-at-a-time reads (tests pin this).
    try:
        item = cbor2.CBORDecoder(stream, allow_duplicate_keys=False).decode()
    except cbor2.CBORDecodeEOF:
        raise MalformedMessage(
            f"truncated CBOR: the data item needs more than the {len(data)} bytes given"
        ) from None
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise MalformedMessage(f"malformed CBOR: {exc}") from None
    consumed = stream.tell()
    if consumed != len(data):
        raise MalformedMessage(
            f"expected exactly one CBOR data item, got {len(data) - consumed} trailing bytes "
            f"after the first item ({consumed} bytes)"
        )
    return item


def dumps_canonical(obj: object) -> bytes:
    """Encode with cbor2's canonical rules (RFC 8949 §4.2.3 length-first key order)."""
    try:
        return cbor2.dumps(obj, canonical=True)
    except (cbor2.CBORError, ValueError, TypeError) as exc:
        raise MalformedMessage(
            f"cannot encode {type(obj).__name__} as canonical CBOR: {exc}"
        ) from None
