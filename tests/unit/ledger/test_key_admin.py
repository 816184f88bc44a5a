"""Key administration: a held key is replaced with an overlap and the new one signs; a compromised
key is revoked from the time of the compromise; a courier's device key is enrolled; each command
once per command id, and a refused one writes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from keys.errors import KeyManagementError, KeyNotValid, RegistryConflict, UnknownKey
from keys.registry import KeyRole, kid_for
from keys.signer import Ed25519Signer
from keys.trustlist import build_trust_list
from ledger.actors import Actor, Role
from ledger.application import CaseLedger
from ledger.commands import Command
from ledger.errors import ActionNotPermitted
from ledger.key_admin import ROTATION_OVERLAP
from ledger.key_views import key_state
from ledger.signing import SigningIdentity, SigningKeyUnavailable
from licenses.credential import decode_credential
from licenses.verify import verify_qr_text
from tests.scenarios import Clock, finish_by_courier, play_permit_until_decision, supplement_all
from tests.unit.ledger.conftest import ADMIN, T0, event_count, make_ledger
from tests.unit.ledger.test_vault_service import offline

SEAL = SigningIdentity(KeyRole.DEPARTMENT_SEAL, "zjj")
COURIER = SigningIdentity(KeyRole.COURIER, "ems")


def held(ledger: CaseLedger, identity: SigningIdentity, at: datetime) -> bytes:
    """The kid this ledger signs with for ``identity`` at ``at``."""
    return ledger.key_directory.signer_for(identity, at)[1]


def admin(clock: Clock, **kwargs: object) -> Command:
    return Command(at=clock.tick(), actor=ADMIN, **kwargs)  # type: ignore[arg-type]


def every_event_verifies(ledger: CaseLedger) -> int:
    """Read every stream back through the signed store (signature, key at its time, chain)."""
    streams = {n.originator_id for n in ledger.recorder.select_notifications(start=1, limit=10**6)}
    return sum(len(list(ledger.events.get(stream))) for stream in streams)


def test_a_rotated_department_key_is_replaced_and_the_new_key_signs_from_then_on() -> None:
    ledger, store = make_ledger()
    clock = Clock(T0)
    old = held(ledger, SEAL, clock.now)
    before = finish_by_courier(ledger, clock, _decided(ledger, clock, "rot-1"))

    replacement = ledger.key_admin.rotate(admin(clock), old)

    new = bytes.fromhex(replacement.key["kid"])
    assert held(ledger, SEAL, clock.now) == new != old
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
    old = held(ledger, SEAL, clock.now)
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
    old = held(ledger, SEAL, clock.now)
    cmd = admin(clock, command_id="rotate-zjj-1")
    first = ledger.key_admin.rotate(cmd, old)
    events, names = event_count(ledger), store.names()
    again = ledger.key_admin.rotate(cmd, old)
    assert again == first
    assert (event_count(ledger), store.names()) == (events, names)


def test_a_key_already_replaced_cannot_be_rotated_again_and_nothing_is_written() -> None:
    ledger, store = make_ledger()
    clock = Clock(T0)
    old = held(ledger, SEAL, clock.now)
    ledger.key_admin.rotate(admin(clock), old)
    events, names = event_count(ledger), store.names()
    with pytest.raises(RegistryConflict, match="already replaced"):
        ledger.key_admin.rotate(admin(clock), old)
    assert (event_count(ledger), store.names()) == (events, names)


def test_a_replacement_published_ahead_signs_from_its_start_and_offline_verifiers_know_it() -> None:
    ledger, store = make_ledger()
    clock = Clock(T0)
    old = held(ledger, SEAL, clock.now)
    starts = clock.now + timedelta(days=60, microseconds=1)

    replacement = ledger.key_admin.rotate(admin(clock), old, starts_at=starts)
    # The trust list an offline verifier fetches now already names the new key.
    root = store.signer("root")  # type: ignore[attr-defined]
    fetched_now = build_trust_list(
        ledger.keyring.entries(), root=root, issued_at=clock.now, sequence=2
    )

    new = bytes.fromhex(replacement.key["kid"])
    start = T0 + timedelta(days=60, seconds=1)  # whole seconds, up
    assert replacement.key["valid_from"] == start.isoformat()
    assert replacement.key["state"] == "not-yet-valid"
    assert replacement.replaces is not None
    assert replacement.replaces["rotated_at"] == (start + ROTATION_OVERLAP).isoformat()
    # The old key stays active until its successor starts, then retires after the overlap.
    states = {
        t: {k["kid"]: k["state"] for k in ledger.key_admin.keys(t)}[old.hex()]
        for t in (clock.now, start, start + ROTATION_OVERLAP)
    }
    assert list(states.values()) == ["active", "retiring", "rotated"]
    assert replacement.replaces["state"] == ledger.key_admin.key(old, clock.now)["state"]
    assert [held(ledger, SEAL, t) for t in (clock.now, start - timedelta(seconds=1))] == [old] * 2
    assert held(ledger, SEAL, start) == new
    before = finish_by_courier(ledger, clock, _decided(ledger, clock, "ahead-1"))
    assert clock.now < start
    clock.now = start
    after = finish_by_courier(ledger, clock, _decided(ledger, clock, "ahead-2"))
    assert [decode_credential(i.credential).kid for i in (before, after)] == [old, new]
    for issued in (before, after):
        result = verify_qr_text(issued.qr_text, fetched_now, root.public_key_der(), at=clock.tick())
        assert result.valid, result.reason
    assert every_event_verifies(ledger) == event_count(ledger)


@pytest.mark.parametrize(
    ("ahead", "match"),
    [
        (timedelta(0), "must lie after the command time"),
        (-timedelta(hours=1), "must lie after the command time"),
        (timedelta(days=91), "at most 90 days ahead"),
    ],
)
def test_a_start_now_in_the_past_or_too_far_ahead_is_refused_and_writes_nothing(
    ahead: timedelta, match: str
) -> None:
    ledger, store = make_ledger()
    clock = Clock(T0)
    old = held(ledger, SEAL, clock.now)
    events, names = event_count(ledger), store.names()
    cmd = admin(clock)
    with pytest.raises(RegistryConflict, match=match):
        ledger.key_admin.rotate(cmd, old, starts_at=cmd.at + ahead)
    assert (event_count(ledger), store.names()) == (events, names)


def test_a_start_after_the_old_key_expires_or_for_a_revoked_key_is_refused() -> None:
    ledger, store = make_ledger()
    clock = Clock(T0)
    ledger.key_admin.revoke(admin(clock), held(ledger, COURIER, clock.now), reason="丢失")
    courier = next(
        e for e in ledger.keyring.entries() if e.role == KeyRole.COURIER and e.revoked_at
    )
    events, names = event_count(ledger), store.names()
    with pytest.raises(RegistryConflict, match="is revoked: its replacement signs at once"):
        ledger.key_admin.rotate(admin(clock), courier.kid, starts_at=clock.now + timedelta(days=1))
    expiring = _expiring_seal(ledger, store, clock, valid_for=timedelta(days=1))
    with pytest.raises(RegistryConflict, match="before its replacement would take over"):
        ledger.key_admin.rotate(admin(clock), expiring, starts_at=clock.now + timedelta(days=1))
    # Only the expiring key's registration (its record and the index) and its private key.
    assert (event_count(ledger), store.names()) == (events + 2, sorted([*names, "dept-fgw"]))


def test_a_key_that_has_not_started_is_called_off_by_revoking_it_then_replacing_it() -> None:
    ledger, _ = make_ledger()
    clock = Clock(T0)
    old = held(ledger, SEAL, clock.now)
    starts = clock.now + timedelta(days=1)
    pending = bytes.fromhex(ledger.key_admin.rotate(admin(clock), old, starts_at=starts).key["kid"])
    events = event_count(ledger)
    with pytest.raises(RegistryConflict, match="to call off its start, revoke it"):
        ledger.key_admin.rotate(admin(clock), pending)
    with pytest.raises(RegistryConflict, match="already replaced"):
        ledger.key_admin.rotate(admin(clock), old)
    assert event_count(ledger) == events

    ledger.key_admin.revoke(admin(clock), pending, reason="计划更换取消")
    assert held(ledger, SEAL, starts) == old  # the revoked key never signs
    fresh = bytes.fromhex(ledger.key_admin.rotate(admin(clock), pending).key["kid"])
    assert held(ledger, SEAL, clock.now) == fresh
    assert held(ledger, SEAL, starts + ROTATION_OVERLAP) == fresh


def _expiring_seal(
    ledger: CaseLedger, store: object, clock: Clock, *, valid_for: timedelta
) -> bytes:
    """Register and hold a seal key for department ``fgw`` that expires after ``valid_for``."""
    signer = store.generate("dept-fgw")  # type: ignore[attr-defined]
    entry = ledger.keyring.register(
        root=store.signer("root"),  # type: ignore[attr-defined]
        public_key_der=signer.public_key_der(),
        owner="fgw",
        role=KeyRole.DEPARTMENT_SEAL,
        department="fgw",
        valid_from=clock.now,
        valid_to=clock.now + valid_for,
        at=clock.tick(),
        actor=ADMIN.as_dict(),
    )
    return entry.kid


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
    events, old = event_count(ledger), held(ledger, SEAL, clock.now)
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
    old = held(ledger, SEAL, clock.now)
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
    assert held(ledger, SEAL, clock.now) == bytes.fromhex(replacement.key["kid"])


def test_a_revoked_key_cannot_be_revoked_again_nor_the_root_at_all() -> None:
    ledger, _ = make_ledger()
    clock = Clock(T0)
    old = held(ledger, SEAL, clock.now)
    ledger.key_admin.revoke(admin(clock), old, reason="退役")
    events = event_count(ledger)
    with pytest.raises(RegistryConflict, match="already revoked"):
        ledger.key_admin.revoke(admin(clock), old, reason="退役")
    with pytest.raises(RegistryConflict, match="root key anchors"):
        ledger.key_admin.revoke(admin(clock), ledger.keyring.root_kid, reason="x")
    with pytest.raises(RegistryConflict, match="lies after the command time"):
        ledger.key_admin.revoke(
            admin(clock),
            held(ledger, COURIER, clock.now),
            reason="x",
            revoked_at=clock.now + timedelta(1),
        )
    assert event_count(ledger) == events


def test_a_couriers_device_key_signs_its_reports_while_the_held_key_signs_its_events() -> None:
    ledger, store = make_ledger()
    clock = Clock(T0)
    held_kid, names = held(ledger, COURIER, clock.now), store.names()
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
    assert held(ledger, COURIER, clock.now) == held_kid
    replaced = ledger.key_admin.enrol(
        admin(clock),
        courier="ems",
        public_key_der=second.public_key_der(),
        replaces=kid_for(first.public_key_der()),
    )
    assert replaced.replaces is not None and replaced.replaces["state"] == "retiring"
    assert held(ledger, COURIER, clock.now) == held_kid
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
    kids = {"held": held(ledger, COURIER, clock.now), "seal": held(ledger, SEAL, clock.now)}
    kid = None if replaces is None else kids[replaces]
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
    signing = held(ledger, sf, clock.now)
    assert signing != kid_for(device.public_key_der())
    assert ledger.keyring.entry(signing).owner == "sf-express"
    # A second device key beside the first provisions nothing more.
    names = store.names()
    ledger.key_admin.enrol(
        admin(clock),
        courier="sf-express",
        public_key_der=Ed25519Signer.generate().public_key_der(),
    )
    assert store.names() == names and held(ledger, sf, clock.now) == signing


def test_an_enrolled_key_must_be_an_ed25519_public_key() -> None:
    ledger, _ = make_ledger()
    events = event_count(ledger)
    with pytest.raises(KeyManagementError, match="expected DER SubjectPublicKeyInfo"):
        ledger.key_admin.enrol(admin(Clock(T0)), courier="ems", public_key_der=b"not a key")
    assert event_count(ledger) == events


def test_the_registry_lists_every_key_with_its_state() -> None:
    ledger, _ = make_ledger()
    clock = Clock(T0)
    old = held(ledger, SEAL, clock.now)
    ledger.key_admin.rotate(admin(clock), old)
    states = {k["kid"]: k["state"] for k in ledger.key_admin.keys(clock.now)}
    assert states[old.hex()] == "retiring"
    assert states[held(ledger, SEAL, clock.now).hex()] == "active"
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
    ledger.key_admin.rotate(Command(at=at, actor=ADMIN), held(ledger, SEAL, at))
    [retiring] = [e for e in ledger.keyring.entries() if e.successor is not None]
    # Up for the overlap, so it is never cut short ...
    assert retiring.rotated_at == T0 + timedelta(hours=1) + ROTATION_OVERLAP + timedelta(seconds=1)
    courier = held(ledger, COURIER, at)
    answer = ledger.key_admin.revoke(
        Command(at=at, actor=ADMIN), courier, reason="泄露", revoked_at=at
    )
    # ... and down for a revocation, so it covers the moment it names.
    assert answer["revoked_at"] == (T0 + timedelta(hours=1)).isoformat()
