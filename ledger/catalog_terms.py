"""The catalog's item terms: one version of a service item's rules (types, materials, fees,
time limits, special steps) as validated frozen values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from ledger.errors import InvalidServiceItem, UnknownMaterial
from ledger.rules import parse_enum

_E = TypeVar("_E", bound=StrEnum)


class ItemType(StrEnum):
    """Kind of power or service (事项类型)."""

    LICENSING = "行政许可"
    CONFIRMATION = "行政确认"
    BENEFIT = "行政给付"
    LEVY = "行政征收"
    OTHER_POWER = "其他行政权力"
    PUBLIC_SERVICE = "公共服务"


class MaterialKind(StrEnum):
    """Main (主件) or secondary (副件) material; only secondary ones may be tolerated."""

    MAIN = "main"
    SECONDARY = "secondary"


class Handling(StrEnum):
    """Immediate item (即办件, decided on the spot) or commitment item (承诺件)."""

    IMMEDIATE = "immediate"
    COMMITMENT = "commitment"


class ReformStatus(StrEnum):
    """Whether the item is already run-at-most-once or becomes so after reform."""

    ACHIEVED = "已实现"
    AFTER_REFORM = "改革后"


class SpecialStep(StrEnum):
    """Special steps (特殊环节) whose time does not count against the promised limit."""

    SITE_INSPECTION = "site_inspection"
    EXPERT_REVIEW = "expert_review"
    HEARING = "hearing"
    PUBLIC_NOTICE = "public_notice"
    TESTING = "testing"


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise InvalidServiceItem(message)


def _enum(kind: type[_E], value: object, what: str) -> _E:
    return parse_enum(kind, value, what, InvalidServiceItem)


def _texts(what: str, *values: object) -> None:
    for value in values:
        _require(
            isinstance(value, str) and bool(value.strip()),
            f"{what} must be non-empty text, got {value!r}",
        )


def _days(what: str, value: object) -> int:
    if type(value) is not int or value < 0:
        raise InvalidServiceItem(f"{what} must be whole working days >= 0, got {value!r}")
    return value


@dataclass(frozen=True)
class NamedCode:
    """A short stable code with its Chinese and English names (departments, e-license types)."""

    code: str
    name: str
    name_en: str


@dataclass(frozen=True, kw_only=True)
class Material:
    """A required material; a tolerable one may be missing at receipt on commitment (容缺)."""

    code: str
    name: str
    kind: MaterialKind
    name_en: str = ""
    tolerable: bool = False
    original_check: bool = False
    e_license_type: str | None = None

    def __post_init__(self) -> None:
        _texts("material code and name", self.code, self.name)
        _enum(MaterialKind, self.kind, f"kind of material {self.code!r}")
        flags = (self.tolerable, self.original_check)
        _require(all(isinstance(f, bool) for f in flags), f"flags of {self.code!r} must be bools")
        _require(
            not self.tolerable or self.kind is MaterialKind.SECONDARY,
            f"only a secondary material may be tolerable, got tolerable {self.kind} "
            f"material {self.code!r}",
        )
        if self.e_license_type is not None:
            _texts(f"e-license type of material {self.code!r}", self.e_license_type)

    @property
    def is_main(self) -> bool:
        """Whether this is a main material (主件)."""
        return self.kind is MaterialKind.MAIN

    def as_dict(self) -> dict[str, Any]:
        """Return the material as plain data."""
        return {**vars(self), "kind": self.kind.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Material:
        """Rebuild a material from ``as_dict`` output."""
        kind = _enum(MaterialKind, data.get("kind"), f"kind of material {data.get('code')!r}")
        return cls(**{**data, "kind": kind})


@dataclass(frozen=True, kw_only=True)
class Fee:
    """A fee the item charges, in yuan."""

    name: str
    amount: Decimal
    basis: str = ""

    def __post_init__(self) -> None:
        _texts("fee name", self.name)
        ok = isinstance(self.amount, Decimal) and self.amount.is_finite() and self.amount >= 0
        _require(ok, f"fee {self.name!r} must be a Decimal >= 0, got {self.amount!r}")

    def as_dict(self) -> dict[str, Any]:
        """Return the fee as plain data (the amount as decimal text)."""
        return {"name": self.name, "amount": str(self.amount), "basis": self.basis}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fee:
        """Rebuild a fee from ``as_dict`` output."""
        try:
            return cls(**{**data, "amount": Decimal(str(data.get("amount")))})
        except InvalidOperation:
            raise InvalidServiceItem(f"fee amount must be decimal text, got {data}") from None


# ItemTerms fields held in plain data as enum values, and as lists of texts.
_ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "item_type": ItemType,
    "handling": Handling,
    "reform_status": ReformStatus,
}
_TEXT_LISTS = ("joint_departments", "legal_basis", "conditions")


@dataclass(frozen=True, kw_only=True)
class ItemTerms:
    """One version of an item's terms, in force from ``effective_from``."""

    implementation_code: str
    basic_code: str
    version: int
    effective_from: datetime
    name: str
    name_en: str
    item_type: ItemType
    lead_department: str
    legal_basis: tuple[str, ...]
    materials: tuple[Material, ...]
    statutory_days: int
    promised_days: int
    handling: Handling
    visit_target: int
    reform_status: ReformStatus
    joint_departments: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    special_steps: tuple[SpecialStep, ...] = ()
    fees: tuple[Fee, ...] = ()
    notes: str = ""

    def __post_init__(self) -> None:
        code = self.implementation_code
        _texts("implementation code", code)
        _texts(
            f"basic code, name and lead department of {code}",
            self.basic_code,
            self.name,
            self.lead_department,
        )
        _texts(
            f"joint departments and conditions of {code}", *self.joint_departments, *self.conditions
        )
        _require(
            type(self.version) is int and self.version >= 1,
            f"version of {code} must be an int >= 1, got {self.version!r}",
        )
        at = self.effective_from
        _require(
            isinstance(at, datetime) and at.utcoffset() == timedelta(0),
            f"effective_from of {code} must be an aware UTC datetime, got {at!r}",
        )
        for name, kind in _ENUM_FIELDS.items():
            _enum(kind, getattr(self, name), f"{name} of {code}")
        for step in self.special_steps:
            _enum(SpecialStep, step, f"special step of {code}")
        _require(bool(self.legal_basis), f"{code} must cite a legal basis (设定依据), got none")
        _texts(f"legal basis of {code}", *self.legal_basis)
        kinds_ok = all(isinstance(m, Material) for m in self.materials) and all(
            isinstance(f, Fee) for f in self.fees
        )
        _require(kinds_ok, f"materials and fees of {code} must be Material and Fee values")
        self._check_materials()
        self._check_departments()
        self._check_time_limits()

    def _check_materials(self) -> None:
        codes = [m.code for m in self.materials]
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        _require(not repeated, f"material codes must be unique, got repeated {repeated}")
        _require(
            self.visit_target in (0, 1), f"visit target must be 0 or 1, got {self.visit_target!r}"
        )
        checked = [m.code for m in self.materials if m.original_check]
        _require(
            self.visit_target == 1 or not checked,
            "a zero-visit item (不见面) may not need an on-site original check, "
            f"got original_check on {checked}",
        )

    def _check_departments(self) -> None:
        joint = list(self.joint_departments)
        _require(
            self.lead_department not in joint and len(set(joint)) == len(joint),
            "joint departments must be distinct and exclude the lead "
            f"{self.lead_department!r}, got {joint}",
        )

    def _check_time_limits(self) -> None:
        statutory = _days("statutory days", self.statutory_days)
        promised = _days("promised days", self.promised_days)
        _require(
            promised <= statutory,
            f"promised days must not exceed statutory days {statutory}, got {promised}",
        )
        _require(
            (self.handling is Handling.IMMEDIATE) == (promised == 0),
            "an immediate item has 0 promised days and a commitment item more, got "
            f"{self.handling} item with {promised}",
        )

    @property
    def is_immediate(self) -> bool:
        """Whether the item is decided on the spot (即办件)."""
        return self.handling is Handling.IMMEDIATE

    @property
    def required_departments(self) -> tuple[str, ...]:
        """Departments whose opinions a grant needs: the lead, then the joint reviewers."""
        return (self.lead_department, *self.joint_departments)

    def material(self, code: str) -> Material:
        """Return the material with ``code`` or raise ``UnknownMaterial``."""
        for material in self.materials:
            if material.code == code:
                return material
        raise UnknownMaterial(
            f"item {self.implementation_code} has no material {code!r}, expected one of "
            f"{[m.code for m in self.materials]}"
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the terms as plain data (event-safe: lists, texts, an aware datetime)."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update({name: data[name].value for name in _ENUM_FIELDS})
        data.update({name: list(data[name]) for name in _TEXT_LISTS})
        data["materials"] = [m.as_dict() for m in self.materials]
        data["special_steps"] = [s.value for s in self.special_steps]
        data["fees"] = [f.as_dict() for f in self.fees]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ItemTerms:
        """Rebuild terms from ``as_dict`` output (``effective_from`` may be ISO 8601 text)."""
        if not isinstance(data, Mapping):
            raise InvalidServiceItem(f"terms must be a map, got {type(data).__name__}")
        code = data.get("implementation_code")
        required = [f.name for f in fields(cls) if f.default is MISSING]
        missing = [name for name in required if name not in data]
        _require(not missing, f"terms of {code} lack the fields {missing}")
        kw = dict(data)
        if isinstance(kw["effective_from"], str):
            kw["effective_from"] = datetime.fromisoformat(kw["effective_from"])
        kw.update({n: _enum(k, kw[n], f"{n} of {code}") for n, k in _ENUM_FIELDS.items()})
        kw.update({name: tuple(kw.get(name, ())) for name in _TEXT_LISTS})
        kw["materials"] = tuple(Material.from_dict(m) for m in kw["materials"])
        kw["special_steps"] = tuple(
            _enum(SpecialStep, s, f"special step of {code}") for s in kw.get("special_steps", ())
        )
        kw["fees"] = tuple(Fee.from_dict(f) for f in kw.get("fees", ()))
        try:
            return cls(**kw)
        except (TypeError, ValueError) as exc:
            raise InvalidServiceItem(f"terms of {code} are malformed: {exc}") from None
