"""C2SP signed notes: verifier keys, signing and verifying notes, cosignature/v1 payloads and
the messages they sign, checked against the published examples and mutations of them."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from keys.signer import Ed25519Signer
from ledger.checkpoint import Checkpoint
from ledger.errors import (
    NoteInvalid,
    NoteKeyInvalid,
    NoteMalformed,
    NoteSignatureInvalid,
    NoteUnverified,
)
from ledger.signed_note import (
    MAX_SIGNATURES,
    SIG_ED25519,
    Cosignature,
    NoteSignature,
    NoteVerifierKey,
    cosignature_message,
    parse_note,
    sign_note,
    verify_note,
)


def _vectors_dir() -> Path:
    override = os.environ.get("CASELEDGER_VECTORS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3].parent / "shared" / "vectors"


VECTORS: dict[str, Any] = json.loads((_vectors_dir() / "c2sp-signed-note.json").read_text())
NOTES: list[dict[str, str]] = VECTORS["signed_note"]
COSIGNED_LINE, COSIGNED_PAYLOAD = VECTORS["cosignature_parse"]
# The checkpoint body the C2SP cosignature example signs; test_checkpoint parses it too.
EXAMPLE_BODY = COSIGNED_LINE["expected_signed_message"].encode().split(b"\n", 2)[2]


def _note_id(vector: dict[str, str]) -> str:
    return vector["vkey"].split("+")[0]


def _seed_from_skey(skey: str) -> bytes:
    """The Ed25519 seed in a golang.org/x/mod/sumdb/note private key (PRIVATE+KEY+name+hash+b64)."""
    _name, _hash, encoded = skey.removeprefix("PRIVATE+KEY+").split("+", 2)
    material = base64.b64decode(encoded)
    assert material[0] == SIG_ED25519
    return material[1:]


def _replace_signature(note: bytes, payload: bytes) -> bytes:
    """Return ``note`` with its single signature's payload (after the key hash) replaced."""
    text, (signature,) = parse_note(note)
    return text + b"\n" + NoteSignature(signature.name, signature.key_hash, payload).line()


# --- published signed notes ----------------------------------------------------------------------


@pytest.mark.parametrize("vector", NOTES, ids=_note_id)
def test_published_vkey_parses_and_formats_back_unchanged(vector: dict[str, str]) -> None:
    key = NoteVerifierKey.parse(vector["vkey"])
    assert key.sig_type == SIG_ED25519
    assert key.format() == vector["vkey"] == str(key)


@pytest.mark.parametrize("vector", NOTES, ids=_note_id)
def test_published_key_hash_is_the_truncated_sha256_of_name_type_and_key(
    vector: dict[str, str],
) -> None:
    name, hash_hex, encoded = vector["vkey"].split("+", 2)
    key = NoteVerifierKey.parse(vector["vkey"])
    expected = hashlib.sha256(name.encode() + b"\n" + base64.b64decode(encoded)).digest()[:4]
    assert key.key_hash == expected == bytes.fromhex(hash_hex)
    _, (signature,) = parse_note(vector["note"].encode())
    assert signature.key_hash == key.key_hash


@pytest.mark.parametrize("vector", NOTES, ids=_note_id)
def test_published_note_verifies(vector: dict[str, str]) -> None:
    note = vector["note"].encode()
    text, names = verify_note(note, [NoteVerifierKey.parse(vector["vkey"])])
    assert names == (_note_id(vector),)
    assert note.startswith(text + "\n\u2014 ".encode())
    assert text.endswith(b"\n") and not text.endswith(b"\n\n")


def test_signing_with_the_published_private_key_reproduces_the_published_note() -> None:
    (vector,) = [v for v in NOTES if "skey" in v]
    signer = Ed25519Signer.from_seed(_seed_from_skey(vector["skey"]))
    note = vector["note"].encode()
    text, _ = parse_note(note)
    assert sign_note(text, "PeterNeumann", signer) == note
    assert NoteVerifierKey.from_signer("PeterNeumann", signer).format() == vector["vkey"]


def test_note_verifies_when_any_one_of_several_keys_signed_it() -> None:
    keys = [NoteVerifierKey.parse(v["vkey"]) for v in NOTES]
    note = NOTES[2]["note"].encode()
    assert verify_note(note, keys)[1] == ("EnochRoot",)


# --- mutated notes -------------------------------------------------------------------------------


def _flip_text_byte(note: bytes) -> bytes:
    return note[:3] + bytes([note[3] ^ 0x01]) + note[4:]


@pytest.mark.parametrize("vector", NOTES, ids=_note_id)
def test_rejects_note_with_a_changed_text_byte(vector: dict[str, str]) -> None:
    with pytest.raises(NoteSignatureInvalid, match="does not verify"):
        verify_note(
            _flip_text_byte(vector["note"].encode()), [NoteVerifierKey.parse(vector["vkey"])]
        )


@pytest.mark.parametrize("vector", NOTES, ids=_note_id)
def test_rejects_note_checked_with_a_wrong_key_of_the_same_name(vector: dict[str, str]) -> None:
    impostor = NoteVerifierKey.from_signer(_note_id(vector), Ed25519Signer.generate())
    with pytest.raises(
        NoteUnverified, match=re.escape(f"expected a signature by one of [{impostor.label}]")
    ):
        verify_note(vector["note"].encode(), [impostor])


@pytest.mark.parametrize("vector", NOTES, ids=_note_id)
def test_rejects_note_with_a_truncated_signature(vector: dict[str, str]) -> None:
    note = vector["note"].encode()
    _, (signature,) = parse_note(note)
    truncated = _replace_signature(note, signature.payload[:60])
    with pytest.raises(NoteSignatureInvalid, match="expected 64 bytes, got 60"):
        verify_note(truncated, [NoteVerifierKey.parse(vector["vkey"])])


@pytest.mark.parametrize("vector", NOTES, ids=_note_id)
def test_rejects_note_whose_signature_base64_is_cut_short(vector: dict[str, str]) -> None:
    cut = vector["note"].encode()[:-3] + b"\n"
    with pytest.raises(NoteMalformed, match="expected standard base64"):
        verify_note(cut, [NoteVerifierKey.parse(vector["vkey"])])


@pytest.mark.parametrize("vector", NOTES, ids=_note_id)
def test_rejects_note_without_the_blank_line(vector: dict[str, str]) -> None:
    note = vector["note"].encode().replace(b"\n\n", b"\n")
    with pytest.raises(NoteMalformed, match="expected a blank line before the signatures"):
        verify_note(note, [NoteVerifierKey.parse(vector["vkey"])])


@pytest.mark.parametrize("vector", NOTES, ids=_note_id)
def test_rejects_note_that_is_not_utf8(vector: dict[str, str]) -> None:
    note = b"\xff" + vector["note"].encode()
    with pytest.raises(NoteMalformed, match="not valid UTF-8"):
        verify_note(note, [NoteVerifierKey.parse(vector["vkey"])])


@pytest.mark.parametrize("vector", NOTES, ids=_note_id)
def test_rejects_note_with_a_control_character(vector: dict[str, str]) -> None:
    note = b"\t" + vector["note"].encode()
    with pytest.raises(NoteMalformed, match="got U\\+0009 at character 0"):
        verify_note(note, [NoteVerifierKey.parse(vector["vkey"])])


@pytest.mark.parametrize(
    ("note", "message"),
    [
        (b"text\n\n", "expected at least one signature line"),
        (b"text\n\n\xe2\x80\x94 k AAAAAAA=", "last signature line to end in a newline"),
        (b"text\n\n- k AAAAAAA=\n", "expected to start with"),
        (b"text\n\n\xe2\x80\x94 kAAAAAAA=\n", "expected '<name> <base64 signature>'"),
        (b"text\n\n\xe2\x80\x94 k+x AAAAAAA=\n", "expected no space, '\\+'"),
        (b"text\n\n\xe2\x80\x94 k AAAA\n", "expected more than 4 bytes, got 3"),
        (b"text\n\n\xe2\x80\x94 k AAAAAAA\n", "expected standard base64"),
        (b"text\n\n\xe2\x80\x94 k  AAAAAAA=\n", "expected standard base64"),
    ],
    ids=[
        "no-signature-lines",
        "no-final-newline",
        "hyphen-not-em-dash",
        "no-space-after-name",
        "plus-in-name",
        "signature-shorter-than-key-hash",
        "missing-base64-padding",
        "two-spaces",
    ],
)
def test_rejects_malformed_signature_block(note: bytes, message: str) -> None:
    key = NoteVerifierKey.parse(NOTES[0]["vkey"])
    with pytest.raises(NoteMalformed, match=message):
        verify_note(note, [key])


def test_rejects_note_with_too_many_signatures() -> None:
    line = NoteSignature("k", b"\x00\x00\x00\x00", b"\x00").line()
    with pytest.raises(NoteMalformed, match=f"expected at most {MAX_SIGNATURES} signatures"):
        parse_note(b"text\n\n" + line * (MAX_SIGNATURES + 1))


def test_ignores_unknown_signatures_next_to_a_known_one() -> None:
    log = Ed25519Signer.generate()
    note = sign_note(b"hello\n", "log.example/a", log)
    stranger = sign_note(b"hello\n", "other.example/b", Ed25519Signer.generate())
    both = note + parse_note(stranger)[1][0].line()
    key = NoteVerifierKey.from_signer("log.example/a", log)
    assert verify_note(both, [key]) == (b"hello\n", ("log.example/a",))


def test_rejects_whole_note_when_one_known_signature_fails() -> None:
    first, second = Ed25519Signer.generate(), Ed25519Signer.generate()
    good = sign_note(b"hello\n", "a.example", first)
    forged = sign_note(b"other\n", "b.example", second)
    note = good + parse_note(forged)[1][0].line()  # b.example signed other text
    keys = [
        NoteVerifierKey.from_signer("a.example", first),
        NoteVerifierKey.from_signer("b.example", second),
    ]
    with pytest.raises(NoteSignatureInvalid, match="signature by b.example\\+"):
        verify_note(note, keys)


def test_rejects_note_signed_only_by_unknown_keys() -> None:
    note = sign_note(b"hello\n", "someone.example", Ed25519Signer.generate())
    with pytest.raises(NoteUnverified, match="found only \\[someone.example\\+"):
        verify_note(note, [NoteVerifierKey.parse(NOTES[0]["vkey"])])


def test_refuses_to_verify_with_no_keys() -> None:
    with pytest.raises(NoteKeyInvalid, match="expected at least one, got none"):
        verify_note(NOTES[0]["note"].encode(), [])


def test_every_note_error_is_a_note_invalid() -> None:
    for error in (NoteMalformed, NoteKeyInvalid, NoteSignatureInvalid, NoteUnverified):
        assert issubclass(error, NoteInvalid)


# --- verifier keys -------------------------------------------------------------------------------

VKEY = NOTES[1]["vkey"]  # PeterNeumann+c74f20a3+ARpc…


@pytest.mark.parametrize(
    ("vkey", "message"),
    [
        (
            VKEY.replace("c74f20a3", "c74f20a4"),
            "expected c74f20a3 for 'PeterNeumann', got c74f20a4",
        ),
        (VKEY.replace("c74f20a3", "c74f20"), "expected 8 hex digits, got 'c74f20'"),
        (VKEY.replace("c74f20a3", "0xc74f20"), "expected 8 hex digits"),
        (VKEY.replace("+ARpc", "+ARp!"), "expected standard base64"),
        (VKEY.replace("+ARpc", "+Ahpc"), "expected 0x01 \\(Ed25519\\) or 0x04"),
        ("PeterNeumann+c74f20a3+AQ==", "expected 32 bytes, got 0"),
        ("PeterNeumann+c74f20a3+", "expected a type byte and a key, got nothing"),
        ("+c74f20a3+" + VKEY.split("+", 2)[2], "expected a non-empty name"),
        ("Peter Neumann+c74f20a3+" + VKEY.split("+", 2)[2], "got U\\+0020"),
    ],
    ids=[
        "wrong-key-hash",
        "short-key-hash",
        "prefixed-key-hash",
        "bad-base64",
        "unknown-signature-type",
        "empty-public-key",
        "no-key-material",
        "empty-name",
        "space-in-name",
    ],
)
def test_rejects_malformed_vkey(vkey: str, message: str) -> None:
    with pytest.raises(NoteKeyInvalid, match=message):
        NoteVerifierKey.parse(vkey)


class _CollidingKey(NoteVerifierKey):
    """A verifier key whose key hash collides with another's (cheap to find at 32 bits)."""

    def __init__(self, name: str, public_key: bytes, forced_hash: bytes) -> None:
        super().__init__(name, public_key)
        object.__setattr__(self, "forced_hash", forced_hash)

    @property
    def key_hash(self) -> bytes:
        return bytes(self.__dict__["forced_hash"])


def test_refuses_two_different_keys_that_share_name_and_key_hash() -> None:
    key = NoteVerifierKey.parse(VKEY)
    twin = _CollidingKey(key.name, bytes(32), key.key_hash)
    with pytest.raises(NoteKeyInvalid, match="two different keys share PeterNeumann\\+c74f20a3"):
        verify_note(NOTES[1]["note"].encode(), [key, twin])


def test_refuses_a_signer_that_is_not_ed25519() -> None:
    class P256Signer:
        alg = -7

        def __init__(self) -> None:
            self._public = ec.generate_private_key(ec.SECP256R1()).public_key()

        def sign(self, data: bytes) -> bytes:
            pytest.fail("a non-Ed25519 signer must not be asked to sign")

        def public_key_der(self) -> bytes:
            return self._public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)

    with pytest.raises(NoteKeyInvalid, match="signer: expected an Ed25519 key, got EC"):
        sign_note(b"hello\n", "log.example", P256Signer())


# --- signing -------------------------------------------------------------------------------------


def test_refuses_to_sign_text_without_final_newline() -> None:
    with pytest.raises(NoteMalformed, match="expected a final newline"):
        sign_note(b"hello", "log.example", Ed25519Signer.generate())


def test_refuses_to_sign_text_with_a_control_character() -> None:
    with pytest.raises(NoteMalformed, match="got U\\+000D"):
        sign_note(b"hello\r\n", "log.example", Ed25519Signer.generate())


def test_refuses_to_sign_under_an_invalid_key_name() -> None:
    with pytest.raises(NoteKeyInvalid, match="got U\\+002B"):
        sign_note(b"hello\n", "log+example", Ed25519Signer.generate())


# --- cosignature payloads ------------------------------------------------------------------------


def test_parses_the_c2sp_example_cosignature_line() -> None:
    signature = NoteSignature.parse_line(COSIGNED_LINE["line"].encode())
    assert signature.name == "witness.example.com/w1"
    assert signature.key_hash.hex() == "8d66cf3f"
    cosignature = Cosignature.parse(signature.payload)
    assert cosignature.timestamp == COSIGNED_LINE["expected_timestamp"]
    assert signature.line() == COSIGNED_LINE["line"].encode() + b"\n"


def test_builds_the_c2sp_example_cosigned_message() -> None:
    signature = NoteSignature.parse_line(COSIGNED_LINE["line"].encode())
    timestamp = Cosignature.parse(signature.payload).timestamp
    message = cosignature_message(Checkpoint.parse(EXAMPLE_BODY).body(), timestamp)
    assert message == COSIGNED_LINE["expected_signed_message"].encode()


def test_reads_the_timestamp_of_a_published_cosignature() -> None:
    raw = base64.b64decode(COSIGNED_PAYLOAD["sig_b64"])
    cosignature = Cosignature.parse(raw[4:])
    assert cosignature.timestamp == COSIGNED_PAYLOAD["expected_timestamp"]
    assert cosignature.payload() == raw[4:]


def test_rejects_cosignature_payload_of_wrong_length() -> None:
    with pytest.raises(NoteMalformed, match="cosignature: expected 72 bytes, got 64"):
        Cosignature.parse(bytes(64))
