"""QR payloads: ``EL1:`` + Base45 (RFC 9285) of zlib (RFC 1950) compressed COSE bytes, and the
QR images (alphanumeric mode, error correction level Q) that carry them.
"""

# Decoding is strict: the prefix, every Base45 group and the zlib stream must be exactly right, and
# the inflated size is capped so a small QR code cannot expand into a large allocation.

from __future__ import annotations

import io
import struct
import zlib
from typing import Final

import segno

from licenses.errors import InvalidBase45, InvalidQRText

PREFIX: Final = "EL1:"
BASE45_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
# A version 40 QR code holds at most 4,296 alphanumeric characters.
MAX_TEXT_LENGTH: Final = 4296
# Far above any credential (a few KiB) and far below what would hurt a verifier.
MAX_COSE_BYTES: Final = 64 * 1024
ERROR_LEVEL: Final = "Q"
QR_MODE: Final = "alphanumeric"

_B45_VALUES: Final = {char: value for value, char in enumerate(BASE45_ALPHABET)}
_INVALID: Final = 255
_B45_TABLE: Final = bytes(
    _B45_VALUES.get(chr(byte), _INVALID) if byte < 128 else _INVALID for byte in range(256)
)
_PAIR_MAX: Final = 0xFFFF
_BYTE_MAX: Final = 0xFF


def b45encode(data: bytes) -> str:
    """Encode bytes as Base45 (RFC 9285 §4): two bytes to three characters, a last byte to two."""
    alphabet = BASE45_ALPHABET
    out: list[str] = []
    append = out.append
    for value in struct.unpack(f">{len(data) // 2}H", data[: len(data) - len(data) % 2]):
        rest, c = divmod(value, 45)
        e, d = divmod(rest, 45)
        append(alphabet[c])
        append(alphabet[d])
        append(alphabet[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        append(alphabet[c])
        append(alphabet[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """Decode strict Base45 (RFC 9285 §4.2): refuse foreign characters, length 1 mod 3, overflow."""
    if len(text) % 3 == 1:
        raise InvalidBase45(f"Base45: expected a length of 0 or 2 mod 3, got {len(text)} (1 mod 3)")
    # One C-level pass maps every character to its value; anything else becomes 255.
    values = text.encode("ascii", "replace").translate(_B45_TABLE)
    if _INVALID in values:
        position = next(i for i, char in enumerate(text) if char not in _B45_VALUES)
        raise InvalidBase45(
            f"Base45 position {position + 1}: expected one of {BASE45_ALPHABET!r}, "
            f"got {text[position]!r}"
        )
    full = len(values) - len(values) % 3
    groups = [
        c + d * 45 + e * 2025
        for c, d, e in zip(values[0:full:3], values[1:full:3], values[2:full:3], strict=True)
    ]
    try:
        out = bytearray(struct.pack(f">{len(groups)}H", *groups))
    except struct.error:
        # Only a group above 65535 makes the unsigned 16-bit packing fail.
        index = next(i for i, value in enumerate(groups) if value > _PAIR_MAX)
        raise InvalidBase45(
            f"Base45 group at position {3 * index + 1}: expected a value of at most "
            f"{_PAIR_MAX}, got {groups[index]}"
        ) from None
    if full < len(values):
        value = values[full] + values[full + 1] * 45
        if value > _BYTE_MAX:
            raise InvalidBase45(
                f"Base45 final pair at position {full + 1}: expected a value of at most "
                f"{_BYTE_MAX}, got {value}"
            )
        out.append(value)
    return bytes(out)


def strip_prefix(text: str) -> str:
    """Return the Base45 part of QR text; refuse a wrong prefix or an oversized text."""
    if not isinstance(text, str):
        raise InvalidQRText(f"QR text: expected str, got {type(text).__name__}")
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidQRText(
            f"QR text: expected at most {MAX_TEXT_LENGTH} characters, got {len(text)}"
        )
    if not text.startswith(PREFIX):
        raise InvalidQRText(f"QR text: expected prefix {PREFIX!r}, got {text[: len(PREFIX)]!r}")
    return text[len(PREFIX) :]


def inflate(data: bytes) -> bytes:
    """Decompress one complete zlib stream with nothing after it, capped at 64 KiB."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_COSE_BYTES)
    except zlib.error as error:
        raise InvalidQRText(f"zlib: expected a valid zlib stream, got an error: {error}") from None
    if inflater.unconsumed_tail or (len(out) >= MAX_COSE_BYTES and not inflater.eof):
        raise InvalidQRText(
            f"zlib: expected at most {MAX_COSE_BYTES} bytes once inflated, got more"
        )
    if not inflater.eof:
        raise InvalidQRText(
            f"zlib: expected a complete stream, got {len(data)} bytes that end early"
        )
    if inflater.unused_data:
        raise InvalidQRText(
            f"zlib: expected nothing after the stream, got {len(inflater.unused_data)} bytes"
        )
    return out


def encode_qr_text(cose: bytes) -> str:
    """Return the QR text ``EL1:`` + Base45(zlib(cose)) of credential bytes."""
    if not isinstance(cose, bytes) or not cose:
        raise InvalidQRText("COSE bytes: expected a non-empty bytes value")
    if len(cose) > MAX_COSE_BYTES:
        raise InvalidQRText(f"COSE bytes: expected at most {MAX_COSE_BYTES}, got {len(cose)}")
    return PREFIX + b45encode(zlib.compress(cose, 9))


def decode_qr_text(text: str) -> bytes:
    """Return the COSE bytes inside QR text (prefix, Base45 and zlib checked strictly)."""
    return inflate(b45decode(strip_prefix(text)))


def make_qr(text: str) -> segno.QRCode:
    """Return the QR code for ``text``: alphanumeric mode, error correction Q, never micro."""
    if not isinstance(text, str) or not text.startswith(PREFIX):
        raise InvalidQRText(f"QR text: expected text starting {PREFIX!r}")
    try:
        code = segno.make(text, mode=QR_MODE, error=ERROR_LEVEL, boost_error=False, micro=False)
    except (ValueError, segno.DataOverflowError) as error:
        raise InvalidQRText(f"QR text does not fit an alphanumeric QR code: {error}") from None
    return code


def qr_png(text: str, *, scale: int = 4) -> bytes:
    """Return a PNG image of the QR code for ``text``."""
    buffer = io.BytesIO()
    make_qr(text).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(text: str, *, scale: int = 4) -> bytes:
    """Return an SVG image of the QR code for ``text``."""
    buffer = io.BytesIO()
    make_qr(text).save(buffer, kind="svg", scale=scale, border=4, xmldecl=True)
    return buffer.getvalue()
