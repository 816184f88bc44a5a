"""Reading an e-license's QR code from a picture: photos and screenshots give back the exact text
the verifier then checks; pictures with no code, several licenses' codes, damage, foreign formats
or sizes beyond the caps are refused with a reason, before any large decoding."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from licenses.errors import QRImageUnreadable
from licenses.issuance import issue_credential
from licenses.qr import encode_qr_text
from licenses.qr_scan import MAX_IMAGE_BYTES, read_qr_image
from licenses.verify import VerificationStatus, Verifier
from tests.pictures import blank, photo, screenshot
from tests.unit.licenses.conftest import LICENSE_ID, T0, World, make_claims


@pytest.fixture(scope="module")
def qr_text(world: World) -> str:
    credential = issue_credential(make_claims(), world.issuer, kid=world.issuer_kid)
    return encode_qr_text(credential)


def test_a_screenshot_gives_back_the_exact_qr_text(qr_text: str) -> None:
    assert read_qr_image(screenshot(qr_text)) == qr_text


@pytest.mark.parametrize("angle", [0.0, 9.0, -14.0, 90.0])
def test_a_tilted_speckled_jpeg_photo_gives_back_the_exact_qr_text(
    qr_text: str, angle: float
) -> None:
    assert read_qr_image(photo(qr_text, angle=angle)) == qr_text


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "GIF"])
def test_every_accepted_picture_format_is_read(qr_text: str, fmt: str) -> None:
    assert read_qr_image(photo(qr_text, angle=3.0, fmt=fmt)) == qr_text


def test_the_text_read_from_a_photo_verifies_as_the_credential_does(
    world: World, qr_text: str
) -> None:
    result = Verifier(world.trust_list).verify(
        read_qr_image(photo(qr_text)), at=T0 + timedelta(days=2)
    )
    assert result.status is VerificationStatus.VALID
    assert result.claims is not None and result.claims.license_id == LICENSE_ID


def test_the_license_code_is_taken_from_beside_a_foreign_code(qr_text: str) -> None:
    assert read_qr_image(photo("https://example.org/menu", qr_text)) == qr_text


def test_a_lone_foreign_code_is_returned_for_the_verifier_to_judge_its_prefix() -> None:
    assert read_qr_image(photo("https://example.org/menu")) == "https://example.org/menu"


def test_two_different_licenses_in_one_photo_are_refused(world: World, qr_text: str) -> None:
    other = encode_qr_text(
        issue_credential(make_claims(fields={"name": "李四"}), world.issuer, kid=world.issuer_kid)
    )
    with pytest.raises(QRImageUnreadable, match="found 2 different ones"):
        read_qr_image(photo(qr_text, other))


def test_two_foreign_codes_and_no_license_code_are_refused() -> None:
    with pytest.raises(QRImageUnreadable, match="found 2 and none of them an e-license's"):
        read_qr_image(photo("https://example.org/a", "https://example.org/b"))


def test_the_same_license_twice_in_one_photo_is_read_once(qr_text: str) -> None:
    assert read_qr_image(photo(qr_text, qr_text)) == qr_text


def test_a_picture_without_a_code_is_refused_with_its_size() -> None:
    with pytest.raises(QRImageUnreadable, match=r"in the 640×480 PNG image, found none"):
        read_qr_image(blank())


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "got an empty file"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "got bytes of no such format"),
        (b"EL1:6BFOXN*TS0BI$ZD4N9", "got bytes of no such format"),
        (blank("TIFF"), "got bytes of no such format"),
    ],
    ids=["empty", "pdf", "qr-text-instead-of-a-picture", "tiff"],
)
def test_what_is_not_an_accepted_picture_is_refused(data: bytes, match: str) -> None:
    with pytest.raises(QRImageUnreadable, match=match):
        read_qr_image(data)


def test_a_truncated_picture_is_refused_as_damaged(qr_text: str) -> None:
    data = photo(qr_text, fmt="PNG")
    with pytest.raises(QRImageUnreadable, match="the PNG image is damaged"):
        read_qr_image(data[: len(data) // 2])


def test_a_file_over_the_byte_cap_is_refused_before_it_is_opened() -> None:
    with pytest.raises(QRImageUnreadable, match=f"at most {MAX_IMAGE_BYTES:,} bytes, got"):
        read_qr_image(b"\x89PNG" + b"\0" * MAX_IMAGE_BYTES)


def test_a_small_file_of_too_many_pixels_is_refused_before_its_pixels_are_decoded() -> None:
    out = io.BytesIO()
    Image.new("1", (9000, 6000), 1).save(out, format="PNG")  # a few KiB, 54 megapixels
    assert len(out.getvalue()) < 100_000
    with pytest.raises(QRImageUnreadable, match=r"got 9000×6000 = 54,000,000"):
        read_qr_image(out.getvalue())
