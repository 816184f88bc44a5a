"""Idempotent commands: a client-supplied command id maps to one record of the first result.

The record is saved in the same atomic batch as the command's events, so a repeat finds it and
returns the first result without writing anything; the same id with different arguments is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from ledger.actors import Actor, Channel
from ledger.errors import LedgerError
from ledger.rules import LedgerAggregate

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:caseledger:command")


@dataclass(frozen=True)
class Command:
    """Who issues a command, when, through which channel, and its concurrency/idempotency keys."""

    at: datetime
    actor: Actor
    channel: Channel = Channel.SYSTEM
    expected_version: int | None = None
    command_id: str | None = None


class IdempotencyConflict(LedgerError):
    """A command id reused for a different command or different arguments."""


def fingerprint(command: str, arguments: dict[str, Any]) -> str:
    """Return a stable digest of a command name and its arguments."""
    text = command + "\x00" + repr(sorted((k, repr(v)) for k, v in arguments.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CommandRecord(LedgerAggregate):
    """The first outcome of one client-supplied command id."""

    TOPIC_PREFIX: ClassVar[str] = "command"

    @classmethod
    def create_id(cls, principal: str, command_id: str) -> UUID:
        """Scope command ids by principal, so two clients cannot collide."""
        return uuid5(_NAMESPACE, f"{principal}\x00{command_id}")

    @event("Recorded")
    def __init__(
        self,
        *,
        principal: str,
        command_id: str,
        command: str,
        fingerprint: str,
        result: dict[str, Any],
        at: datetime,
        actor: Actor,
        channel: Channel,
    ) -> None:
        self.principal = principal
        self.command_id = command_id
        self.command = command
        self.fingerprint = fingerprint
        self.result = dict(result)

    def check_repeat(self, command: str, digest: str) -> None:
        """Raise unless a repeat asks for exactly the recorded command."""
        if command != self.command or digest != self.fingerprint:
            raise IdempotencyConflict(
                f"command id {self.command_id!r} was used for {self.command!r} with other "
                f"arguments; expected the same command and arguments, got {command!r}"
            )
