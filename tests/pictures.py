"""Pictures of QR codes as a verifier's camera or a holder's screenshot gives them: codes placed on
a larger grey page, tilted, with speckle, saved as JPEG or PNG. Made fresh by each test."""

from __future__ import annotations

import io
import random

import segno
from PIL import Image, ImageFilter

from licenses.qr import qr_png


def code_image(text: str, *, scale: int = 5) -> Image.Image:
    """The QR code of ``text`` as a greyscale image (an e-license's own rendering for ``EL1:``)."""
    if text.startswith("EL1:"):
        png = qr_png(text, scale=scale)
    else:
        buffer = io.BytesIO()
        segno.make(text, error="q", micro=False).save(buffer, kind="png", scale=scale, border=4)
        png = buffer.getvalue()
    return Image.open(io.BytesIO(png)).convert("L")


def photo(*texts: str, angle: float = 7.0, fmt: str = "JPEG", seed: int = 1) -> bytes:
    """A photo of the codes of ``texts`` side by side on a grey page: tilted, speckled, blurred."""
    codes = [code_image(text) for text in texts]
    width = sum(c.width for c in codes) + 120 * (len(codes) + 1)
    height = max((c.height for c in codes), default=400) + 240
    page = Image.new("L", (width, height), 205)
    x = 120
    for code in codes:
        page.paste(code, (x, 120))
        x += code.width + 120
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=150)
    rng = random.Random(seed)
    pixels = page.load()
    assert pixels is not None
    for _ in range(page.width * page.height // 50):
        spot = (rng.randrange(page.width), rng.randrange(page.height))
        pixels[spot] = rng.randrange(256)
    page = page.filter(ImageFilter.GaussianBlur(0.8)).convert("RGB")
    out = io.BytesIO()
    page.save(out, format=fmt, **({"quality": 75} if fmt == "JPEG" else {}))
    return out.getvalue()


def screenshot(text: str) -> bytes:
    """A PNG screenshot of a phone screen showing the code of ``text`` with some margin."""
    return photo(text, angle=0.0, fmt="PNG")


def blank(fmt: str = "PNG", size: tuple[int, int] = (640, 480)) -> bytes:
    """A picture of an empty grey page: no code in it."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 200, 200)).save(out, format=fmt)
    return out.getvalue()
