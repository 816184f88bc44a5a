"""The one error hierarchy of ``licenses``: each failure names what was expected and what was found.

Holder ids are personal data, so errors about them carry only a masked form of the id.
"""

from __future__ import annotations

_VISIBLE_HEAD = 6
_VISIBLE_TAIL = 1
# Shorter inputs would show about half of themselves, so they are masked completely.
_MIN_PARTLY_SHOWN = 15
# Beyond this length the input is garbage, not an id; a count keeps messages short.
_MAX_MASKED_LENGTH = 40


def mask_id(text: str) -> str:
    """Mask an id for messages and logs, showing at most its first 6 and last 1 characters."""
    if len(text) < _MIN_PARTLY_SHOWN:
        return "*" * len(text)
    hidden = len(text) - _VISIBLE_HEAD - _VISIBLE_TAIL
    middle = "*" * hidden if len(text) <= _MAX_MASKED_LENGTH else f"…({len(text)} chars)…"
    return text[:_VISIBLE_HEAD] + middle + text[-_VISIBLE_TAIL:]


class LicenseError(Exception):
    """Base of every error raised by the ``licenses`` package."""


class InvalidIdentifier(LicenseError):
    """A license id, holder id or check-character input that breaks its format."""


class InvalidLicenseId(InvalidIdentifier):
    """A GB/T 36904 license id with a wrong prefix, part, version or check character."""


class InvalidHolderId(InvalidIdentifier):
    """A citizen id or unified social credit code that fails validation (the id is masked)."""

    def __init__(self, kind: str, text: str, detail: str) -> None:
        self.kind = kind
        self.masked = mask_id(text)
        self.detail = detail
        super().__init__(f"{kind} '{self.masked}': {detail}")


class InvalidCredential(LicenseError):
    """Credential bytes or claims that do not have the required structure or content."""


class SignatureInvalid(InvalidCredential):
    """A credential whose signature does not verify over the exact bytes received."""


class LicenseRevoked(LicenseError):
    """A license that has been revoked."""


class LicenseExpired(LicenseError):
    """A license used outside its validity period."""


class DisclosureInvalid(InvalidCredential):
    """A disclosed field whose salted digest is not the one the issuer signed for that name."""


class InvalidQRText(InvalidCredential):
    """QR text with a wrong prefix, bad Base45 or bad zlib data."""


class InvalidBase45(InvalidQRText):
    """Text that is not strict RFC 9285 Base45."""


class QRImageUnreadable(LicenseError):
    """An image that is not a picture with one readable QR code in it, or is too large to read."""


class UnknownIssuer(InvalidCredential):
    """A credential or status list whose key id is not on the trust list."""


class KeyNotAllowed(InvalidCredential):
    """A listed key that may not sign this: wrong owner, algorithm, time or license type."""


class StatusListError(LicenseError):
    """A status list that is malformed, signed by the wrong key, or asked out of range."""


class LicenseSuspended(LicenseError):
    """A license that is suspended."""


class InvalidPolicy(LicenseError):
    """A verification policy set that cannot be used (an empty one, for instance)."""


class LicenseCommandRefused(LicenseError):
    """A license command whose arguments or timing break the license's rules."""
