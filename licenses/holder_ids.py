"""Holder ids: GB 11643 citizen ids, and the credit codes of ``licenses.credit_codes``.

The citizen id format and the choices made where the standard was not at hand follow below.
"""

# Citizen id, GB 11643-1999: 6-digit region (first digit 1-9: GB/T 2260 provinces are 11-82 and
# the 2023 permanent residence card for foreigners starts with 9), 8-digit birth date, 3-digit
# sequence (odd: male, even: female), check by ISO 7064 MOD 11-2 (0-9 or X). The region is not
# looked up in GB/T 2260: the list changes and ids outlive the codes they were issued under.
# Legacy: first-generation 15-digit ids (region, YYMMDD in the 1900s, sequence; no check).

from __future__ import annotations

from calendar import isleap, monthrange
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from licenses.check_characters import (
    ALPHANUMERIC,
    DIGITS,
    USCC_ALPHABET,
    first_outside,
    mod11_2_check,
    org_code_check,
    uscc_check,
)
from licenses.credit_codes import (
    USCC_CATEGORIES,
    UnifiedSocialCreditCode,
    make_uscc,
    parse_org_code,
    parse_uscc,
)
from licenses.errors import InvalidHolderId, InvalidIdentifier, mask_id

# The credit codes moved to licenses.credit_codes; they are still importable from here.
__all__ = [
    "USCC_CATEGORIES",
    "UnifiedSocialCreditCode",
    "make_uscc",
    "parse_org_code",
    "parse_uscc",
]

HolderKind = Literal["citizen", "enterprise"]
Gender = Literal["male", "female"]

_CITIZEN: Final = "citizen id"
# MOD 11-2 weighs body digit i (of 17) by 2**(17 - i); as 2 = 13 mod 11, the weighted sum is
# 2 * (the body read as a base-13 number) mod 11, which int() computes in C.
_BODY_BASE: Final = 13
_MOD11_2_CHARACTERS: Final = DIGITS + "X"
# Every MMDD of a leap year, the birth dates' months and days that date() accepts.
_MONTH_DAYS: Final = frozenset(
    f"{month:02d}{day:02d}"
    for month in range(1, 13)
    for day in range(1, monthrange(2000, month)[1] + 1)
)


# --- Citizen ids (GB 11643) -----------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class CitizenId:
    """A validated GB 11643 citizen id; ``legacy`` marks a first-generation 15-digit id."""

    value: str
    region: str
    birth_date: date
    sequence: str
    legacy: bool = False

    @property
    def gender(self) -> Gender:
        """The gender the sequence code encodes: odd for male, even for female."""
        return "male" if int(self.sequence[-1]) % 2 else "female"

    def __repr__(self) -> str:
        return f"CitizenId({mask_id(self.value)!r}, legacy={self.legacy})"


def _birth_date(text: str, year: str, month: str, day: str, positions: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        # The digits themselves are personal data, so the message does not repeat them.
        raise InvalidHolderId(
            _CITIZEN, text, f"positions {positions}: expected a real calendar date, got none"
        ) from None


def parse_citizen_id(text: str, *, at: date | None = None, allow_legacy: bool = False) -> CitizenId:
    """Validate a GB 11643 citizen id; refuse a birth date after ``at`` when ``at`` is given."""
    if allow_legacy and len(text) == 15:
        return _parse_legacy_citizen_id(text, at)
    if len(text) != 18:
        hint = " (15-digit first-generation ids need allow_legacy)" if len(text) == 15 else ""
        raise InvalidHolderId(_CITIZEN, text, f"expected 18 characters, got {len(text)}{hint}")
    normalised = text[:17] + text[17].upper() if text[17] == "x" else text
    bad = first_outside(normalised[:17], DIGITS)
    if bad is not None:
        raise InvalidHolderId(
            _CITIZEN, normalised, f"position {bad + 1}: expected a digit, got {normalised[bad]!r}"
        )
    if normalised[17] not in DIGITS + "X":
        raise InvalidHolderId(
            _CITIZEN, normalised, f"position 18: expected a digit or 'X', got {normalised[17]!r}"
        )
    region, birth, sequence = normalised[:6], normalised[6:14], normalised[14:17]
    _check_region(normalised, region)
    born = _birth_date(normalised, birth[:4], birth[4:6], birth[6:], "7-14")
    _check_not_future(normalised, born, at)
    expected = mod11_2_check(normalised[:17])
    if normalised[17] != expected:
        raise InvalidHolderId(
            _CITIZEN, normalised, f"check character: expected {expected!r}, got {normalised[17]!r}"
        )
    return CitizenId(normalised, region, born, sequence)


def _parse_legacy_citizen_id(text: str, at: date | None) -> CitizenId:
    bad = first_outside(text, DIGITS)
    if bad is not None:
        raise InvalidHolderId(
            _CITIZEN, text, f"position {bad + 1}: expected a digit, got {text[bad]!r}"
        )
    region, birth, sequence = text[:6], text[6:12], text[12:15]
    _check_region(text, region)
    # First-generation ids were issued from 1984 to 2013 to people born in the 1900s.
    born = _birth_date(text, "19" + birth[:2], birth[2:4], birth[4:], "7-12")
    _check_not_future(text, born, at)
    return CitizenId(text, region, born, sequence, legacy=True)


def _check_region(text: str, region: str) -> None:
    if region[0] == "0":
        raise InvalidHolderId(
            _CITIZEN, text, "position 1: expected a region code starting 1-9, got '0'"
        )


def _check_not_future(text: str, born: date, at: date | None) -> None:
    if at is not None and born > at:
        raise InvalidHolderId(_CITIZEN, text, f"birth date: expected on or before {at}, got later")


def upgrade_legacy_citizen_id(text: str) -> str:
    """Return the 18-character form of a first-generation 15-digit citizen id."""
    legacy = _parse_legacy_citizen_id(text, None)
    body = legacy.region + legacy.birth_date.strftime("%Y%m%d") + legacy.sequence
    return body + mod11_2_check(body)


def make_citizen_id(region: str, birth: date, seq: int) -> str:
    """Build a valid 18-character citizen id for tests and demos."""
    if not 0 <= seq <= 999:
        raise InvalidIdentifier(f"citizen id sequence: expected 0-999, got {seq}")
    if len(region) != 6 or first_outside(region, DIGITS) is not None:
        raise InvalidIdentifier(f"citizen id region: expected 6 digits, got {region!r}")
    body = f"{region}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq:03d}"
    code = body + mod11_2_check(body)
    parse_citizen_id(code)
    return code


# --- Holder ids ------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class HolderId:
    """A license holder: a citizen id or a credit code, normalised; ``legacy`` marks old forms."""

    kind: HolderKind
    value: str
    legacy: bool = False

    def __post_init__(self) -> None:
        value, legacy = _validate_holder(self.value, self.kind, allow_legacy=True, at=None)
        if value != self.value:
            raise InvalidHolderId(
                self.kind, self.value, "expected the normalised form (uppercase, no hyphen)"
            )
        if legacy != self.legacy:
            raise InvalidHolderId(
                self.kind, self.value, f"expected legacy={legacy}, got legacy={self.legacy}"
            )

    @property
    def birth_date(self) -> date | None:
        """A citizen's birth date; None for enterprises."""
        if self.kind != "citizen":
            return None
        return parse_citizen_id(self.value, allow_legacy=True).birth_date

    @property
    def gender(self) -> Gender | None:
        """A citizen's gender as the sequence code encodes it; None for enterprises."""
        if self.kind != "citizen":
            return None
        return parse_citizen_id(self.value, allow_legacy=True).gender

    def __repr__(self) -> str:
        return f"HolderId({self.kind!r}, {mask_id(self.value)!r}, legacy={self.legacy})"


def _validate_holder(
    text: str, kind: HolderKind, *, allow_legacy: bool, at: date | None
) -> tuple[str, bool]:
    if kind == "citizen":
        citizen = parse_citizen_id(text, at=at, allow_legacy=allow_legacy)
        return citizen.value, citizen.legacy
    if kind != "enterprise":
        raise InvalidHolderId(
            "holder id", text, f"expected kind 'citizen' or 'enterprise', got {kind!r}"
        )
    if allow_legacy and len(text) in (9, 10):
        return parse_org_code(text), True
    return parse_uscc(text).value, False


def _is_citizen_id(text: str) -> bool:
    # Every check parse_citizen_id makes of an 18-character id, in one pass over the common form
    # (digits, normalised 'X'); False only means "not this way", and the full checks follow.
    body = text[:17]
    # ASCII and digits: 0-9 only (isdigit alone takes other scripts' digits too).
    if len(text) != 18 or text[0] == "0" or not (body.isascii() and body.isdigit()):
        return False
    # The birth date: a month and day of the calendar, 29 February only in a leap year, year 1+.
    month_day = text[10:14]
    if month_day not in _MONTH_DAYS or text[6:10] == "0000":
        return False
    if month_day == "0229" and not isleap(int(text[6:10])):
        return False
    # Only ASCII digits reach int(), so none of its signs, spaces or underscores can.
    total = 2 * int(body, _BODY_BASE)
    return text[17] == _MOD11_2_CHARACTERS[(12 - total % 11) % 11]


def is_holder_id(text: str) -> bool:
    """Whether ``text`` is a holder id of either kind in normalised form (legacy forms included)."""
    if _is_citizen_id(text) or _is_uscc(text):
        return True
    kinds: tuple[HolderKind, ...] = ("citizen", "enterprise")
    for kind in kinds:
        try:
            value, _ = _validate_holder(text, kind, allow_legacy=True, at=None)
        except InvalidIdentifier:
            continue
        if value == text:
            return True
    return False


def _is_uscc(text: str) -> bool:
    # Every check parse_uscc makes, without building an error for each code that is not one
    # (a citizen id is tried first); False only means "not this way", and the full checks follow.
    if len(text) != 18 or first_outside(text, USCC_ALPHABET) is not None:
        return False
    if text[1] not in USCC_CATEGORIES.get(text[0], ()):
        return False
    if first_outside(text[:8], DIGITS, start=2) is not None:
        return False
    return text[16] == org_code_check(text[8:16]) and text[17] == uscc_check(text[:17])


def _shape_kinds(text: str) -> list[HolderKind]:
    # Which kinds the text could be, judged by length and alphabet alone.
    kinds: list[HolderKind] = []
    digits_body = first_outside(text[:17], DIGITS) is None
    if digits_body and (len(text) == 15 or (len(text) == 18 and text[17] in DIGITS + "Xx")):
        kinds.append("citizen")
    if len(text) == 18 and first_outside(text, USCC_ALPHABET) is None:
        kinds.append("enterprise")
    if len(text) in (9, 10) and first_outside(text.replace("-", ""), ALPHANUMERIC) is None:
        kinds.append("enterprise")
    return kinds


def parse_holder_id(
    text: str,
    *,
    kind: HolderKind | None = None,
    allow_legacy: bool = True,
    at: date | None = None,
) -> HolderId:
    """Validate a holder id, detecting its kind unless ``kind`` is given."""
    if kind is not None:
        value, legacy = _validate_holder(text, kind, allow_legacy=allow_legacy, at=at)
        return HolderId(kind, value, legacy)
    candidates = _shape_kinds(text)
    if not candidates:
        if len(text) not in (9, 10, 15, 18):
            raise InvalidHolderId(
                "holder id",
                text,
                f"expected 18 characters (15 or 9 for legacy forms), got {len(text)}",
            )
        # Report against the kind the text resembles more: letters suggest a credit code.
        citizen_like = first_outside(text, DIGITS + "Xx") is None
        candidates = ["citizen" if citizen_like else "enterprise"]
    found: list[HolderId] = []
    errors: list[InvalidHolderId] = []
    for candidate in candidates:
        try:
            value, legacy = _validate_holder(text, candidate, allow_legacy=allow_legacy, at=at)
        except InvalidHolderId as error:
            errors.append(error)
        else:
            found.append(HolderId(candidate, value, legacy))
    if len(found) == 1:
        return found[0]
    if found:
        raise InvalidHolderId(
            "holder id",
            text,
            "expected one kind, got a valid citizen id and a valid credit code; pass kind=",
        )
    if len(errors) == 1:
        raise errors[0]
    raise InvalidHolderId(
        "holder id",
        text,
        "expected a citizen id or a credit code, got neither: "
        + "; ".join(f"as {error.kind}, {error.detail}" for error in errors),
    )
