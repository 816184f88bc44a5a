"""The signed, hash-chained event store and the application base that wires it in.

``SignedEventStore.put`` links each event to the previous one of its stream (within a batch and
to the stored head) and signs it; ``get`` verifies every event it returns and the links between
them. ``SignedApplication`` plugs the CBOR transcoder, the signing mapper and this store into an
eventsourcing ``Application`` through its ``construct_*`` hooks.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    EventStore,
    Mapper,
    Notification,
    Recording,
    StoredEvent,
    Transcoder,
)

from keys.registry import KeyEntry
from ledger.errors import IntegrityError
from ledger.signing import (
    KeyDirectory,
    SigningMapper,
    TopicRegistry,
    event_hash,
    genesis_hash,
)
from ledger.transcodings import CBORTranscoder


def _as_uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


class SignedEventStore(EventStore[UUID]):
    """Signs and chains on write; verifies signature, key and chain on every read."""

    HEAD_CACHE_SIZE = 100_000

    def __init__(self, mapper: SigningMapper, recorder: Any) -> None:
        super().__init__(mapper=mapper, recorder=recorder)
        self.signing: SigningMapper = mapper
        # stream -> (seq, hash) of the newest event this process has written or verified; events
        # are immutable, so a cached (seq, hash) can only be right or behind, never wrong.
        self._heads: OrderedDict[UUID, tuple[int, bytes]] = OrderedDict()

    def _remember(self, stream: UUID, seq: int, digest: bytes) -> None:
        current = self._heads.get(stream)
        if current is None or current[0] <= seq:
            self._heads[stream] = (seq, digest)
            self._heads.move_to_end(stream)
            if len(self._heads) > self.HEAD_CACHE_SIZE:
                self._heads.popitem(last=False)

    def _stored_prev(self, stream: UUID, seq: int) -> bytes:
        if seq == 1:
            return genesis_hash(stream)
        cached = self._heads.get(stream)
        if cached is not None and cached[0] == seq - 1:
            return cached[1]
        rows = list(self.recorder.select_events(stream, gt=seq - 2, lte=seq - 1))
        if len(rows) != 1:
            raise IntegrityError(stream, seq, "chain", f"previous event #{seq - 1} is missing")
        return event_hash(rows[0].state)

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Recording[UUID]]:
        """Sign, chain and insert a batch atomically; returns the recordings."""
        batch_heads: dict[UUID, tuple[int, bytes]] = {}
        stored_events: list[StoredEvent] = []
        for domain_event in domain_events:
            stream = _as_uuid(domain_event.originator_id)
            seq = domain_event.originator_version
            head = batch_heads.get(stream)
            prev = (
                head[1]
                if head is not None and head[0] == seq - 1
                else self._stored_prev(stream, seq)
            )
            stored = self.signing.to_signed_stored_event(domain_event, prev)
            batch_heads[stream] = (seq, event_hash(stored.state))
            stored_events.append(stored)
        notification_ids = self.recorder.insert_events(stored_events, **kwargs)
        for stream, (seq, digest) in batch_heads.items():
            self._remember(stream, seq, digest)
        recordings: list[Recording[UUID]] = []
        if notification_ids:
            for d, s, n_id in zip(domain_events, stored_events, notification_ids, strict=True):
                recordings.append(
                    Recording(
                        d,
                        Notification(
                            originator_id=s.originator_id,
                            originator_version=s.originator_version,
                            topic=s.topic,
                            state=s.state,
                            id=n_id,
                        ),
                    )
                )
        return recordings

    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[Any]:
        """Return verified domain events of a stream, each linked to its predecessor."""
        stream = _as_uuid(originator_id)
        rows = list(self.recorder.select_events(stream, gt=gt, lte=lte))
        events = []
        prev: bytes | None = None
        if rows:
            first = rows[0].originator_version
            prev = self._prev_for_read(stream, first)
        for row in rows:
            assert prev is not None  # set above whenever rows is non-empty
            digest = event_hash(row.state)
            # Bytes this process signed (or already verified) need no second signature check;
            # equal hashes mean equal bytes. Structure and chain are still checked.
            known = self._heads.get(stream) == (row.originator_version, digest)
            envelope = self.signing.verify(row, prev, check_signature=not known)
            events.append(self.signing.event_from_envelope(row, envelope))
            prev = digest
            self._remember(stream, row.originator_version, prev)
        if desc:
            events.reverse()
        if limit is not None:
            events = events[:limit]
        return iter(events)

    def _prev_for_read(self, stream: UUID, first: int) -> bytes:
        if first == 1:
            return genesis_hash(stream)
        cached = self._heads.get(stream)
        if cached is not None and cached[0] == first - 1:
            return cached[1]
        before = list(self.recorder.select_events(stream, gt=first - 2, lte=first - 1))
        if len(before) != 1:
            raise IntegrityError(stream, first, "chain", f"previous event #{first - 1} is missing")
        return event_hash(before[0].state)

    def verify_stored(self, stored: StoredEvent, prev: bytes) -> dict[str, Any]:
        """Verify one stored event against a known predecessor hash (for whole-log audits)."""
        return self.signing.verify(stored, prev)


class SignedApplication(Application[UUID]):
    """An eventsourcing application whose every stored event is signed and chained."""

    aggregates: ClassVar[tuple[type[Aggregate], ...]] = ()
    # The library's default page of 10 makes every log reader chatty; read in pages of 1,000.
    log_section_size = 1000

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        directory: KeyDirectory,
        root_public_key_der: bytes,
        root_kid: bytes,
    ) -> None:
        self._directory = directory
        self._root_public_key_der = root_public_key_der
        self._root_kid = root_kid
        self.topics = TopicRegistry()
        for aggregate in self.aggregates:
            self.topics.register(aggregate)
        super().__init__(env)

    def construct_transcoder(self) -> Transcoder:
        """Use strict canonical CBOR."""
        return CBORTranscoder()

    def construct_mapper(self) -> Mapper[UUID]:
        """Use the signing mapper."""
        transcoder = self.construct_transcoder()
        assert isinstance(transcoder, CBORTranscoder)
        return SigningMapper(
            transcoder,
            self.topics,
            lambda: self._directory,
            self._root_public_key_der,
            self._root_kid,
        )

    def construct_event_store(self) -> EventStore[UUID]:
        """Use the signed, chained event store."""
        assert isinstance(self.mapper, SigningMapper)
        return SignedEventStore(self.mapper, self.recorder)

    def keyring_entry(self, kid: bytes) -> KeyEntry:
        """Return the registered entry of a key id (for showing who signed)."""
        return self._directory.entry(kid)

    @property
    def signed_events(self) -> SignedEventStore:
        """The signed event store (typed)."""
        assert isinstance(self.events, SignedEventStore)
        return self.events
