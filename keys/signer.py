"""The ``Signer`` port and its Ed25519 implementation; the only holder of private key objects."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

EDDSA = -8  # COSE algorithm id (RFC 9053 §2.2)


@runtime_checkable
class Signer(Protocol):
    """Signs bytes with a private key the caller never sees."""

    @property
    def alg(self) -> int:
        """COSE algorithm identifier of the signatures this signer makes."""
        ...

    def sign(self, data: bytes) -> bytes:
        """Return the signature over ``data``."""
        ...

    def public_key_der(self) -> bytes:
        """Return the public key as DER SubjectPublicKeyInfo."""
        ...


class Ed25519Signer:
    """An EdDSA (Ed25519) ``Signer`` over a private key held in memory."""

    __slots__ = ("_private",)

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key

    @classmethod
    def generate(cls) -> Ed25519Signer:
        """Return a signer over a freshly generated key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> Ed25519Signer:
        """Return a signer over the key derived from a 32-byte seed (test vectors, fixtures)."""
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def alg(self) -> int:
        """COSE algorithm identifier: EdDSA (-8)."""
        return EDDSA

    def sign(self, data: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature over ``data``."""
        return self._private.sign(data)

    def public_key(self) -> Ed25519PublicKey:
        """Return the public half."""
        return self._private.public_key()

    def public_key_raw(self) -> bytes:
        """Return the 32 raw public key bytes."""
        return self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def public_key_der(self) -> bytes:
        """Return the public key as DER SubjectPublicKeyInfo."""
        return self._private.public_key().public_bytes(
            Encoding.DER, PublicFormat.SubjectPublicKeyInfo
        )

    def __repr__(self) -> str:
        # Never show key material, not even in a traceback.
        return f"Ed25519Signer(public={self.public_key_raw().hex()[:16]}…)"
