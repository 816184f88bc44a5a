"""COSE_Sign1: strict decoding, signing, verification over the exact bytes received."""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given
from hypothesis import strategies as st

from keys import cose
from keys.algorithms import EDDSA, ES256
from keys.cbor import dumps_canonical
from keys.cose import (
    ALG,
    COSE_SIGN1_TAG,
    KID,
    Sign1Message,
    decode_sign1,
    encode_sign1,
    sig_structure,
    sign1,
    verify_decoded,
    verify_sign1,
)
from keys.errors import (
    KeyManagementError,
    MalformedMessage,
    SignatureInvalid,
    UnsupportedAlgorithm,
)
from keys.signer import Ed25519Signer

SEED = bytes(range(32))
KID_BYTES = b"department-seal-1"
PAYLOAD = cbor2.dumps({"stream": "case-1", "seq": 1})


@pytest.fixture(scope="module")
def signer() -> Ed25519Signer:
    return Ed25519Signer.from_seed(SEED)


@pytest.fixture(scope="module")
def message(signer: Ed25519Signer) -> bytes:
    return sign1(PAYLOAD, signer, kid=KID_BYTES)


def raw_sign1(
    protected: Any = b"\xa1\x01\x27",
    unprotected: Any = None,
    payload: Any = PAYLOAD,
    signature: Any = bytes(64),
    *,
    tag: int | None = COSE_SIGN1_TAG,
    extra: tuple[Any, ...] = (),
) -> bytes:
    """Hand-build a (possibly malformed) COSE_Sign1 without going through our encoder."""
    parts = [protected, {} if unprotected is None else unprotected, payload, signature, *extra]
    return cbor2.dumps(parts if tag is None else cbor2.CBORTag(tag, parts))


class FakeSigner:
    """A Signer claiming an algorithm we do not support."""

    alg = -35

    def sign(self, data: bytes) -> bytes:
        return bytes(64)

    def public_key_der(self) -> bytes:
        return b""


# -- signing ----------------------------------------------------------------------------------


def test_constants_are_the_rfc_9052_labels_and_tag() -> None:
    assert (ALG, KID, COSE_SIGN1_TAG) == (1, 4, 18)


def test_signs_with_a_canonical_protected_header_of_alg_and_kid(
    signer: Ed25519Signer, message: bytes
) -> None:
    decoded = decode_sign1(message)
    assert decoded.protected_bytes == bytes.fromhex("a20127") + b"\x04\x51" + KID_BYTES
    assert decoded.protected == {ALG: EDDSA, KID: KID_BYTES}
    assert decoded.unprotected == {}
    assert (decoded.alg, decoded.kid, decoded.payload, decoded.tagged) == (
        EDDSA,
        KID_BYTES,
        PAYLOAD,
        True,
    )
    assert message[:1] == b"\xd2"  # tag 18


def test_signature_is_over_the_sig_structure(signer: Ed25519Signer, message: bytes) -> None:
    decoded = decode_sign1(message)
    tbs = sig_structure(decoded.protected_bytes, PAYLOAD)
    assert decoded.signature == signer.sign(tbs)
    assert cbor2.loads(tbs) == ["Signature1", decoded.protected_bytes, b"", PAYLOAD]


def test_verifies_and_returns_the_payload(signer: Ed25519Signer, message: bytes) -> None:
    assert verify_sign1(message, signer.public_key()) == PAYLOAD


def test_signs_untagged_when_asked(signer: Ed25519Signer) -> None:
    untagged = sign1(PAYLOAD, signer, kid=KID_BYTES, tagged=False)
    assert untagged[:1] == b"\x84"
    assert decode_sign1(untagged).tagged is False
    assert verify_sign1(untagged, signer.public_key()) == PAYLOAD


def test_binds_external_aad(signer: Ed25519Signer) -> None:
    bound = sign1(PAYLOAD, signer, kid=KID_BYTES, external_aad=b"case-1/1")
    assert verify_sign1(bound, signer.public_key(), external_aad=b"case-1/1") == PAYLOAD
    with pytest.raises(SignatureInvalid, match="EdDSA signature does not verify"):
        verify_sign1(bound, signer.public_key())


def test_puts_extra_unprotected_headers_in_canonical_order(signer: Ed25519Signer) -> None:
    signed = sign1(
        PAYLOAD, signer, kid=KID_BYTES, unprotected={33: b"chain", 3: "application/cbor"}
    )
    decoded = decode_sign1(signed)
    assert list(decoded.unprotected) == [3, 33]
    assert verify_sign1(signed, signer.public_key()) == PAYLOAD


@pytest.mark.parametrize(("label", "name"), [(ALG, "1"), (KID, "4")])
def test_refuses_alg_or_kid_in_the_unprotected_header_when_signing(
    signer: Ed25519Signer, label: int, name: str
) -> None:
    with pytest.raises(MalformedMessage, match=rf"must not carry labels \[{name}\]"):
        sign1(PAYLOAD, signer, kid=KID_BYTES, unprotected={label: b"x"})


def test_refuses_a_text_kid_when_signing(signer: Ed25519Signer) -> None:
    with pytest.raises(MalformedMessage, match="kid must be a bstr, got tstr"):
        sign1(PAYLOAD, signer, kid="seal-1")  # type: ignore[arg-type]


def test_refuses_a_signer_whose_algorithm_is_not_registered() -> None:
    with pytest.raises(UnsupportedAlgorithm, match="unsupported COSE algorithm -35"):
        sign1(PAYLOAD, FakeSigner(), kid=KID_BYTES)


@given(payload=st.binary(max_size=512), kid=st.binary(max_size=64), aad=st.binary(max_size=64))
def test_sign_then_verify_returns_the_payload_for_any_input(
    payload: bytes, kid: bytes, aad: bytes
) -> None:
    ed = Ed25519Signer.from_seed(SEED)
    message = sign1(payload, ed, kid=kid, external_aad=aad)
    assert verify_sign1(message, ed.public_key(), external_aad=aad) == payload
    assert decode_sign1(message).kid == kid


# -- verifying --------------------------------------------------------------------------------


def test_rejects_another_key(message: bytes) -> None:
    with pytest.raises(SignatureInvalid, match="EdDSA signature does not verify"):
        verify_sign1(message, Ed25519Signer.generate().public_key())


def test_rejects_a_key_of_the_wrong_type_for_the_algorithm(message: bytes) -> None:
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(SignatureInvalid, match="EdDSA needs an Ed25519 key, got an EC key"):
        verify_sign1(message, p256)


@pytest.mark.parametrize("length", [63, 65])
def test_rejects_a_short_or_long_signature(
    signer: Ed25519Signer, message: bytes, length: int
) -> None:
    decoded = decode_sign1(message)
    changed = (decoded.signature + bytes(2))[:length]
    tampered = encode_sign1(decoded.protected_bytes, {}, decoded.payload, changed)
    with pytest.raises(SignatureInvalid, match=f"must be 64 bytes, got {length}"):
        verify_sign1(tampered, signer.public_key())


def test_rejects_a_flipped_payload_byte(signer: Ed25519Signer, message: bytes) -> None:
    at = message.index(PAYLOAD) + 3
    tampered = message[:at] + bytes([message[at] ^ 1]) + message[at + 1 :]
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify_sign1(tampered, signer.public_key())


def test_rejects_unknown_algorithm_naming_it(signer: Ed25519Signer) -> None:
    message = raw_sign1(protected=cbor2.dumps({ALG: -35}))
    with pytest.raises(UnsupportedAlgorithm, match=r"unsupported COSE algorithm -35; supported:"):
        verify_sign1(message, signer.public_key())


def test_rejects_a_text_algorithm_name(signer: Ed25519Signer) -> None:
    message = raw_sign1(protected=cbor2.dumps({ALG: "EdDSA"}))
    with pytest.raises(UnsupportedAlgorithm, match="unsupported COSE algorithm 'EdDSA'"):
        verify_sign1(message, signer.public_key())


def test_rejects_alg_found_only_in_the_unprotected_header(signer: Ed25519Signer) -> None:
    message = raw_sign1(protected=b"", unprotected={ALG: EDDSA})
    with pytest.raises(MalformedMessage, match="found it only in the unprotected header"):
        verify_sign1(message, signer.public_key())


def test_rejects_a_message_without_alg(signer: Ed25519Signer) -> None:
    with pytest.raises(MalformedMessage, match="expected alg .label 1. in the protected header"):
        verify_sign1(raw_sign1(protected=b""), signer.public_key())


def test_verifies_over_the_exact_non_canonical_protected_bytes(signer: Ed25519Signer) -> None:
    # {4: kid, 1: -8}: not canonical order; a re-encoding verifier would compute other bytes.
    protected = bytes.fromhex("a20442") + b"k1" + bytes.fromhex("0127")
    assert cbor2.dumps(cbor2.loads(protected), canonical=True) != protected
    signature = signer.sign(sig_structure(protected, PAYLOAD))
    message = encode_sign1(protected, {}, PAYLOAD, signature)
    assert verify_sign1(message, signer.public_key()) == PAYLOAD
    assert decode_sign1(message).protected_bytes == protected


def test_verify_decoded_checks_a_message_picked_by_kid(
    signer: Ed25519Signer, message: bytes
) -> None:
    decoded = decode_sign1(message)
    keys = {KID_BYTES: signer.public_key()}
    assert decoded.kid is not None
    verify_decoded(decoded, keys[decoded.kid])
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify_decoded(dataclasses.replace(decoded, payload=b"other"), keys[decoded.kid])


def test_an_es256_message_verifies_with_raw_r_s() -> None:
    key = ec.generate_private_key(ec.SECP256R1())

    class Es256Signer:
        alg = ES256

        def sign(self, data: bytes) -> bytes:
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")

        def public_key_der(self) -> bytes:
            return b""

    message = sign1(PAYLOAD, Es256Signer(), kid=b"es")
    assert decode_sign1(message).alg == ES256
    assert verify_sign1(message, key.public_key()) == PAYLOAD


# -- kid --------------------------------------------------------------------------------------


def test_protected_kid_wins_over_unprotected() -> None:
    message = raw_sign1(protected=cbor2.dumps({ALG: EDDSA, KID: b"p"}), unprotected={KID: b"u"})
    assert decode_sign1(message).kid == b"p"


def test_unprotected_kid_is_the_fallback() -> None:
    assert decode_sign1(raw_sign1(unprotected={KID: b"u"})).kid == b"u"


def test_kid_may_be_absent() -> None:
    assert decode_sign1(raw_sign1()).kid is None


# -- structure --------------------------------------------------------------------------------


def test_accepts_an_untagged_message() -> None:
    decoded = decode_sign1(raw_sign1(tag=None))
    assert decoded.tagged is False
    assert decoded.alg == EDDSA


def test_empty_protected_header_is_the_empty_bstr_not_an_empty_map() -> None:
    decoded = decode_sign1(raw_sign1(protected=b""))
    assert decoded.protected == {}
    assert decoded.protected_bytes == b""
    tbs = sig_structure(decoded.protected_bytes, b"")
    assert tbs == bytes.fromhex("846a5369676e61747572653140") + b"\x40\x40"


def test_an_encoded_empty_map_stays_as_received() -> None:
    decoded = decode_sign1(raw_sign1(protected=b"\xa0"))
    assert decoded.protected == {}
    assert decoded.protected_bytes == b"\xa0"
    assert sig_structure(decoded.protected_bytes, b"")[12:14] == b"\x41\xa0"


@pytest.mark.parametrize(
    ("message", "match"),
    [
        (b"", "got empty input"),
        (b"\xff", "malformed CBOR"),
        (b"\xd2\x84\x43", "truncated CBOR"),
        (raw_sign1() + b"\x00", "got 1 trailing bytes"),
        (raw_sign1(tag=98), "expected COSE_Sign1 tag 18 or no tag, got tag 98"),
        (raw_sign1(tag=61), "expected COSE_Sign1 tag 18 or no tag, got tag 61"),
        (cbor2.dumps(cbor2.CBORTag(61, cbor2.CBORTag(18, [b"", {}, b"", b""]))), "got tag 61"),
        (cbor2.dumps({"not": "an array"}), "expected a COSE_Sign1 array of 4, got map"),
        (cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b""])), "array of 4, got array of 3"),
        (raw_sign1(extra=(b"",)), "array of 4, got array of 5"),
        (raw_sign1(protected={ALG: EDDSA}), "protected header must be a bstr, got map"),
        (raw_sign1(protected=None), "protected header must be a bstr, got nil"),
        (raw_sign1(protected=b"\x80"), "protected header must encode a map, got array of 0"),
        (raw_sign1(protected=b"\x01"), "protected header must encode a map, got int"),
        (raw_sign1(protected=b"\xa1\x01"), "protected header: truncated CBOR"),
        (raw_sign1(protected=b"\xa1\x01\x27\x00"), "protected header: .* 1 trailing bytes"),
        (raw_sign1(protected=b"\xa2\x01\x27\x01\x27"), "protected header: .*Duplicate map key"),
        (raw_sign1(unprotected=[]), "unprotected header must be a map, got array of 0"),
        (raw_sign1(unprotected=b""), "unprotected header must be a map, got bstr"),
        (raw_sign1(payload=None), r"payload is nil \(detached content\), which is not supported"),
        (raw_sign1(payload="text"), "payload must be a bstr, got tstr"),
        (raw_sign1(signature="sig"), "signature must be a bstr, got tstr"),
        (raw_sign1(signature=None), "signature must be a bstr, got nil"),
        (
            raw_sign1(protected=cbor2.dumps({ALG: EDDSA, KID: 7})),
            "protected header kid .label 4. must be a bstr, got int",
        ),
        (
            raw_sign1(unprotected={KID: "k"}),
            "unprotected header kid .label 4. must be a bstr, got tstr",
        ),
        (
            raw_sign1(protected=cbor2.dumps({ALG: -8.0})),
            "protected header alg .label 1. must be an int or tstr, got float",
        ),
        (
            raw_sign1(protected=cbor2.dumps({ALG: True})),
            "protected header alg .label 1. must be an int or tstr, got bool",
        ),
        (
            raw_sign1(protected=cbor2.dumps({ALG: EDDSA, b"x": 1})),
            "protected header label must be an int or tstr, got bstr",
        ),
        (
            raw_sign1(unprotected={1.5: 1}),
            "unprotected header label must be an int or tstr, got float",
        ),
        (
            raw_sign1(protected=cbor2.dumps({ALG: EDDSA, 2: [99]})),
            r"critical header parameters \[99\] are not understood",
        ),
        (
            raw_sign1(protected=cbor2.dumps({ALG: EDDSA, 2: []})),
            r"crit \(label 2\) must be a non-empty array of labels, got array of 0",
        ),
        (
            raw_sign1(protected=cbor2.dumps({ALG: EDDSA, 2: [[KID]]})),
            r"critical header parameters \[\[4\]\] are not understood",
        ),
        (raw_sign1(unprotected={2: [KID]}), r"crit \(label 2\) must be in the protected header"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_rejects_malformed_messages_naming_the_problem(message: bytes, match: str) -> None:
    with pytest.raises(MalformedMessage, match=match):
        decode_sign1(message)


def test_accepts_crit_naming_only_understood_labels() -> None:
    decoded = decode_sign1(raw_sign1(protected=cbor2.dumps({ALG: EDDSA, 2: [KID]})))
    assert decoded.alg == EDDSA


def test_verify_sign1_refuses_malformed_bytes_before_any_crypto(signer: Ed25519Signer) -> None:
    with pytest.raises(MalformedMessage, match="trailing bytes"):
        verify_sign1(sign1(PAYLOAD, signer, kid=KID_BYTES) + b"\x00", signer.public_key())


def test_message_object_refuses_ill_typed_fields() -> None:
    with pytest.raises(MalformedMessage, match="payload must be a bstr, got tstr"):
        Sign1Message(b"", {}, {}, "text", b"", True)  # type: ignore[arg-type]
    with pytest.raises(MalformedMessage, match="protected header kid .label 4. must be a bstr"):
        Sign1Message(b"", {KID: 1}, {}, b"", b"", True)


def test_encode_keeps_the_unprotected_order_given() -> None:
    encoded = encode_sign1(b"", {7: b"x", 4: b"k"}, b"", b"", tagged=False)
    assert encoded == bytes.fromhex("8440a207417804416b4040")


def test_sig_structure_refuses_non_bytes() -> None:
    with pytest.raises(MalformedMessage, match="external_aad must be a bstr, got tstr"):
        sig_structure(b"", b"", "aad")  # type: ignore[arg-type]


@given(st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_only_malformed_message(data: bytes) -> None:
    with contextlib.suppress(MalformedMessage):
        decode_sign1(data)


@given(at=st.integers(min_value=0), xor=st.integers(min_value=1, max_value=255))
def test_any_corrupted_byte_is_refused_with_our_own_error(at: int, xor: int) -> None:
    ed = Ed25519Signer.from_seed(SEED)
    message = sign1(PAYLOAD, ed, kid=KID_BYTES)
    at %= len(message)
    corrupted = message[:at] + bytes([message[at] ^ xor]) + message[at + 1 :]
    with pytest.raises(KeyManagementError, match=r"."):
        verify_sign1(corrupted, ed.public_key())


@pytest.mark.parametrize(
    "length",
    [0, 1, 23, 24, 255, 256, 65_535, 65_536],
    ids=lambda n: f"{n}-bytes",
)
def test_sig_structure_is_the_canonical_encoding_at_every_length_boundary(length: int) -> None:
    # RFC 8949 §3: the length argument moves from the initial byte to 1, 2 and 4 extra bytes.
    body = bytes(range(256)) * (length // 256) + bytes(range(length % 256))
    for protected, aad, payload in ((body, b"", b"p"), (b"\xa0", body, b""), (b"", b"a", body)):
        expected = dumps_canonical(["Signature1", protected, aad, payload])
        assert sig_structure(protected, payload, aad) == expected


@given(st.binary(max_size=300), st.binary(max_size=300), st.binary(max_size=300))
def test_sig_structure_matches_the_canonical_encoder(
    protected: bytes, payload: bytes, aad: bytes
) -> None:
    expected = dumps_canonical(["Signature1", protected, aad, payload])
    assert sig_structure(protected, payload, aad) == expected


@pytest.mark.parametrize("tagged", [True, False], ids=["tagged", "untagged"])
def test_decoded_message_equals_the_one_the_constructor_builds(
    signer: Ed25519Signer, tagged: bool
) -> None:
    encoded = sign1(PAYLOAD, signer, kid=KID_BYTES, unprotected={7: b"x"}, tagged=tagged)
    decoded = decode_sign1(encoded)
    rebuilt = Sign1Message(
        decoded.protected_bytes,
        dict(decoded.protected),
        dict(decoded.unprotected),
        decoded.payload,
        decoded.signature,
        decoded.tagged,
    )
    assert decoded == rebuilt
    assert (decoded.alg, decoded.kid, decoded.unprotected) == (signer.alg, KID_BYTES, {7: b"x"})


def test_a_protected_header_seen_before_decodes_to_a_fresh_copy(signer: Ed25519Signer) -> None:
    encoded = sign1(PAYLOAD, signer, kid=KID_BYTES)
    first = decode_sign1(encoded)
    first.protected[KID] = b"changed"
    first.protected[99] = 1
    again = decode_sign1(encoded)
    assert again.protected == {ALG: signer.alg, KID: KID_BYTES}
    assert again.protected is not first.protected


def test_a_protected_header_holding_an_array_is_never_shared() -> None:
    encoded = raw_sign1(protected=cbor2.dumps({ALG: EDDSA, 2: [KID]}))
    first = decode_sign1(encoded)
    first.protected[2].append(99)
    assert decode_sign1(encoded).protected == {ALG: EDDSA, 2: [KID]}


def test_a_bad_protected_header_fails_the_same_way_every_time() -> None:
    encoded = raw_sign1(protected=cbor2.dumps({ALG: EDDSA, KID: 7}))
    for _ in range(3):
        with pytest.raises(MalformedMessage, match="protected header kid .label 4. must be a bstr"):
            decode_sign1(encoded)


def test_decoded_protected_headers_kept_are_bounded() -> None:
    for n in range(200):
        decode_sign1(raw_sign1(protected=cbor2.dumps({ALG: EDDSA, KID: n.to_bytes(2, "big")})))
    assert 0 < len(cose._PROTECTED_SEEN) <= cose._PROTECTED_SEEN_SIZE


def test_a_protected_header_that_fails_its_checks_is_never_kept() -> None:
    protected = cbor2.dumps({ALG: EDDSA, KID: 7})
    with pytest.raises(MalformedMessage, match="protected header kid .label 4. must be a bstr"):
        decode_sign1(raw_sign1(protected=protected))
    assert protected not in cose._PROTECTED_SEEN


def test_a_kept_protected_header_leaves_the_order_of_the_checks_as_it_was() -> None:
    # decode_sign1 checks the parts in order; a header kept from before changes none of that.
    protected = cbor2.dumps({ALG: EDDSA, KID: b"k"})
    decode_sign1(raw_sign1(protected=protected))
    assert protected in cose._PROTECTED_SEEN
    with pytest.raises(MalformedMessage, match="payload is nil"):
        decode_sign1(raw_sign1(protected=protected, payload=None))
    with pytest.raises(MalformedMessage, match="unprotected header kid .label 4. must be a bstr"):
        decode_sign1(raw_sign1(protected=protected, unprotected={KID: 1}))
    with pytest.raises(MalformedMessage, match="payload is nil"):
        decode_sign1(raw_sign1(protected=cbor2.dumps({ALG: EDDSA, KID: 7}), payload=None))


class _Bstr(bytes):
    """A bytes subclass, which a bstr may be."""


def test_sig_structure_takes_bytes_subclasses_as_bstr() -> None:
    expected = sig_structure(b"\xa0", b"payload", b"aad")
    assert sig_structure(_Bstr(b"\xa0"), _Bstr(b"payload"), _Bstr(b"aad")) == expected


@pytest.mark.parametrize("tagged", [True, False], ids=["tagged", "untagged"])
def test_a_decoded_unprotected_header_is_a_dict_in_the_order_received(tagged: bool) -> None:
    unprotected = {7: b"x", 9: [1, 2], 3: {"a": 1}}
    decoded = decode_sign1(
        raw_sign1(unprotected=unprotected, tag=COSE_SIGN1_TAG if tagged else None)
    )
    assert type(decoded.unprotected) is dict
    assert list(decoded.unprotected) == [7, 9, 3]


@pytest.mark.parametrize(
    "length",
    [0, 1, 23, 24, 255, 256, 65_535, 65_536],
    ids=lambda n: f"{n}-bytes",
)
def test_a_signed_message_is_the_canonical_encoding_at_every_payload_length(length: int) -> None:
    signer = Ed25519Signer.generate()
    payload = bytes(range(256)) * (length // 256) + bytes(range(length % 256))
    for kid in (b"k", b"\x00" * 16, bytes(range(40))):
        message = sign1(payload, signer, kid=kid)
        decoded = cbor2.loads(message)
        protected, unprotected, body, signature = decoded.value
        assert (decoded.tag, unprotected, body) == (18, {}, payload)
        # The same parts through the canonical encoder give the very same bytes.
        assert message == dumps_canonical(cbor2.CBORTag(18, [protected, {}, body, signature]))
        assert verify_sign1(message, signer.public_key()) == payload
