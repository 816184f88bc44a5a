"""Offline bundles: malformed documents are refused before any signature is checked."""

from __future__ import annotations

from typing import Any

import pytest

from keys import cbor
from keys.signer import Ed25519Signer
from ledger.signed_note import NoteVerifierKey
from projections.bundle import FORMAT, verify_bundle
from projections.errors import BundleInvalid

ROOT = Ed25519Signer.from_seed(b"\x05" * 32).public_key_der()
LOG = NoteVerifierKey.from_signer("log", Ed25519Signer.from_seed(b"\x06" * 32))


def document(**changes: Any) -> bytes:
    event = {"seq": 1, "topic": "t", "state": b"x", "leaf": 0, "proof": []}
    doc: dict[str, Any] = {
        "format": FORMAT,
        "case": "7b0c4b4e-6d0f-4d07-9a4e-1f3f0a6e2c11",
        "checkpoint": b"c",
        "trust_list": b"t",
        "events": [event],
    }
    doc.update(changes)
    return cbor.dumps_canonical(doc)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "step 'format': expected one CBOR data item, got empty input"),
        (cbor.dumps_canonical([1]), "expected format 'caseledger-case-bundle/1', got 'list'"),
        (document(format="other/1"), "expected format 'caseledger-case-bundle/1', got 'other/1'"),
        (document(checkpoint="text"), "expected 'checkpoint' as bytes"),
        (document(events=[]), "expected at least one event, got none"),
        (document(events=[{"seq": True}]), "event 1: expected fields"),
        (document(events=[{"seq": 1, "topic": "t", "state": b"", "leaf": 0, "proof": ["x"]}]),
         "event 1: expected proof hashes as bytes"),
        (document(case="not-a-uuid"), "expected a UUID case id, got 'not-a-uuid'"),
    ],
)  # fmt: skip
def test_a_malformed_bundle_is_refused_at_the_format_step(data: bytes, message: str) -> None:
    with pytest.raises(BundleInvalid, match=message) as err:
        verify_bundle(data, ROOT, LOG)
    assert err.value.step == "format"


def test_a_bundle_with_a_trust_list_that_is_not_cose_is_refused() -> None:
    with pytest.raises(BundleInvalid, match="bundle failed step 'trust-list': "):
        verify_bundle(document(), ROOT, LOG)
