"""``caseledger key`` on the embedded default: list, rotate, revoke and enrol change the registry as
asked, and every bad input is refused with one line on stderr, a non-zero exit and no change."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.cli import main

Key = dict[str, Any]
UNKNOWN_KID = "00" * 16


@pytest.fixture
def initialised(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["init"]) == 0
    capsys.readouterr()
    return data_dir


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def listed(capsys: pytest.CaptureFixture[str]) -> list[Key]:
    code, out, err = run(capsys, "key", "list")
    assert (code, err) == (0, "")
    keys: list[Key] = json.loads(out)
    return keys


def by_kid(keys: list[Key]) -> dict[str, Key]:
    return {key["kid"]: key for key in keys}


def the_key(keys: list[Key], role: str, owner: str) -> Key:
    (found,) = [k for k in keys if k["role"] == role and k["owner"] == owner]
    return found


def snapshot(capsys: pytest.CaptureFixture[str], data_dir: Path) -> tuple[list[Key], list[str]]:
    # The registry as listed and the private keys stored: neither may move on a refusal.
    return listed(capsys), sorted(p.name for p in (data_dir / "keys").iterdir())


def assert_refused(
    capsys: pytest.CaptureFixture[str], data_dir: Path, argv: list[str], message: str
) -> None:
    before = snapshot(capsys, data_dir)
    code, out, err = run(capsys, *argv)
    assert code != 0
    assert out == ""
    assert err.startswith("refused: ") and err.count("\n") == 1
    assert message in err
    assert snapshot(capsys, data_dir) == before


def device_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def spki(private: Ed25519PrivateKey, encoding: serialization.Encoding) -> bytes:
    return private.public_key().public_bytes(
        encoding, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def kid_of(der: bytes) -> str:
    return hashlib.sha256(der).digest()[:16].hex()


def test_key_list_shows_every_provisioned_key_active_with_its_role_and_owner(
    initialised: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = listed(capsys)
    roles = {(k["role"], k["owner"]) for k in keys}
    assert {("root", "platform"), ("intake", "platform"), ("courier", "ems")} <= roles
    assert ("department-seal", "zjj") in roles
    assert {k["state"] for k in keys} == {"active"}
    assert all(len(k["kid"]) == 32 for k in keys)


def test_rotating_the_zjj_seal_key_leaves_it_retiring_with_the_new_key_as_its_successor(
    initialised: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = the_key(listed(capsys), "department-seal", "zjj")
    code, out, err = run(capsys, "key", "rotate", old["kid"])
    assert (code, err) == (0, "")
    answer = json.loads(out)
    new_kid = answer["key"]["kid"]
    assert new_kid != old["kid"]
    assert answer["replaces"]["kid"] == old["kid"]
    assert answer["replaces"]["successor"] == new_kid
    keys = by_kid(listed(capsys))
    assert keys[old["kid"]]["state"] == "retiring"
    assert keys[old["kid"]]["successor"] == new_kid
    retires = datetime.fromisoformat(keys[old["kid"]]["rotated_at"])
    assert retires > datetime.now(UTC)  # the overlap in which both keys sign
    new = keys[new_kid]
    assert (new["state"], new["role"], new["owner"]) == ("active", "department-seal", "zjj")
    assert new["department"] == "zjj" and new["license_types"] == old["license_types"]
    stored = [p.name for p in (initialised / "keys").iterdir()]
    assert f"dept-zjj.{new_kid[:16]}.p8.pem" in stored


def test_a_replacement_published_ahead_starts_at_the_given_time_in_utc(
    initialised: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = the_key(listed(capsys), "department-seal", "zjj")
    beijing = timezone(timedelta(hours=8))
    starts = (datetime.now(beijing) + timedelta(days=7)).replace(microsecond=0)
    code, out, err = run(capsys, "key", "rotate", old["kid"], "--starts-at", starts.isoformat())
    assert (code, err) == (0, "")
    answer = json.loads(out)
    keys = by_kid(listed(capsys))
    new = keys[answer["key"]["kid"]]
    assert (new["state"], new["valid_from"]) == (
        "not-yet-valid",
        starts.astimezone(UTC).isoformat(),
    )
    assert keys[old["kid"]]["state"] == "active"  # until the new key starts
    retires = datetime.fromisoformat(keys[old["kid"]]["rotated_at"])
    assert retires == starts + timedelta(seconds=30)  # the old key signs until the overlap after


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("2026-11-22T10:00:00", "--starts-at must carry a timezone"),
        ("next week", "--starts-at must be an ISO 8601 time"),
        ("2020-01-01T00:00:00Z", "must lie after the command time"),
    ],
)
def test_a_naive_unreadable_or_past_start_is_refused_and_changes_nothing(
    initialised: Path, capsys: pytest.CaptureFixture[str], when: str, message: str
) -> None:
    zjj = the_key(listed(capsys), "department-seal", "zjj")["kid"]
    assert_refused(capsys, initialised, ["key", "rotate", zjj, "--starts-at", when], message)


def test_rotating_a_key_already_replaced_is_refused_and_changes_nothing(
    initialised: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = the_key(listed(capsys), "department-seal", "zjj")
    assert run(capsys, "key", "rotate", old["kid"])[0] == 0
    assert_refused(
        capsys, initialised, ["key", "rotate", old["kid"]], f"key {old['kid']} was already replaced"
    )


@pytest.mark.parametrize(
    "kid", ["xyz", "a" * 31, "a" * 33, "g" * 32, "0x" + "0" * 30, " " + "a" * 31]
)
@pytest.mark.parametrize("command", ["rotate", "revoke", "enrol"])
def test_a_kid_that_is_not_32_hex_digits_is_refused_and_changes_nothing(
    initialised: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], kid: str, command: str
) -> None:
    key_file = tmp_path / "device.der"
    key_file.write_bytes(spki(device_key(), serialization.Encoding.DER))
    enrol = ["key", "enrol", "--courier", "ems", "--public-key", str(key_file)]
    argv = {
        "rotate": ["key", "rotate", kid],
        "revoke": ["key", "revoke", kid, "--reason", "lost"],
        "enrol": [*enrol, "--replaces", kid],
    }[command]
    assert_refused(capsys, initialised, argv, f"a key id is 32 hex digits, got {kid!r}")


@pytest.mark.parametrize(
    "argv",
    [["key", "rotate", UNKNOWN_KID], ["key", "revoke", UNKNOWN_KID, "--reason", "lost"]],
)
def test_an_unknown_kid_is_refused_and_changes_nothing(
    initialised: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert_refused(capsys, initialised, argv, f"key id {UNKNOWN_KID} is not registered")


def test_rotating_or_revoking_the_root_key_is_refused_and_changes_nothing(
    initialised: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = the_key(listed(capsys), "root", "platform")["kid"]
    assert_refused(capsys, initialised, ["key", "rotate", root], "root keys are not replaced here")
    revoke = ["key", "revoke", root, "--reason", "lost"]
    assert_refused(capsys, initialised, revoke, "the root key anchors the registry")


def test_revoking_from_the_compromise_records_that_time_in_utc_and_the_reason(
    initialised: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ems = the_key(listed(capsys), "courier", "ems")["kid"]
    compromise = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    beijing = compromise.astimezone(timezone(timedelta(hours=8)))
    argv = ["key", "revoke", ems, "--reason", "快递终端丢失", "--from", beijing.isoformat()]
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    assert json.loads(out)["revoked_at"] == compromise.isoformat()
    listed_ems = by_kid(listed(capsys))[ems]
    assert listed_ems["state"] == "revoked"
    assert listed_ems["revoked_at"] == compromise.isoformat()
    assert listed_ems["revocation_reason"] == "快递终端丢失"


def test_revoking_without_a_time_revokes_from_now(
    initialised: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seal = the_key(listed(capsys), "department-seal", "zjj")["kid"]
    before = datetime.now(UTC).replace(microsecond=0)  # revocations are whole seconds
    code, out, _ = run(capsys, "key", "revoke", seal, "--reason", "retired seal")
    assert code == 0
    revoked_at = datetime.fromisoformat(json.loads(out)["revoked_at"])
    assert before <= revoked_at <= datetime.now(UTC)
    assert by_kid(listed(capsys))[seal]["state"] == "revoked"


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("2026-11-22T10:00:00", "--from must carry a timezone"),
        ("yesterday", "--from must be an ISO 8601 time, got 'yesterday'"),
        ("2999-01-01T00:00:00Z", "lies after the command time"),
    ],
)
def test_a_naive_unreadable_or_future_revocation_time_is_refused_and_changes_nothing(
    initialised: Path, capsys: pytest.CaptureFixture[str], when: str, message: str
) -> None:
    ems = the_key(listed(capsys), "courier", "ems")["kid"]
    argv = ["key", "revoke", ems, "--reason", "lost", "--from", when]
    assert_refused(capsys, initialised, argv, message)


def test_revoking_a_key_twice_or_without_a_reason_is_refused_and_changes_nothing(
    initialised: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ems = the_key(listed(capsys), "courier", "ems")["kid"]
    blank = ["key", "revoke", ems, "--reason", "  "]
    assert_refused(capsys, initialised, blank, "a revocation needs a reason")
    assert run(capsys, "key", "revoke", ems, "--reason", "lost")[0] == 0
    again = ["key", "revoke", ems, "--reason", "lost again"]
    assert_refused(capsys, initialised, again, f"key {ems} was already revoked")


def test_enrolling_a_courier_device_key_from_a_pem_file_registers_it_beside_the_held_key(
    initialised: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    held = the_key(listed(capsys), "courier", "ems")["kid"]
    device = device_key()
    pem = tmp_path / "ems.pem"
    pem.write_bytes(spki(device, serialization.Encoding.PEM))
    stored = sorted(p.name for p in (initialised / "keys").iterdir())
    code, out, err = run(capsys, "key", "enrol", "--courier", "ems", "--public-key", str(pem))
    assert (code, err) == (0, "")
    answer = json.loads(out)
    expected = kid_of(spki(device, serialization.Encoding.DER))  # the kid of the DER, not the PEM
    assert answer["key"]["kid"] == expected and answer["replaces"] is None
    keys = by_kid(listed(capsys))
    assert (keys[expected]["role"], keys[expected]["owner"]) == ("courier", "ems")
    assert keys[expected]["state"] == "active"
    assert keys[held]["state"] == "active"  # the key held here still signs the courier's events
    # The device keeps its private key: nothing is added to this service's store.
    assert sorted(p.name for p in (initialised / "keys").iterdir()) == stored


def device_enrolled(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str) -> str:
    der = spki(device_key(), serialization.Encoding.DER)
    (tmp_path / name).write_bytes(der)
    enrol = ["key", "enrol", "--courier", "ems", "--public-key", str(tmp_path / name)]
    assert run(capsys, *enrol)[0] == 0
    return kid_of(der)


def test_enrolling_a_der_key_that_replaces_a_device_key_retires_the_earlier_one(
    initialised: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = device_enrolled(capsys, tmp_path, "first.der")
    der = spki(device_key(), serialization.Encoding.DER)
    (tmp_path / "second.der").write_bytes(der)
    argv = ["key", "enrol", "--courier", "ems", "--public-key", str(tmp_path / "second.der")]
    code, out, _ = run(capsys, *argv, "--replaces", old)
    assert code == 0
    assert json.loads(out)["replaces"]["kid"] == old
    keys = by_kid(listed(capsys))
    assert keys[old]["state"] == "retiring" and keys[old]["successor"] == kid_of(der)
    assert keys[kid_of(der)]["state"] == "active"


def test_enrolling_the_same_device_key_twice_is_refused_and_changes_nothing(
    initialised: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kid = device_enrolled(capsys, tmp_path, "device.der")
    argv = ["key", "enrol", "--courier", "ems", "--public-key", str(tmp_path / "device.der")]
    assert_refused(capsys, initialised, argv, f"key {kid} is already registered")


def test_enrolling_a_new_courier_gives_it_a_key_held_here_beside_its_device_key(
    initialised: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    device = device_key()
    (tmp_path / "sf.der").write_bytes(spki(device, serialization.Encoding.DER))
    argv = ["key", "enrol", "--courier", "sf", "--public-key", str(tmp_path / "sf.der")]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    enrolled = json.loads(out)["key"]
    sf = [k for k in listed(capsys) if k["role"] == "courier" and k["owner"] == "sf"]
    assert {k["state"] for k in sf} == {"active"} and len(sf) == 2
    assert enrolled["kid"] in {k["kid"] for k in sf}
    # The other is the key the service signs the courier's events with; its private key is here.
    assert (initialised / "keys" / "courier-sf.p8.pem").exists()


@pytest.mark.parametrize(
    ("replaced", "message"),
    [
        (("courier", "ems"), "is held by this service; rotate it instead"),
        (("department-seal", "zjj"), "not courier 'ems''s"),
    ],
)
def test_enrolling_a_key_that_replaces_a_held_or_another_owners_key_is_refused(
    initialised: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    replaced: tuple[str, str],
    message: str,
) -> None:
    kid = the_key(listed(capsys), *replaced)["kid"]
    (tmp_path / "ems.der").write_bytes(spki(device_key(), serialization.Encoding.DER))
    argv = ["key", "enrol", "--courier", "ems", "--public-key", str(tmp_path / "ems.der")]
    assert_refused(capsys, initialised, [*argv, "--replaces", kid], message)


def test_rotating_an_enrolled_device_key_is_refused_as_this_service_does_not_hold_it(
    initialised: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kid = device_enrolled(capsys, tmp_path, "device.der")
    assert_refused(capsys, initialised, ["key", "rotate", kid], "does not hold the private key")


def test_enrolling_from_a_missing_file_is_refused_and_changes_nothing(
    initialised: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.pem"
    argv = ["key", "enrol", "--courier", "ems", "--public-key", str(missing)]
    assert_refused(capsys, initialised, argv, f"cannot read the public key file {missing}")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a key at all\n", "expected DER SubjectPublicKeyInfo"),
        (b"-----BEGIN PUBLIC KEY-----\nbroken\n-----END PUBLIC KEY-----\n", "holds no PEM"),
        (
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            "a courier's device key must be Ed25519",
        ),
    ],
)
def test_enrolling_from_a_file_without_an_ed25519_public_key_is_refused_and_changes_nothing(
    initialised: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    message: str,
) -> None:
    path = tmp_path / "device.key"
    path.write_bytes(content)
    argv = ["key", "enrol", "--courier", "ems", "--public-key", str(path)]
    assert_refused(capsys, initialised, argv, message)


def test_a_key_command_before_init_is_refused_and_says_to_run_init(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "key", "list")
    assert code != 0 and out == ""
    assert err.startswith("refused: ") and "run caseledger init first" in err
    assert err.count("\n") == 1
