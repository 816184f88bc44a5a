"""GB 32100 unified social credit codes and the GB 11714 organisation codes inside them.

The format and the choices made where the standard was not at hand follow below.
"""

# Unified social credit code, GB 32100-2015: 18 chars of 0-9 A-H J-N P-R T-U W-Y. Registration
# department (1), organisation category (1, from the department's published list), region (6
# digits), organisation code (9, its last char a GB 11714 check), check char mod 31 with weights
# 3**i mod 31. Legacy: a bare GB 11714 organisation code, "XXXXXXXX-X" or without the hyphen.

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from licenses.check_characters import (
    ALPHANUMERIC,
    DIGITS,
    USCC_ALPHABET,
    first_outside,
    org_code_check,
    uscc_check,
)
from licenses.errors import InvalidHolderId, InvalidIdentifier

# GB 32100 registration department -> its organisation categories, as published by the
# departments after 2015 (1 编制, 2 外交, 3 司法行政, 4 文化, 5 民政, 6 旅游, 7 宗教, 8 工会,
# 9 工商, A 军队编制, N 农业, Y 其他).
USCC_CATEGORIES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "1": "1239",
        "2": "19",
        "3": "123459",
        "4": "19",
        "5": "1239",
        "6": "129",
        "7": "129",
        "8": "19",
        "9": "123",
        "A": "19",
        "N": "1239",
        "Y": "1",
    }
)

_USCC: Final = "unified social credit code"
_ORG_CODE: Final = "organisation code"


@dataclass(frozen=True)
class UnifiedSocialCreditCode:
    """A validated GB 32100 unified social credit code and its parts."""

    value: str

    @property
    def registration_department(self) -> str:
        """Character 1: the department that registered the organisation."""
        return self.value[0]

    @property
    def category(self) -> str:
        """Character 2: the organisation category within that department."""
        return self.value[1]

    @property
    def region(self) -> str:
        """Characters 3-8: the registering authority's GB/T 2260 region code."""
        return self.value[2:8]

    @property
    def org_code(self) -> str:
        """Characters 9-17: the GB 11714 organisation code, its own check character included."""
        return self.value[8:17]


def parse_uscc(text: str) -> UnifiedSocialCreditCode:
    """Validate a GB 32100 unified social credit code, including its embedded GB 11714 check."""
    if len(text) != 18:
        raise InvalidHolderId(_USCC, text, f"expected 18 characters, got {len(text)}")
    bad = first_outside(text, USCC_ALPHABET)
    if bad is not None:
        raise InvalidHolderId(
            _USCC,
            text,
            f"position {bad + 1}: expected one of 0-9 A-H J-N P-R T-U W-Y, got {text[bad]!r}",
        )
    department, category = text[0], text[1]
    if department not in USCC_CATEGORIES:
        raise InvalidHolderId(
            _USCC,
            text,
            f"position 1: expected a registration department code "
            f"(one of {''.join(USCC_CATEGORIES)}), got {department!r}",
        )
    if category not in USCC_CATEGORIES[department]:
        raise InvalidHolderId(
            _USCC,
            text,
            f"position 2: expected a category of department {department!r} "
            f"(one of {USCC_CATEGORIES[department]}), got {category!r}",
        )
    bad = first_outside(text[:8], DIGITS, start=2)
    if bad is not None:
        raise InvalidHolderId(
            _USCC, text, f"position {bad + 1}: expected a region digit, got {text[bad]!r}"
        )
    org_expected = org_code_check(text[8:16])
    if text[16] != org_expected:
        raise InvalidHolderId(
            _USCC,
            text,
            f"organisation code check character (position 17): "
            f"expected {org_expected!r}, got {text[16]!r}",
        )
    expected = uscc_check(text[:17])
    if text[17] != expected:
        raise InvalidHolderId(
            _USCC, text, f"check character: expected {expected!r}, got {text[17]!r}"
        )
    return UnifiedSocialCreditCode(text)


def parse_org_code(text: str) -> str:
    """Validate a GB 11714 organisation code ("XXXXXXXX-X" or 9 chars); return it without hyphen."""
    compact = text[:8] + text[9:] if len(text) == 10 and text[8] == "-" else text
    if len(compact) != 9:
        raise InvalidHolderId(
            _ORG_CODE, text, f"expected 9 characters or 'XXXXXXXX-X', got {len(text)} characters"
        )
    bad = first_outside(compact[:8], ALPHANUMERIC)
    if bad is not None:
        raise InvalidHolderId(
            _ORG_CODE, text, f"position {bad + 1}: expected 0-9 or A-Z, got {compact[bad]!r}"
        )
    expected = org_code_check(compact[:8])
    if compact[8] != expected:
        raise InvalidHolderId(
            _ORG_CODE, text, f"check character: expected {expected!r}, got {compact[8]!r}"
        )
    return compact


def make_uscc(reg_dept: str, category: str, region: str, org_code_body: str) -> str:
    """Build a valid credit code from its parts and an 8-character organisation code body."""
    if len(org_code_body) != 8 or first_outside(org_code_body, USCC_ALPHABET) is not None:
        raise InvalidIdentifier(
            f"organisation code body: expected 8 chars of {USCC_ALPHABET!r}, got {org_code_body!r}"
        )
    head = reg_dept + category + region + org_code_body + org_code_check(org_code_body)
    if len(head) != 17:
        raise InvalidIdentifier(
            f"credit code parts: expected 1 + 1 + 6 + 8 characters, got {len(head) - 1} in all"
        )
    code = head + uscc_check(head)
    parse_uscc(code)
    return code
