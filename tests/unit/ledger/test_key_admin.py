"""Key administration: a held key is replaced with an overlap and the new one signs; a compromised
key is revoked from the time of the compromise; a courier's device key is enrolled; each command
once per command id, and a refused one writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from keys.errors import KeyManagementError, KeyNotValid, RegistryConflict, UnknownKey
from keys.registry import KeyRole, kid_for
from keys.signer import Ed25519Signer
from ledger.actors import Actor, Role
from ledger.application import CaseLedger
from ledger.commands import Command
from ledger.errors import ActionNotPermitted
from ledger.key_admin import ROTATION_OVERLAP
from ledger.key_views import key_state
from ledger.signing import SigningIdentity, SigningKeyUnavailable
from tests.scenarios import Clock, finish_by_courier, play_permit_until_decision, supplement_all
from tests.unit.ledger.conftest import ADMIN, T0, event_count, make_ledger
from tests.unit.ledger.test_vault_service import offline

SEAL = SigningIdentity(KeyRole.DEPARTMENT_SEAL, "zjj")
COURIER = SigningIdentity(KeyRole.COURIER, "ems")


def held(ledger: CaseLedger, identity: SigningIdentity) -> bytes:
    """The kid this ledger signs with for ``identity`` now."""
    return ledger.key_directory.signer_for(identity)[1]


def admin(clock: Clock, **kwargs: object) -> Command:
    return Command(at=clock.tick(), actor=ADMIN, **kwargs)  # type: ignore[arg-type]


def every_event_verifies(ledger: CaseLedger) -> int:
    """Read every stream back through the signed store (signature, key at its time, chain)."""
    streams = {n.originator_id for n in ledger.recorder.select_notifications(start=1, limit=10**6)}
    return sum(len(list(ledger.events.get(stream))) for stream in streams)


def test_a_rotated_department_key_is_replaced_and_the_new_key_signs_from_then_on() -> None:
    ledger, store = make_ledger()
    clock = Clock(T0)
    old = held(ledger, SEAL)
    before = finish_by_courier(ledger, clock, _decided(ledger, clock, "rot-1"))

    replacement = ledger.key_admin.rotate(admin(clock), old)

    new = bytes.fromhex(replacement.key["kid"])
    assert held(ledger, SEAL) == new != old
    assert replacement.replaces is not None
    assert replacement.replaces["state"] == "retiring"
    assert replacement.key["license_types"] == replacement.replaces["license_types"]
    assert f"dept-zjj.{new.hex()[:16]}" in store.names()
    entry = ledger.keyring.entry(old)
    assert entry.successor == new
    assert entry.rotated_at == clock.now + ROTATION_OVERLAP
    after = finish_by_courier(ledger, clock, _decided(ledger, clock, "rot-2"))
    # Licenses from before and after both verify offline against the current trust list.
    for issued in (before, after):
        result = offline(ledger, store, issued.qr_text, timedelta(hours=1), clock)
        assert result.valid, result.reason  # type: ignore[attr-defined]
    assert every_event_verifies(ledger) == event_count(ledger)


def test_once_the_overlap_ends_the_old_key_is_rotated_and_refuses_to_sign() -> None:
    ledger, _ = make_ledger()
    clock = Clock(T0)
    old = held(ledger, SEAL)
    ledger.key_admin.rotate(admin(clock), old)
    entry = ledger.keyring.entry(old)
    assert key_state(entry, clock.now + ROTATION_OVERLAP - timedelta(seconds=1)) == "retiring"
    assert key_state(entry, clock.now + ROTATION_OVERLAP) == "rotated"
    entry.check(clock.now + ROTATION_OVERLAP - timedelta(seconds=1), owner="zjj")
    with pytest.raises(KeyNotValid, match="rotated at"):
        entry.check(clock.now + ROTATION_OVERLAP, owner="zjj")


def test_a_repeated_rotation_with_the_same_command_id_answers_the_same_and_writes_nothing() -> None:
    ledger, store = make_ledger()
    clock = Clock(T0)
    old = held(ledger, SEAL)
    cmd = admin(clock, command_id="rotate-zjj-1")
    first = ledger.key_admin.rotate(cmd, old)
    events, names = event_count(ledger), store.names()
    again = ledger.key_admin.rotate(cmd, old)
    assert again == first
    assert (event_count(ledger), store.names()) == (events, names)


def test_a_key_already_replaced_cannot_be_rotated_again_and_nothing_is_written() -> None:
    ledger, store = make_ledger()
    clock = Clock(T0)
    old = held(ledger, SEAL)
    ledger.key_admin.rotate(admin(clock), old)
    events, names = event_count(ledger), store.names()
    with pytest.raises(RegistryConflict, match="already replaced"):
        ledger.key_admin.rotate(admin(clock), old)
    assert (event_count(ledger), store.names()) == (events, names)


@pytest.mark.parametrize("role", [KeyRole.ROOT, KeyRole.LOG])
def test_the_root_and_log_keys_are_not_replaced_here(role: str) -> None:
    ledger, store = make_ledger()
    clock = Clock(T0)
    [entry] = [e for e in ledger.keyring.entries() if e.role == role]
    events, names = event_count(ledger), store.names()
    with pytest.raises(RegistryConflict, match="not replaced here"):
        ledger.key_admin.rotate(admin(clock), entry.kid)
    assert (event_count(ledger), store.names()) == (events, names)


@pytest.mark.parametrize("role", [Role.OFFICER, Role.AUDITOR, Role.VERIFIER])
def test_only_administrators_administer_keys(role: Role) -> None:
    ledger, _ = make_ledger()
    clock = Clock(T0)
    actor = Actor("someone", role, department="zjj")
    events, old = event_count(ledger), held(ledger, SEAL)
    with pytest.raises(ActionNotPermitted, match=f"got {role.value}"):
        ledger.key_admin.rotate(Command(at=clock.tick(), actor=actor), old)
    with pytest.raises(ActionNotPermitted):
        ledger.key_admin.revoke(Command(at=clock.tick(), actor=actor), old, reason="泄露")
    assert event_count(ledger) == events


def test_an_unknown_key_is_named_in_the_error() -> None:
    ledger, _ = make_ledger()
    with pytest.raises(UnknownKey, match="ab" * 16):
        ledger.key_admin.rotate(admin(Clock(T0)), bytes.fromhex("ab" * 16))


def test_a_compromised_key_revoked_back_to_the_compromise_signs_nothing_until_replaced() -> None:
    ledger, _ = make_ledger()
    clock = Clock(T0)
    case_id = _decided(ledger, clock, "rev-1")
    old = held(ledger, SEAL)
    compromised = clock.now
    answer = ledger.key_admin.revoke(admin(clock), old, reason="私钥泄露", revoked_at=compromised)
    assert (answer["state"], answer["revoked_at"]) == ("revoked", compromised.isoformat())
    events = event_count(ledger)
    with pytest.raises(SigningKeyUnavailable, match="revoked at"):
        ledger.issue_license(case_id, Command(at=clock.tick(), actor=_officer()))
    assert event_count(ledger) == events
    replacement = ledger.key_admin.rotate(admin(clock), old)
    assert replacement.replaces is not None and replacement.replaces["state"] == "revoked"
    issued = ledger.issue_license(case_id, Command(at=clock.tick(), actor=_officer()))
    assert issued.license_id
    assert held(ledger, SEAL) == bytes.fromhex(replacement.key["kid"])


def test_a_revoked_key_cannot_be_revoked_again_nor_the_root_at_all() -> None:
    ledger, _ = make_ledger()
    clock = Clock(T0)
    old = held(ledger, SEAL)
    ledger.key_admin.revoke(admin(clock), old, reason="退役")
    events = event_count(ledger)
    with pytest.raises(RegistryConflict, match="already revoked"):
        ledger.key_admin.revoke(admin(clock), old, reason="退役")
    with pytest.raises(RegistryConflict, match="root key anchors"):
        ledger.key_admin.revoke(admin(clock), ledger.keyring.root_kid, reason="x")
    with pytest.raises(RegistryConflict, match="lies after the command time"):
        ledger.key_admin.revoke(
            admin(clock), held(ledger, COURIER), reason="x", revoked_at=clock.now + timedelta(1)
        )
    assert event_count(ledger) == events


def test_a_couriers_device_key_signs_its_reports_while_the_held_key_signs_its_events() -> None:
    ledger, store = make_ledger()
    clock = Clock(T0)
    held_kid, names = held(ledger, COURIER), store.names()
    first, second = Ed25519Signer.generate(), Ed25519Signer.generate()
    enrolled = ledger.key_admin.enrol(
        admin(clock), courier="ems", public_key_der=first.public_key_der()
    )
    assert enrolled.key["kid"] == kid_for(first.public_key_der()).hex()
    assert (enrolled.key["owner"], enrolled.key["state"], enrolled.replaces) == (
        "ems",
        "active",
        None,
    )
    assert store.names() == names  # the device's private key never reaches the service
    assert held(ledger, COURIER) == held_kid
    replaced = ledger.key_admin.enrol(
        admin(clock),
        courier="ems",
        public_key_der=second.public_key_der(),
        replaces=kid_for(first.public_key_der()),
    )
    assert replaced.replaces is not None and replaced.replaces["state"] == "retiring"
    assert held(ledger, COURIER) == held_kid
    with pytest.raises(RegistryConflict, match="does not hold the private key"):
        ledger.key_admin.rotate(admin(clock), kid_for(second.public_key_der()))


@pytest.mark.parametrize(
    ("courier", "replaces", "match"),
    [
        ("ems", "held", "held by this service; rotate it instead"),
        ("ems", "seal", "not courier 'ems'"),
    ],
)
def test_an_enrolment_that_cannot_stand_is_refused_and_writes_nothing(
    courier: str, replaces: str | None, match: str
) -> None:
    ledger, _ = make_ledger()
    clock = Clock(T0)
    kid = {None: None, "held": held(ledger, COURIER), "seal": held(ledger, SEAL)}[replaces]
    events = event_count(ledger)
    with pytest.raises(RegistryConflict, match=match):
        ledger.key_admin.enrol(
            admin(clock),
            courier=courier,
            public_key_der=Ed25519Signer.generate().public_key_der(),
            replaces=kid,
        )
    assert event_count(ledger) == events


def test_a_new_courier_is_enrolled_with_a_key_held_here_to_sign_its_events() -> None:
    ledger, store = make_ledger()
    clock = Clock(T0)
    device = Ed25519Signer.generate()
    sf = SigningIdentity(KeyRole.COURIER, "sf-express")
    enrolled = ledger.key_admin.enrol(
        admin(clock), courier="sf-express", public_key_der=device.public_key_der()
    )
    assert enrolled.key["kid"] == kid_for(device.public_key_der()).hex()
    assert "courier-sf-express" in store.names()
    signing = held(ledger, sf)
    assert signing != kid_for(device.public_key_der())
    assert ledger.keyring.entry(signing).owner == "sf-express"
    # A second device key beside the first provisions nothing more.
    names = store.names()
    ledger.key_admin.enrol(
        admin(clock),
        courier="sf-express",
        public_key_der=Ed25519Signer.generate().public_key_der(),
    )
    assert store.names() == names and held(ledger, sf) == signing


def test_an_enrolled_key_must_be_an_ed25519_public_key() -> None:
    ledger, _ = make_ledger()
    events = event_count(ledger)
    with pytest.raises(KeyManagementError, match="expected DER SubjectPublicKeyInfo"):
        ledger.key_admin.enrol(admin(Clock(T0)), courier="ems", public_key_der=b"not a key")
    assert event_count(ledger) == events


def test_the_registry_lists_every_key_with_its_state() -> None:
    ledger, _ = make_ledger()
    clock = Clock(T0)
    old = held(ledger, SEAL)
    ledger.key_admin.rotate(admin(clock), old)
    states = {k["kid"]: k["state"] for k in ledger.key_admin.keys(clock.now)}
    assert states[old.hex()] == "retiring"
    assert states[held(ledger, SEAL).hex()] == "active"
    assert set(states.values()) <= {"active", "retiring"}


def _officer() -> Actor:
    return Actor("officer-zjj", Role.OFFICER, department="zjj")


def _decided(ledger: CaseLedger, clock: Clock, submission: str) -> object:
    story = play_permit_until_decision(ledger, clock, submission)
    supplement_all(ledger, clock, story.case_id)
    return story.case_id


def test_rotation_and_revocation_times_are_whole_seconds_as_trust_lists_carry_them() -> None:
    ledger, _ = make_ledger()
    at = T0 + timedelta(hours=1, microseconds=250_000)
    ledger.key_admin.rotate(Command(at=at, actor=ADMIN), held(ledger, SEAL))
    [retiring] = [e for e in ledger.keyring.entries() if e.successor is not None]
    # Up for the overlap, so it is never cut short ...
    assert retiring.rotated_at == T0 + timedelta(hours=1) + ROTATION_OVERLAP + timedelta(seconds=1)
    courier = held(ledger, COURIER)
    answer = ledger.key_admin.revoke(
        Command(at=at, actor=ADMIN), courier, reason="泄露", revoked_at=at
    )
    # ... and down for a revocation, so it covers the moment it names.
    assert answer["revoked_at"] == (T0 + timedelta(hours=1)).isoformat()
