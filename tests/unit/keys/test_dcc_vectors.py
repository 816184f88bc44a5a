"""EU DCC test cases (dgc-testdata) run through our COSE layer: ES256/PS256, kid, tags, bad bytes.

Each case goes prefix -> Base45 -> zlib -> COSE_Sign1 -> kid -> signature, plus a structural
decode of the CWT payload, and every COSE-layer expectation of the case must hold. Cases whose
only expectations are the DCC scheme's certificate, time or schema rules are skipped by category.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from keys.algorithms import ES256, PublicKey, load_certificate_public_key, verify
from keys.cbor import loads_strict
from keys.cose import Sign1Message, decode_sign1, sig_structure, verify_decoded
from keys.errors import (
    KeyManagementError,
    MalformedMessage,
    SignatureInvalid,
    UnknownKey,
)


def vectors_dir() -> Path:
    """Return ``../shared/vectors`` next to the repository, or ``$CASELEDGER_VECTORS_DIR``."""
    override = os.environ.get("CASELEDGER_VECTORS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3].parent / "shared" / "vectors"


DCC_DIR = vectors_dir() / "dcc"

# Expectations this layer can judge, in pipeline order.
COSE_LAYER_KEYS = (
    "EXPECTEDUNPREFIX",
    "EXPECTEDB45DECODE",
    "EXPECTEDCOMPRESSION",
    "EXPECTEDVERIFY",
    "EXPECTEDDECODE",
)
# Expectations that belong to the DCC scheme, not to COSE; never checked here.
NOT_COSE_LAYER_KEYS = {
    "EXPECTEDEXPIRATIONCHECK": "DCC time rules (iat/exp against VALIDATIONCLOCK and the DSC)",
    "EXPECTEDKEYUSAGE": "DCC extended-key-usage OIDs of the DSC against the certificate type",
    "EXPECTEDSCHEMAVALIDATION": "DCC JSON schema",
    "EXPECTEDVALIDJSON": "DCC JSON content equality",
    "EXPECTEDVALIDOBJECT": "DCC object model",
    "EXPECTEDENCODE": "re-encoding DCC JSON to CBOR (issuer side)",
    "EXPECTEDPICTUREDECODE": "QR image decoding",
    "EXPECTEDRESULTS": "a stray flag in ES/1001, not an expectation",
}
# Categories whose cases carry only scheme expectations (the keys above); skipped, with reason.
SKIPPED = {
    "key-usage": "only EXPECTEDKEYUSAGE: DCC certificate-type OID policy of the DSC, not COSE",
    "valid-key-usage": "only EXPECTEDKEYUSAGE: DCC certificate-type OID policy of the DSC",
    "expired": "only EXPECTEDEXPIRATIONCHECK: DCC exp against the validation clock",
    "not-yet-valid": "only EXPECTEDEXPIRATIONCHECK: DCC iat against the validation clock",
}
EXPECTED_EXERCISED = 62
EXPECTED_SKIPPED = 12

# Where our stricter COSE policy disagrees with a case the manifest itself marks ambiguous.
# The test pins our behaviour (error type and message) and shows what the case would need.
DEVIATIONS: dict[str, tuple[type[KeyManagementError], str, str]] = {
    "common_CO20.json": (
        MalformedMessage,
        "found it only in the unprotected header",
        "alg only in the unprotected header: RFC 9052 §3.1 says alg must be authenticated, "
        "so we refuse it; the signature itself is valid (checked below)",
    ),
    "ES_401.json": (
        SignatureInvalid,
        r"ES256 needs an EC key on secp256r1 \(P-256\), got an EC key on secp384r1",
        "ES256 with a P-384 DSC (96-byte signature): we bind ES256 to P-256 (RFC 9053 §2.1)",
    ),
}

# Why a VERIFY=false case must fail, by category: the failing check, not just any failure.
VERIFY_FAILURES: dict[str, type[KeyManagementError]] = {
    "bad-cwt": MalformedMessage,
    "bad-signature": SignatureInvalid,
    "wrong-kid": UnknownKey,
    "wrong-key": UnknownKey,
}

CWT_TAG_PREFIX = b"\xd8\x3d"  # RFC 8392 §6: tag 61, which the CWT layer strips before COSE
HCERT_CLAIM = -260
BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def base45_decode(text: str) -> bytes:
    """RFC 9285 Base45 decoding, test-local (the production codec lives in ``licenses``)."""
    values = [BASE45_ALPHABET.index(c) if c in BASE45_ALPHABET else -1 for c in text]
    if -1 in values:
        raise ValueError(f"invalid Base45 character {text[values.index(-1)]!r}")
    if len(values) % 3 == 1:
        raise ValueError(f"invalid Base45 length {len(values)}")
    out = bytearray()
    for i in range(0, len(values), 3):
        chunk = values[i : i + 3]
        number = sum(v * 45**k for k, v in enumerate(chunk))
        width = 2 if len(chunk) == 3 else 1
        if number >= 256**width:
            raise ValueError(f"Base45 group {text[i : i + 3]!r} out of range")
        out += number.to_bytes(width, "big")
    return bytes(out)


def test_base45_decodes_the_rfc_9285_examples() -> None:
    assert base45_decode("BB8") == b"AB"
    assert base45_decode("%69 VD92EX0") == b"Hello!!"
    assert base45_decode("UJCLQE7W581") == b"base-45"
    with pytest.raises(ValueError, match="invalid Base45 character"):
        base45_decode("ab")
    with pytest.raises(ValueError, match="out of range"):
        base45_decode("GGW")


def dcc_kid(certificate_der: bytes) -> bytes:
    """DCC key id: the first 8 bytes of SHA-256 over the DSC's DER."""
    return hashlib.sha256(certificate_der).digest()[:8]


def pick_key(message: Sign1Message, trust_list: Mapping[bytes, PublicKey]) -> PublicKey:
    """Choose the verification key by kid, as a verifier with a trust list does."""
    kid = message.kid
    if kid is None or kid not in trust_list:
        shown = "none" if kid is None else kid.hex()
        raise UnknownKey(f"no trusted key with kid {shown}; known: {[k.hex() for k in trust_list]}")
    return trust_list[kid]


def hcert_is_well_formed(payload: bytes) -> bool:
    """DCC decode step: strict CBOR claims whose hcert claim -260 holds a map under key 1."""
    try:
        claims = loads_strict(payload)
    except MalformedMessage:
        return False
    hcert = claims.get(HCERT_CLAIM) if isinstance(claims, Mapping) else None
    return isinstance(hcert, Mapping) and isinstance(hcert.get(1), Mapping)


@dataclass
class Outcome:
    """What each step of the pipeline found; a missing step was not reached."""

    steps: dict[str, bool] = field(default_factory=dict)
    verify_error: KeyManagementError | None = None
    message: Sign1Message | None = None


def run_pipeline(case: Mapping[str, Any]) -> Outcome:
    """Run one case from its QR text through every step this layer can judge."""
    outcome = Outcome()
    steps = outcome.steps
    prefixed: str = case["PREFIX"]
    steps["EXPECTEDUNPREFIX"] = prefixed.startswith("HC1:")
    if not steps["EXPECTEDUNPREFIX"]:
        return outcome
    try:
        compressed = base45_decode(prefixed[len("HC1:") :])
        steps["EXPECTEDB45DECODE"] = True
    except ValueError:
        steps["EXPECTEDB45DECODE"] = False
        return outcome
    inflater = zlib.decompressobj()
    try:
        cose_bytes = inflater.decompress(compressed)
        steps["EXPECTEDCOMPRESSION"] = inflater.eof and not inflater.unused_data
    except zlib.error:
        steps["EXPECTEDCOMPRESSION"] = False
    if not steps["EXPECTEDCOMPRESSION"]:
        return outcome
    if cose_bytes.startswith(CWT_TAG_PREFIX):
        cose_bytes = cose_bytes[len(CWT_TAG_PREFIX) :]
    certificate = base64.b64decode(case["TESTCTX"]["CERTIFICATE"])
    trust_list = {dcc_kid(certificate): load_certificate_public_key(certificate)}
    try:
        outcome.message = decode_sign1(cose_bytes)
        verify_decoded(outcome.message, pick_key(outcome.message, trust_list))
        steps["EXPECTEDVERIFY"] = True
    except KeyManagementError as exc:
        outcome.verify_error = exc
        steps["EXPECTEDVERIFY"] = False
    if outcome.message is not None:
        steps["EXPECTEDDECODE"] = hcert_is_well_formed(outcome.message.payload)
    return outcome


def load_manifest() -> list[dict[str, str]]:
    lines = (DCC_DIR / "MANIFEST.tsv").read_text("utf-8").splitlines()
    rows = csv.DictReader((line for line in lines if not line.startswith("#")), delimiter="\t")
    return list(rows)


def load_case(file: str) -> dict[str, Any]:
    case: dict[str, Any] = json.loads((DCC_DIR / file).read_text("utf-8"))
    return case


def cose_expectations(case: Mapping[str, Any]) -> dict[str, bool]:
    expected: dict[str, bool] = case["EXPECTEDRESULTS"]
    return {key: value for key, value in expected.items() if key in COSE_LAYER_KEYS}


MANIFEST = load_manifest()


def _param(row: dict[str, str]) -> Any:
    marks = []
    if not cose_expectations(load_case(row["file"])):
        reason = SKIPPED.get(row["category"], "NOT ACCOUNTED FOR: no COSE-layer expectation")
        marks.append(pytest.mark.skip(reason=f"{row['category']}: {reason}"))
    return pytest.param(row, id=row["file"].removesuffix(".json"), marks=marks)


def test_every_case_is_exercised_or_skipped_by_a_listed_category() -> None:
    files = sorted(p.name for p in DCC_DIR.glob("*.json"))
    assert sorted(row["file"] for row in MANIFEST) == files
    exercised, skipped = [], []
    for row in MANIFEST:
        case = load_case(row["file"])
        unknown = set(case["EXPECTEDRESULTS"]) - set(COSE_LAYER_KEYS) - set(NOT_COSE_LAYER_KEYS)
        assert not unknown, f"{row['file']}: expectation keys nobody judges: {unknown}"
        if cose_expectations(case):
            exercised.append(row["file"])
        else:
            assert row["category"] in SKIPPED, f"{row['file']} would be dropped silently"
            skipped.append(row["file"])
    assert (len(exercised), len(skipped)) == (EXPECTED_EXERCISED, EXPECTED_SKIPPED)
    assert len(exercised) + len(skipped) == len(MANIFEST) == 74


def test_deviations_are_only_cases_the_manifest_marks_ambiguous() -> None:
    ambiguous = {row["file"] for row in MANIFEST if row["ambiguous"] == "ambiguous"}
    assert set(DEVIATIONS) <= ambiguous


@pytest.mark.parametrize("row", [_param(row) for row in MANIFEST])
def test_cose_layer_agrees_with_the_expected_results(row: dict[str, str]) -> None:
    case = load_case(row["file"])
    expected = cose_expectations(case)
    outcome = run_pipeline(case)
    if row["file"] in DEVIATIONS:
        error_type, match, _why = DEVIATIONS[row["file"]]
        assert expected["EXPECTEDVERIFY"] is True
        with pytest.raises(error_type, match=match):
            raise outcome.verify_error or AssertionError("expected our stricter policy to refuse")
        expected = {k: v for k, v in expected.items() if k != "EXPECTEDVERIFY"}
    for key, value in expected.items():
        assert key in outcome.steps, f"{key} expected {value}, but the pipeline stopped earlier"
        assert outcome.steps[key] is value, f"{key}: expected {value}, got {outcome.steps[key]}"
        if key == "EXPECTEDVERIFY" and value is False:
            assert isinstance(outcome.verify_error, VERIFY_FAILURES[row["category"]]), (
                f"failed for another reason: {outcome.verify_error!r}"
            )
    # Manifest and case file agree on the verdict this layer gives.
    if row["expected_verify"] != "-":
        assert case["EXPECTEDRESULTS"]["EXPECTEDVERIFY"] is (row["expected_verify"] == "true")


def test_co20_signature_is_valid_apart_from_where_its_alg_sits() -> None:
    case = load_case("common_CO20.json")
    outcome = run_pipeline(case)
    message = outcome.message
    assert message is not None and message.protected_bytes == b""
    assert message.unprotected[1] == ES256
    key = load_certificate_public_key(base64.b64decode(case["TESTCTX"]["CERTIFICATE"]))
    verify(ES256, key, sig_structure(b"", message.payload), message.signature)


@pytest.mark.parametrize(
    ("file", "tagged", "kid_in"),
    [
        ("common_CO3.json", True, "protected"),
        ("common_CO18.json", True, "protected"),
        ("common_CO19.json", True, "unprotected"),
        ("common_CO21.json", True, "both"),
        ("DE_1.json", True, "unprotected"),
        ("ES_1501.json", False, "protected"),
        ("common_CO28.json", True, "protected"),
    ],
)
def test_structure_details_the_cases_exercise(file: str, tagged: bool, kid_in: str) -> None:
    message = run_pipeline(load_case(file)).message
    assert message is not None
    assert message.tagged is tagged
    in_protected, in_unprotected = 4 in message.protected, 4 in message.unprotected
    assert {"protected": (True, False), "unprotected": (False, True), "both": (True, True)}[
        kid_in
    ] == (in_protected, in_unprotected)


def test_a_cwt_tag_around_cose_is_refused_by_the_cose_layer_itself() -> None:
    case = load_case("common_CO28.json")
    cose_bytes = zlib.decompress(base45_decode(case["PREFIX"][4:]))
    assert cose_bytes.startswith(CWT_TAG_PREFIX)
    with pytest.raises(MalformedMessage, match="expected COSE_Sign1 tag 18 or no tag, got tag 61"):
        decode_sign1(cose_bytes)


@pytest.mark.parametrize("file", ["PL_1.0.0_6.json", "PL_1.2.1_6.json", "PL_1.3.0_6.json"])
def test_wrong_key_cases_fail_the_signature_too_not_only_the_kid(file: str) -> None:
    case = load_case(file)
    message = run_pipeline(case).message
    assert message is not None
    key = load_certificate_public_key(base64.b64decode(case["TESTCTX"]["CERTIFICATE"]))
    with pytest.raises(SignatureInvalid, match="ES256 signature does not verify"):
        verify_decoded(message, key)


@pytest.mark.parametrize("file", ["common_CO22.json", "common_CO23.json"])
def test_wrong_kid_cases_carry_a_valid_signature_so_only_the_kid_rejects(file: str) -> None:
    case = load_case(file)
    message = run_pipeline(case).message
    assert message is not None and message.kid == b"foo"
    key = load_certificate_public_key(base64.b64decode(case["TESTCTX"]["CERTIFICATE"]))
    to_be_signed = sig_structure(message.protected_bytes, message.payload)
    verify(ES256, key, to_be_signed, message.signature)


def test_trailing_bytes_case_fails_as_malformed() -> None:
    outcome = run_pipeline(load_case("common_CBO2.json"))
    assert isinstance(outcome.verify_error, MalformedMessage)
    assert "trailing bytes" in str(outcome.verify_error)


def test_ps256_cases_include_a_3072_bit_key() -> None:
    outcome = run_pipeline(load_case("common_CO2.json"))
    assert outcome.steps["EXPECTEDVERIFY"] is True
    assert outcome.message is not None and len(outcome.message.signature) == 384
