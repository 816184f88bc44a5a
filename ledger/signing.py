"""The signed event: each stored event's ``state`` is a COSE_Sign1 over a CBOR envelope.

Envelope (DESIGN §3): ``stream``, ``seq``, ``type`` (stable topic), ``at``, ``actor``, ``channel``,
``prev`` (SHA-256 of the previous stored event of the stream; a genesis value for seq 1) and
``data``. The event hash is SHA-256 of the exact stored COSE bytes. Reading fails closed: every
check below raises ``IntegrityError`` naming the stream, seq and the check.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper, StoredEvent

from keys import cose
from keys.algorithms import load_public_key
from keys.errors import KeyManagementError, KeyNotValid
from keys.registry import KeyEntry, KeyRole
from keys.signer import Signer
from ledger.actors import Actor, Channel, Role
from ledger.errors import IntegrityError, LedgerError
from ledger.transcodings import CBORTranscoder, EncodingError

GENESIS_DOMAIN = b"caseledger/genesis/v1\x00"
ENVELOPE_KEYS = frozenset({"stream", "seq", "type", "at", "actor", "channel", "prev", "data"})


def genesis_hash(stream: UUID) -> bytes:
    """Return the fixed ``prev`` value of a stream's first event."""
    return hashlib.sha256(GENESIS_DOMAIN + stream.bytes).digest()


def event_hash(state: bytes) -> bytes:
    """Return the event hash: SHA-256 of the exact stored COSE bytes."""
    return hashlib.sha256(state).digest()


class SigningIdentityError(LedgerError):
    """No key may sign for the given actor."""


class SigningKeyUnavailable(SigningIdentityError):
    """The key that signs for the actor is revoked, retired or expired: nothing is signed for
    them until an administrator replaces it."""


@dataclass(frozen=True)
class SigningIdentity:
    """Which kind of registered key signs for an actor: a key role and, if fixed, its owner."""

    role: str
    owner: str | None


def signing_identity(actor: Mapping[str, Any]) -> SigningIdentity:
    """Return whose key must sign an action by ``actor`` (DESIGN §3 'Who signs')."""
    role = actor.get("role")
    if role in (Role.OFFICER, Role.VERIFIER):
        # A department's seal key signs for its officers (and its verifying staff); the person
        # is named in the payload.
        return SigningIdentity(KeyRole.DEPARTMENT_SEAL, str(actor.get("department")))
    if role == Role.APPLICANT:
        # The platform's intake key signs an applicant's online actions.
        return SigningIdentity(KeyRole.INTAKE, None)
    if role == Role.COURIER:
        return SigningIdentity(KeyRole.COURIER, str(actor.get("principal")))
    if role in (Role.ADMIN, Role.SYSTEM):
        return SigningIdentity(KeyRole.ROOT, None)
    raise SigningIdentityError(
        f"actors with role {role!r} do not write to the ledger; expected officer, verifier, "
        "applicant, courier, admin or system"
    )


class KeyDirectory(Protocol):
    """Finds the signer for an identity and the registered entry for a kid."""

    def signer_for(self, identity: SigningIdentity, at: datetime) -> tuple[Signer, bytes]:
        """Return the signer and kid that act for ``identity`` at ``at``."""
        ...

    def entry(self, kid: bytes) -> KeyEntry:
        """Return the registered entry for ``kid`` (raises a ``KeyManagementError`` if unknown)."""
        ...

    def check_signer(self, identity: SigningIdentity, at: datetime) -> KeyEntry:
        """Raise unless the key acting for ``identity`` is registered for it and valid at ``at``."""
        ...


class TopicRegistry:
    """Stable topics ``<aggregate prefix>.<EventName>`` for every nested aggregate event class."""

    def __init__(self) -> None:
        self._by_topic: dict[str, type[Any]] = {}
        self._by_class: dict[type[Any], str] = {}
        self._aggregate_of: dict[type[Any], type[Aggregate]] = {}
        self._aggregates: dict[str, type[Aggregate]] = {}
        self._aggregate_topics: dict[type[Aggregate], str] = {}

    def register(self, aggregate: type[Aggregate]) -> None:
        """Register an aggregate class (with ``TOPIC_PREFIX``) and its nested event classes."""
        prefix: str = aggregate.TOPIC_PREFIX  # type: ignore[attr-defined]
        self._aggregates[prefix] = aggregate
        self._aggregate_topics[aggregate] = prefix
        for name in dir(aggregate):
            obj = getattr(aggregate, name)
            if (
                isinstance(obj, type)
                and issubclass(obj, Aggregate.Event)
                and obj.__qualname__.startswith(aggregate.__qualname__ + ".")
                and name not in ("Event", "Created")
            ):
                topic = f"{prefix}.{name}"
                self._by_topic[topic] = obj
                self._by_class[obj] = topic
                self._aggregate_of[obj] = aggregate

    def topic_of(self, event_class: type[Any]) -> str:
        """Return the stable topic of an event class."""
        try:
            return self._by_class[event_class]
        except KeyError:
            raise LedgerError(
                f"event class {event_class.__qualname__} has no registered stable topic"
            ) from None

    def resolve(self, topic: str) -> type[Any]:
        """Return the event class of a stable topic."""
        return self._by_topic[topic]

    def aggregate_of(self, event_class: type[Any]) -> type[Aggregate]:
        """Return the aggregate class an event class belongs to."""
        return self._aggregate_of[event_class]

    def aggregate_topic(self, aggregate: type[Any]) -> str:
        """Return the stable topic of an aggregate class."""
        return self._aggregate_topics[aggregate]

    def resolve_aggregate(self, topic: str) -> type[Aggregate]:
        """Return the aggregate class of a stable aggregate topic."""
        return self._aggregates[topic]


class SigningMapper(Mapper[UUID]):
    """Turns domain events into signed, chained stored events and back, verifying on the way in."""

    def __init__(
        self,
        transcoder: CBORTranscoder,
        topics: TopicRegistry,
        directory: Callable[[], KeyDirectory],
        root_public_key_der: bytes,
        root_kid: bytes,
    ) -> None:
        super().__init__(transcoder=transcoder)
        self.topics = topics
        self._directory = directory
        self._root_key = load_public_key(root_public_key_der)
        self._root_kid = root_kid
        self._parsed_keys: dict[bytes, Any] = {}

    def _public_key(self, entry: KeyEntry) -> Any:
        # Parsing a DER key costs more than a verification's bookkeeping; keys never change.
        key = self._parsed_keys.get(entry.public_key)
        if key is None:
            key = self._parsed_keys[entry.public_key] = load_public_key(entry.public_key)
        return key

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """Refuse: a signed event needs its ``prev`` hash, which only the event store knows."""
        raise LedgerError("signed events are written through SignedEventStore.put (needs prev)")

    def to_signed_stored_event(self, domain_event: Any, prev: bytes) -> StoredEvent:
        """Sign ``domain_event`` as the next event after ``prev`` and return the stored event."""
        event_class = type(domain_event)
        topic = self.topics.topic_of(event_class)
        state = dict(vars(domain_event))
        stream = state.pop("originator_id")
        seq = state.pop("originator_version")
        state.pop("timestamp", None)  # replaced by the command's own time, ``at``
        at = state.pop("at")
        actor_value = state.pop("actor")
        channel = str(state.pop("channel"))
        if "originator_topic" in state:
            state["originator_topic"] = self.topics.aggregate_topic(
                self.topics.aggregate_of(event_class)
            )
        actor = actor_value.as_dict() if isinstance(actor_value, Actor) else dict(actor_value)
        envelope = {
            "stream": stream,
            "seq": seq,
            "type": topic,
            "at": at,
            "actor": actor,
            "channel": channel,
            "prev": prev,
            "data": state,
        }
        identity = signing_identity(actor)
        directory = self._directory()
        signer, kid = directory.signer_for(identity, at)
        if identity.role == KeyRole.ROOT:
            # The root key is the configured trust anchor (it signs its own registration).
            if kid != self._root_kid:
                raise SigningIdentityError(
                    f"root actions must be signed by root key {self._root_kid.hex()}, "
                    f"the store holds {kid.hex()}"
                )
        else:
            # Fail closed on write too: a revoked, expired or foreign key never signs.
            try:
                directory.check_signer(identity, at)
            except KeyNotValid as exc:
                raise SigningKeyUnavailable(
                    f"cannot sign for {actor.get('principal')}: {exc}; an administrator must "
                    "replace the key"
                ) from None
            except KeyManagementError as exc:
                raise SigningIdentityError(
                    f"cannot sign for {actor.get('principal')}: {exc}"
                ) from None
        payload = self.transcoder.encode(envelope)
        return StoredEvent(
            originator_id=stream,
            originator_version=seq,
            topic=topic,
            state=cose.sign1(payload, signer, kid=kid),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """Refuse: reading must check the chain, which only the event store can do."""
        raise LedgerError("signed events are read through SignedEventStore.get (checks prev)")

    def verify(
        self, stored: StoredEvent, expected_prev: bytes, *, check_signature: bool = True
    ) -> dict[str, Any]:
        """Run every read check on one stored event and return its envelope (fail closed).

        ``check_signature=False`` skips steps 4-5 only for bytes the caller already verified.
        """
        stream, seq = stored.originator_id, stored.originator_version

        def fail(check: str, detail: str) -> IntegrityError:
            return IntegrityError(stream, seq, check, detail)

        # 1. COSE structure.
        try:
            message = cose.decode_sign1(stored.state)
        except KeyManagementError as exc:
            raise fail("cose", str(exc)) from None
        # 2. Strict CBOR envelope with exactly the expected fields.
        try:
            envelope = self.transcoder.decode(message.payload)
        except EncodingError as exc:
            raise fail("payload", str(exc)) from None
        if not isinstance(envelope, dict) or set(envelope) != ENVELOPE_KEYS:
            keys = sorted(envelope) if isinstance(envelope, dict) else type(envelope).__name__
            raise fail("payload", f"expected fields {sorted(ENVELOPE_KEYS)}, got {keys}")
        # 3. The row must say what the signed payload says.
        if envelope["stream"] != stream:
            raise fail("stream", f"row stream {stream}, signed stream {envelope['stream']}")
        if envelope["seq"] != seq:
            raise fail("seq", f"row seq {seq}, signed seq {envelope['seq']}")
        if envelope["type"] != stored.topic:
            raise fail("type", f"row topic {stored.topic!r}, signed type {envelope['type']!r}")
        at = envelope["at"]
        if not isinstance(at, datetime) or at.tzinfo is None:
            raise fail("payload", f"'at' must be an aware datetime, got {at!r}")
        if check_signature:
            # 4. The kid must name a key valid at ``at`` for this actor.
            kid = message.kid
            if not isinstance(kid, bytes):
                raise fail("key", "message carries no kid")
            actor = envelope["actor"]
            if not isinstance(actor, dict):
                raise fail("payload", f"'actor' must be a map, got {type(actor).__name__}")
            try:
                identity = signing_identity(actor)
            except SigningIdentityError as exc:
                raise fail("key", str(exc)) from None
            if kid == self._root_kid and identity.role == KeyRole.ROOT:
                public_key = self._root_key
            else:
                try:
                    entry = self._directory().entry(kid)
                except KeyManagementError as exc:
                    raise fail("key", str(exc)) from None
                if entry.role != identity.role:
                    raise fail(
                        "key",
                        f"actor needs a {identity.role} key, kid {kid.hex()} is a {entry.role} key",
                    )
                problem = entry.problem(at, owner=identity.owner)
                if problem is not None:
                    raise fail("key", problem)
                public_key = self._public_key(entry)
            # 5. The signature over the exact bytes received.
            try:
                cose.verify_decoded(message, public_key)
            except KeyManagementError as exc:
                raise fail("signature", str(exc)) from None
        # 6. The chain link.
        if envelope["prev"] != expected_prev:
            got = envelope["prev"].hex() if isinstance(envelope["prev"], bytes) else "?"
            raise fail(
                "chain", f"prev {got} does not match the previous event {expected_prev.hex()}"
            )
        return envelope

    def event_from_envelope(self, stored: StoredEvent, envelope: dict[str, Any]) -> Any:
        """Rebuild the domain event object from a verified envelope."""
        try:
            cls = self.topics.resolve(stored.topic)
        except KeyError:
            raise IntegrityError(
                stored.originator_id,
                stored.originator_version,
                "type",
                f"unknown event type {stored.topic!r}",
            ) from None
        aggregate = self.topics.aggregate_of(cls)
        state: dict[str, Any] = dict(envelope["data"])
        if "originator_topic" in state:
            # The library resolves this topic itself, so store-side names go back to classes.
            from eventsourcing.utils import get_topic

            state["originator_topic"] = get_topic(
                self.topics.resolve_aggregate(state["originator_topic"])
            )
        actor = envelope["actor"]
        if getattr(aggregate, "ACTOR_FORMAT", "actor") == "mapping":
            state["actor"] = dict(actor)
            state["channel"] = envelope["channel"]
        else:
            state["actor"] = Actor.from_dict(actor)
            state["channel"] = Channel(envelope["channel"])
        state["at"] = envelope["at"]
        state["timestamp"] = envelope["at"]
        state["originator_id"] = stored.originator_id
        state["originator_version"] = stored.originator_version
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event
