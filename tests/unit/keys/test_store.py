"""Key stores: PKCS#8 encrypted at rest, never overwritten, wrong passphrases refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from keys.errors import KeyManagementError, UnknownKey, WrongPassphrase
from keys.store import PASSPHRASE_ENV, FileKeyStore, InMemoryKeyStore

ENV = {PASSPHRASE_ENV: "correct horse battery"}


def test_file_store_round_trips_a_key_through_encrypted_pkcs8(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, environ=ENV)
    signer = store.generate("dept-scjgj")
    reopened = FileKeyStore(tmp_path, environ=ENV).signer("dept-scjgj")
    assert reopened.public_key_der() == signer.public_key_der()
    pem = (tmp_path / "dept-scjgj.p8.pem").read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert (tmp_path / "dept-scjgj.p8.pem").stat().st_mode & 0o777 == 0o600


def test_file_store_refuses_a_wrong_passphrase(tmp_path: Path) -> None:
    FileKeyStore(tmp_path, environ=ENV).generate("root")
    other = FileKeyStore(tmp_path, environ={PASSPHRASE_ENV: "not the passphrase"})
    with pytest.raises(WrongPassphrase, match="cannot decrypt key 'root'"):
        other.signer("root")


def test_file_store_refuses_a_missing_or_short_passphrase(tmp_path: Path) -> None:
    with pytest.raises(KeyManagementError, match="at least 8 characters, got 0"):
        FileKeyStore(tmp_path, environ={})
    with pytest.raises(KeyManagementError, match="got 3 characters"):
        FileKeyStore(tmp_path, environ={PASSPHRASE_ENV: "abc"})


def test_file_store_never_overwrites_a_key(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, environ=ENV)
    first = store.generate("intake")
    with pytest.raises(KeyManagementError, match="already exists"):
        store.generate("intake")
    assert FileKeyStore(tmp_path, environ=ENV).signer("intake").public_key_der() == (
        first.public_key_der()
    )
    assert [p.name for p in tmp_path.iterdir()] == ["intake.p8.pem"]


def test_file_store_rejects_names_that_could_escape_the_directory(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, environ=ENV)
    with pytest.raises(KeyManagementError, match="key name must match"):
        store.generate("../evil")
    assert list(tmp_path.iterdir()) == []


def test_file_store_reports_an_unknown_key(tmp_path: Path) -> None:
    with pytest.raises(UnknownKey, match="no key named 'ghost'"):
        FileKeyStore(tmp_path, environ=ENV).signer("ghost")


def test_corrupt_key_file_is_reported_as_undecryptable(tmp_path: Path) -> None:
    (tmp_path / "root.p8.pem").write_bytes(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nxx\n")
    with pytest.raises(WrongPassphrase, match="wrong CASELEDGER_KEY_PASSPHRASE or corrupt"):
        FileKeyStore(tmp_path, environ=ENV).signer("root")


def test_file_store_lists_its_keys(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, environ=ENV)
    store.generate("root")
    store.generate("dept-a")
    assert store.names() == ["dept-a", "root"]


def test_memory_store_hands_out_signers_and_refuses_duplicates() -> None:
    store = InMemoryKeyStore()
    signer = store.generate("root")
    assert store.signer("root") is signer
    with pytest.raises(KeyManagementError, match="already exists"):
        store.generate("root")
    with pytest.raises(UnknownKey, match="have \\['root'\\]"):
        store.signer("intake")


def test_signer_repr_shows_no_private_material() -> None:
    signer = InMemoryKeyStore().generate("root")
    assert "private" not in repr(signer).lower()
    assert repr(signer).startswith("Ed25519Signer(public=")


@pytest.mark.parametrize("kind", ["file", "memory"])
def test_a_key_named_after_its_public_key_is_stored_under_that_name(
    tmp_path: Path, kind: str
) -> None:
    store = FileKeyStore(tmp_path, environ=ENV) if kind == "file" else InMemoryKeyStore()
    name, signer = store.generate_named(lambda der: f"dept-zjj.{der[-4:].hex()}")
    assert name == f"dept-zjj.{signer.public_key_der()[-4:].hex()}"
    assert store.signer(name).public_key_der() == signer.public_key_der()
    with pytest.raises(KeyManagementError, match="key name must match"):
        store.generate_named(lambda der: "../escape")
    assert store.names() == [name]


@pytest.mark.parametrize("kind", ["file", "memory"])
def test_a_discarded_key_is_gone_and_an_unknown_one_is_reported(tmp_path: Path, kind: str) -> None:
    store = FileKeyStore(tmp_path, environ=ENV) if kind == "file" else InMemoryKeyStore()
    store.generate("dept-zjj")
    store.generate("dept-swj")
    store.discard("dept-zjj")
    assert store.names() == ["dept-swj"]
    with pytest.raises(UnknownKey, match="dept-zjj"):
        store.signer("dept-zjj")
    with pytest.raises(UnknownKey, match="dept-zjj"):
        store.discard("dept-zjj")
    if kind == "file":
        assert not (tmp_path / "dept-zjj.p8.pem").exists()
