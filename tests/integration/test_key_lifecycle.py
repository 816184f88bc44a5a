"""Key changes made by one process reach the others on the same store within the key ring's
staleness bound: a revocation stops their signing and verifying, a rotation switches their signer,
and every event written on either side of it still verifies. One body per storage kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from eventsourcing.persistence import Notification

from keys import cose
from keys.errors import KeyNotValid
from keys.registry import KeyRole
from keys.signer import Ed25519Signer
from keys.store import InMemoryKeyStore
from ledger.actors import Actor, Role
from ledger.application import CaseLedger
from ledger.commands import Command
from ledger.errors import KeyRegistryChanged
from ledger.key_admin import ROTATION_OVERLAP, KeyAdministration
from ledger.signing import SigningIdentity
from tests.integration.conftest import Pair
from tests.scenarios import Clock, play_permit_until_decision
from tests.unit.ledger.conftest import ADMIN, T0

SEAL = SigningIdentity(KeyRole.DEPARTMENT_SEAL, "zjj")


@dataclass
class Seconds:
    """A fake monotonic clock for a key ring."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


def with_clock(ledger: CaseLedger) -> Seconds:
    seconds = Seconds()
    ledger.keyring.clock = seconds
    ledger.keyring.refresh()
    return seconds


def every_event_verifies(ledger: CaseLedger) -> int:
    """Read every stream back through the signed store of a process with empty caches."""
    notes = ledger.recorder.select_notifications(start=1, limit=10**6)
    return sum(len(list(ledger.events.get(s))) for s in {n.originator_id for n in notes})


def test_a_revocation_in_one_process_reaches_another_within_the_staleness_bound(
    pair: Pair,
) -> None:
    other = pair.another()
    seconds = with_clock(other)
    kid = pair.ledger.key_directory.signer_for(SEAL, T0)[1]
    clock = Clock(T0)
    other.keyring.entry(kid).check(clock.now, owner="zjj")  # read, and cached, there

    pair.ledger.key_admin.revoke(Command(at=clock.tick(), actor=ADMIN), kid, reason="私钥泄露")

    seconds.now += other.keyring.max_staleness / 2
    assert other.keyring.entry(kid).revoked_at is None  # still within the bound
    seconds.now += other.keyring.max_staleness
    with pytest.raises(KeyNotValid, match="revoked at"):
        other.keyring.entry(kid).check(clock.tick(), owner="zjj")


def test_a_rotation_in_one_process_switches_the_others_signer_and_all_events_verify(
    pair: Pair,
) -> None:
    other = pair.another()
    seconds = with_clock(other)
    old = other.key_directory.signer_for(SEAL, T0)[1]
    # Commands a second apart, as in real time: the stale process's signatures must fall
    # within the overlap (30 s), which its staleness bound (1 s) is far inside.
    clock = Clock(T0, step=timedelta(seconds=1))

    replacement = pair.ledger.key_admin.rotate(Command(at=clock.tick(), actor=ADMIN), old)
    new = bytes.fromhex(replacement.key["kid"])

    # Within the bound the other process still signs with the old key, which the overlap
    # keeps valid; once past it, with the new one.
    assert other.key_directory.signer_for(SEAL, clock.now)[1] == old
    verifier = Actor("verifier-wang", Role.VERIFIER, department="zjj")
    other.sharing.verify(Command(at=clock.tick(), actor=verifier), purpose="核验", qr_text="EL1:x")
    seconds.now += other.keyring.max_staleness
    assert other.key_directory.signer_for(SEAL, clock.now)[1] == new
    other.sharing.verify(Command(at=clock.tick(), actor=verifier), purpose="核验", qr_text="EL1:x")
    play_permit_until_decision(other, clock, "lifecycle-after-switch")

    fresh = pair.another()
    assert every_event_verifies(fresh) == (fresh.recorder.max_notification_id() or 0)
    signers = {
        e.kid
        for e in fresh.keyring.entries()
        if e.role == KeyRole.DEPARTMENT_SEAL and e.owner == "zjj"
    }
    assert signers == {old, new}


def test_a_replacement_published_ahead_switches_every_process_at_its_start_by_itself(
    pair: Pair,
) -> None:
    other = pair.another()
    seconds = with_clock(other)
    clock = Clock(T0, step=timedelta(seconds=1))
    old = other.key_directory.signer_for(SEAL, clock.now)[1]
    starts = T0 + timedelta(days=1)

    replacement = pair.ledger.key_admin.rotate(
        Command(at=clock.tick(), actor=ADMIN), old, starts_at=starts
    )
    new = bytes.fromhex(replacement.key["kid"])
    seconds.now += other.keyring.max_staleness  # the other process has read the change ...
    verifier = Actor("verifier-wang", Role.VERIFIER, department="zjj")
    other.sharing.verify(Command(at=clock.tick(), actor=verifier), purpose="核验", qr_text="EL1:x")
    assert other.key_directory.signer_for(SEAL, clock.now)[1] == old  # ... and waits for the start
    # At the start it switches with no further change to the registry.
    generation = other.keyring.fresh_generation()
    clock.now = starts
    assert other.key_directory.signer_for(SEAL, clock.now)[1] == new
    other.sharing.verify(Command(at=clock.tick(), actor=verifier), purpose="核验", qr_text="EL1:x")
    play_permit_until_decision(other, clock, "lifecycle-published-ahead")
    assert other.keyring.fresh_generation() == generation

    fresh = pair.another()
    assert every_event_verifies(fresh) == (fresh.recorder.max_notification_id() or 0)
    signed = [stored_kid(fresh, n) for n in fresh.recorder.select_notifications(1, 10**6)]
    assert old in signed and new in signed


def stored_kid(ledger: CaseLedger, notification: Notification) -> bytes:
    """The key id in the protected header of a stored event."""
    return bytes(cose.decode_sign1(notification.state).protected[cose.KID])


class RacingStore(InMemoryKeyStore):
    """The ledger's key store, where another process changes the registry once the new key is
    made and the registry read, as the root key is fetched to certify it (a hook on the real
    store, for the race only)."""

    def __init__(self, store: InMemoryKeyStore, race: Callable[[], None]) -> None:
        super().__init__()
        self._keys = store._keys  # the same keys: one store, seen by two processes
        self.race: Callable[[], None] | None = race

    def signer(self, name: str) -> Ed25519Signer:
        if name == "root" and self.race is not None:
            race, self.race = self.race, None
            race()
        return super().signer(name)


def test_a_rotation_that_loses_a_race_is_refused_and_leaves_no_key_behind(pair: Pair) -> None:
    other = pair.another()
    clock = Clock(T0, step=timedelta(seconds=1))
    seal = pair.ledger.key_directory.signer_for(SEAL, T0)[1]
    courier = pair.ledger.key_directory.signer_for(SigningIdentity(KeyRole.COURIER, "ems"), T0)[1]

    def race() -> None:
        other.key_admin.revoke(Command(at=clock.tick(), actor=ADMIN), courier, reason="丢失")

    admin = KeyAdministration(pair.ledger, RacingStore(pair.store, race), overlap=ROTATION_OVERLAP)
    names, events = pair.store.names(), pair.ledger.recorder.max_notification_id()

    with pytest.raises(KeyRegistryChanged, match="registry changed meanwhile"):
        admin.rotate(Command(at=clock.tick(), actor=ADMIN), seal)

    assert pair.store.names() == names  # the key made for the lost rotation is destroyed
    written = (pair.ledger.recorder.max_notification_id() or 0) - (events or 0)
    assert written == 2  # the other process's revocation (its record and the index), only
    assert pair.ledger.key_directory.signer_for(SEAL, clock.now)[1] == seal
