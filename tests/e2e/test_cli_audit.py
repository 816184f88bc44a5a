"""The audit command line on the embedded default: checkpoints, proofs that verify, a whole-log
audit that names a tampered event, offline bundles, a witness and rebuilds."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from api.cli import main
from keys.store import PASSPHRASE_ENV
from ledger.merkle import verify_consistency, verify_inclusion


@pytest.fixture
def demo_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    monkeypatch.setenv("CASELEDGER_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("CASELEDGER_DATABASE_URL", raising=False)
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    capsys.readouterr()
    return tmp_path / "data"


def run_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_checkpoint_and_proofs_verify_against_the_signed_root(
    demo_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = run_json(["audit", "checkpoint"], capsys)
    size = int(checkpoint["size"])  # type: ignore[arg-type]
    assert size > 40 and str(checkpoint["note"]).startswith("caseledger.example/log\n")
    proof = run_json(["audit", "proof", "--index", "7"], capsys)
    verify_inclusion(
        bytes.fromhex(str(proof["leaf_hash"])),
        7,
        size,
        [bytes.fromhex(p) for p in proof["proof"]],  # type: ignore[union-attr]
        bytes.fromhex(str(checkpoint["root"])),
    )
    consistency = run_json(["audit", "consistency", "--old", "10"], capsys)
    verify_consistency(
        10,
        size,
        bytes.fromhex(str(consistency["old_root"])),
        bytes.fromhex(str(checkpoint["root"])),
        [bytes.fromhex(p) for p in consistency["proof"]],
    )  # type: ignore[union-attr]


def test_audit_verify_passes_and_then_names_an_event_edited_after_the_checkpoint(
    demo_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(["audit", "checkpoint"], capsys)
    assert main(["audit", "verify"]) == 0
    assert "OK:" in capsys.readouterr().out
    with sqlite3.connect(demo_data / "ledger.sqlite") as conn:
        conn.execute("DROP TRIGGER stored_events_no_update")
        rowid, state = conn.execute(
            "SELECT rowid, state FROM stored_events WHERE topic='case.Rated'"
        ).fetchone()
        conn.execute(
            "UPDATE stored_events SET state=? WHERE rowid=?",
            (bytes(state[:-1]) + bytes([state[-1] ^ 1]), rowid),
        )
    assert main(["audit", "verify"]) == 1
    assert re.search(rf"event #{rowid} \(.*leaf {rowid - 1}\)", capsys.readouterr().err)


def test_an_exported_bundle_verifies_offline_and_a_tampered_one_does_not(
    demo_data: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with sqlite3.connect(demo_data / "ledger.sqlite") as conn:
        case_id = conn.execute(
            "SELECT originator_id FROM stored_events WHERE topic='case.Submitted'"
        ).fetchone()[0]
    case = f"{case_id[:8]}-{case_id[8:12]}-{case_id[12:16]}-{case_id[16:20]}-{case_id[20:]}"
    bundle = tmp_path / "case.bundle"
    assert main(["audit", "export", case, "-o", str(bundle)]) == 0
    capsys.readouterr()
    keys = ["--root-key", str(demo_data / "root.pub.der"), "--log-key", str(demo_data / "log.vkey")]
    assert main(["audit", "verify-bundle", str(bundle), *keys]) == 0
    assert "15 events" in capsys.readouterr().out
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0x01
    bundle.write_bytes(bytes(data))
    assert main(["audit", "verify-bundle", str(bundle), *keys]) == 1
    assert "FAILED" in capsys.readouterr().err


def test_the_witness_cosigns_a_grown_log_and_keeps_its_state(
    demo_data: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state = tmp_path / "witness.json"
    assert main(["witness", "--state", str(state)]) == 0
    first = capsys.readouterr().out
    assert first.startswith("— auditor.example/witness ")
    seen = json.loads(state.read_text())["checkpoint"]
    assert main(["demo"]) == 0
    capsys.readouterr()
    assert main(["witness", "--state", str(state)]) == 0
    assert capsys.readouterr().out != first
    assert json.loads(state.read_text())["checkpoint"] != seen


def test_rebuild_reports_unknown_models_and_rebuilds_known_ones(
    demo_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rebuild", "no-such-model"]) == 2
    assert "unknown read model 'no-such-model'" in capsys.readouterr().err
    assert main(["rebuild", "case_board"]) == 0
    assert "rebuilt case_board from" in capsys.readouterr().err


def test_audit_documents_passes_on_the_demo_and_names_a_material_changed_at_rest(
    demo_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "documents"]) == 0
    assert "6 documents referred to by events, all stored as referred to" in capsys.readouterr().out
    with sqlite3.connect(demo_data / "ledger.sqlite") as db:
        (sha256,) = db.execute("SELECT min(sha256) FROM document_blobs").fetchone()
        db.execute("DROP TRIGGER document_blobs_no_update")
        db.execute("UPDATE document_blobs SET content = ? WHERE sha256 = ?", (b"%PDF-1.7", sha256))
    assert main(["audit", "documents"]) == 1
    failed = capsys.readouterr().err
    assert "document-altered" in failed and sha256 in failed
