"""C2SP checkpoints and cosigning: the published example, malformed bodies, checkpoints we
sign and open, and cosignatures we make and verify."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys.signer import EDDSA, Ed25519Signer
from ledger.checkpoint import Checkpoint, cosign, open_checkpoint, verify_cosignature
from ledger.errors import (
    CheckpointInvalid,
    NoteKeyInvalid,
    NoteMalformed,
    NoteSignatureInvalid,
    NoteUnverified,
)
from ledger.merkle import MemoryTree, root
from ledger.signed_note import (
    SIG_COSIGNATURE_V1,
    Cosignature,
    NoteSignature,
    NoteVerifierKey,
    sign_note,
    verify_note,
)
from tests.unit.ledger.test_signed_note import EXAMPLE_BODY

# --- checkpoints ---------------------------------------------------------------------------------


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


# --- cosignatures --------------------------------------------------------------------------------


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
