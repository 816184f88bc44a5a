"""Status lists: 2-bit slots, small when compressed, signed, refused from the wrong key."""

from __future__ import annotations

import random
import zlib
from datetime import timedelta

import cbor2
import pytest

from keys import cose
from keys.registry import kid_for
from keys.signer import Ed25519Signer
from licenses.errors import StatusListError
from licenses.model import SlotStatus
from licenses.status import MIN_SLOTS, StatusList, allocate_index, load_status_list
from tests.unit.licenses.conftest import LIST_ID, OTHER_ISSUER, T0, World, resign

ISSUED = T0 + timedelta(days=2)


def signed_list(world: World, status_list: StatusList) -> bytes:
    """The list signed by the issuer's key."""
    return status_list.to_signed(
        world.issuer, kid=world.issuer_kid, issued_at=ISSUED, list_id=LIST_ID
    )


def test_new_list_has_131072_valid_slots() -> None:
    status_list = StatusList()
    assert status_list.size == MIN_SLOTS == 131_072
    assert status_list.get(0) is SlotStatus.VALID
    assert status_list.get(MIN_SLOTS - 1) is SlotStatus.VALID


def test_slots_are_independent_two_bit_values() -> None:
    status_list = StatusList()
    status_list.set(5, SlotStatus.SUSPENDED)
    status_list.set(6, SlotStatus.REVOKED)
    status_list.set(7, SlotStatus.SUSPENDED)
    status_list.set(7, SlotStatus.VALID)
    assert [status_list.get(i) for i in range(4, 9)] == [
        SlotStatus.VALID,
        SlotStatus.SUSPENDED,
        SlotStatus.REVOKED,
        SlotStatus.VALID,
        SlotStatus.VALID,
    ]


def test_slot_layout_puts_index_zero_in_the_low_bits_of_byte_zero() -> None:
    status_list = StatusList()
    status_list.set(0, SlotStatus.REVOKED)
    status_list.set(3, SlotStatus.SUSPENDED)
    assert zlib.decompress(status_list.compressed())[:1] == bytes([0b10_00_00_01])


def test_compressed_list_is_small(world: World) -> None:
    status_list = StatusList()
    rng = random.Random(7)
    for _ in range(1000):
        status_list.set(rng.randrange(MIN_SLOTS), SlotStatus.REVOKED)
    assert len(status_list.compressed()) < 4000
    assert len(signed_list(world, status_list)) < 4200


def test_signed_list_round_trips_through_the_trust_list(world: World) -> None:
    status_list = StatusList()
    status_list.set(4242, SlotStatus.SUSPENDED)
    loaded = load_status_list(signed_list(world, status_list), world.trust_list)
    assert loaded.get(4242) is SlotStatus.SUSPENDED
    assert loaded.get(4243) is SlotStatus.VALID
    assert (loaded.list_id, loaded.issued_at, loaded.kid) == (LIST_ID, ISSUED, world.issuer_kid)


def test_signed_list_loads_with_a_public_key(world: World) -> None:
    data = signed_list(world, StatusList())
    assert load_status_list(data, world.issuer.public_key_der()).size == MIN_SLOTS
    assert load_status_list(data, world.issuer.public_key()).list_id == LIST_ID


def test_list_signed_by_the_wrong_key_is_refused(world: World) -> None:
    forged = resign(signed_list(world, StatusList()), Ed25519Signer.from_seed(b"\x66" * 32))
    with pytest.raises(StatusListError, match="EdDSA signature does not verify"):
        load_status_list(forged, world.trust_list)
    with pytest.raises(StatusListError, match="EdDSA signature does not verify"):
        load_status_list(signed_list(world, StatusList()), world.other.public_key_der())


def test_list_signed_by_a_key_off_the_trust_list_is_refused(world: World) -> None:
    stranger = Ed25519Signer.from_seed(b"\x67" * 32)
    kid = kid_for(stranger.public_key_der())
    data = StatusList().to_signed(stranger, kid=kid, issued_at=ISSUED, list_id=LIST_ID)
    with pytest.raises(StatusListError, match="not on the trust list"):
        load_status_list(data, world.trust_list)


def test_list_of_another_owner_is_refused_when_an_owner_is_required(world: World) -> None:
    with pytest.raises(StatusListError, match=f"not {OTHER_ISSUER!r}"):
        load_status_list(signed_list(world, StatusList()), world.trust_list, owner=OTHER_ISSUER)


def test_list_signed_before_its_key_was_valid_is_refused(world: World) -> None:
    data = StatusList().to_signed(
        world.issuer, kid=world.issuer_kid, issued_at=T0 - timedelta(days=1), list_id=LIST_ID
    )
    with pytest.raises(StatusListError, match="is valid from"):
        load_status_list(data, world.trust_list)


def _signed_document(world: World, **changes: object) -> bytes:
    document: dict[str, object] = {
        "format": "caseledger-status-list/1",
        "list_id": LIST_ID,
        "issued_at": int(ISSUED.timestamp()),
        "size": MIN_SLOTS,
        "bits": zlib.compress(bytes(MIN_SLOTS // 4)),
    }
    document.update(changes)
    return cose.sign1(cbor2.dumps(document, canonical=True), world.issuer, kid=world.issuer_kid)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": "other/1"}, "format: expected 'caseledger-status-list/1'"),
        ({"size": 1024}, "size: expected a multiple of 4 from 131072"),
        ({"size": MIN_SLOTS + 4}, "expected exactly 32769 bytes"),
        ({"bits": b"garbage"}, "expected zlib data"),
        ({"bits": zlib.compress(b"\x03" + bytes(MIN_SLOTS // 4 - 1))}, "got reserved 3"),
        ({"issued_at": "yesterday"}, "issued_at: expected integer seconds"),
        ({"extra": 1}, "expected keys"),
    ],
    ids=["format", "small", "size-mismatch", "not-zlib", "reserved", "issued-at", "extra-key"],
)
def test_malformed_signed_list_is_refused(
    world: World, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(StatusListError, match=message):
        load_status_list(_signed_document(world, **changes), world.trust_list)


def test_list_refuses_a_kid_that_is_not_the_signers(world: World) -> None:
    with pytest.raises(StatusListError, match="kid: expected the signer's key id"):
        StatusList().to_signed(world.other, kid=world.issuer_kid, issued_at=ISSUED, list_id="L")


def test_index_out_of_range_is_refused() -> None:
    with pytest.raises(StatusListError, match="expected an int from 0 to 131071, got 131072"):
        StatusList().get(MIN_SLOTS)
    with pytest.raises(StatusListError, match="got -1"):
        StatusList().set(-1, SlotStatus.REVOKED)


def test_status_must_be_a_slot_status() -> None:
    with pytest.raises(StatusListError, match="expected a SlotStatus, got 3"):
        StatusList().set(1, 3)  # type: ignore[arg-type]


def test_list_smaller_than_herd_size_is_refused() -> None:
    with pytest.raises(StatusListError, match="from 131072"):
        StatusList(1024)


def test_allocator_never_reuses_an_index() -> None:
    rng = random.Random(3)
    used: set[int] = set()
    for _ in range(2000):
        index = allocate_index(rng, used)
        assert index not in used
        used.add(index)


def test_allocator_is_not_sequential() -> None:
    rng = random.Random(4)
    used: set[int] = set()
    drawn = []
    for _ in range(50):
        drawn.append(allocate_index(rng, used))
        used.add(drawn[-1])
    assert drawn != sorted(drawn)
    assert max(drawn) > MIN_SLOTS // 2


def test_allocator_finds_the_last_free_slot() -> None:
    used = set(range(MIN_SLOTS)) - {77_777}
    assert allocate_index(random.Random(5), used) == 77_777


def test_allocator_refuses_a_full_list() -> None:
    with pytest.raises(StatusListError, match="status list full"):
        allocate_index(random.Random(6), set(range(MIN_SLOTS)))


class ScriptedRandom(random.Random):
    """A ``random.Random`` whose ``randrange`` answers from a script and records its bounds."""

    def __init__(self, answers: list[int]) -> None:
        super().__init__(0)
        self.answers = answers
        self.bounds: list[int] = []

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:  # type: ignore[override]
        self.bounds.append(start if stop is None else stop - start)
        return self.answers.pop(0)


def test_allocator_draws_uniformly_among_the_free_slots_of_a_dense_list() -> None:
    # All but four slots used: one draw over exactly the four free ones, each reachable.
    free = [1, 65_000, 100_000, 131_000]
    used = set(range(MIN_SLOTS)) - set(free)
    rng = ScriptedRandom([0, 1, 2, 3])
    assert [allocate_index(rng, used) for _ in free] == free
    assert rng.bounds == [4, 4, 4, 4]


def test_allocator_draws_over_every_slot_of_a_sparse_list_and_skips_used_ones() -> None:
    rng = ScriptedRandom([5, 5, 9])
    assert allocate_index(rng, {5}) == 9
    assert rng.bounds == [MIN_SLOTS] * 3
