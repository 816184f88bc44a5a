"""Check characters: ISO 7064 MOD 37,36 and MOD 11-2, GB 32100 mod 31 and GB 11714 mod 11.

What each guarantees is stated below; the tests check each claim.
"""

# What the check characters guarantee:
#   MOD 11-2  every single substitution; swapping two distinct characters unless they are a
#             multiple of 10 positions apart (weights are powers of 2, which has order 10 mod 11).
#   mod 31    every single substitution; swapping two distinct characters unless they are the
#             first and the check character (weights are powers of 3, so both weigh 1).
#   MOD 37,36 every single substitution; an adjacent swap of two characters whose values are not
#             neighbours mod 36. In each of the 36 running states exactly one neighbour pair
#             ("12", "AB", "Z0", ...) slips through when swapped.

from __future__ import annotations

from operator import mul
from typing import Final

from licenses.errors import InvalidIdentifier

DIGITS: Final = "0123456789"
ALPHANUMERIC: Final = DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# GB 32100 drops I, O, Z, S and V, which are easily misread as 1, 0, 2, 5 and U.
USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"

_USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))
_ORG_CODE_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
# MOD 11-2 weights 2**k mod 11 for k = 1, 2, ... from the rightmost body digit leftwards.
_MOD11_2_WEIGHTS: Final = tuple(pow(2, k, 11) for k in range(1, 33))


def first_outside(text: str, alphabet: str, start: int = 0) -> int | None:
    """Return the index of the first character of ``text`` from ``start`` not in ``alphabet``."""
    # Fast path: one set operation answers the common case, an id that is all valid.
    allowed = _SETS.get(alphabet)
    if allowed is None:
        allowed = frozenset(alphabet)
    if allowed.issuperset(text[start:] if start else text):
        return None
    for index in range(start, len(text)):
        if text[index] not in alphabet:
            return index
    return None


_SETS: Final = {alphabet: frozenset(alphabet) for alphabet in (DIGITS, ALPHANUMERIC, USCC_ALPHABET)}
# Character -> value tables, so a check runs as one comprehension rather than a search per char.
_VALUES: Final = {
    alphabet: {char: value for value, char in enumerate(alphabet)}
    for alphabet in (DIGITS, ALPHANUMERIC, USCC_ALPHABET)
}


def _outside(s: str, alphabet: str, what: str) -> InvalidIdentifier:
    position = first_outside(s, alphabet)
    bad = "" if position is None else s[position]
    return InvalidIdentifier(
        f"{what} position {(position or 0) + 1}: expected one of {alphabet!r}, got {bad!r}"
    )


def _values(s: str, alphabet: str, what: str) -> list[int]:
    table = _VALUES[alphabet]
    try:
        return [table[char] for char in s]
    except KeyError:
        raise _outside(s, alphabet, what) from None


# ISO 7064 hybrid system: remainders run mod 36 (0 read as 36), doubled mod 37 between steps.
# The step as one table per character, next product = _MOD37_36_STEP[char][product] for products
# 0-36, so each character costs one lookup rather than a value lookup and an arithmetic step.
_MOD37_36_STEP: Final = {
    char: tuple(((product + value) % 36 or 36) * 2 % 37 for product in range(37))
    for value, char in enumerate(ALPHANUMERIC)
}
MOD37_36_START: Final = 36


def mod37_36_product(s: str, product: int = MOD37_36_START) -> int:
    """Return the MOD 37,36 running product after ``s``, continuing from ``product``."""
    step = _MOD37_36_STEP
    try:
        for char in s:
            product = step[char][product]
    except KeyError:
        raise _outside(s, ALPHANUMERIC, "MOD 37,36 input") from None
    return product


def mod37_36_character(product: int) -> str:
    """Return the MOD 37,36 check character that closes a running ``product``."""
    return ALPHANUMERIC[(37 - product) % 36]


def mod37_36_check(s: str) -> str:
    """Return the ISO 7064 MOD 37,36 check character of ``s`` (alphabet 0-9A-Z)."""
    return mod37_36_character(mod37_36_product(s))


def mod37_36_valid(s_with_check: str) -> bool:
    """Whether ``s_with_check`` ends in its correct ISO 7064 MOD 37,36 check character."""
    if not s_with_check or not set(s_with_check) <= set(ALPHANUMERIC):
        return False
    body, check = s_with_check[:-1], s_with_check[-1]
    return mod37_36_check(body) == check


def mod11_2_check(digits: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character (0-9 or X) of a digit string."""
    values = _values(digits, DIGITS, "MOD 11-2 input")
    # The check character sits at weight 2**0; the body's last digit at 2**1, and so on leftwards.
    weights = _MOD11_2_WEIGHTS
    if len(values) > len(weights):
        weights = tuple(pow(2, k, 11) for k in range(1, len(values) + 1))
    total = sum(map(mul, reversed(values), weights))
    return (DIGITS + "X")[(12 - total % 11) % 11]


def mod11_2_valid(s_with_check: str) -> bool:
    """Whether a digit string ends in its correct ISO 7064 MOD 11-2 check character."""
    if not s_with_check or not set(s_with_check[:-1]) <= set(DIGITS):
        return False
    return mod11_2_check(s_with_check[:-1]) == s_with_check[-1]


def uscc_check(body: str) -> str:
    """Return the GB 32100 check character of the first 17 characters of a credit code."""
    if len(body) != len(_USCC_WEIGHTS):
        raise InvalidIdentifier(f"credit code body: expected 17 characters, got {len(body)}")
    values = _values(body, USCC_ALPHABET, "credit code body")
    total = sum(map(mul, values, _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_valid(code: str) -> bool:
    """Whether an 18-character credit code ends in its correct GB 32100 check character."""
    if len(code) != 18 or not set(code) <= set(USCC_ALPHABET):
        return False
    return uscc_check(code[:-1]) == code[-1]


def org_code_check(body: str) -> str:
    """Return the GB 11714 check character (0-9 or X) of an 8-character organisation code body."""
    if len(body) != len(_ORG_CODE_WEIGHTS):
        raise InvalidIdentifier(f"organisation code body: expected 8 characters, got {len(body)}")
    values = _values(body, ALPHANUMERIC, "organisation code body")
    remainder = 11 - sum(map(mul, values, _ORG_CODE_WEIGHTS)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def org_code_valid(code: str) -> bool:
    """Whether a 9-character organisation code ends in its correct GB 11714 check character."""
    if len(code) != 9 or not set(code[:-1]) <= set(ALPHANUMERIC):
        return False
    return org_code_check(code[:-1]) == code[-1]
