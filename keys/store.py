"""Key stores: where private keys live; callers only ever get a ``Signer`` back.

``FileKeyStore`` keeps each Ed25519 key as PKCS#8 PEM encrypted with a passphrase taken from the
environment (``CASELEDGER_KEY_PASSPHRASE``); ``InMemoryKeyStore`` serves tests and demos.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
    load_pem_private_key,
)

from keys.errors import KeyManagementError, UnknownKey, WrongPassphrase
from keys.signer import Ed25519Signer

PASSPHRASE_ENV = "CASELEDGER_KEY_PASSPHRASE"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise KeyManagementError(
            f"key name must match {_NAME.pattern} (lowercase, no path separators), got {name!r}"
        )


class KeyStore(Protocol):
    """Creates and holds private keys by name; hands out signers, never key bytes."""

    def generate(self, name: str) -> Ed25519Signer:
        """Create a new key under ``name`` (refusing to overwrite) and return its signer."""
        ...

    def signer(self, name: str) -> Ed25519Signer:
        """Return the signer for the key stored under ``name``."""
        ...

    def generate_named(self, name_for: Callable[[bytes], str]) -> tuple[str, Ed25519Signer]:
        """Create a new key stored under ``name_for(its public key DER)``; return both."""
        ...

    def names(self) -> list[str]:
        """Return the names of the stored keys, sorted."""
        ...

    def discard(self, name: str) -> None:
        """Destroy the key stored under ``name`` (one that was never put to use)."""
        ...


class InMemoryKeyStore:
    """A key store that forgets everything when the process ends (tests, demos)."""

    def __init__(self) -> None:
        self._keys: dict[str, Ed25519Signer] = {}

    def generate(self, name: str) -> Ed25519Signer:
        """Create a new key under ``name`` and return its signer."""
        _check_name(name)
        if name in self._keys:
            raise KeyManagementError(f"key {name!r} already exists; refusing to overwrite it")
        self._keys[name] = Ed25519Signer.generate()
        return self._keys[name]

    def generate_named(self, name_for: Callable[[bytes], str]) -> tuple[str, Ed25519Signer]:
        """Create a new key stored under ``name_for(its public key DER)``; return both."""
        signer = Ed25519Signer.generate()
        name = name_for(signer.public_key_der())
        _check_name(name)
        if name in self._keys:
            raise KeyManagementError(f"key {name!r} already exists; refusing to overwrite it")
        self._keys[name] = signer
        return name, signer

    def signer(self, name: str) -> Ed25519Signer:
        """Return the signer for ``name``."""
        try:
            return self._keys[name]
        except KeyError:
            raise UnknownKey(
                f"no key named {name!r} in the store; have {sorted(self._keys)}"
            ) from None

    def names(self) -> list[str]:
        """Return the stored key names."""
        return sorted(self._keys)

    def discard(self, name: str) -> None:
        """Destroy the key stored under ``name``."""
        if self._keys.pop(name, None) is None:
            raise UnknownKey(f"no key named {name!r} in the store; have {sorted(self._keys)}")


class FileKeyStore:
    """PKCS#8 PEM files, one per key, encrypted with a passphrase from the environment."""

    SUFFIX = ".p8.pem"

    def __init__(self, directory: Path, *, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        passphrase = env.get(PASSPHRASE_ENV, "")
        if len(passphrase) < 8:
            raise KeyManagementError(
                f"{PASSPHRASE_ENV} must hold a passphrase of at least 8 characters, "
                f"got {len(passphrase)} characters"
            )
        self._directory = Path(directory)
        self._passphrase = passphrase.encode("utf-8")
        self._cache: dict[str, Ed25519Signer] = {}

    def _path(self, name: str) -> Path:
        _check_name(name)
        return self._directory / f"{name}{self.SUFFIX}"

    def generate(self, name: str) -> Ed25519Signer:
        """Create, encrypt and atomically write a new key; refuse to overwrite an existing one."""
        self._path(name)  # a bad name is refused before a key is made
        return self._write(name, Ed25519PrivateKey.generate())

    def generate_named(self, name_for: Callable[[bytes], str]) -> tuple[str, Ed25519Signer]:
        """Create a new key stored under ``name_for(its public key DER)``; return both."""
        private = Ed25519PrivateKey.generate()
        name = name_for(Ed25519Signer(private).public_key_der())
        return name, self._write(name, private)

    def _write(self, name: str, private: Ed25519PrivateKey) -> Ed25519Signer:
        path = self._path(name)
        if path.exists():
            raise KeyManagementError(
                f"key {name!r} already exists at {path}; refusing to overwrite"
            )
        pem = private.private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(self._passphrase)
        )
        self._directory.mkdir(parents=True, exist_ok=True)
        # Write to a temporary file then rename, so a crash never leaves half a key behind.
        fd, tmp = tempfile.mkstemp(dir=self._directory, prefix=f".{name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(tmp, path)  # fails if another process created the name meanwhile
        finally:
            os.unlink(tmp)
        signer = Ed25519Signer(private)
        self._cache[name] = signer
        return signer

    def signer(self, name: str) -> Ed25519Signer:
        """Decrypt and return the signer for ``name``."""
        if name in self._cache:
            return self._cache[name]
        path = self._path(name)
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            raise UnknownKey(f"no key named {name!r} in {self._directory}") from None
        try:
            private = load_pem_private_key(pem, password=self._passphrase)
        except (ValueError, TypeError):
            # cryptography says "Bad decrypt" for a wrong passphrase and ValueError for garbage;
            # both mean this passphrase cannot open this file.
            raise WrongPassphrase(
                f"cannot decrypt key {name!r} at {path}: wrong {PASSPHRASE_ENV} or corrupt file"
            ) from None
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyManagementError(
                f"key {name!r} must be an Ed25519 private key, got {type(private).__name__}"
            )
        signer = Ed25519Signer(private)
        self._cache[name] = signer
        return signer

    def names(self) -> list[str]:
        """Return the names of the key files in the directory."""
        if not self._directory.exists():
            return []
        return sorted(p.name[: -len(self.SUFFIX)] for p in self._directory.glob(f"*{self.SUFFIX}"))

    def discard(self, name: str) -> None:
        """Delete the key file of ``name`` (one that was never put to use)."""
        self._cache.pop(name, None)
        try:
            self._path(name).unlink()
        except FileNotFoundError:
            raise UnknownKey(f"no key named {name!r} in {self._directory}") from None
