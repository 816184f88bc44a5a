"""QR payloads: ``EL1:`` + Base45 (RFC 9285) of zlib (RFC 1950) compressed COSE bytes, and the
QR images (alphanumeric mode, error correction level Q) that carry them.

Decoding is strict: the prefix, every Base45 group and the zlib stream must be exactly right, and
the inflated size is capped so a small QR code cannot expand into a large allocation.
"""

from __future__ import annotations

import io
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
_PAIR_MAX: Final = 0xFFFF
_BYTE_MAX: Final = 0xFF


def b45encode(data: bytes) -> str:
    """Encode bytes as Base45 (RFC 9285 §4): two bytes to three characters, a last byte to two."""
    alphabet = BASE45_ALPHABET
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        value = data[i] * 256 + data[i + 1]
        c, rest = divmod(value, 45)
        e, d = divmod(c, 45)
        out.append(alphabet[rest] + alphabet[d] + alphabet[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out.append(alphabet[c] + alphabet[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """Decode strict Base45 (RFC 9285 §4.2): refuse foreign characters, length 1 mod 3, overflow."""
    if len(text) % 3 == 1:
        raise InvalidBase45(f"Base45: expected a length of 0 or 2 mod 3, got {len(text)} (1 mod 3)")
    try:
        values = [_B45_VALUES[char] for char in text]
    except KeyError:
        position = next(i for i, char in enumerate(text) if char not in _B45_VALUES)
        raise InvalidBase45(
            f"Base45 position {position + 1}: expected one of {BASE45_ALPHABET!r}, "
            f"got {text[position]!r}"
        ) from None
    out = bytearray()
    full = len(values) - len(values) % 3
    for i in range(0, full, 3):
        value = values[i] + values[i + 1] * 45 + values[i + 2] * 2025
        if value > _PAIR_MAX:
            raise InvalidBase45(
                f"Base45 group at position {i + 1}: expected a value of at most {_PAIR_MAX}, "
                f"got {value}"
            )
        out += value.to_bytes(2, "big")
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
