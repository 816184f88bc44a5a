"""Published COSE_Sign1 Ed25519 vectors (cose-wg/Examples) read from ../shared/vectors/."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from keys.algorithms import load_public_key
from keys.cose import decode_sign1, encode_sign1, sig_structure, verify_sign1
from keys.errors import SignatureInvalid
from keys.signer import Ed25519Signer


def vectors_dir() -> Path:
    """Return ``../shared/vectors`` next to the repository, or ``$CASELEDGER_VECTORS_DIR``."""
    override = os.environ.get("CASELEDGER_VECTORS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3].parent / "shared" / "vectors"


def load_vectors() -> list[dict[str, Any]]:
    document = json.loads((vectors_dir() / "cose-sign1-ed25519.json").read_text("utf-8"))
    vectors: list[dict[str, Any]] = document["vectors"] + document["derived_vectors"]
    return vectors


VECTORS = load_vectors()


def test_the_file_holds_three_published_and_one_derived_vector() -> None:
    published = [v for v in VECTORS if v.get("published", True)]
    assert (len(published), len(VECTORS)) == (3, 4)


each_vector = pytest.mark.parametrize("vector", VECTORS, ids=[v["title"] for v in VECTORS])


def _bytes(vector: dict[str, Any], field: str) -> bytes:
    return bytes.fromhex(vector[field])


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@each_vector
def test_decodes_the_published_structure(vector: dict[str, Any]) -> None:
    message = decode_sign1(_bytes(vector, "expected_cbor_hex"))
    assert message.protected_bytes == _bytes(vector, "protected_hex")
    assert message.payload == _bytes(vector, "payload_hex")
    assert message.signature == _bytes(vector, "signature_hex")
    assert message.alg == -8
    assert message.kid == vector["key"]["kid"].encode()
    assert message.tagged


@each_vector
def test_sig_structure_is_byte_equal_to_the_published_to_be_signed(vector: dict[str, Any]) -> None:
    message = decode_sign1(_bytes(vector, "expected_cbor_hex"))
    to_be_signed = sig_structure(
        message.protected_bytes, message.payload, _bytes(vector, "external_aad_hex")
    )
    assert to_be_signed == _bytes(vector, "tbs_hex")


@each_vector
def test_published_signature_verifies(vector: dict[str, Any]) -> None:
    payload = verify_sign1(
        _bytes(vector, "expected_cbor_hex"),
        load_public_key(bytes.fromhex(vector["key"]["x_hex"])),
        external_aad=_bytes(vector, "external_aad_hex"),
    )
    assert payload == vector["payload_text"].encode()


@each_vector
def test_resigning_with_the_vector_key_reproduces_the_published_bytes(
    vector: dict[str, Any],
) -> None:
    expected = _bytes(vector, "expected_cbor_hex")
    signer = Ed25519Signer.from_seed(bytes.fromhex(vector["key"]["d_hex"]))
    assert signer.public_key_raw().hex() == vector["key"]["x_hex"]
    message = decode_sign1(expected)
    # Ed25519 is deterministic: same key, same Sig_structure, same signature.
    signature = signer.sign(
        sig_structure(message.protected_bytes, message.payload, _bytes(vector, "external_aad_hex"))
    )
    assert signature == _bytes(vector, "signature_hex")
    rebuilt = encode_sign1(
        message.protected_bytes, message.unprotected, message.payload, signature, tagged=True
    )
    assert rebuilt == expected


@each_vector
def test_a_flipped_signature_byte_fails(vector: dict[str, Any]) -> None:
    expected = _bytes(vector, "expected_cbor_hex")
    tampered = _flip(expected, len(expected) - 10)  # the signature is the last field
    with pytest.raises(SignatureInvalid, match="EdDSA signature does not verify"):
        verify_sign1(
            tampered,
            load_public_key(bytes.fromhex(vector["key"]["x_hex"])),
            external_aad=_bytes(vector, "external_aad_hex"),
        )


@each_vector
def test_a_flipped_payload_byte_fails(vector: dict[str, Any]) -> None:
    expected = _bytes(vector, "expected_cbor_hex")
    payload = _bytes(vector, "payload_hex")
    assert expected.count(payload) == 1
    tampered = _flip(expected, expected.index(payload))
    with pytest.raises(SignatureInvalid, match="EdDSA signature does not verify"):
        verify_sign1(
            tampered,
            load_public_key(bytes.fromhex(vector["key"]["x_hex"])),
            external_aad=_bytes(vector, "external_aad_hex"),
        )


@each_vector
def test_other_external_aad_fails(vector: dict[str, Any]) -> None:
    other_aad = _bytes(vector, "external_aad_hex") + b"\x00"
    with pytest.raises(SignatureInvalid, match="EdDSA signature does not verify"):
        verify_sign1(
            _bytes(vector, "expected_cbor_hex"),
            load_public_key(bytes.fromhex(vector["key"]["x_hex"])),
            external_aad=other_aad,
        )
