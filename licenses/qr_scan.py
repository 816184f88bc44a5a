"""Reading an ``EL1:`` QR code from a picture of it: a phone photo of a printed license or a
screenshot of a holder's screen (PNG, JPEG, GIF, BMP or WebP), decoded under byte and pixel caps.
"""

# The picture comes from outside (a form upload, a file on the command line): its header is read
# and its size checked before any pixel is decoded, so a small file cannot unpack into a huge
# image. zxing-cpp finds the codes at any angle; the text it returns goes to the verifier, whose
# step 1 judges the prefix, so a QR code that is not ours is a precise result, not an error here.

from __future__ import annotations

import io
import warnings
from typing import Final

import zxingcpp
from PIL import Image, UnidentifiedImageError

from licenses.errors import QRImageUnreadable
from licenses.qr import PREFIX

# A 12-megapixel phone photo in JPEG is 2-8 MB; a PNG screenshot far less.
MAX_IMAGE_BYTES: Final = 16 * 1024 * 1024
# Above a 48-megapixel sensor's full frame; each pixel costs a byte (grey) while it is read.
MAX_IMAGE_PIXELS: Final = 50_000_000
IMAGE_FORMATS: Final = frozenset({"PNG", "JPEG", "GIF", "BMP", "WEBP"})
_QR_ONLY: Final = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def read_qr_image(data: bytes) -> str:
    """Return the text of the one ``EL1:`` QR code (or the one QR code) in an image's bytes."""
    # 1. size of the file
    if not data:
        raise QRImageUnreadable("expected an image of a QR code, got an empty file")
    if len(data) > MAX_IMAGE_BYTES:
        raise QRImageUnreadable(
            f"expected an image of at most {MAX_IMAGE_BYTES:,} bytes, got {len(data):,}"
        )
    # 2. header: a known format and a bounded size, before the pixels are decoded
    image = _open(data)
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise QRImageUnreadable(
            f"expected an image of at most {MAX_IMAGE_PIXELS:,} pixels, "
            f"got {width}×{height} = {width * height:,}"
        )
    # 3. pixels, in grey: the QR code's modules are dark and light, colour adds nothing
    try:
        grey = image.convert("L")
    except (OSError, ValueError, SyntaxError) as error:
        raise QRImageUnreadable(f"the {image.format} image is damaged: {error}") from None
    # 4. the codes in it
    texts = [code.text for code in zxingcpp.read_barcodes(grey, formats=_QR_ONLY) if code.valid]
    return _the_one(texts, f"{width}×{height} {image.format}")


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Pillow warns of a possible decompression bomb; the pixel cap below decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=sorted(IMAGE_FORMATS))
    except Image.DecompressionBombError as error:
        raise QRImageUnreadable(
            f"expected an image of at most {MAX_IMAGE_PIXELS:,} pixels, got more: {error}"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise QRImageUnreadable(
            "expected an image (PNG, JPEG, GIF, BMP or WebP), got bytes of no such format"
        ) from None
    return image


def _the_one(texts: list[str], described: str) -> str:
    if not texts:
        raise QRImageUnreadable(
            f"expected a QR code in the {described} image, found none "
            "(a sharper, closer, evenly lit picture of the whole code helps)"
        )
    ours = sorted({text for text in texts if text.startswith(PREFIX)})
    if len(ours) == 1:
        return ours[0]
    if len(ours) > 1:
        raise QRImageUnreadable(
            f"expected one e-license QR code in the image, found {len(ours)} different ones: "
            "picture one license at a time"
        )
    if len(set(texts)) == 1:
        return texts[0]
    raise QRImageUnreadable(
        f"expected one QR code in the image, found {len(set(texts))} and none of them "
        f"an e-license's (starting {PREFIX})"
    )
