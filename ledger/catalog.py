"""The service catalog (事项目录 / 实施清单): the ServiceItem aggregate and its versioned terms.

A case is judged by the version in force when it was received, so versions are never edited:
an amendment is a new version with a later effective time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from ledger.actors import Actor, Channel
from ledger.catalog_terms import (
    Fee,
    Handling,
    ItemTerms,
    ItemType,
    Material,
    MaterialKind,
    NamedCode,
    ReformStatus,
    SpecialStep,
)
from ledger.errors import (
    CatalogVersionMismatch,
    EffectiveDateRejected,
    InvalidTimestamp,
    ItemWithdrawn,
    NoTermsInForce,
    PromisedTimeIncreased,
)
from ledger.rules import CATALOG_EDITORS, LedgerAggregate, check_command, require_text, require_utc

__all__ = [
    "Fee",
    "Handling",
    "ItemTerms",
    "ItemType",
    "Material",
    "MaterialKind",
    "NamedCode",
    "ReformStatus",
    "ServiceItem",
    "SpecialStep",
]

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:caseledger:catalog.item")


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
