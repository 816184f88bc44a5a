"""Refused rule violations kept for auditors: the case stays unchanged, the attempt is recorded.

DOMAIN case rule 2: a second correction notice must be refused, and supervisors must see that it
was attempted (电子监察).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import event

from ledger.actors import Actor, Channel
from ledger.rules import LedgerAggregate


class RefusedAttempt(LedgerAggregate):
    """One refused attempt to break a case rule."""

    TOPIC_PREFIX: ClassVar[str] = "finding"

    @classmethod
    def create_id(cls, **_: object) -> UUID:
        """Each attempt is its own record."""
        return uuid4()

    @event("AttemptRefused")
    def __init__(
        self,
        *,
        case_id: UUID,
        rule: str,
        detail: str,
        at: datetime,
        actor: Actor,
        channel: Channel,
    ) -> None:
        self.case_id = case_id
        self.rule = rule
        self.detail = detail
