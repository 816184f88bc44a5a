"""The sample catalog shipped as package data (``ledger/data/catalog.json``): items, departments
and e-license types of an illustrative city implementation list.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from ledger.catalog import ItemTerms, NamedCode
from ledger.errors import InvalidServiceItem

_RESOURCE = "data/catalog.json"


def _read() -> dict[str, Any]:
    text = resources.files("ledger").joinpath(_RESOURCE).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise InvalidServiceItem(f"{_RESOURCE} must hold a JSON object, got {type(data).__name__}")
    return data


def _named(data: dict[str, Any], key: str) -> dict[str, NamedCode]:
    return {
        code: NamedCode(code=code, name=entry["name"], name_en=entry["name_en"])
        for code, entry in data[key].items()
    }


def load_sample_departments() -> dict[str, NamedCode]:
    """Department codes (e.g. ``scjgj``) with their Chinese and English names."""
    return _named(_read(), "departments")


def load_sample_license_types() -> dict[str, NamedCode]:
    """E-license type codes (e.g. ``yyzz``) with their Chinese and English names."""
    return _named(_read(), "e_license_types")


def load_sample_catalog() -> list[ItemTerms]:
    """Every sample item as version-1 terms, checked against the departments and license types."""
    data = _read()
    departments = set(data["departments"])
    license_types = set(data["e_license_types"])
    items = [ItemTerms.from_dict(entry) for entry in data["items"]]
    for terms in items:
        unknown = sorted(set(terms.required_departments) - departments)
        if unknown:
            raise InvalidServiceItem(
                f"{terms.implementation_code} names departments {unknown}, "
                f"expected codes from {sorted(departments)}"
            )
        types = {m.e_license_type for m in terms.materials if m.e_license_type is not None}
        if not types <= license_types:
            raise InvalidServiceItem(
                f"{terms.implementation_code} names e-license types "
                f"{sorted(types - license_types)}, "
                f"expected codes from {sorted(license_types)}"
            )
    return items
