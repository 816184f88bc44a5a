"""Policy rules shared by the ledger's aggregates: command preconditions, local dates, materials,
tolerance and reviews — pure functions, plus the aggregate base that stamps events with ``at``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from eventsourcing.domain import Aggregate, CanInitAggregate, CanMutateAggregate

from ledger.actors import Actor, Channel, Role
from ledger.documents import DocumentRef, ELicenseRef
from ledger.errors import (
    ActionNotPermitted,
    CommitmentDueAfterDeadline,
    DateInPast,
    ELicenseMaterialDemanded,
    ELicenseNotAccepted,
    InvalidCommand,
    InvalidDueDate,
    InvalidTimestamp,
    MainMaterialMissing,
    MaterialNotTolerable,
    NothingToTolerate,
)

if TYPE_CHECKING:
    from ledger.catalog import ItemTerms

# Mainland China has kept UTC+8 without daylight saving since 1991; due dates, pauses and
# "not in the past" are judged on the local calendar day, not the UTC one.
CHINA_TIME = timezone(timedelta(hours=8), "CST")

STAFF: frozenset[Role] = frozenset({Role.OFFICER})
INTAKE: frozenset[Role] = frozenset({Role.APPLICANT, Role.OFFICER})
CATALOG_EDITORS: frozenset[Role] = frozenset({Role.ADMIN, Role.OFFICER, Role.SYSTEM})


def require_utc(at: object) -> datetime:
    """Return ``at`` if it is a timezone-aware UTC datetime."""
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() != timedelta(0):
        raise InvalidTimestamp(f"command time must be an aware UTC datetime, got {at!r}")
    return at


def local_date(at: datetime) -> date:
    """The calendar day in China at ``at``."""
    return at.astimezone(CHINA_TIME).date()


def require_text(what: str, value: object) -> str:
    """Return ``value`` if it is non-blank text."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidCommand(f"{what} must be non-empty text, got {value!r}")
    return value


def require_texts(what: str, values: Iterable[str], *, allow_empty: bool = False) -> list[str]:
    """Return ``values`` as a list of non-blank texts (non-empty unless ``allow_empty``)."""
    if isinstance(values, str):
        raise InvalidCommand(f"{what} must be a list of texts, got the single text {values!r}")
    texts = [require_text(what, v) for v in values]
    if not texts and not allow_empty:
        raise InvalidCommand(f"{what} must list at least one reason, got none")
    return texts


def require_not_past(what: str, day: object, at: datetime) -> date:
    """Return ``day`` if it is a date on or after the local day of ``at``."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise InvalidCommand(f"{what} must be a date, got {day!r}")
    today = local_date(at)
    if day < today:
        raise DateInPast(f"{what} must be on or after {today}, got {day}")
    return day


def require_role(
    command: str, actor: Actor, allowed: Collection[Role], *, proxy: bool = False
) -> None:
    """Refuse an actor whose role may not run ``command`` (a proxy may when ``proxy``)."""
    if actor.role in allowed or (proxy and actor.on_behalf_of):
        return
    expected = sorted(r.value for r in allowed) + (["<anyone acting on behalf>"] if proxy else [])
    raise ActionNotPermitted(
        f"role '{actor.role.value}' may not {command}, expected one of {expected}"
    )


def check_command(
    command: str,
    *,
    at: object,
    actor: object,
    channel: object,
    roles: Collection[Role],
    proxy: bool = False,
) -> None:
    """Check the common command arguments: UTC time, an ``Actor`` allowed to act, a ``Channel``."""
    require_utc(at)
    if not isinstance(actor, Actor):
        raise InvalidCommand(f"actor must be an Actor, got {type(actor).__name__}")
    if not isinstance(channel, Channel):
        raise InvalidCommand(f"channel must be a Channel, got {channel!r}")
    require_role(command, actor, roles, proxy=proxy)


class LedgerAggregate(Aggregate):
    """Base of the ledger's aggregates: every event's timestamp is its command's ``at``."""

    @classmethod
    def _create(
        cls,
        event_class: type[CanInitAggregate[UUID]],
        *,
        id: UUID | None = None,
        **kwargs: Any,
    ) -> Self:
        # The store reads ``at`` back as the timestamp; using it here too makes an aggregate built
        # by commands equal to one replayed from storage, and no clock is read.
        kwargs["timestamp"] = kwargs.get("at")
        return super()._create(event_class, id=id, **kwargs)

    def trigger_event(self, event_class: type[CanMutateAggregate[UUID]], **kwargs: Any) -> None:
        """Trigger an event stamped with the command's ``at``."""
        kwargs["timestamp"] = kwargs.get("at")
        super().trigger_event(event_class, **kwargs)

    def _check(
        self,
        command: str,
        *,
        at: datetime,
        actor: Actor,
        channel: Channel,
        roles: Collection[Role],
        proxy: bool = False,
    ) -> None:
        check_command(command, at=at, actor=actor, channel=channel, roles=roles, proxy=proxy)
        # A stream whose times run backwards would make pauses and deadlines meaningless.
        if at < self.modified_on:
            raise InvalidTimestamp(
                f"command time must not precede the last event at {self.modified_on}, got {at}"
            )


def material_data(terms: ItemTerms, supplied: Mapping[str, object]) -> dict[str, dict[str, Any]]:
    """Check supplied materials against the item and return them as event data by code."""
    data: dict[str, dict[str, Any]] = {}
    for code, ref in supplied.items():
        material = terms.material(code)
        if isinstance(ref, ELicenseRef):
            if material.e_license_type is None:
                raise ELicenseNotAccepted(
                    f"material {code!r} accepts no e-license, expected a document, "
                    f"got e-license {ref.license_id!r}"
                )
        elif not isinstance(ref, DocumentRef):
            raise InvalidCommand(
                f"material {code!r} must be a DocumentRef or ELicenseRef, got {type(ref).__name__}"
            )
        data[code] = ref.as_dict()
    return data


def missing_materials(terms: ItemTerms, held: Collection[str]) -> tuple[list[str], list[str]]:
    """The item's main and secondary material codes not in ``held``, in catalog order."""
    main = [m.code for m in terms.materials if m.is_main and m.code not in held]
    secondary = [m.code for m in terms.materials if not m.is_main and m.code not in held]
    return main, secondary


def check_receipt_due(terms: ItemTerms, due: object, at: datetime) -> date:
    """Return ``due`` if it fits a receipt at ``at``: today if immediate, else a later day."""
    day = require_not_past("due date", due, at)
    today = local_date(at)
    if terms.is_immediate and day != today:
        raise InvalidDueDate(f"an immediate item is due on the receipt day {today}, got {day}")
    if not terms.is_immediate and day == today:
        raise InvalidDueDate(
            f"a commitment item ({terms.promised_days} promised days) is due after {today}, "
            f"got {day}"
        )
    return day


def tolerated_materials(
    terms: ItemTerms, held: Collection[str], *, commitment_due: object, due: date, at: datetime
) -> list[str]:
    """Return the missing materials a tolerance acceptance may commit to, or refuse it."""
    main, secondary = missing_materials(terms, held)
    if main:
        raise MainMaterialMissing(
            f"tolerance needs every main material, expected none missing, got missing {main}"
        )
    intolerable = [c for c in secondary if not terms.material(c).tolerable]
    if intolerable:
        raise MaterialNotTolerable(
            f"only tolerable secondary materials may be missing, got non-tolerable {intolerable}"
        )
    if not secondary:
        raise NothingToTolerate("every material is present, expected at least one missing")
    day = require_not_past("commitment due date", commitment_due, at)
    if day > due:
        raise CommitmentDueAfterDeadline(
            f"commitment due date must be on or before the case deadline {due}, got {day}"
        )
    return secondary


def notice_items(
    terms: ItemTerms, held: Mapping[str, Mapping[str, Any]], items: Mapping[str, str]
) -> list[dict[str, str]]:
    """Check a correction notice's material → reason map and return it as event data."""
    if not items:
        raise InvalidCommand("a correction notice must list at least one material, got none")
    listed = []
    for code, reason in items.items():
        terms.material(code)
        if held.get(code, {}).get("kind") == "e_license":
            raise ELicenseMaterialDemanded(
                f"material {code!r} is satisfied by e-license "
                f"{held[code].get('license_id')!r}, expected it not to be demanded"
            )
        listed.append({"material": code, "reason": require_text(f"reason for {code!r}", reason)})
    return listed


def missing_approvals(terms: ItemTerms, approvals: Mapping[str, bool]) -> list[str]:
    """Required departments without an approving opinion, lead first."""
    return [d for d in terms.required_departments if not approvals.get(d, False)]
