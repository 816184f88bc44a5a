"""COSE signature algorithms (RFC 9053 §2, RFC 8230 §2) as a registry, and public key loading.

EdDSA (Ed25519) is the algorithm we sign with; ES256 and PS256 are verified so credentials from
other issuers can be checked. Further algorithms (e.g. SM2) plug in through ``register``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, TypeAlias, runtime_checkable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from keys.errors import KeyManagementError, MalformedMessage, SignatureInvalid, UnsupportedAlgorithm

PublicKey: TypeAlias = Ed25519PublicKey | ec.EllipticCurvePublicKey | RSAPublicKey

EDDSA = -8  # RFC 9053 §2.2
ES256 = -7  # RFC 9053 §2.1
PS256 = -37  # RFC 8230 §2

ED25519_SIGNATURE_LENGTH = 64
ES256_SIGNATURE_LENGTH = 64  # raw r || s, 32 bytes each (RFC 9053 §2.1), not DER
PS256_SALT_LENGTH = 32  # RFC 8230 §2: salt length equals the hash length
RSA_MINIMUM_BITS = 2048  # RFC 8230 §6
ED25519_RAW_KEY_LENGTH = 32


@runtime_checkable
class Algorithm(Protocol):
    """A COSE signature algorithm that verifies; signing belongs to a ``Signer``."""

    @property
    def cose_id(self) -> int:
        """COSE algorithm identifier (the value of header label 1)."""
        ...

    @property
    def name(self) -> str:
        """Registered COSE name, e.g. ``EdDSA``."""
        ...

    def verify(self, public_key: PublicKey, data: bytes, signature: bytes) -> None:
        """Return if ``signature`` over ``data`` verifies under ``public_key``; else raise."""
        ...


def describe_key(public_key: object) -> str:
    """Return a short human description of a public key, for error messages."""
    if isinstance(public_key, Ed25519PublicKey):
        return "an Ed25519 key"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return f"an EC key on {public_key.curve.name}"
    if isinstance(public_key, RSAPublicKey):
        return f"an RSA-{public_key.key_size} key"
    return f"a {type(public_key).__name__}"


def _check_length(name: str, signature: bytes, expected: int, detail: str = "") -> None:
    if len(signature) != expected:
        raise SignatureInvalid(
            f"{name} signature must be {expected} bytes{detail}, got {len(signature)}"
        )


@dataclass(frozen=True)
class EdDSAAlgorithm:
    """EdDSA with Ed25519 (RFC 9053 §2.2): 64-byte signatures."""

    cose_id: int = field(default=EDDSA, init=False)
    name: str = field(default="EdDSA", init=False)

    def verify(self, public_key: PublicKey, data: bytes, signature: bytes) -> None:
        """Verify an Ed25519 signature; raise ``SignatureInvalid`` otherwise."""
        if not isinstance(public_key, Ed25519PublicKey):
            raise SignatureInvalid(f"EdDSA needs an Ed25519 key, got {describe_key(public_key)}")
        _check_length("EdDSA", signature, ED25519_SIGNATURE_LENGTH)
        try:
            public_key.verify(signature, data)
        except InvalidSignature:
            raise SignatureInvalid("EdDSA signature does not verify over the given bytes") from None


@dataclass(frozen=True)
class ES256Algorithm:
    """ECDSA on P-256 with SHA-256 (RFC 9053 §2.1): raw r || s signatures."""

    cose_id: int = field(default=ES256, init=False)
    name: str = field(default="ES256", init=False)

    def verify(self, public_key: PublicKey, data: bytes, signature: bytes) -> None:
        """Verify a raw r || s ES256 signature; raise ``SignatureInvalid`` otherwise."""
        if not (
            isinstance(public_key, ec.EllipticCurvePublicKey)
            and isinstance(public_key.curve, ec.SECP256R1)
        ):
            raise SignatureInvalid(
                f"ES256 needs an EC key on secp256r1 (P-256), got {describe_key(public_key)}"
            )
        _check_length("ES256", signature, ES256_SIGNATURE_LENGTH, " (raw r || s)")
        # COSE carries the fixed-width r || s; cryptography wants DER.
        half = ES256_SIGNATURE_LENGTH // 2
        r = int.from_bytes(signature[:half], "big")
        s = int.from_bytes(signature[half:], "big")
        try:
            public_key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise SignatureInvalid("ES256 signature does not verify over the given bytes") from None


@dataclass(frozen=True)
class PS256Algorithm:
    """RSASSA-PSS with SHA-256, MGF1 SHA-256 and a 32-byte salt (RFC 8230 §2)."""

    cose_id: int = field(default=PS256, init=False)
    name: str = field(default="PS256", init=False)

    def verify(self, public_key: PublicKey, data: bytes, signature: bytes) -> None:
        """Verify a PS256 signature; raise ``SignatureInvalid`` otherwise."""
        if not isinstance(public_key, RSAPublicKey):
            raise SignatureInvalid(f"PS256 needs an RSA key, got {describe_key(public_key)}")
        if public_key.key_size < RSA_MINIMUM_BITS:
            raise SignatureInvalid(
                f"PS256 needs an RSA key of at least {RSA_MINIMUM_BITS} bits, "
                f"got {public_key.key_size}"
            )
        modulus_bytes = (public_key.key_size + 7) // 8
        _check_length("PS256", signature, modulus_bytes, " (the modulus length)")
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=PS256_SALT_LENGTH)
        try:
            public_key.verify(signature, data, pss, hashes.SHA256())
        except InvalidSignature:
            raise SignatureInvalid("PS256 signature does not verify over the given bytes") from None


_REGISTRY: dict[int, Algorithm] = {
    algorithm.cose_id: algorithm
    for algorithm in (EdDSAAlgorithm(), ES256Algorithm(), PS256Algorithm())
}


def supported_algorithms() -> tuple[Algorithm, ...]:
    """Return the registered algorithms in registration order."""
    return tuple(_REGISTRY.values())


def _supported_text() -> str:
    return ", ".join(f"{a.name}({a.cose_id})" for a in _REGISTRY.values()) or "none"


def register(algorithm: Algorithm) -> None:
    """Add an algorithm to the registry; its id must not be registered already."""
    cose_id = algorithm.cose_id
    if isinstance(cose_id, bool) or not isinstance(cose_id, int):
        raise KeyManagementError(
            f"COSE algorithm id must be an int, got {type(cose_id).__name__} {cose_id!r}"
        )
    existing = _REGISTRY.get(cose_id)
    if existing is not None:
        raise KeyManagementError(
            f"COSE algorithm {cose_id} is already registered as {existing.name}; "
            "unregister it first"
        )
    _REGISTRY[cose_id] = algorithm


def unregister(cose_id: int) -> Algorithm:
    """Remove an algorithm from the registry and return it."""
    try:
        return _REGISTRY.pop(cose_id)
    except KeyError:
        raise UnsupportedAlgorithm(
            f"cannot unregister COSE algorithm {cose_id!r}: not registered; "
            f"supported: {_supported_text()}"
        ) from None


def get_algorithm(cose_id: int | str) -> Algorithm:
    """Return the registered algorithm for a COSE id, or raise ``UnsupportedAlgorithm``."""
    algorithm = None
    # bool is an int in Python; True must not pass for algorithm 1.
    if isinstance(cose_id, int) and not isinstance(cose_id, bool):
        algorithm = _REGISTRY.get(cose_id)
    if algorithm is None:
        raise UnsupportedAlgorithm(
            f"unsupported COSE algorithm {cose_id!r}; supported: {_supported_text()}"
        )
    return algorithm


def verify(cose_id: int | str, public_key: PublicKey, data: bytes, signature: bytes) -> None:
    """Verify ``signature`` over ``data`` with the registered algorithm ``cose_id``."""
    get_algorithm(cose_id).verify(public_key, data, signature)


def _require_supported_type(public_key: object, source: str) -> PublicKey:
    if isinstance(public_key, Ed25519PublicKey | ec.EllipticCurvePublicKey | RSAPublicKey):
        return public_key
    raise MalformedMessage(
        f"{source} holds {describe_key(public_key)}; expected an Ed25519, EC or RSA public key"
    )


def load_public_key(data: bytes) -> PublicKey:
    """Load a DER SubjectPublicKeyInfo or 32 raw Ed25519 bytes."""
    if len(data) == ED25519_RAW_KEY_LENGTH:
        # Never valid DER SPKI (the shortest, Ed25519's, is 44 bytes), so no ambiguity.
        try:
            return Ed25519PublicKey.from_public_bytes(data)
        except ValueError as exc:
            raise MalformedMessage(f"32 bytes are not an Ed25519 public key: {exc}") from None
    try:
        loaded = serialization.load_der_public_key(data)
    except (ValueError, TypeError) as exc:
        raise MalformedMessage(
            f"expected DER SubjectPublicKeyInfo or {ED25519_RAW_KEY_LENGTH} raw Ed25519 bytes, "
            f"got {len(data)} bytes that do not parse: {exc}"
        ) from None
    return _require_supported_type(loaded, "the SubjectPublicKeyInfo")


def public_key_der(public_key: PublicKey) -> bytes:
    """Return a public key as DER SubjectPublicKeyInfo."""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_certificate_public_key(data: bytes) -> PublicKey:
    """Return the subject public key of a PEM or DER X.509 certificate (no chain checks)."""
    is_pem = data.lstrip().startswith(b"-----BEGIN")
    try:
        if is_pem:
            certificate = x509.load_pem_x509_certificate(data)
        else:
            certificate = x509.load_der_x509_certificate(data)
        subject_key = certificate.public_key()
    except (ValueError, TypeError) as exc:
        form = "PEM" if is_pem else "DER"
        raise MalformedMessage(
            f"expected a {form} X.509 certificate, got {len(data)} bytes that do not parse: {exc}"
        ) from None
    return _require_supported_type(subject_key, "the certificate")
