"""Policy rules shared by the ledger's aggregates — command preconditions, local dates, receipt,
tolerance, deadlines and reviews — as pure functions, plus the aggregates' common base.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate, CanInitAggregate, CanMutateAggregate

from ledger.actors import Actor, Channel, Role
from ledger.documents import missing_materials
from ledger.errors import (
    ActionNotPermitted,
    CommitmentDueAfterDeadline,
    DateInPast,
    DepartmentNotRequired,
    InvalidCommand,
    InvalidDueDate,
    InvalidTimestamp,
    LedgerError,
    MainMaterialMissing,
    MaterialNotTolerable,
    MaterialsIncomplete,
    NothingToTolerate,
    OpinionAlreadyGiven,
    StepNotDeclared,
    WrongDepartment,
)

if TYPE_CHECKING:
    from ledger.catalog import ItemTerms

# Mainland China has kept UTC+8 without daylight saving since 1991; due dates, pauses and
# "not in the past" are judged on the local calendar day, not the UTC one.
CHINA_TIME = timezone(timedelta(hours=8), "CST")

STAFF: frozenset[Role] = frozenset({Role.OFFICER})
INTAKE: frozenset[Role] = frozenset({Role.APPLICANT, Role.OFFICER})
CATALOG_EDITORS: frozenset[Role] = frozenset({Role.ADMIN, Role.OFFICER, Role.SYSTEM})

_E = TypeVar("_E", bound=StrEnum)


def courier_company(name: str) -> str:
    """The courier company a company name or courier account stands for: a courier signs in as
    its company ("ems") or as one of its people ("ems.ziyang"); "EMS" names the same company."""
    return name.split(".", 1)[0].casefold()


def require_utc(at: object) -> datetime:
    """Return ``at`` if it is a timezone-aware UTC datetime."""
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() != timedelta(0):
        raise InvalidTimestamp(f"command time must be an aware UTC datetime, got {at!r}")
    return at


def local_date(at: datetime) -> date:
    """The calendar day in China at ``at``."""
    return at.astimezone(CHINA_TIME).date()


def parse_enum(
    kind: type[_E], value: object, what: str, error: type[LedgerError] = InvalidCommand
) -> _E:
    """Return the member of ``kind`` whose value is ``value`` (members pass through)."""
    if isinstance(value, str) and value in kind._value2member_map_:
        return kind(value)
    raise error(f"{what} must be one of {[m.value for m in kind]}, got {value!r}")


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
    """Base of the ledger's aggregates: every event carries ``at``, ``actor`` and ``channel``."""

    class Event(Aggregate.Event):
        """An event with the accountable party the signed envelope records."""

        at: datetime
        actor: Actor
        channel: Channel

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


def check_submission(
    terms: ItemTerms,
    *,
    submission_id: str,
    item_code: str,
    applicant: str,
    at: datetime,
    channel: Channel,
) -> None:
    """Check a submission: ids given, the snapshot is of this item and in force, a valid route."""
    require_text("submission id", submission_id)
    require_text("applicant", applicant)
    if terms.implementation_code != item_code:
        raise InvalidCommand(
            f"terms must be those of item {item_code}, got {terms.implementation_code}"
        )
    if terms.effective_from > at:
        raise InvalidCommand(
            f"terms version {terms.version} is in force from {terms.effective_from}, "
            f"expected a version in force at {at}"
        )
    if channel not in (Channel.ONLINE, Channel.WINDOW):
        raise InvalidCommand(f"a case is submitted online or at a window, got '{channel}'")


def check_receipt(
    terms: ItemTerms, held: Collection[str], *, receipt_number: str, due: object, at: datetime
) -> None:
    """Check a plain receipt: a receipt number, every material present, a fitting due date."""
    require_text("receipt number", receipt_number)
    main, secondary = missing_materials(terms, held)
    if main or secondary:
        raise MaterialsIncomplete(main, secondary)
    check_receipt_due(terms, due, at)


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


def missing_approvals(terms: ItemTerms, approvals: Mapping[str, bool]) -> list[str]:
    """Required departments without an approving opinion, lead first."""
    return [d for d in terms.required_departments if not approvals.get(d, False)]


def check_later_due(due: object, current: date | None, at: datetime, *, strictly: bool) -> date:
    """Return a new due date that is not in the past and not (``strictly``: nor equal) earlier."""
    day = require_not_past("due date", due, at)
    if current is not None and (day < current or (strictly and day == current)):
        relation = "after" if strictly else "on or after"
        raise InvalidDueDate(f"due date must be {relation} the current {current}, got {day}")
    return day


def check_step(terms: ItemTerms, step: StrEnum) -> None:
    """Refuse a suspension for a special step the item does not declare."""
    if step not in terms.special_steps:
        raise StepNotDeclared(
            f"item {terms.implementation_code} declares special steps "
            f"{[s.value for s in terms.special_steps]}, got '{step}'"
        )


def check_opinion(
    terms: ItemTerms, given: Collection[str], *, department: str, approve: object, actor: Actor
) -> None:
    """Check a review opinion: a required department, its own officer, its first opinion."""
    required = list(terms.required_departments)
    if department not in required:
        raise DepartmentNotRequired(
            f"opinions come from the required departments {required}, got {department!r}"
        )
    if actor.department != department:
        raise WrongDepartment(
            f"an opinion of {department!r} is given by its own officer, "
            f"got an officer of {actor.department!r}"
        )
    if department in given:
        raise OpinionAlreadyGiven(f"department {department!r} already gave its opinion")
    if not isinstance(approve, bool):
        raise InvalidCommand(f"approve must be a bool, got {approve!r}")
