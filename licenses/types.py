"""The e-license types a region issues: catalog code, GB/T 36904 type code, issuing department,
validity, and which service items produce them (package data ``licenses/data/license_types.json``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from licenses.errors import LicenseError
from licenses.holder_ids import parse_uscc


class UnknownLicenseType(LicenseError):
    """No license type with that code, or no license issued for that item."""


@dataclass(frozen=True)
class LicenseType:
    """One e-license type and where it comes from."""

    code: str
    name: str
    name_en: str
    type_code: str
    issuer: str
    issuer_uscc: str
    validity_years: int | None
    items: tuple[str, ...]


@dataclass(frozen=True)
class LicenseTypes:
    """The registry of license types, looked up by catalog code or by producing item."""

    by_code: Mapping[str, LicenseType]

    def get(self, code: str) -> LicenseType:
        """Return the type with catalog code ``code``."""
        try:
            return self.by_code[code]
        except KeyError:
            raise UnknownLicenseType(
                f"license type code: expected one of {sorted(self.by_code)}, got {code!r}"
            ) from None

    def for_item(self, item_code: str) -> LicenseType:
        """Return the type a service item issues."""
        for license_type in self.by_code.values():
            if item_code in license_type.items:
                return license_type
        raise UnknownLicenseType(f"service item {item_code} issues no e-license type")

    def type_codes_by_issuer(self) -> dict[str, set[str]]:
        """Return, per issuing department, the GB/T 36904 type codes its seal may sign."""
        result: dict[str, set[str]] = {}
        for license_type in self.by_code.values():
            result.setdefault(license_type.issuer, set()).add(license_type.type_code)
        return result


def _parse(code: str, raw: Mapping[str, Any]) -> LicenseType:
    license_type = LicenseType(
        code=code,
        name=str(raw["name"]),
        name_en=str(raw["name_en"]),
        type_code=str(raw["type_code"]),
        issuer=str(raw["issuer"]),
        issuer_uscc=parse_uscc(str(raw["issuer_uscc"])).value,
        validity_years=raw.get("validity_years"),
        items=tuple(raw.get("items", ())),
    )
    if not license_type.type_code.startswith(license_type.issuer_uscc):
        raise UnknownLicenseType(
            f"type {code}: type code must start with the issuer's credit code "
            f"{license_type.issuer_uscc}, got {license_type.type_code}"
        )
    return license_type


def load_license_types() -> LicenseTypes:
    """Read the license types shipped as package data."""
    text = resources.files("licenses").joinpath("data/license_types.json").read_text("utf-8")
    data = json.loads(text)
    return LicenseTypes({code: _parse(code, raw) for code, raw in data["types"].items()})
