"""The command line on the embedded default: init is idempotent, demo tells a verified story,
verify passes a clean store and names the first bad event of a tampered one."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api import cli_bench
from api.cli import build_parser, main
from tests.foreign_region import ForeignRegion
from tests.pictures import blank, photo


def test_init_twice_creates_keys_once_and_publishes_the_catalog_once(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    first = capsys.readouterr().out
    assert "catalog items published: 6" in first
    assert (data_dir / "root.pub.der").exists() and (data_dir / "trust-list.cbor").exists()
    assert main(["init"]) == 0
    second = capsys.readouterr().out
    assert "keys created: none (already present)" in second
    assert "catalog items published: 0" in second


def test_demo_prints_a_fully_verified_timeline_with_the_refused_second_notice(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "second notice refused and recorded" in out
    assert "accepted with tolerance" in out
    assert "issuance blocked" in out
    assert "case.Delivered" in out and "courier ems" in out
    rows = [line for line in out.splitlines() if "case." in line and "✓ verified" in line]
    assert len(rows) == 15
    assert "✗" not in out


def test_verify_names_the_first_tampered_event_and_exits_non_zero(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo"]) == 0
    assert main(["verify"]) == 0
    assert "every signature, key and chain link verifies" in capsys.readouterr().out
    with sqlite3.connect(data_dir / "ledger.sqlite") as conn:
        conn.execute("DROP TRIGGER stored_events_no_update")
        rowid, state = conn.execute(
            "SELECT rowid, state FROM stored_events WHERE topic='case.Decided'"
        ).fetchone()
        tampered = bytearray(state)
        tampered[-1] ^= 0x01  # last signature byte
        conn.execute("UPDATE stored_events SET state=? WHERE rowid=?", (bytes(tampered), rowid))
    assert main(["verify"]) == 1
    err = capsys.readouterr().err
    assert f"event #{rowid} (" in err
    assert "#9, leaf" in err and "failed check 'signature'" in err


def test_demo_writes_license_files_that_verify_offline_and_a_changed_one_does_not(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo"]) == 0
    capsys.readouterr()
    demo = data_dir / "demo"
    qr = (demo / "license.qr.txt").read_text()
    assert qr.startswith("EL1:")
    assert (demo / "license.qr.png").read_bytes().startswith(b"\x89PNG")
    # The demo's compressed clock runs a little ahead of the wall clock.
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    args = [
        "license",
        "verify",
        qr,
        "--trust-list",
        str(demo / "trust-list.cbor"),
        "--status-list",
        str(demo / "status-list.cbor"),
        "--at",
        later,
    ]
    assert main(args) == 0
    assert '"status": "valid"' in capsys.readouterr().out
    # The QR image it wrote, and a photo of it, verify as its text does.
    (demo / "photo.jpg").write_bytes(photo(qr))
    for image in (demo / "license.qr.png", demo / "photo.jpg"):
        assert main(["license", "verify", "--image", str(image), *args[3:]]) == 0
        assert '"status": "valid"' in capsys.readouterr().out
    changed = qr[:-1] + ("A" if qr[-1] != "A" else "B")
    assert main(["license", "verify", changed, *args[3:]]) == 1
    out = capsys.readouterr().out
    assert '"status": "malformed"' in out or '"status": "invalid"' in out
    assert '"step": ' in out and '"step": null' not in out


def test_license_verify_refuses_a_good_status_from_a_status_list_older_than_allowed(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo"]) == 0
    capsys.readouterr()
    demo = data_dir / "demo"
    files = ["--trust-list", str(demo / "trust-list.cbor")]
    files += ["--status-list", str(demo / "status-list.cbor")]
    qr = (demo / "license.qr.txt").read_text()
    ten_days = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    assert main(["license", "verify", qr, *files, "--at", ten_days]) == 1
    out = capsys.readouterr().out
    assert '"status": "status_outdated"' in out and "fetch a newer one" in out
    allowed = ["--status-max-age", "30"]
    assert main(["license", "verify", qr, *files, "--at", ten_days, *allowed]) == 0
    assert '"status": "valid"' in capsys.readouterr().out
    for bad in ("0", "-1", "4000"):
        args = ["license", "verify", qr, *files, "--status-max-age", bad]
        assert main(args) == 2
        assert "--status-max-age must be more than 0" in capsys.readouterr().err


def test_license_verify_refuses_a_picture_without_a_code_and_two_inputs_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    picture = tmp_path / "blank.png"
    picture.write_bytes(blank())
    trust = ["--trust-list", str(tmp_path / "trust-list.cbor")]
    assert main(["license", "verify", "--image", str(picture), *trust]) == 2
    assert "blank.png: expected a QR code in the 640×480 PNG image" in capsys.readouterr().err
    for both in (["EL1:X", "--image", str(picture)], []):
        assert main(["license", "verify", *both, *trust]) == 2
        assert "give exactly one of QR_TEXT and --image FILE" in capsys.readouterr().err


def test_license_verify_refuses_a_time_without_a_timezone(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo"]) == 0
    demo = data_dir / "demo"
    qr = (demo / "license.qr.txt").read_text()
    capsys.readouterr()
    code = main(
        [
            "license",
            "verify",
            qr,
            "--trust-list",
            str(demo / "trust-list.cbor"),
            "--at",
            "2026-11-22T10:00:00",
        ]
    )
    assert code == 2
    assert "--at must carry a timezone" in capsys.readouterr().err


def test_token_mints_a_jwt_and_refuses_an_overlong_lifetime(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    capsys.readouterr()
    assert main(["token", "--role", "auditor", "--sub", "auditor-1"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.count(".") == 2
    assert main(["token", "--role", "auditor", "--sub", "auditor-1", "--minutes", "100000"]) == 2
    assert "cannot mint this token" in capsys.readouterr().err


def test_bench_runs_a_benchmark_from_the_source_tree_and_passes_its_options_on(
    capfd: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "verify", "--n", "10", "--rounds", "1"]) == 0
    out = capfd.readouterr().out
    assert "bench/bench_verify.py --n 10 --rounds 1" in out
    assert "10 credentials" in out and "verification / raw Ed25519 = " in out


def test_bench_refuses_an_unknown_benchmark_naming_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "speed"]) == 2
    err = capsys.readouterr().err
    assert "no benchmark named 'speed'; expected one of: api, audit, ledger" in err
    assert "read-models, verify" in err
    # Installed without the source tree, there are none.
    args = build_parser().parse_args(["bench", "verify"])
    assert cli_bench.run(args, folder=tmp_path / "bench") == 2
    assert "none (bench/ ships with the source tree" in capsys.readouterr().err


def test_region_commands_pin_a_root_install_its_lists_and_refuse_an_older_list(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    hunan = ForeignRegion()
    files = {
        "root.der": hunan.root_key,
        "trust-2.cbor": hunan.trust_list(2),
        "trust-1.cbor": hunan.trust_list(1),
        "status.cbor": hunan.status_list(revoked=(77,)),
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    capsys.readouterr()
    add = ["region", "add", "hunan", "--title", "湖南省", "--root-key", str(tmp_path / "root.der")]
    assert main(add) == 0
    assert '"title": "湖南省"' in capsys.readouterr().out
    assert main(add) == 0
    assert "already so: nothing recorded" in capsys.readouterr().err
    assert main(["region", "trust-list", "hunan", str(tmp_path / "trust-2.cbor")]) == 0
    assert '"trust_list_sequence": 2' in capsys.readouterr().out
    assert main(["region", "trust-list", "hunan", str(tmp_path / "trust-1.cbor")]) == 2
    assert "sequence above 2, got 1" in capsys.readouterr().err
    assert main(["region", "status-list", "hunan", str(tmp_path / "status.cbor")]) == 0
    assert main(["region", "withdraw", "hunan", "--reason", "互认协议到期"]) == 0
    capsys.readouterr()
    assert main(["region", "list"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert (listed["active"], listed["trust_list_sequence"]) == (False, 2)
    assert list(listed["status_lists"]) == ["hnscjgj/2026/1"]
    assert main(["region", "trust-list", "nowhere", str(tmp_path / "trust-2.cbor")]) == 2
    assert "no region named 'nowhere'" in capsys.readouterr().err
