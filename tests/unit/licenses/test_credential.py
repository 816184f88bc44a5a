"""Credentials: decoding the claims and the disclosures against their signed digests, strict
decoding of the message and its payload, and the claims map's keys."""

from __future__ import annotations

import re
from typing import Any

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys import cose
from keys.cbor import cbor_type_name
from keys.errors import KeyManagementError
from licenses import credential
from licenses.credential import DISCLOSURES, SALT_LENGTH, decode_credential, parse_credential
from licenses.errors import DisclosureInvalid, InvalidCredential, SignatureInvalid
from tests.unit.licenses.conftest import SALTS, World, disclosure, issue, make_claims, parts


def reassemble(credential: bytes, disclosures: list[bytes]) -> bytes:
    """The same signed message with other disclosures in the unprotected header."""
    protected, _, payload, signature = parts(credential)
    return cose.encode_sign1(protected, {DISCLOSURES: disclosures}, payload, signature)


def signed_payload(world: World, payload: dict[Any, Any], **unprotected: Any) -> bytes:
    """A COSE_Sign1 by the issuer over an arbitrary claims map."""
    headers: dict[int | str, Any] = {DISCLOSURES: list(unprotected.pop("disclosures", []))}
    return cose.sign1(cbor2.dumps(payload), world.issuer, kid=world.issuer_kid, unprotected=headers)


def base_payload(world: World) -> dict[Any, Any]:
    """The decoded claims map of a good credential."""
    return dict(cbor2.loads(parts(issue(world))[2]))


# --- decoding --------------------------------------------------------------------------------


def test_credential_decodes_to_the_claims_it_was_issued_with(world: World) -> None:
    decoded = decode_credential(issue(world))
    assert decoded.claims == make_claims()
    assert decoded.undisclosed == frozenset()
    assert decoded.kid == world.issuer_kid


# --- disclosures -----------------------------------------------------------------------------


def test_tampered_disclosure_value_is_refused(world: World) -> None:
    credential = issue(world)
    forged = disclosure(SALTS["capital"], "capital", 9_000_000)
    others = [r for r in parts(credential)[1][DISCLOSURES] if cbor2.loads(r)[1] != "capital"]
    with pytest.raises(DisclosureInvalid, match="disclosure of field 'capital': expected digest"):
        decode_credential(reassemble(credential, [*others, forged]))


def test_disclosure_for_an_unsigned_field_is_refused(world: World) -> None:
    credential = issue(world)
    extra = disclosure(b"\x09" * SALT_LENGTH, "photo", "x")
    with pytest.raises(DisclosureInvalid, match="field the issuer did not sign"):
        decode_credential(reassemble(credential, [*parts(credential)[1][DISCLOSURES], extra]))


def test_disclosure_given_twice_is_refused(world: World) -> None:
    credential = issue(world)
    first = parts(credential)[1][DISCLOSURES][0]
    with pytest.raises(InvalidCredential, match="expected each field once, got \\['address'\\]"):
        decode_credential(reassemble(credential, [first, first]))


def test_disclosure_with_trailing_bytes_fails_its_digest(world: World) -> None:
    credential = issue(world)
    first, *rest = parts(credential)[1][DISCLOSURES]
    with pytest.raises(DisclosureInvalid, match="expected digest"):
        decode_credential(reassemble(credential, [first + b"\x00", *rest]))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff", "disclosure: malformed CBOR"),
        (cbor2.dumps([b"salt", "name", "x"]), "disclosure salt: expected 16 bytes"),
        (cbor2.dumps([b"\x00" * 16, "name"]), "expected \\[salt, name, value\\], got array of 2"),
        (cbor2.dumps([b"\x00" * 16, "area", 1.5]), "expected text, int or bool, got float"),
        (cbor2.dumps([b"\x00" * 16, 7, "x"]), "field name: expected text, got int"),
    ],
    ids=["not-cbor", "short-salt", "two-items", "float", "int-name"],
)
def test_malformed_disclosure_is_refused(world: World, raw: bytes, message: str) -> None:
    with pytest.raises(InvalidCredential, match=message):
        decode_credential(reassemble(issue(world), [raw]))


# --- strict decoding -------------------------------------------------------------------------


def test_trailing_bytes_after_the_credential_are_refused(world: World) -> None:
    with pytest.raises(InvalidCredential, match="1 trailing bytes"):
        decode_credential(issue(world) + b"\x00")


def test_unknown_unprotected_header_is_refused(world: World) -> None:
    protected, unprotected, payload, signature = parts(issue(world))
    message = cose.encode_sign1(protected, {**unprotected, 99: 1}, payload, signature)
    with pytest.raises(InvalidCredential, match="expected only label -65537"):
        decode_credential(message)


def test_credential_without_a_kid_is_refused(world: World) -> None:
    _, unprotected, payload, signature = parts(issue(world))
    message = cose.encode_sign1(cbor2.dumps({1: -8}), unprotected, payload, signature)
    with pytest.raises(InvalidCredential, match="kid \\(label 4\\): expected a non-empty bstr"):
        decode_credential(message)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"extra": 1}, "expected only known claims, got unknown \\['extra'\\]"),
        ({"lid": None}, "license id: expected text, got NoneType"),
        ({6: "2026-01-06"}, "claim iat \\(6\\): expected integer seconds"),
        ({5: -1}, "claim nbf \\(5\\): expected integer seconds"),
        ({4: 2**40}, "claim exp \\(4\\): expected integer seconds"),
        ({"sts": [1]}, "expected \\[list id, index\\]"),
        ({"dig": {"name": b"short"}}, "digest of field 'name': expected 32 bytes, got 5"),
        ({"dig": {1: b"\x00" * 32}}, "expected text names and bstr digests"),
        ({"dig": []}, "expected a map of at most 64 digests"),
        ({True: 1}, "expected int or text keys, got bool"),
    ],
    ids=[
        "unknown",
        "nil-lid",
        "text-iat",
        "negative-nbf",
        "huge-exp",
        "short-status",
        "short-digest",
        "int-name",
        "digest-array",
        "bool-key",
    ],
)
def test_malformed_claims_are_refused(world: World, change: dict[Any, Any], message: str) -> None:
    payload = base_payload(world)
    if True in change:
        del payload[1]
    payload.update(change)
    with pytest.raises(InvalidCredential, match=message):
        decode_credential(signed_payload(world, payload))


def test_missing_claim_is_refused(world: World) -> None:
    payload = base_payload(world)
    del payload[2]
    with pytest.raises(InvalidCredential, match="expected claims \\['2'\\] too"):
        decode_credential(signed_payload(world, payload))


def test_payload_with_trailing_bytes_is_refused(world: World) -> None:
    payload = cbor2.dumps(base_payload(world)) + b"\x00"
    message = cose.sign1(payload, world.issuer, kid=world.issuer_kid)
    with pytest.raises(InvalidCredential, match="payload: expected exactly one CBOR item"):
        decode_credential(message)


def test_payload_that_is_not_a_map_is_refused(world: World) -> None:
    message = cose.sign1(cbor2.dumps([1, 2]), world.issuer, kid=world.issuer_kid)
    with pytest.raises(InvalidCredential, match="payload: expected a claims map, got array of 2"):
        decode_credential(message)


def test_signature_from_another_key_raises_the_licenses_error(world: World) -> None:
    parsed = parse_credential(issue(world))
    with pytest.raises(SignatureInvalid, match="EdDSA signature does not verify") as caught:
        parsed.verify_signature(world.other.public_key())
    assert not isinstance(caught.value, KeyManagementError)
    assert caught.value.__suppress_context__


# --- the claims map's keys ------------------------------------------------------------------

_CLAIM_KEYS = [1, 2, 4, 5, 6, "lid", "lty", "ver", "sts", "dig"]


def _reference_key_check(payload: dict[Any, Any]) -> str | None:
    """The key checks written out one by one: the error message, or None to accept."""
    for key in payload:
        if type(key) not in (int, str):
            return f"expected int or text keys, got {cbor_type_name(key)}"
    missing = {1, 2, 5, 6, "lid", "lty", "ver", "sts", "dig"} - payload.keys()
    if missing:
        return f"expected claims {sorted(map(str, missing))} too"
    unknown = payload.keys() - set(_CLAIM_KEYS)
    if unknown:
        return f"expected only known claims, got unknown {sorted(map(str, unknown))}"
    return None


@given(
    st.sets(st.sampled_from([*_CLAIM_KEYS, 3, 7, "x", "LID", True, False, 1.0, 5.5, b"lid", None]))
)
def test_claim_keys_are_checked_as_each_rule_says(keys: set[Any]) -> None:
    payload = dict.fromkeys(keys, 0)
    expected = _reference_key_check(payload)
    if expected is None:
        credential._check_keys(payload)
    else:
        with pytest.raises(InvalidCredential, match=re.escape(expected)):
            credential._check_keys(payload)


def test_a_true_key_never_stands_in_for_the_issuer_claim() -> None:
    payload: dict[Any, Any] = dict.fromkeys(_CLAIM_KEYS, 0)
    del payload[1]
    payload[True] = 0
    with pytest.raises(InvalidCredential, match="expected int or text keys, got bool"):
        credential._check_keys(payload)
