"""License ids per GB/T 36904 (reconstructed), with their MOD 37,36 check character.

The format and the choices made where the standard was not at hand follow below.
"""

# License id, GB/T 36904 (reconstructed from ids published by issuing systems, not from the text):
#
#     1.2.156.3005.2.<type code>.<issuer code>.<serial>.<version>.<check>
#
#   type code    21 chars: the 18-char unified social credit code of the department that defines
#                the license type, then a 3-digit type number ("11100000000013338W011").
#   issuer code  18 chars: the issuing authority's unified social credit code. Some systems put a
#                6-digit region code here; we refuse that form.
#   serial       1-32 chars of 0-9A-Z (seen: dates plus counters, 20 random chars, 32 hex digits).
#   version      3 digits, 001-999.
#   check        ISO 7064 MOD 37,36 over type code + issuer code + serial + version, without dots.
#   All letters are uppercase; both embedded credit codes must validate in full.

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Final

from licenses.check_characters import (
    ALPHANUMERIC,
    DIGITS,
    first_outside,
    mod37_36_character,
    mod37_36_check,
    mod37_36_product,
)
from licenses.credit_codes import parse_uscc
from licenses.errors import InvalidHolderId, InvalidLicenseId

LICENSE_ID_ROOT: Final = "1.2.156.3005.2"
TYPE_NUMBER_LENGTH: Final = 3
SERIAL_MAX_LENGTH: Final = 32
MAX_VERSION: Final = 999
_PREFIX: Final = LICENSE_ID_ROOT + "."
_TYPE_CODE_LENGTH: Final = 18 + TYPE_NUMBER_LENGTH
_CREDIT_CODE_LENGTH: Final = 18
_DIGIT_SET: Final = frozenset(DIGITS)
_ALPHANUMERIC_SET: Final = frozenset(ALPHANUMERIC)


@lru_cache(maxsize=1024)
def _credit_code_problem(text: str) -> str | None:
    # Pure, and the departments behind license ids are few: verifiers see the same codes again.
    try:
        parse_uscc(text)
    except InvalidHolderId as error:
        return error.detail
    return None


@lru_cache(maxsize=1024)
def _codes_product(type_code: str, issuer_code: str) -> int | None:
    # Pure, and per license type and issuing authority, which are few: when both codes are valid,
    # the MOD 37,36 running product over them, from which each license id's check runs on.
    valid = (
        _credit_code_problem(type_code[:18]) is None
        and _DIGIT_SET.issuperset(type_code[18:])
        and _credit_code_problem(issuer_code) is None
    )
    return mod37_36_product(type_code + issuer_code) if valid else None


def well_formed_license_id(text: str) -> tuple[str, int] | None:
    """Return the type code and version of an id ``LicenseId.parse`` accepts; None if unsure."""
    # Every check of LicenseId.parse in one pass over a well-formed id; for anything else None,
    # and LicenseId.parse says what is wrong (or accepts what this pass is too plain to).
    if not text.startswith(_PREFIX):
        return None
    parts = text[len(_PREFIX) :].split(".")
    if len(parts) != 5:
        return None
    type_code, issuer_code, serial, version, check = parts
    # Lengths first, so only code pairs of the right size ever reach the cache.
    if (
        len(type_code) != _TYPE_CODE_LENGTH
        or len(issuer_code) != _CREDIT_CODE_LENGTH
        or len(version) != 3
        or not 1 <= len(serial) <= SERIAL_MAX_LENGTH
        or not _ALPHANUMERIC_SET.issuperset(serial)
        or not _DIGIT_SET.issuperset(version)
        or version == "000"
    ):
        return None
    product = _codes_product(type_code, issuer_code)
    if product is None or check != mod37_36_character(mod37_36_product(serial + version, product)):
        return None
    return type_code, int(version)


def license_type_and_version(text: str) -> tuple[str, int]:
    """Return a license id's type code and version, refusing it exactly as ``LicenseId.parse``."""
    parts = well_formed_license_id(text)
    if parts is None:
        parsed = LicenseId.parse(text)
        return parsed.type_code, parsed.version
    return parts


def _check_credit_code(what: str, text: str) -> None:
    problem = _credit_code_problem(text)
    if problem is not None:
        # Department codes are public, so the license id error may quote them in full.
        raise InvalidLicenseId(f"{what} {text!r}: {problem}")


@dataclass(frozen=True)
class LicenseId:
    """A GB/T 36904 license id (reconstructed format, see the module comment)."""

    type_code: str
    issuer_code: str
    serial: str
    version: int = 1

    def __post_init__(self) -> None:
        if len(self.type_code) != 18 + TYPE_NUMBER_LENGTH:
            raise InvalidLicenseId(
                f"type code {self.type_code!r}: expected 21 characters "
                f"(credit code + 3-digit number), got {len(self.type_code)}"
            )
        department, number = self.type_code[:18], self.type_code[18:]
        _check_credit_code("type code department", department)
        if first_outside(number, DIGITS) is not None:
            raise InvalidLicenseId(
                f"type code {self.type_code!r}: expected a 3-digit type number, got {number!r}"
            )
        _check_credit_code("issuer code", self.issuer_code)
        bad = first_outside(self.serial, ALPHANUMERIC)
        if not 1 <= len(self.serial) <= SERIAL_MAX_LENGTH or bad is not None:
            raise InvalidLicenseId(
                f"serial: expected 1-{SERIAL_MAX_LENGTH} characters of 0-9A-Z, got {self.serial!r}"
            )
        if type(self.version) is not int or not 1 <= self.version <= MAX_VERSION:
            raise InvalidLicenseId(f"version: expected 1-{MAX_VERSION}, got {self.version!r}")

    @property
    def check(self) -> str:
        """The MOD 37,36 check character over type code, issuer code, serial and version."""
        return mod37_36_check(f"{self.type_code}{self.issuer_code}{self.serial}{self.version:03d}")

    def __str__(self) -> str:
        return (
            f"{LICENSE_ID_ROOT}.{self.type_code}.{self.issuer_code}."
            f"{self.serial}.{self.version:03d}.{self.check}"
        )

    @classmethod
    def parse(cls, text: str) -> LicenseId:
        """Parse and strictly validate a license id string."""
        prefix = LICENSE_ID_ROOT + "."
        if not text.startswith(prefix):
            raise InvalidLicenseId(
                f"license id: expected prefix {prefix!r}, got {text[: len(prefix)]!r}"
            )
        parts = text[len(prefix) :].split(".")
        if len(parts) != 5:
            raise InvalidLicenseId(
                "license id: expected 5 parts after the prefix "
                f"(type.issuer.serial.version.check), got {len(parts)}"
            )
        type_code, issuer_code, serial, version, check = parts
        if len(version) != 3 or first_outside(version, DIGITS) is not None:
            raise InvalidLicenseId(f"version: expected 3 digits, got {version!r}")
        if len(check) != 1 or check not in ALPHANUMERIC:
            raise InvalidLicenseId(f"check character: expected one of 0-9A-Z, got {check!r}")
        license_id = cls(type_code, issuer_code, serial, int(version))
        if check != license_id.check:
            raise InvalidLicenseId(
                f"license id check character: expected {license_id.check!r}, got {check!r}"
            )
        return license_id

    def next_version(self) -> LicenseId:
        """The same license at the next version (a renewal or amendment)."""
        if self.version >= MAX_VERSION:
            raise InvalidLicenseId(
                f"version: expected below {MAX_VERSION} to add one, got {self.version}"
            )
        return replace(self, version=self.version + 1)
