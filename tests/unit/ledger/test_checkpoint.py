"""C2SP checkpoints, signed notes and cosignatures: published examples, mutations, round trips."""

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
from hypothesis import given
from hypothesis import strategies as st

from keys.signer import EDDSA, Ed25519Signer
from ledger.checkpoint import Checkpoint, cosign, open_checkpoint, verify_cosignature
from ledger.errors import (
    CheckpointInvalid,
    NoteInvalid,
    NoteKeyInvalid,
    NoteMalformed,
    NoteSignatureInvalid,
    NoteUnverified,
)
from ledger.merkle import MemoryTree, root
from ledger.signed_note import (
    MAX_SIGNATURES,
    SIG_COSIGNATURE_V1,
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


# --- checkpoints ---------------------------------------------------------------------------------

EXAMPLE_BODY = COSIGNED_LINE["expected_signed_message"].encode().split(b"\n", 2)[2]


def test_parses_the_c2sp_example_checkpoint() -> None:
    checkpoint = Checkpoint.parse(EXAMPLE_BODY)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert base64.b64encode(checkpoint.root_hash) == b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    assert checkpoint.extensions == ()
    assert checkpoint.body() == EXAMPLE_BODY


def test_body_is_origin_size_root_and_extensions_each_ending_in_newline() -> None:
    checkpoint = Checkpoint("log.example/1", 0, bytes(32), ("ext one", "ext two"))
    assert checkpoint.body() == (
        b"log.example/1\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next one\next two\n"
    )
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


_LINE = st.text(st.characters(codec="utf-8", min_codepoint=0x20), min_size=1, max_size=30)


@given(
    origin=_LINE,
    size=st.integers(min_value=0, max_value=2**64 - 1),
    root_hash=st.binary(min_size=32, max_size=32),
    extensions=st.lists(_LINE, max_size=3),
)
def test_checkpoint_round_trips_through_its_body(
    origin: str, size: int, root_hash: bytes, extensions: list[str]
) -> None:
    checkpoint = Checkpoint(origin, size, root_hash, tuple(extensions))
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


ROOT_LINE = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"o\n1\n{ROOT_LINE}", "expected a final newline"),
        ("o\n1\n", "expected at least 3 lines, got 2"),
        (f"\n1\n{ROOT_LINE}\n", "origin: expected a non-empty line"),
        (f"o\n007\n{ROOT_LINE}\n", "decimal without leading zeroes, got '007'"),
        (f"o\n-1\n{ROOT_LINE}\n", "decimal without leading zeroes, got '-1'"),
        (f"o\n+1\n{ROOT_LINE}\n", "decimal without leading zeroes, got '\\+1'"),
        (f"o\n\u0661\n{ROOT_LINE}\n", "decimal without leading zeroes"),
        (f"o\n{2**64}\n{ROOT_LINE}\n", "tree size: expected 0..18446744073709551615"),
        (f"o\n{'9' * 5000}\n{ROOT_LINE}\n", "tree size: expected at most 20 digits, got 5000"),
        ("o\n1\nnot base64!\n", "root hash: expected base64"),
        ("o\n1\nAAAA\n", "root hash: expected 32 bytes, got 3"),
        ("o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n", "not in canonical form"),
        (f"o\n1\n{ROOT_LINE}\n\n", "extension line 4: expected a non-empty line"),
        (f"o\x07\n1\n{ROOT_LINE}\n", "origin: expected no control character"),
    ],
    ids=[
        "no-final-newline",
        "two-lines",
        "empty-origin",
        "leading-zeroes",
        "negative-size",
        "plus-sign",
        "arabic-digit",
        "size-over-uint64",
        "size-of-5000-digits",
        "root-not-base64",
        "root-too-short",
        "root-non-canonical-base64",
        "empty-extension",
        "control-character",
    ],
)
def test_rejects_malformed_checkpoint(body: str, message: str) -> None:
    with pytest.raises(CheckpointInvalid, match=message):
        Checkpoint.parse(body.encode())


def test_rejects_checkpoint_that_is_not_utf8() -> None:
    with pytest.raises(CheckpointInvalid, match="not valid UTF-8"):
        Checkpoint.parse(b"\xffo\n1\n" + ROOT_LINE.encode() + b"\n")


def test_refuses_to_build_checkpoint_with_a_short_root() -> None:
    with pytest.raises(CheckpointInvalid, match="root hash: expected 32 bytes, got 31"):
        Checkpoint("log.example", 1, bytes(31))


def test_refuses_to_build_checkpoint_with_a_multiline_extension() -> None:
    with pytest.raises(CheckpointInvalid, match="extension line 4: expected one line"):
        Checkpoint("log.example", 1, bytes(32), ("a\nb",))


# --- signing round trips -------------------------------------------------------------------------

LOG_NAME = "ledger.example/transparency"
WITNESS_NAME = "witness.example/w1"


@pytest.fixture
def signed_checkpoint() -> tuple[Checkpoint, bytes, Ed25519Signer]:
    tree = MemoryTree(f"event-{i}".encode() for i in range(5))
    checkpoint = Checkpoint(LOG_NAME, 5, root(tree, 5))
    signer = Ed25519Signer.generate()
    return checkpoint, sign_note(checkpoint.body(), LOG_NAME, signer), signer


def test_checkpoint_we_sign_verifies_and_parses_back(
    signed_checkpoint: tuple[Checkpoint, bytes, Ed25519Signer],
) -> None:
    checkpoint, note, signer = signed_checkpoint
    key = NoteVerifierKey.from_signer(LOG_NAME, signer)
    assert NoteVerifierKey.parse(key.format()) == key
    assert open_checkpoint(note, [key]) == (checkpoint, (LOG_NAME,))
    assert signer.alg == EDDSA


def test_refuses_to_sign_text_without_final_newline() -> None:
    with pytest.raises(NoteMalformed, match="expected a final newline"):
        sign_note(b"hello", "log.example", Ed25519Signer.generate())


def test_refuses_to_sign_text_with_a_control_character() -> None:
    with pytest.raises(NoteMalformed, match="got U\\+000D"):
        sign_note(b"hello\r\n", "log.example", Ed25519Signer.generate())


def test_refuses_to_sign_under_an_invalid_key_name() -> None:
    with pytest.raises(NoteKeyInvalid, match="got U\\+002B"):
        sign_note(b"hello\n", "log+example", Ed25519Signer.generate())


# --- cosignatures --------------------------------------------------------------------------------


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


def test_cosignature_we_make_verifies_and_returns_its_time(
    signed_checkpoint: tuple[Checkpoint, bytes, Ed25519Signer],
) -> None:
    checkpoint, _, _ = signed_checkpoint
    witness = Ed25519Signer.generate()
    line = cosign(checkpoint.body(), WITNESS_NAME, witness, 1_700_000_000)
    key = NoteVerifierKey.from_signer(WITNESS_NAME, witness, SIG_COSIGNATURE_V1)
    assert NoteVerifierKey.parse(key.format()) == key
    assert key.format().split("+")[2].startswith("B")  # base64 of the 0x04 type byte
    assert verify_cosignature(checkpoint.body(), line, key) == 1_700_000_000
    assert verify_cosignature(checkpoint.body(), line.removesuffix(b"\n"), key) == 1_700_000_000


def test_cosigned_note_verifies_for_log_and_witness_keys(
    signed_checkpoint: tuple[Checkpoint, bytes, Ed25519Signer],
) -> None:
    checkpoint, note, log = signed_checkpoint
    witness = Ed25519Signer.generate()
    cosigned = note + cosign(checkpoint.body(), WITNESS_NAME, witness, 1_700_000_000)
    keys = [
        NoteVerifierKey.from_signer(LOG_NAME, log),
        NoteVerifierKey.from_signer(WITNESS_NAME, witness, SIG_COSIGNATURE_V1),
    ]
    assert verify_note(cosigned, keys) == (checkpoint.body(), (LOG_NAME, WITNESS_NAME))
    # A key of the other signature type has another key hash, so the line is not its.
    plain = NoteVerifierKey.from_signer(WITNESS_NAME, witness)
    assert verify_note(cosigned, [keys[0], plain])[1] == (LOG_NAME,)


def test_rejects_cosignature_over_another_checkpoint(
    signed_checkpoint: tuple[Checkpoint, bytes, Ed25519Signer],
) -> None:
    checkpoint, _, _ = signed_checkpoint
    witness = Ed25519Signer.generate()
    line = cosign(checkpoint.body(), WITNESS_NAME, witness, 1_700_000_000)
    other = Checkpoint(checkpoint.origin, checkpoint.size + 1, checkpoint.root_hash).body()
    key = NoteVerifierKey.from_signer(WITNESS_NAME, witness, SIG_COSIGNATURE_V1)
    with pytest.raises(NoteSignatureInvalid, match="valid cosignature/v1 signature"):
        verify_cosignature(other, line, key)


def test_rejects_cosignature_with_a_changed_timestamp(
    signed_checkpoint: tuple[Checkpoint, bytes, Ed25519Signer],
) -> None:
    checkpoint, _, _ = signed_checkpoint
    witness = Ed25519Signer.generate()
    signature = NoteSignature.parse_line(
        cosign(checkpoint.body(), WITNESS_NAME, witness, 1_700_000_000).removesuffix(b"\n")
    )
    cosignature = Cosignature.parse(signature.payload)
    moved = Cosignature(cosignature.timestamp + 1, cosignature.signature).payload()
    line = NoteSignature(signature.name, signature.key_hash, moved).line()
    key = NoteVerifierKey.from_signer(WITNESS_NAME, witness, SIG_COSIGNATURE_V1)
    with pytest.raises(NoteSignatureInvalid, match="does not verify"):
        verify_cosignature(checkpoint.body(), line, key)


def test_rejects_cosignature_by_another_witness(
    signed_checkpoint: tuple[Checkpoint, bytes, Ed25519Signer],
) -> None:
    checkpoint, _, _ = signed_checkpoint
    line = cosign(checkpoint.body(), WITNESS_NAME, Ed25519Signer.generate(), 1)
    key = NoteVerifierKey.from_signer(WITNESS_NAME, Ed25519Signer.generate(), SIG_COSIGNATURE_V1)
    with pytest.raises(NoteUnverified, match=re.escape(f"expected one by {key.label}, got one by")):
        verify_cosignature(checkpoint.body(), line, key)


def test_rejects_truncated_cosignature_from_a_known_witness(
    signed_checkpoint: tuple[Checkpoint, bytes, Ed25519Signer],
) -> None:
    checkpoint, note, _ = signed_checkpoint
    witness = Ed25519Signer.generate()
    line = cosign(checkpoint.body(), WITNESS_NAME, witness, 1)
    signature = NoteSignature.parse_line(line.removesuffix(b"\n"))
    short = NoteSignature(signature.name, signature.key_hash, signature.payload[:-1]).line()
    key = NoteVerifierKey.from_signer(WITNESS_NAME, witness, SIG_COSIGNATURE_V1)
    with pytest.raises(NoteSignatureInvalid, match="expected 72 bytes, got 71"):
        verify_note(note + short, [key])
    with pytest.raises(NoteSignatureInvalid, match="expected 72 bytes, got 71"):
        verify_cosignature(checkpoint.body(), short, key)


def test_refuses_to_check_a_cosignature_with_a_note_signing_key(
    signed_checkpoint: tuple[Checkpoint, bytes, Ed25519Signer],
) -> None:
    checkpoint, _, log = signed_checkpoint
    line = cosign(checkpoint.body(), LOG_NAME, log, 1)
    with pytest.raises(NoteKeyInvalid, match="expected signature type 0x04, got 0x01"):
        verify_cosignature(checkpoint.body(), line, NoteVerifierKey.from_signer(LOG_NAME, log))


@pytest.mark.parametrize("timestamp", [-1, 2**63], ids=["negative", "over-int63"])
def test_refuses_to_cosign_with_a_timestamp_out_of_range(timestamp: int) -> None:
    body = Checkpoint(LOG_NAME, 1, bytes(32)).body()
    with pytest.raises(NoteMalformed, match="timestamp: expected 0..9223372036854775807"):
        cosign(body, WITNESS_NAME, Ed25519Signer.generate(), timestamp)


def test_refuses_to_cosign_text_that_is_not_a_checkpoint() -> None:
    with pytest.raises(CheckpointInvalid, match="expected at least 3 lines"):
        cosign(b"hello\n", WITNESS_NAME, Ed25519Signer.generate(), 1)


def test_rejects_cosignature_payload_of_wrong_length() -> None:
    with pytest.raises(NoteMalformed, match="cosignature: expected 72 bytes, got 64"):
        Cosignature.parse(bytes(64))
