"""Issuing credentials (a salted disclosure per field, the digests signed) and presenting them
with only some fields disclosed; pycose verifies what we issue and present."""

from __future__ import annotations

import hashlib

import cbor2
import pytest
from pycose.keys.curves import Ed25519
from pycose.keys.okp import OKPKey
from pycose.messages.sign1message import Sign1Message as PycoseSign1

from keys.registry import kid_for
from keys.signer import Ed25519Signer
from licenses.credential import DISCLOSURES, decode_credential, parse_credential
from licenses.errors import InvalidCredential
from licenses.issuance import issue_credential, present
from tests.unit.licenses.conftest import (
    FIELDS,
    HOLDER,
    ISSUER,
    LICENSE_ID,
    SALTS,
    World,
    disclosure,
    issue,
    make_claims,
    parts,
)

# --- issuing ---------------------------------------------------------------------------------


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


# --- presenting some fields ------------------------------------------------------------------


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
