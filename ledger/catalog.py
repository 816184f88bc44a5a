"""The service catalog (事项目录 / 实施清单): versioned item terms a case is judged by.

A case is judged by the version in force when it was received, so versions are never edited:
an amendment is a new version with a later effective time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, ClassVar, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from ledger.actors import Actor, Channel
from ledger.errors import (
    CatalogVersionMismatch,
    EffectiveDateRejected,
    InvalidServiceItem,
    InvalidTimestamp,
    ItemWithdrawn,
    NoTermsInForce,
    PromisedTimeIncreased,
    UnknownMaterial,
)
from ledger.rules import CATALOG_EDITORS, LedgerAggregate, check_command, require_text, require_utc

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:caseledger:catalog.item")
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


def _enum(kind: type[_E], value: object, what: str) -> _E:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return kind(value)
    except ValueError:
        raise InvalidServiceItem(
            f"{what} must be one of {[m.value for m in kind]}, got {value!r}"
        ) from None


def _text(what: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidServiceItem(f"{what} must be non-empty text, got {value!r}")


def _texts(what: str, values: Iterable[object]) -> None:
    for value in values:
        _text(what, value)


def _flag(what: str, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidServiceItem(f"{what} must be a bool, got {value!r}")


def _days(what: str, value: object) -> int:
    if type(value) is not int or value < 0:
        raise InvalidServiceItem(
            f"{what} must be a whole number of working days >= 0, got {value!r}"
        )
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
        _text("material code", self.code)
        _text(f"name of material {self.code!r}", self.name)
        _enum(MaterialKind, self.kind, f"kind of material {self.code!r}")
        _flag(f"tolerable of material {self.code!r}", self.tolerable)
        _flag(f"original_check of material {self.code!r}", self.original_check)
        if self.tolerable and self.kind is not MaterialKind.SECONDARY:
            raise InvalidServiceItem(
                f"only a secondary material may be tolerable, got tolerable "
                f"{self.kind.value} material {self.code!r}"
            )
        if self.e_license_type is not None:
            _text(f"e-license type of material {self.code!r}", self.e_license_type)

    @property
    def is_main(self) -> bool:
        """Whether this is a main material (主件)."""
        return self.kind is MaterialKind.MAIN

    def as_dict(self) -> dict[str, Any]:
        """Return the material as plain data."""
        return {
            "code": self.code,
            "name": self.name,
            "name_en": self.name_en,
            "kind": self.kind.value,
            "tolerable": self.tolerable,
            "original_check": self.original_check,
            "e_license_type": self.e_license_type,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Material:
        """Rebuild a material from ``as_dict`` output."""
        return cls(
            code=data["code"],
            name=data["name"],
            name_en=data.get("name_en", ""),
            kind=_enum(MaterialKind, data["kind"], f"kind of material {data['code']!r}"),
            tolerable=data.get("tolerable", False),
            original_check=data.get("original_check", False),
            e_license_type=data.get("e_license_type"),
        )


@dataclass(frozen=True, kw_only=True)
class Fee:
    """A fee the item charges, in yuan."""

    name: str
    amount: Decimal
    basis: str = ""

    def __post_init__(self) -> None:
        _text("fee name", self.name)
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite() or self.amount < 0:
            raise InvalidServiceItem(
                f"fee {self.name!r} must be a Decimal >= 0, got {self.amount!r}"
            )

    def as_dict(self) -> dict[str, Any]:
        """Return the fee as plain data (the amount as decimal text)."""
        return {"name": self.name, "amount": str(self.amount), "basis": self.basis}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fee:
        """Rebuild a fee from ``as_dict`` output."""
        try:
            amount = Decimal(str(data["amount"]))
        except InvalidOperation:
            raise InvalidServiceItem(
                f"fee amount must be decimal text, got {data['amount']!r}"
            ) from None
        return cls(name=data["name"], amount=amount, basis=data.get("basis", ""))


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
        _text("implementation code", code)
        _text(f"basic code of {code}", self.basic_code)
        _text(f"name of {code}", self.name)
        _text(f"lead department of {code}", self.lead_department)
        _texts(f"joint department of {code}", self.joint_departments)
        _texts(f"condition of {code}", self.conditions)
        if type(self.version) is not int or self.version < 1:
            raise InvalidServiceItem(f"version of {code} must be an int >= 1, got {self.version!r}")
        try:
            require_utc(self.effective_from)
        except InvalidTimestamp:
            raise InvalidServiceItem(
                f"effective_from of {code} must be an aware UTC datetime, "
                f"got {self.effective_from!r}"
            ) from None
        _enum(ItemType, self.item_type, f"item type of {code}")
        _enum(Handling, self.handling, f"handling of {code}")
        _enum(ReformStatus, self.reform_status, f"reform status of {code}")
        for step in self.special_steps:
            _enum(SpecialStep, step, f"special step of {code}")
        if not self.legal_basis:
            raise InvalidServiceItem(
                f"{code} must cite at least one legal basis (设定依据), got none"
            )
        _texts(f"legal basis of {code}", self.legal_basis)
        self._check_materials()
        self._check_departments()
        self._check_time_limits()
        if not all(isinstance(f, Fee) for f in self.fees):
            raise InvalidServiceItem(f"fees of {code} must be Fee values, got {self.fees!r}")

    def _check_materials(self) -> None:
        if not all(isinstance(m, Material) for m in self.materials):
            raise InvalidServiceItem(f"materials must be Material values, got {self.materials!r}")
        codes = [m.code for m in self.materials]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise InvalidServiceItem(f"material codes must be unique, got repeated {duplicates}")
        if self.visit_target not in (0, 1):
            raise InvalidServiceItem(f"visit target must be 0 or 1, got {self.visit_target!r}")
        checked = [m.code for m in self.materials if m.original_check]
        if self.visit_target == 0 and checked:
            raise InvalidServiceItem(
                "a zero-visit item (不见面) may not need an on-site original check, "
                f"got original_check on {checked}"
            )

    def _check_departments(self) -> None:
        joint = list(self.joint_departments)
        if self.lead_department in joint or len(set(joint)) != len(joint):
            raise InvalidServiceItem(
                f"joint departments must be distinct and exclude the lead "
                f"{self.lead_department!r}, got {joint}"
            )

    def _check_time_limits(self) -> None:
        statutory = _days("statutory days", self.statutory_days)
        promised = _days("promised days", self.promised_days)
        if promised > statutory:
            raise InvalidServiceItem(
                f"promised days must not exceed statutory days {statutory}, got {promised}"
            )
        if (self.handling is Handling.IMMEDIATE) != (promised == 0):
            raise InvalidServiceItem(
                f"an immediate item has 0 promised days and a commitment item more, got "
                f"{self.handling.value} item with {promised}"
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
        return {
            "implementation_code": self.implementation_code,
            "basic_code": self.basic_code,
            "version": self.version,
            "effective_from": self.effective_from,
            "name": self.name,
            "name_en": self.name_en,
            "item_type": self.item_type.value,
            "lead_department": self.lead_department,
            "joint_departments": list(self.joint_departments),
            "legal_basis": list(self.legal_basis),
            "conditions": list(self.conditions),
            "materials": [m.as_dict() for m in self.materials],
            "statutory_days": self.statutory_days,
            "promised_days": self.promised_days,
            "handling": self.handling.value,
            "visit_target": self.visit_target,
            "reform_status": self.reform_status.value,
            "special_steps": [s.value for s in self.special_steps],
            "fees": [f.as_dict() for f in self.fees],
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ItemTerms:
        """Rebuild terms from ``as_dict`` output (``effective_from`` may be ISO 8601 text)."""
        code = data.get("implementation_code")
        try:
            effective = data["effective_from"]
            if isinstance(effective, str):
                effective = datetime.fromisoformat(effective)
            return cls(
                implementation_code=data["implementation_code"],
                basic_code=data["basic_code"],
                version=data["version"],
                effective_from=effective,
                name=data["name"],
                name_en=data.get("name_en", ""),
                item_type=_enum(ItemType, data["item_type"], f"item type of {code}"),
                lead_department=data["lead_department"],
                joint_departments=tuple(data.get("joint_departments", ())),
                legal_basis=tuple(data["legal_basis"]),
                conditions=tuple(data.get("conditions", ())),
                materials=tuple(Material.from_dict(m) for m in data["materials"]),
                statutory_days=data["statutory_days"],
                promised_days=data["promised_days"],
                handling=_enum(Handling, data["handling"], f"handling of {code}"),
                visit_target=data["visit_target"],
                reform_status=_enum(ReformStatus, data["reform_status"], f"reform of {code}"),
                special_steps=tuple(
                    _enum(SpecialStep, s, f"special step of {code}")
                    for s in data.get("special_steps", ())
                ),
                fees=tuple(Fee.from_dict(f) for f in data.get("fees", ())),
                notes=data.get("notes", ""),
            )
        except KeyError as exc:
            raise InvalidServiceItem(f"terms of {code} lack the field {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise InvalidServiceItem(f"terms of {code} are malformed: {exc}") from None


class ServiceItem(LedgerAggregate):
    """One implementation-list item (事项) and the history of its terms."""

    TOPIC_PREFIX: ClassVar[str] = "catalog.item"

    @classmethod
    def create_id(cls, implementation_code: str) -> UUID:
        """The item's id, derived from its implementation code."""
        return uuid5(_NAMESPACE, implementation_code)

    @classmethod
    def publish(
        cls, terms: ItemTerms, *, at: datetime, actor: Actor, channel: Channel
    ) -> ServiceItem:
        """Publish an item's first version."""
        check_command(
            "publish a service item", at=at, actor=actor, channel=channel, roles=CATALOG_EDITORS
        )
        if not isinstance(terms, ItemTerms) or terms.version != 1:
            got = terms.version if isinstance(terms, ItemTerms) else type(terms).__name__
            raise CatalogVersionMismatch(f"a new item is published as version 1, got {got}")
        return cls(
            implementation_code=terms.implementation_code,
            terms=terms.as_dict(),
            at=at,
            actor=actor,
            channel=channel,
        )

    @event("Published")
    def __init__(
        self,
        *,
        implementation_code: str,
        terms: dict[str, Any],
        at: datetime,
        actor: Actor,
        channel: Channel,
    ) -> None:
        self._implementation_code = implementation_code
        self._versions: list[ItemTerms] = [ItemTerms.from_dict(terms)]
        self._withdrawn_from: datetime | None = None
        self._withdrawal_reason: str | None = None

    @property
    def implementation_code(self) -> str:
        """The implementation code (实施编码) the item is keyed by."""
        return self._implementation_code

    @property
    def current(self) -> ItemTerms:
        """The newest version (which may not be in force yet)."""
        return self._versions[-1]

    @property
    def versions(self) -> tuple[ItemTerms, ...]:
        """Every version, oldest first."""
        return tuple(self._versions)

    @property
    def withdrawn_from(self) -> datetime | None:
        """When the withdrawal takes effect, if withdrawn."""
        return self._withdrawn_from

    @property
    def withdrawal_reason(self) -> str | None:
        """Why the item was withdrawn, if withdrawn."""
        return self._withdrawal_reason

    def terms_at(self, at: datetime) -> ItemTerms:
        """The version in force at ``at``."""
        require_utc(at)
        if self._withdrawn_from is not None and at >= self._withdrawn_from:
            raise ItemWithdrawn(
                f"item {self.implementation_code} is withdrawn from {self._withdrawn_from}, "
                f"asked for {at}"
            )
        in_force = [t for t in self._versions if t.effective_from <= at]
        if not in_force:
            raise NoTermsInForce(
                f"item {self.implementation_code} is in force from "
                f"{self._versions[0].effective_from}, asked for {at}"
            )
        return in_force[-1]

    def amend(
        self,
        terms: ItemTerms,
        *,
        at: datetime,
        actor: Actor,
        channel: Channel,
        promise_increase_reason: str | None = None,
    ) -> None:
        """Publish the next version; a longer promised time needs a stated reason."""
        self._check(
            "amend a service item", at=at, actor=actor, channel=channel, roles=CATALOG_EDITORS
        )
        self._require_not_withdrawn()
        current = self.current
        if not isinstance(terms, ItemTerms):
            raise CatalogVersionMismatch(f"expected ItemTerms, got {type(terms).__name__}")
        if (terms.implementation_code, terms.version) != (
            self.implementation_code,
            current.version + 1,
        ):
            raise CatalogVersionMismatch(
                f"expected version {current.version + 1} of {self.implementation_code}, got "
                f"version {terms.version} of {terms.implementation_code}"
            )
        self._require_effective(terms.effective_from, at)
        if promise_increase_reason is not None:
            require_text("promise increase reason", promise_increase_reason)
        elif terms.promised_days > current.promised_days:
            raise PromisedTimeIncreased(
                f"promised days may only stay or fall from {current.promised_days} without a "
                f"reason, got {terms.promised_days}"
            )
        self._amend(
            terms=terms.as_dict(),
            promise_increase_reason=promise_increase_reason,
            at=at,
            actor=actor,
            channel=channel,
        )

    @event("Amended")
    def _amend(
        self,
        *,
        terms: dict[str, Any],
        promise_increase_reason: str | None,
        at: datetime,
        actor: Actor,
        channel: Channel,
    ) -> None:
        self._versions.append(ItemTerms.from_dict(terms))

    def withdraw(
        self,
        *,
        effective_from: datetime,
        reason: str,
        at: datetime,
        actor: Actor,
        channel: Channel,
    ) -> None:
        """Withdraw the item from ``effective_from`` on."""
        self._check(
            "withdraw a service item", at=at, actor=actor, channel=channel, roles=CATALOG_EDITORS
        )
        self._require_not_withdrawn()
        self._require_effective(effective_from, at)
        require_text("withdrawal reason", reason)
        self._withdraw(
            effective_from=effective_from, reason=reason, at=at, actor=actor, channel=channel
        )

    @event("Withdrawn")
    def _withdraw(
        self,
        *,
        effective_from: datetime,
        reason: str,
        at: datetime,
        actor: Actor,
        channel: Channel,
    ) -> None:
        self._withdrawn_from = effective_from
        self._withdrawal_reason = reason

    def _require_not_withdrawn(self) -> None:
        if self._withdrawn_from is not None:
            raise ItemWithdrawn(
                f"item {self.implementation_code} was withdrawn from {self._withdrawn_from}; "
                "expected an item still in the catalog"
            )

    def _require_effective(self, effective_from: datetime, at: datetime) -> None:
        try:
            require_utc(effective_from)
        except InvalidTimestamp:
            raise EffectiveDateRejected(
                f"effective_from must be an aware UTC datetime, got {effective_from!r}"
            ) from None
        latest = self.current.effective_from
        # Changes are never retroactive: a case already received keeps the version it got.
        if effective_from < at:
            raise EffectiveDateRejected(
                f"effective_from must not precede the command time {at}, got {effective_from}"
            )
        if effective_from <= latest:
            raise EffectiveDateRejected(
                f"effective_from must be after version {self.current.version}'s {latest}, "
                f"got {effective_from}"
            )
