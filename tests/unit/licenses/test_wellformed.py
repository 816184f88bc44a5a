"""The one-pass verification of well-formed credentials answers as the steps one by one do."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keys import cose
from keys.algorithms import EDDSA, PublicKey
from keys.cose import ALG, CRIT, KID
from keys.errors import KeyManagementError, MalformedMessage
from keys.registry import KeyEntry
from licenses import verify as verify_module
from licenses.check_characters import mod11_2_check
from licenses.credential import DISCLOSURES, parse_message
from licenses.errors import InvalidCredential
from licenses.identifiers import LicenseId
from licenses.issuance import issue_credential, present
from licenses.model import SlotStatus, StatusReference
from licenses.qr import encode_qr_text
from licenses.status import StatusList
from licenses.verify import VerificationResult, Verifier
from licenses.wellformed import read_well_formed, verify_well_formed
from tests.unit.licenses.conftest import (
    HOLDER,
    ISSUER_USCC,
    LICENSE_ID,
    LIST_ID,
    OTHER_ISSUER,
    OTHER_TYPE_CODE,
    T0,
    World,
    make_claims,
)

AT = T0 + timedelta(days=30)
MAX_NUMERIC_DATE = 253402300799


def fixed_credential(world: World, **changes: object) -> bytes:
    """A credential with fixed salts, so every case starts from the same bytes."""
    claims = make_claims(**changes)
    salts = {name: bytes([len(name)]) * 16 for name in claims.fields}
    return issue_credential(claims, world.issuer, kid=world.issuer_kid, salts=salts)


def status_list(world: World) -> bytes:
    """The issuer's status list, slot 7 revoked, issued a day before the verifications."""
    built = StatusList()
    built.set(7, SlotStatus.REVOKED)
    issued_at = AT - timedelta(days=1)
    return built.to_signed(world.issuer, kid=world.issuer_kid, issued_at=issued_at, list_id=LIST_ID)


def _never(*args: object, **kwargs: object) -> None:
    return None


class StepByStep(Verifier):
    """A verifier that never takes the one pass: the reference these tests compare with."""

    def verify(
        self, credential: str | bytes, *, status_list: bytes | None = None, at: datetime
    ) -> VerificationResult:
        """Verify with every step taken one by one."""
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(verify_module, "verify_well_formed", _never)
            return super().verify(credential, status_list=status_list, at=at)


def answers(
    world: World, credential: Any, *, status: bytes | None = None
) -> tuple[VerificationResult, VerificationResult]:
    """The verifier's answer, and the answer with every step taken one by one."""
    one_pass = Verifier(world.trust_list).verify(credential, status_list=status, at=AT)
    steps = StepByStep(world.trust_list).verify(credential, status_list=status, at=AT)
    return one_pass, steps


def assert_same_answer(world: World, credential: Any, *, status: bytes | None = None) -> None:
    """Both ways give the same status, step, reason, claims and undisclosed fields."""
    one_pass, steps = answers(world, credential, status=status)
    assert one_pass == steps, (credential, steps.reason)


# --- the one pass is taken, and gives what the steps give ------------------------------------


@pytest.mark.parametrize(
    "changes",
    [{}, {"exp": None}, {"sub": "91350100M000100Y43"}, {"fields": {}}],
    ids=["full", "no-exp", "enterprise", "no-fields"],
)
def test_issued_credentials_take_the_one_pass_and_verify_as_before(
    world: World, changes: dict[str, object]
) -> None:
    credential = fixed_credential(world, **changes)
    read = verify_well_formed(
        credential,
        world.trust_list,
        algorithms=None,
        public_key=lambda e: world.issuer.public_key(),
    )
    assert read is not None and read[0] == make_claims(**changes)
    one_pass, steps = answers(world, credential, status=status_list(world))
    assert one_pass.valid and one_pass == steps


@pytest.mark.parametrize("fields", [set(), {"name"}, {"name", "listed", "capital"}])
def test_presentations_take_the_one_pass_and_report_what_they_hide(
    world: World, fields: set[str]
) -> None:
    presentation = present(fixed_credential(world), fields)
    read = read_well_formed(cose.decode_sign1(presentation))
    decoded = parse_message(cose.decode_sign1(presentation)).disclose()
    assert read is not None
    assert (read.claims, read.undisclosed) == (decoded.claims, decoded.undisclosed)
    one_pass, steps = answers(world, presentation)
    assert one_pass.valid and one_pass == steps


def test_a_forged_signature_is_checked_once_and_answered_as_step_8(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    credential = bytearray(fixed_credential(world))
    credential[-1] ^= 0x01  # the last byte of the signature
    forged = bytes(credential)
    one_pass, steps = answers(world, forged)
    assert one_pass == steps and (one_pass.step, one_pass.claims) == (8, None)
    checked: list[bytes] = []
    real = cose.verify_decoded

    def counted(message: cose.Sign1Message, public_key: PublicKey) -> bytes:
        checked.append(message.signature)
        return real(message, public_key)

    monkeypatch.setattr(cose, "verify_decoded", counted)
    assert Verifier(world.trust_list).verify(forged, at=AT) == steps
    assert len(checked) == 1


def test_qr_text_takes_the_one_pass_after_the_first_three_steps(world: World) -> None:
    text = encode_qr_text(fixed_credential(world))
    one_pass, steps = answers(world, text, status=status_list(world))
    assert one_pass.valid and one_pass == steps
    assert_same_answer(world, text[:-3])


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": OTHER_ISSUER},
        {"iat": T0 - timedelta(days=1), "nbf": T0 - timedelta(days=1)},
        {"nbf": T0 + timedelta(days=60)},
        {"exp": T0 + timedelta(days=10)},
        {"status": StatusReference(LIST_ID, 7)},
        {"status": StatusReference("another", 1)},
        {
            "license_type": OTHER_TYPE_CODE,
            "license_id": str(LicenseId(OTHER_TYPE_CODE, ISSUER_USCC, "20230000403")),
        },
    ],
    ids=["other-issuer", "before-key", "not-yet", "expired", "revoked", "other-list", "type"],
)
def test_failures_after_the_signature_are_reported_as_the_steps_report_them(
    world: World, changes: dict[str, object]
) -> None:
    one_pass, steps = answers(world, fixed_credential(world, **changes), status=status_list(world))
    assert not one_pass.valid and one_pass == steps


# --- every change to the bytes ---------------------------------------------------------------


def test_every_changed_byte_gets_the_same_answer_both_ways(world: World) -> None:
    credential = fixed_credential(world)
    for position in range(len(credential)):
        for flip in (0x01, 0x40, 0xFF):
            changed = bytearray(credential)
            changed[position] ^= flip
            assert_same_answer(world, bytes(changed))


def test_every_truncation_and_extension_gets_the_same_answer_both_ways(world: World) -> None:
    credential = fixed_credential(world)
    for length in range(len(credential)):
        assert_same_answer(world, credential[:length])
    for extra in (b"\x00", b"\xff", b"\xf6", credential[-66:]):
        assert_same_answer(world, credential + extra)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_drawn_changes_get_the_same_answer_both_ways(world: World, data: st.DataObject) -> None:
    changed = bytearray(fixed_credential(world))
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(changed) - 1))
        action = data.draw(st.sampled_from(["set", "insert", "delete"]))
        if action == "set":
            changed[position] = data.draw(st.integers(0, 255))
        elif action == "insert":
            changed.insert(position, data.draw(st.integers(0, 255)))
        else:
            del changed[position]
    assert_same_answer(world, bytes(changed))


# --- re-signed payloads, disclosures and headers ---------------------------------------------


def disclosure(name: str, value: object, salt: bytes = b"\x05" * 16) -> bytes:
    """A disclosure as the issuer writes it."""
    return cbor2.dumps([salt, name, value], canonical=True)


def digests_of(disclosures: list[bytes]) -> dict[str, bytes]:
    """The signed digest of each disclosure, by the name it carries (else by its position)."""
    digests: dict[str, bytes] = {}
    for position, raw in enumerate(disclosures):
        try:
            name = cbor2.loads(raw)[1]
        except (cbor2.CBORDecodeError, TypeError, IndexError, KeyError):
            name = None
        digests[name if isinstance(name, str) else f"field{position}"] = hashlib.sha256(
            raw
        ).digest()
    return digests


def base(world: World) -> tuple[dict[Any, Any], list[bytes]]:
    """The decoded claims map and the disclosures of the fixed credential."""
    _, unprotected, payload, _ = cbor2.loads(fixed_credential(world)).value
    return dict(cbor2.loads(payload)), list(unprotected[DISCLOSURES])


def signed(
    world: World,
    payload: bytes,
    unprotected: Any,
    *,
    protected: bytes | None = None,
    tagged: bool = True,
) -> bytes:
    """A COSE_Sign1 by the issuer's key over exactly these bytes, encoded as given."""
    if protected is None:
        protected = cbor2.dumps({ALG: EDDSA, KID: world.issuer_kid}, canonical=True)
    signature = world.issuer.sign(cose.sig_structure(protected, payload))
    parts = [protected, unprotected, payload, signature]
    return cbor2.dumps(cbor2.CBORTag(18, parts) if tagged else parts)


def with_claims(world: World, changes: dict[Any, Any]) -> bytes:
    """The fixed credential re-signed with claims changed (a value of ... drops the claim)."""
    payload, disclosures = base(world)
    for key, value in changes.items():
        label = {"iss": 1, "sub": 2, "exp": 4, "nbf": 5, "iat": 6}.get(key, key)
        if value is ...:
            del payload[label]
        else:
            payload[label] = value
    return signed(world, cbor2.dumps(payload), {DISCLOSURES: disclosures})


def with_disclosures(world: World, disclosures: list[Any], **extra_digests: bytes) -> bytes:
    """The fixed credential re-signed with these disclosures and digests that match them."""
    payload, _ = base(world)
    raws = [raw for raw in disclosures if isinstance(raw, bytes)]
    payload["dig"] = {**digests_of(raws), **extra_digests}
    return signed(world, cbor2.dumps(payload), {DISCLOSURES: disclosures})


def _payload_encodings(world: World) -> Iterator[tuple[str, bytes]]:
    payload, _ = base(world)
    canonical = cbor2.dumps(payload)
    yield "canonical", canonical
    yield "trailing", canonical + b"\x00"
    yield "indefinite-map", b"\xbf" + canonical[1:] + b"\xff"
    iat = payload[6].to_bytes(4, "big")
    yield "long-iat-head", canonical.replace(b"\x06\x1a" + iat, b"\x06\x1b\x00\x00\x00\x00" + iat)
    yield "duplicate-key", bytes([canonical[0] + 1]) + canonical[1:] + b"\x01\x61x"
    yield "tagged-map", cbor2.dumps(cbor2.CBORTag(259, payload))
    yield "array", cbor2.dumps(list(payload.items()))


def test_payload_encodings_get_the_same_answer_both_ways(world: World) -> None:
    _, disclosures = base(world)
    for _, encoded in _payload_encodings(world):
        assert_same_answer(world, signed(world, encoded, {DISCLOSURES: disclosures}))


def _claim_changes(world: World) -> list[dict[Any, Any]]:
    payload, _ = base(world)
    return [
        {},
        {"exp": ...},
        {"exp": payload[5]},
        {"exp": payload[5] - 1},
        {"exp": ..., "nbf": MAX_NUMERIC_DATE, "iat": MAX_NUMERIC_DATE},
        {"exp": MAX_NUMERIC_DATE},
        {"exp": MAX_NUMERIC_DATE + 1},
        {"iat": -1},
        {"iat": 2**40},
        {"iat": 1.5e9},
        {"iat": True},
        {"nbf": None},
        {"exp": None},
        {"iss": ""},
        {"iss": " "},
        {"iss": 7},
        {"iss": "x" * 257},
        {"sub": HOLDER.lower()},
        {"sub": HOLDER[:17] + "1"},
        {"sub": "11010519490230100" + mod11_2_check("11010519490230100")},
        {"sub": "91350100M000100Y43"},
        {"sub": "D2143569X"},
        {"sub": "110105491231002"},
        {"sub": b"11010519491231002X"},
        {"lid": LICENSE_ID[:-1] + "V"},
        {"lid": LICENSE_ID.replace(".001.", ".000.")},
        {"lid": None},
        {"lty": OTHER_TYPE_CODE},
        {"ver": 2},
        {"ver": True},
        {"ver": "1"},
        {"sts": [LIST_ID, 1, 2]},
        {"sts": [LIST_ID, -1]},
        {"sts": ["", 1]},
        {"sts": {LIST_ID: 1}},
        {"dig": {**payload["dig"], "extra": b"\x00" * 32}},
        {"dig": {**payload["dig"], "extra": b"\x00" * 31}},
        {"dig": {**payload["dig"], 7: b"\x00" * 32}},
        {"dig": {name: digest[:31] for name, digest in payload["dig"].items()}},
        {"dig": list(payload["dig"].values())},
        {"dig": {name: digest for name, digest in payload["dig"].items() if name != "name"}},
        {"extra": 1},
        {2: ...},
    ]


def test_claim_changes_get_the_same_answer_both_ways(world: World) -> None:
    for changes in _claim_changes(world):
        assert_same_answer(world, with_claims(world, changes))


def test_key_types_that_equal_claim_labels_get_the_same_answer_both_ways(world: World) -> None:
    payload, disclosures = base(world)
    for stand_in in (True, 1.0):
        changed = {stand_in if key == 1 else key: value for key, value in payload.items()}
        assert_same_answer(world, signed(world, cbor2.dumps(changed), {DISCLOSURES: disclosures}))


def _disclosure_lists(world: World) -> Iterator[tuple[list[Any], dict[str, bytes]]]:
    _, disclosures = base(world)
    first, *rest = disclosures
    salt, name, value = cbor2.loads(first)
    indefinite = b"\x9f" + first[1:] + b"\xff"
    yield disclosures, {}
    yield [first], {}
    yield [], {}
    yield [indefinite, *rest], {}
    yield [first + b"\x00", *rest], {}
    yield [first, first, *rest], {}
    yield [cbor2.dumps(cbor2.CBORTag(18, [salt, name, value]))], {}
    yield [cbor2.dumps((salt, name, value, 1))], {}
    yield [cbor2.dumps([salt, name])], {}
    as_map = cbor2.dumps({salt: 1, name: 2, "x": 3})
    yield [as_map], {name: hashlib.sha256(as_map).digest()}
    yield [disclosure(name, 1.5)], {}
    yield [disclosure(name, b"bytes")], {}
    yield [disclosure(name, None)], {}
    yield [disclosure(name, "x" * 1024)], {}
    yield [disclosure(name, "x" * 1025)], {}
    yield [disclosure(" ", "x")], {}
    yield [disclosure("n" * 257, "x")], {}
    yield [disclosure(name, value, salt=b"\x01" * 15)], {}
    yield [disclosure(name, value, salt="x" * 16)], {}  # type: ignore[arg-type]
    yield [disclosure(name, True), disclosure("n2", -(2**70))], {}
    yield [b"\xff"], {}
    yield ["text"], {}
    yield [disclosure(name, value)], {"hidden": b"\x01" * 32}
    yield [disclosure(f"f{i}", i) for i in range(65)], {}


def test_disclosure_changes_get_the_same_answer_both_ways(world: World) -> None:
    for disclosures, extra in _disclosure_lists(world):
        assert_same_answer(world, with_disclosures(world, disclosures, **extra))


def test_unsigned_or_tampered_disclosures_get_the_same_answer_both_ways(world: World) -> None:
    payload, disclosures = base(world)
    encoded = cbor2.dumps(payload)
    tampered = disclosure(cbor2.loads(disclosures[0])[1], "篡改")
    for listed in ([*disclosures, disclosure("unsigned", 1)], [tampered, *disclosures[1:]]):
        assert_same_answer(world, signed(world, encoded, {DISCLOSURES: listed}))


def _header_variants(world: World) -> Iterator[tuple[bytes, Any, bool]]:
    _, disclosures = base(world)
    kid = world.issuer_kid
    listed = {DISCLOSURES: disclosures}
    for protected in (
        {ALG: EDDSA, KID: kid},
        {ALG: "EdDSA", KID: kid},
        {ALG: True, KID: kid},
        {ALG: float(EDDSA), KID: kid},
        {ALG: -7, KID: kid},
        {ALG: EDDSA, KID: b""},
        {ALG: EDDSA},
        {KID: kid},
        {ALG: EDDSA, KID: kid, CRIT: [KID]},
        {ALG: EDDSA, KID: kid, 99: 1},
        {ALG: EDDSA, KID: b"\x00" * 8},
    ):
        yield cbor2.dumps(protected), listed, True
    canonical = cbor2.dumps({ALG: EDDSA, KID: kid}, canonical=True)
    yield b"", listed, True
    yield canonical, listed, False
    unprotected: Any
    for unprotected in ({}, {**listed, 99: 1}, {7: 1}, {DISCLOSURES: disclosures[0]}, []):
        yield canonical, unprotected, True
    yield canonical, {**listed, KID: kid}, True


def test_header_changes_get_the_same_answer_both_ways(world: World) -> None:
    payload, _ = base(world)
    encoded = cbor2.dumps(payload)
    for protected, unprotected, tagged in _header_variants(world):
        message = signed(world, encoded, unprotected, protected=protected, tagged=tagged)
        assert_same_answer(world, message)


def test_a_verifier_that_allows_other_algorithms_answers_both_ways_alike(world: World) -> None:
    credential = fixed_credential(world)
    one_pass = Verifier(world.trust_list, algorithms={-7}).verify(credential, at=AT)
    steps = StepByStep(world.trust_list, algorithms={-7}).verify(credential, at=AT)
    assert one_pass == steps and one_pass.step == 7


def test_a_key_that_does_not_load_leaves_the_credential_to_the_steps(world: World) -> None:
    def broken(entry: KeyEntry) -> PublicKey:
        raise MalformedMessage("not a key")

    credential = fixed_credential(world)
    assert (
        verify_well_formed(credential, world.trust_list, algorithms=None, public_key=broken) is None
    )


def test_read_well_formed_never_raises_on_what_decodes(world: World) -> None:
    credential = fixed_credential(world)
    weird: list[Callable[[], bytes]] = [
        lambda: with_claims(world, {"dig": {"name": "x" * 32}}),
        lambda: signed(world, b"\xff", {}),
        lambda: signed(world, cbor2.dumps(10**40), {}),
    ]
    for make in weird:
        assert read_well_formed(cose.decode_sign1(make())) is None
    assert read_well_formed(cose.decode_sign1(credential)) is not None


def assert_reader_agrees(message: bytes) -> None:
    """read_well_formed gives what parse_message and disclose give, or None where they refuse."""
    try:
        decoded = cose.decode_sign1(message)
    except KeyManagementError:
        return
    read = read_well_formed(decoded)
    try:
        expected = parse_message(decoded).disclose()
    except InvalidCredential:
        assert read is None, message
        return
    assert read is None or (read.claims, read.undisclosed) == (
        expected.claims,
        expected.undisclosed,
    ), message


def test_the_reader_agrees_with_parse_message_on_every_variant(world: World) -> None:
    payload, disclosures = base(world)
    messages = [with_claims(world, changes) for changes in _claim_changes(world)]
    messages += [with_disclosures(world, d, **extra) for d, extra in _disclosure_lists(world)]
    messages += [
        signed(world, encoded, {DISCLOSURES: disclosures})
        for _, encoded in _payload_encodings(world)
    ]
    messages += [
        signed(world, cbor2.dumps(payload), unprotected, protected=protected, tagged=tagged)
        for protected, unprotected, tagged in _header_variants(world)
    ]
    credential = fixed_credential(world)
    for position in range(len(credential)):
        changed = bytearray(credential)
        changed[position] ^= 0x01
        messages.append(bytes(changed))
    for message in messages:
        assert_reader_agrees(message)
