"""The offline verifier: one failure per step, each named; bad input never raises."""

from __future__ import annotations

import json
import re
import zlib
from datetime import datetime, timedelta
from pathlib import Path

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keys import cose
from keys.keyring import KeyRing, KeyRingApplication
from keys.registry import KeyRole, kid_for
from keys.signer import Ed25519Signer
from keys.trustlist import build_trust_list, load_trust_list
from licenses.errors import InvalidPolicy, LicenseError
from licenses.identifiers import LicenseId
from licenses.issuance import issue_credential, present
from licenses.model import SlotStatus, StatusReference
from licenses.policies import RequireFields, RequireStatusChecked
from licenses.qr import BASE45_ALPHABET, PREFIX, b45encode, encode_qr_text
from licenses.status import StatusList
from licenses.verify import (
    STATUS_MAX_AGE,
    STEP_NAMES,
    VerificationResult,
    VerificationStatus,
    Verifier,
    verify,
    verify_qr_text,
)
from tests.unit.licenses.conftest import (
    ADMIN,
    ISSUER,
    ISSUER_USCC,
    LIST_ID,
    OTHER_ISSUER,
    OTHER_TYPE_CODE,
    T0,
    TYPE_CODE,
    World,
    make_claims,
    resign,
)

AT = T0 + timedelta(days=30)
S = VerificationStatus


def issue(world: World, signer: Ed25519Signer | None = None, **changes: object) -> bytes:
    """A credential signed by ``signer`` (the issuer by default) under the issuer's kid."""
    return issue_credential(make_claims(**changes), signer or world.issuer, kid=world.issuer_kid)


def status_list(
    world: World,
    *slots: tuple[int, SlotStatus],
    list_id: str = LIST_ID,
    issued_at: datetime = AT - timedelta(days=1),
) -> bytes:
    """A status list signed by the issuer with the given slots set (a day before ``AT``)."""
    built = StatusList()
    for index, slot in slots:
        built.set(index, slot)
    return built.to_signed(world.issuer, kid=world.issuer_kid, issued_at=issued_at, list_id=list_id)


def expect(result: VerificationResult, status: VerificationStatus, step: int, match: str) -> None:
    """Assert the status, the step (and its name) and that the reason matches."""
    assert (result.status, result.step, result.step_name) == (status, step, STEP_NAMES[step])
    assert re.search(match, result.reason), result.reason


# --- the good path ---------------------------------------------------------------------------


def test_valid_credential_from_qr_text_and_from_bytes(world: World) -> None:
    credential = issue(world)
    for given_as in (credential, encode_qr_text(credential)):
        result = verify(given_as, world.trust_list, at=AT)
        assert result.valid
        assert (result.step, result.step_name) == (None, None)
        assert result.claims == make_claims()
        assert result.reason == "every step passed (no status list checked)"
        assert not result.status_checked


def test_valid_credential_with_a_status_list(world: World) -> None:
    result = verify(issue(world), world.trust_list, at=AT, status_list=status_list(world))
    assert result.valid and result.status_checked
    assert result.reason == "every step passed"


def test_presentation_verifies_and_reports_what_it_hides(world: World) -> None:
    result = verify(present(issue(world), {"name"}), world.trust_list, at=AT)
    assert result.valid
    assert result.claims is not None and dict(result.claims.fields) == {"name": "张三"}
    assert result.undisclosed == {"address", "scope", "capital", "listed"}


def test_verify_qr_text_loads_the_trust_list_itself(world: World) -> None:
    text = encode_qr_text(issue(world))
    result = verify_qr_text(text, world.trust_list_bytes, world.root.public_key_der(), at=AT)
    assert result.valid


# --- steps 1-5 -------------------------------------------------------------------------------


def test_step_1_refuses_a_wrong_prefix(world: World) -> None:
    text = encode_qr_text(issue(world)).replace(PREFIX, "HC1:", 1)
    expect(verify(text, world.trust_list, at=AT), S.MALFORMED, 1, "expected prefix 'EL1:'")


def test_step_1_refuses_input_that_is_neither_text_nor_bytes(world: World) -> None:
    result = verify(42, world.trust_list, at=AT)  # type: ignore[arg-type]
    expect(result, S.MALFORMED, 1, "expected QR text or COSE bytes, got int")


def test_step_2_refuses_bad_base45(world: World) -> None:
    expect(verify(PREFIX + "abc", world.trust_list, at=AT), S.MALFORMED, 2, "Base45 position 1")


def test_step_3_refuses_bad_zlib(world: World) -> None:
    text = PREFIX + b45encode(b"not zlib")
    expect(verify(text, world.trust_list, at=AT), S.MALFORMED, 3, "expected a valid zlib stream")


def test_step_4_refuses_trailing_bytes(world: World) -> None:
    text = PREFIX + b45encode(zlib.compress(issue(world) + b"\x00"))
    expect(verify(text, world.trust_list, at=AT), S.MALFORMED, 4, "1 trailing bytes")


def test_step_4_refuses_bytes_that_are_not_cbor(world: World) -> None:
    expect(verify(b"\xff\xff", world.trust_list, at=AT), S.MALFORMED, 4, "malformed CBOR")


def test_step_4_refuses_oversized_bytes(world: World) -> None:
    result = verify(bytes(70_000), world.trust_list, at=AT)
    expect(result, S.MALFORMED, 4, "expected at most 65536 bytes, got 70000")


def test_step_5_refuses_cbor_that_is_not_cose_sign1(world: World) -> None:
    result = verify(cbor2.dumps([1, 2, 3]), world.trust_list, at=AT)
    expect(result, S.MALFORMED, 5, "expected a COSE_Sign1 array of 4")


def test_step_5_refuses_malformed_claims(world: World) -> None:
    message = cose.sign1(cbor2.dumps({1: ISSUER}), world.issuer, kid=world.issuer_kid)
    expect(verify(message, world.trust_list, at=AT), S.MALFORMED, 5, "expected claims")


# --- steps 6-10 ------------------------------------------------------------------------------


def test_step_6_refuses_a_key_off_the_trust_list(world: World) -> None:
    stranger = Ed25519Signer.from_seed(b"\x55" * 32)
    credential = issue_credential(make_claims(), stranger, kid=kid_for(stranger.public_key_der()))
    result = verify(credential, world.trust_list, at=AT)
    expect(result, S.UNKNOWN_ISSUER, 6, "is not on the trust list")
    assert result.claims is None


def test_step_6_reports_a_trust_list_that_does_not_load(world: World) -> None:
    text = encode_qr_text(issue(world))
    other_root = Ed25519Signer.from_seed(b"\x56" * 32).public_key_der()
    result = verify_qr_text(text, world.trust_list_bytes, other_root, at=AT)
    expect(result, S.UNKNOWN_ISSUER, 6, "trust list does not load: .*must be signed by root")
    result = verify_qr_text(text, b"junk", world.root.public_key_der(), at=AT)
    expect(result, S.UNKNOWN_ISSUER, 6, "trust list does not load")


class _ClaimsES256(Ed25519Signer):
    # Says ES256 in the header but signs with Ed25519: the alg does not match the key's.
    @property
    def alg(self) -> int:
        return -7


def test_step_7_refuses_an_algorithm_other_than_the_keys(world: World) -> None:
    credential = issue(world, signer=_ClaimsES256.from_seed(b"\x11" * 32))
    expect(
        verify(credential, world.trust_list, at=AT),
        S.INVALID,
        7,
        "signs with algorithm -8, message says -7",
    )


def test_step_7_refuses_an_algorithm_the_verifier_does_not_allow(world: World) -> None:
    verifier = Verifier(world.trust_list, algorithms={-7})
    expect(verifier.verify(issue(world), at=AT), S.INVALID, 7, "expected an algorithm in \\[-7\\]")


def test_step_8_refuses_a_signature_by_another_key(world: World) -> None:
    result = verify(resign(issue(world), world.other), world.trust_list, at=AT)
    expect(result, S.INVALID, 8, "EdDSA signature does not verify")
    assert result.claims is None


def test_step_8_refuses_a_tampered_disclosure(world: World) -> None:
    protected, unprotected, payload, signature = cbor2.loads(issue(world)).value
    disclosures = list(unprotected[-65537])
    salt, name, _ = cbor2.loads(disclosures[0])
    disclosures[0] = cbor2.dumps([salt, name, "篡改"], canonical=True)
    forged = cose.encode_sign1(protected, {-65537: disclosures}, payload, signature)
    expect(
        verify(forged, world.trust_list, at=AT), S.INVALID, 8, "field 'address': expected digest"
    )


def test_step_9_refuses_a_key_of_another_department(world: World) -> None:
    result = verify(issue(world, iss=OTHER_ISSUER), world.trust_list, at=AT)
    expect(result, S.KEY_NOT_ALLOWED, 9, f"belongs to '{ISSUER}', not '{OTHER_ISSUER}'")
    assert result.claims is not None and result.claims.iss == OTHER_ISSUER


def test_step_9_refuses_a_credential_dated_before_its_key(world: World) -> None:
    early = T0 - timedelta(days=1)
    result = verify(issue(world, iat=early, nbf=early), world.trust_list, at=AT)
    expect(result, S.KEY_NOT_ALLOWED, 9, "is valid from 2026-01-05")


def test_step_9_refuses_a_credential_signed_after_its_key_was_revoked(world: World) -> None:
    ring = KeyRing(
        KeyRingApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        world.root.public_key_der(),
    )
    ring.bootstrap(world.root, owner="platform", valid_from=T0, valid_to=None, at=T0, actor=ADMIN)
    ring.register(
        root=world.root,
        public_key_der=world.issuer.public_key_der(),
        owner=ISSUER,
        role=KeyRole.ISSUER,
        department=ISSUER,
        license_types=[TYPE_CODE],
        valid_from=T0,
        at=T0,
        actor=ADMIN,
    )
    revoked = T0 + timedelta(hours=12)
    ring.revoke(world.issuer_kid, revoked_at=revoked, reason="compromise", at=revoked, actor=ADMIN)
    signed = build_trust_list(ring.entries(), root=world.root, issued_at=revoked, sequence=2)
    trust = load_trust_list(signed, world.root.public_key_der())
    expect(verify(issue(world), trust, at=AT), S.KEY_NOT_ALLOWED, 9, "revoked at .*compromise")


def test_step_10_refuses_a_license_type_the_key_may_not_sign(world: World) -> None:
    license_id = str(LicenseId(OTHER_TYPE_CODE, ISSUER_USCC, "20230000403"))
    credential = issue(world, license_type=OTHER_TYPE_CODE, license_id=license_id)
    result = verify(credential, world.trust_list, at=AT)
    expect(result, S.KEY_NOT_ALLOWED, 10, f"may sign license types \\['{TYPE_CODE}'\\]")


# --- steps 11-13 -----------------------------------------------------------------------------


def test_step_11_refuses_a_license_not_yet_valid(world: World) -> None:
    credential = issue(world, nbf=T0 + timedelta(days=60))
    expect(verify(credential, world.trust_list, at=AT), S.NOT_YET_VALID, 11, "valid from")


def test_step_11_refuses_a_license_from_its_expiry_on(world: World) -> None:
    claims = make_claims()
    assert claims.exp is not None
    expired = verify(issue(world), world.trust_list, at=claims.exp)
    expect(expired, S.EXPIRED, 11, "expired at 2031")
    assert verify(issue(world), world.trust_list, at=claims.exp - timedelta(seconds=1)).valid


def test_step_11_refuses_a_naive_verification_time(world: World) -> None:
    result = verify(issue(world), world.trust_list, at=datetime(2026, 2, 1))
    expect(result, S.INVALID, 11, "expected an aware `at`")


@pytest.mark.parametrize("issued", [AT - timedelta(days=1), T0], ids=["a day old", "a month old"])
@pytest.mark.parametrize(
    ("slot", "status"),
    [(SlotStatus.REVOKED, S.REVOKED), (SlotStatus.SUSPENDED, S.SUSPENDED)],
    ids=["revoked", "suspended"],
)
def test_step_12_reports_a_revoked_or_suspended_slot_from_a_status_list_of_any_age(
    world: World, slot: SlotStatus, status: VerificationStatus, issued: datetime
) -> None:
    data = status_list(world, (4242, slot), issued_at=issued)
    result = verify(issue(world), world.trust_list, at=AT, status_list=data)
    expect(result, status, 12, f"slot 4242 of status list .* says {slot.name.lower()}")
    assert result.claims == make_claims()


def test_step_12_takes_a_good_slot_only_from_a_status_list_at_most_a_week_old(
    world: World,
) -> None:
    week = AT - STATUS_MAX_AGE
    fresh = verify(
        issue(world), world.trust_list, at=AT, status_list=status_list(world, issued_at=week)
    )
    assert fresh.valid and fresh.status_checked
    stale = status_list(world, issued_at=week - timedelta(seconds=1))
    result = verify(issue(world), world.trust_list, at=AT, status_list=stale)
    expect(
        result,
        S.STATUS_OUTDATED,
        12,
        r"was issued 2026-01-28T08:59:59\+00:00, 7 days, 0:00:01 before the verification .* "
        "at most 7 days, 0:00:00 is accepted: fetch a newer one",
    )
    assert result.claims == make_claims() and not result.status_checked


def test_a_verifier_may_allow_older_or_demand_newer_status_lists_but_not_none(
    world: World,
) -> None:
    three_days = status_list(world, issued_at=AT - timedelta(days=3))
    lenient = Verifier(world.trust_list, status_max_age=timedelta(days=30))
    assert lenient.verify(issue(world), at=AT, status_list=status_list(world, issued_at=T0)).valid
    strict = Verifier(world.trust_list, status_max_age=timedelta(days=1))
    expect(strict.verify(issue(world), at=AT, status_list=three_days), S.STATUS_OUTDATED, 12, "")
    for limit in (timedelta(0), -timedelta(days=1)):
        with pytest.raises(LicenseError, match="expected a positive limit"):
            Verifier(world.trust_list, status_max_age=limit)


def test_step_12_refuses_a_status_list_of_another_list_id(world: World) -> None:
    data = status_list(world, list_id="another")
    result = verify(issue(world), world.trust_list, at=AT, status_list=data)
    expect(result, S.INVALID, 12, f"expected status list '{LIST_ID}', got 'another'")


def test_step_12_refuses_a_status_list_signed_by_another_department(world: World) -> None:
    data = StatusList().to_signed(world.other, kid=world.other_kid, issued_at=AT, list_id=LIST_ID)
    result = verify(issue(world), world.trust_list, at=AT, status_list=data)
    expect(result, S.INVALID, 12, f"signed by the issuer '{ISSUER}', got one signed by")


def test_step_12_refuses_a_forged_status_list(world: World) -> None:
    forged = resign(status_list(world), world.other)
    result = verify(issue(world), world.trust_list, at=AT, status_list=forged)
    expect(result, S.INVALID, 12, "status list signature: EdDSA signature does not verify")
    again = verify(issue(world), world.trust_list, at=AT, status_list=b"junk")
    expect(again, S.INVALID, 12, "status list signature")


def test_step_12_refuses_an_index_beyond_the_list(world: World) -> None:
    credential = issue(world, status=StatusReference(LIST_ID, 500_000))
    result = verify(credential, world.trust_list, at=AT, status_list=status_list(world))
    expect(result, S.INVALID, 12, "expected an int from 0 to 131071, got 500000")


def test_step_13_applies_the_rules(world: World) -> None:
    verifier = Verifier(world.trust_list, policies=[RequireFields(frozenset({"scope"}))])
    result = verifier.verify(present(issue(world), {"name"}), at=AT)
    expect(result, S.REJECTED, 13, "required fields disclosed: expected fields \\['scope'\\]")
    strict = Verifier(world.trust_list, policies=[RequireStatusChecked()])
    expect(strict.verify(issue(world), at=AT), S.REJECTED, 13, "expected a status list check")


def test_step_13_default_rule_refuses_a_credential_issued_after_the_verification_time(
    world: World,
) -> None:
    credential = issue(world, nbf=T0 + timedelta(hours=1))
    result = verify(credential, world.trust_list, at=T0 + timedelta(hours=2))
    expect(result, S.REJECTED, 13, "not issued in the future: expected iat on or before")


def test_verifier_refuses_an_empty_policy_set(world: World) -> None:
    with pytest.raises(InvalidPolicy, match="expected at least one policy, got none"):
        Verifier(world.trust_list, policies=[])


def test_verifier_caches_a_status_list_and_its_failure(world: World) -> None:
    verifier = Verifier(world.trust_list)
    data = status_list(world, (4242, SlotStatus.REVOKED))
    for _ in range(3):
        expect(verifier.verify(issue(world), at=AT, status_list=data), S.REVOKED, 12, "revoked")
    for _ in range(2):
        expect(
            verifier.verify(issue(world), at=AT, status_list=b"junk"),
            S.INVALID,
            12,
            "status list signature",
        )


# --- golden corpus (tests/vectors/licenses, written by make_corpus.py) ----------------------

CORPUS = Path(__file__).resolve().parents[2] / "vectors" / "licenses"
CORPUS_CASES = sorted(CORPUS.glob("*.json"))


@pytest.mark.parametrize("path", CORPUS_CASES, ids=[p.stem for p in CORPUS_CASES])
def test_golden_corpus_case(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    context, expected = case["TESTCTX"], case["EXPECTEDRESULTS"]
    result = verify_qr_text(
        case["QRTEXT"],
        (CORPUS / context["TRUSTLIST"]).read_bytes(),
        (CORPUS / context["ROOTKEY"]).read_bytes(),
        status_list=(CORPUS / context["STATUSLIST"]).read_bytes(),
        at=datetime.fromisoformat(context["VALIDATIONCLOCK"]),
    )
    assert (result.status.value, result.step, result.step_name) == (
        expected["STATUS"],
        expected["STEP"],
        expected["STEPNAME"],
    ), result.reason
    assert (result.claims is not None) == (result.step is None or result.step >= 9)


# --- properties -----------------------------------------------------------------------------


def fixed_credential(world: World) -> bytes:
    """A credential with fixed salts, so every example starts from the same bytes."""
    salts = {name: bytes([len(name)]) * 16 for name in make_claims().fields}
    return issue_credential(make_claims(), world.issuer, kid=world.issuer_kid, salts=salts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_single_character_change_yields_valid_with_other_claims(
    world: World, data: st.DataObject
) -> None:
    text = encode_qr_text(fixed_credential(world))
    position = data.draw(st.integers(0, len(text) - 1))
    char = data.draw(
        st.sampled_from(BASE45_ALPHABET + "abc~é").filter(lambda c: c != text[position])
    )
    changed = text[:position] + char + text[position + 1 :]
    result = verify(changed, world.trust_list, at=AT)
    assert not result.reason.startswith("unexpected")
    if result.valid:
        assert result.claims == make_claims()


@settings(max_examples=200, deadline=None)
@given(junk=st.binary(max_size=400) | st.text(max_size=200))
def test_arbitrary_input_never_raises_and_is_never_valid(world: World, junk: bytes | str) -> None:
    result = verify(junk, world.trust_list, at=AT)
    assert not result.valid
    assert result.step in STEP_NAMES
    assert not result.reason.startswith("unexpected")


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_no_single_byte_change_of_the_cose_bytes_yields_valid_with_other_claims(
    world: World, data: st.DataObject
) -> None:
    credential = fixed_credential(world)
    position = data.draw(st.integers(0, len(credential) - 1))
    value = data.draw(st.integers(0, 255).filter(lambda v: v != credential[position]))
    changed = credential[:position] + bytes([value]) + credential[position + 1 :]
    result = verify(changed, world.trust_list, at=AT)
    assert not result.reason.startswith("unexpected")
    if result.valid:
        assert result.claims == make_claims()
