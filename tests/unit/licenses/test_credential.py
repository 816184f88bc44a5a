"""Credentials: CWT claims with salted digests, selective disclosure, strict decoding, pycose."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pycose.keys.curves import Ed25519
from pycose.keys.okp import OKPKey
from pycose.messages.sign1message import Sign1Message as PycoseSign1

from keys import cose
from keys.cbor import cbor_type_name
from keys.errors import KeyManagementError
from keys.registry import kid_for
from keys.signer import Ed25519Signer
from licenses import credential
from licenses.credential import DISCLOSURES, SALT_LENGTH, decode_credential, parse_credential
from licenses.errors import DisclosureInvalid, InvalidCredential, SignatureInvalid
from licenses.issuance import issue_credential, present
from licenses.model import FieldValue
from tests.unit.licenses.conftest import FIELDS, HOLDER, ISSUER, LICENSE_ID, World, make_claims

SALTS = {name: bytes([i]) * SALT_LENGTH for i, name in enumerate(sorted(FIELDS))}


def issue(world: World, **changes: object) -> bytes:
    """A credential from the issuer's key with fixed salts."""
    return issue_credential(make_claims(**changes), world.issuer, kid=world.issuer_kid, salts=SALTS)


def parts(credential: bytes) -> tuple[bytes, dict[Any, Any], bytes, bytes]:
    """The four parts of a tagged COSE_Sign1, with a mutable unprotected map."""
    protected, unprotected, payload, signature = cbor2.loads(credential).value
    return protected, dict(unprotected), payload, signature


def reassemble(credential: bytes, disclosures: list[bytes]) -> bytes:
    """The same signed message with other disclosures in the unprotected header."""
    protected, _, payload, signature = parts(credential)
    return cose.encode_sign1(protected, {DISCLOSURES: disclosures}, payload, signature)


def disclosure(salt: bytes, name: str, value: FieldValue) -> bytes:
    """A disclosure as the issuer writes it."""
    return cbor2.dumps([salt, name, value], canonical=True)


def signed_payload(world: World, payload: dict[Any, Any], **unprotected: Any) -> bytes:
    """A COSE_Sign1 by the issuer over an arbitrary claims map."""
    headers: dict[int | str, Any] = {DISCLOSURES: list(unprotected.pop("disclosures", []))}
    return cose.sign1(cbor2.dumps(payload), world.issuer, kid=world.issuer_kid, unprotected=headers)


def base_payload(world: World) -> dict[Any, Any]:
    """The decoded claims map of a good credential."""
    return dict(cbor2.loads(parts(issue(world))[2]))


# --- issuing and decoding --------------------------------------------------------------------


def test_credential_decodes_to_the_claims_it_was_issued_with(world: World) -> None:
    decoded = decode_credential(issue(world))
    assert decoded.claims == make_claims()
    assert decoded.undisclosed == frozenset()
    assert decoded.kid == world.issuer_kid


def test_payload_holds_cwt_claims_and_digests_but_no_field_values(world: World) -> None:
    _, unprotected, payload, _ = parts(issue(world))
    claims = cbor2.loads(payload)
    assert set(claims) == {1, 2, 4, 5, 6, "lid", "lty", "ver", "sts", "dig"}
    assert (claims[1], claims[2], claims["lid"]) == (ISSUER, HOLDER, LICENSE_ID)
    assert "张三".encode() not in payload
    assert set(unprotected) == {DISCLOSURES}


def test_each_digest_is_sha256_of_the_canonical_disclosure(world: World) -> None:
    _, unprotected, payload, _ = parts(issue(world))
    digests = cbor2.loads(payload)["dig"]
    expected = [disclosure(SALTS[name], name, FIELDS[name]) for name in sorted(FIELDS)]
    assert list(unprotected[DISCLOSURES]) == expected
    for raw in expected:
        assert digests[cbor2.loads(raw)[1]] == hashlib.sha256(raw).digest()


def test_fixed_salts_give_the_same_bytes_and_fresh_salts_differ(world: World) -> None:
    assert issue(world) == issue(world)
    fresh = [issue_credential(make_claims(), world.issuer, kid=world.issuer_kid) for _ in (1, 2)]
    assert fresh[0] != fresh[1]
    assert decode_credential(fresh[0]).claims == decode_credential(fresh[1]).claims


def test_issue_refuses_salts_that_do_not_match_the_fields(world: World) -> None:
    with pytest.raises(InvalidCredential, match="salts: expected one per field"):
        issue_credential(make_claims(), world.issuer, kid=world.issuer_kid, salts={"name": b""})
    short = {**SALTS, "name": b"\x00" * 8}
    with pytest.raises(InvalidCredential, match="salt of field 'name': expected 16 bytes"):
        issue_credential(make_claims(), world.issuer, kid=world.issuer_kid, salts=short)


def test_issue_refuses_anything_but_claims(world: World) -> None:
    with pytest.raises(InvalidCredential, match="claims: expected LicenseClaims, got dict"):
        issue_credential({}, world.issuer, kid=world.issuer_kid)  # type: ignore[arg-type]


class _UnknownAlgorithmSigner(Ed25519Signer):
    @property
    def alg(self) -> int:
        return -65000


def test_issue_translates_a_signing_failure(world: World) -> None:
    signer = _UnknownAlgorithmSigner.from_seed(b"\x01" * 32)
    kid = kid_for(signer.public_key_der())
    with pytest.raises(InvalidCredential, match="cannot sign the credential: unsupported COSE"):
        issue_credential(make_claims(), signer, kid=kid)


def test_issue_refuses_a_kid_that_is_not_the_signers(world: World) -> None:
    with pytest.raises(InvalidCredential, match="kid: expected the signer's key id"):
        issue_credential(make_claims(), world.other, kid=world.issuer_kid)


# --- selective disclosure --------------------------------------------------------------------


def test_presentation_keeps_the_signed_bytes_and_drops_other_disclosures(world: World) -> None:
    credential = issue(world)
    shown = present(credential, {"name", "capital"})
    assert parts(shown)[0::2] == parts(credential)[0::2]
    assert parts(shown)[3] == parts(credential)[3]
    decoded = decode_credential(shown)
    assert dict(decoded.claims.fields) == {"name": "张三", "capital": 1_000_000}
    assert decoded.undisclosed == {"address", "scope", "listed"}
    parse_credential(shown).verify_signature(world.issuer.public_key())


def test_presentation_of_no_fields_still_verifies(world: World) -> None:
    shown = present(issue(world), set())
    parsed = parse_credential(shown)
    parsed.verify_signature(world.issuer.public_key())
    assert parsed.disclose().claims.fields == {}


def test_presentation_refuses_a_field_the_credential_lacks(world: World) -> None:
    with pytest.raises(InvalidCredential, match="cannot present fields \\['photo'\\]"):
        present(issue(world), {"photo"})


def test_presentation_cannot_add_back_a_dropped_field(world: World) -> None:
    shown = present(issue(world), {"name"})
    with pytest.raises(InvalidCredential, match="does not disclose them"):
        present(shown, {"name", "scope"})


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


# --- interoperability ------------------------------------------------------------------------


def pycose_decode(message: bytes) -> PycoseSign1:
    """Decode with pycose, handing it the list and dict it expects (cbor2 6 gives tuples)."""
    protected, unprotected, payload, signature = cbor2.loads(message).value
    return PycoseSign1.from_cose_obj([protected, dict(unprotected), payload, signature], True)


@pytest.mark.parametrize("fields", [None, {"name"}, set()], ids=["full", "one-field", "none"])
def test_pycose_verifies_our_credentials_and_presentations(
    world: World, fields: set[str] | None
) -> None:
    credential = issue(world)
    message = credential if fields is None else present(credential, fields)
    decoded = pycose_decode(message)
    decoded.key = OKPKey(crv=Ed25519, x=world.issuer.public_key_raw())
    assert decoded.verify_signature()
    decoded.key = OKPKey(crv=Ed25519, x=world.other.public_key_raw())
    assert not decoded.verify_signature()


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
