"""QR payloads: RFC 9285 Base45 examples, strict decoding, capped zlib, and the QR images."""

from __future__ import annotations

import io
import zlib

import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st

from licenses.errors import InvalidBase45, InvalidCredential, InvalidQRText
from licenses.qr import (
    BASE45_ALPHABET,
    MAX_COSE_BYTES,
    MAX_TEXT_LENGTH,
    PREFIX,
    b45decode,
    b45encode,
    decode_qr_text,
    encode_qr_text,
    inflate,
    make_qr,
    qr_png,
    qr_svg,
    strip_prefix,
)

# RFC 9285 §4.3 and §4.4 examples.
RFC9285_EXAMPLES = [
    (b"AB", "BB8"),
    (b"Hello!!", "%69 VD92EX0"),
    (b"base-45", "UJCLQE7W581"),
    (b"ietf!", "QED8WEX0"),
]


@pytest.mark.parametrize(("data", "text"), RFC9285_EXAMPLES, ids=[t for _, t in RFC9285_EXAMPLES])
def test_base45_matches_rfc9285_examples(data: bytes, text: str) -> None:
    assert b45encode(data) == text
    assert b45decode(text) == data


def test_base45_of_nothing_is_nothing() -> None:
    assert b45encode(b"") == ""
    assert b45decode("") == b""


def test_base45_refuses_a_character_outside_the_alphabet() -> None:
    with pytest.raises(InvalidBase45, match="position 2: expected one of .* got 'a'"):
        b45decode("BaB")


def test_base45_refuses_a_length_of_one_mod_three() -> None:
    with pytest.raises(InvalidBase45, match="got 4 \\(1 mod 3\\)"):
        b45decode("BB8B")


def test_base45_refuses_a_group_above_65535() -> None:
    # RFC 9285 §6: "GGW" would be 65536.
    with pytest.raises(InvalidBase45, match="at most 65535, got 65536"):
        b45decode("GGW")


def test_base45_refuses_a_final_pair_above_255() -> None:
    with pytest.raises(InvalidBase45, match="at most 255, got 2024"):
        b45decode("BB8::")


def test_base45_errors_are_qr_text_errors() -> None:
    assert issubclass(InvalidBase45, InvalidQRText)
    assert issubclass(InvalidQRText, InvalidCredential)


@given(st.binary(max_size=300))
def test_base45_round_trips_any_bytes(data: bytes) -> None:
    text = b45encode(data)
    assert set(text) <= set(BASE45_ALPHABET)
    assert b45decode(text) == data


@given(st.binary(min_size=1, max_size=500))
def test_qr_text_round_trips_any_cose_bytes(data: bytes) -> None:
    text = encode_qr_text(data)
    assert text.startswith(PREFIX)
    assert decode_qr_text(text) == data


def test_qr_text_refuses_another_prefix() -> None:
    text = encode_qr_text(b"\xd2\x84")
    with pytest.raises(InvalidQRText, match="expected prefix 'EL1:', got 'HC1:'"):
        decode_qr_text("HC1:" + text[len(PREFIX) :])


def test_qr_text_refuses_text_longer_than_a_qr_code_holds() -> None:
    with pytest.raises(InvalidQRText, match=f"at most {MAX_TEXT_LENGTH} characters"):
        strip_prefix(PREFIX + "0" * MAX_TEXT_LENGTH)


def test_qr_text_refuses_non_text() -> None:
    with pytest.raises(InvalidQRText, match="expected str, got bytes"):
        strip_prefix(b"EL1:")  # type: ignore[arg-type]


def test_inflate_refuses_bytes_that_are_not_zlib() -> None:
    with pytest.raises(InvalidQRText, match="expected a valid zlib stream"):
        inflate(b"not zlib at all")


def test_inflate_refuses_a_truncated_stream() -> None:
    with pytest.raises(InvalidQRText, match="expected a complete stream"):
        inflate(zlib.compress(b"x" * 100)[:-3])


def test_inflate_refuses_bytes_after_the_stream() -> None:
    with pytest.raises(InvalidQRText, match="expected nothing after the stream, got 2 bytes"):
        inflate(zlib.compress(b"credential") + b"\x00\x00")


def test_inflate_refuses_a_zip_bomb() -> None:
    bomb = zlib.compress(b"\x00" * (50 * MAX_COSE_BYTES), 9)
    assert len(bomb) < 4000  # it would fit in a QR code
    with pytest.raises(InvalidQRText, match=f"at most {MAX_COSE_BYTES} bytes once inflated"):
        inflate(bomb)


def test_inflate_accepts_exactly_the_cap() -> None:
    assert len(inflate(zlib.compress(b"\x01" * MAX_COSE_BYTES))) == MAX_COSE_BYTES


def test_encode_refuses_empty_or_oversized_cose_bytes() -> None:
    with pytest.raises(InvalidQRText, match="non-empty bytes"):
        encode_qr_text(b"")
    with pytest.raises(InvalidQRText, match=f"at most {MAX_COSE_BYTES}"):
        encode_qr_text(b"\x00" * (MAX_COSE_BYTES + 1))


def test_qr_code_is_alphanumeric_with_error_correction_q() -> None:
    code = make_qr(encode_qr_text(bytes(range(256)) * 2))
    assert code.mode == "alphanumeric"
    assert code.error == "Q"
    assert not code.is_micro


def test_short_qr_text_is_never_a_micro_qr_code() -> None:
    code = make_qr("EL1:ABC")
    assert not code.is_micro
    assert code.error == "Q"


def test_qr_code_refuses_text_without_the_prefix() -> None:
    with pytest.raises(InvalidQRText, match="expected text starting 'EL1:'"):
        make_qr("ABC")


def test_qr_code_refuses_text_too_long_for_any_version() -> None:
    with pytest.raises(InvalidQRText, match="does not fit"):
        make_qr(PREFIX + "A" * 4000)


def test_png_and_svg_images_carry_the_text() -> None:
    text = encode_qr_text(b"\xd2\x84" * 50)
    png = qr_png(text)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    svg = qr_svg(text)
    assert svg.startswith(b"<?xml") and b"<svg" in svg
    # The same symbol, re-made by segno from the text, matches the image's module matrix.
    expected = segno.make(text, mode="alphanumeric", error="q", boost_error=False, micro=False)
    buffer = io.BytesIO()
    expected.save(buffer, kind="png", scale=4, border=4)
    assert buffer.getvalue() == png
