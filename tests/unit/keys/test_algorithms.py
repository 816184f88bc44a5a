"""The COSE algorithm registry: EdDSA, ES256 (raw r||s) and PS256 verification, key loading."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.x509.oid import NameOID

from keys import algorithms, signer
from keys.algorithms import (
    EDDSA,
    ES256,
    PS256,
    Algorithm,
    EdDSAAlgorithm,
    ES256Algorithm,
    PS256Algorithm,
    PublicKey,
    get_algorithm,
    load_certificate_public_key,
    load_public_key,
    public_key_der,
    register,
    supported_algorithms,
    unregister,
    verify,
)
from keys.errors import KeyManagementError, MalformedMessage, SignatureInvalid, UnsupportedAlgorithm

DATA = b"the exact bytes that were signed"


@pytest.fixture(scope="module")
def ed25519_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def p256_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def es256_raw(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def ps256(key: rsa.RSAPrivateKey, data: bytes, salt_length: int = 32) -> bytes:
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt_length)
    return key.sign(data, pss, hashes.SHA256())


# -- registry ---------------------------------------------------------------------------------


def test_constants_are_the_cose_algorithm_ids() -> None:
    assert (EDDSA, ES256, PS256) == (-8, -7, -37)


def test_signer_module_uses_the_same_eddsa_id() -> None:
    assert signer.EDDSA == EDDSA
    assert signer.Ed25519Signer.generate().alg == EDDSA


@pytest.mark.parametrize(
    ("cose_id", "name", "kind"),
    [
        (EDDSA, "EdDSA", EdDSAAlgorithm),
        (ES256, "ES256", ES256Algorithm),
        (PS256, "PS256", PS256Algorithm),
    ],
    ids=["EdDSA", "ES256", "PS256"],
)
def test_registry_holds_the_three_built_in_algorithms(cose_id: int, name: str, kind: type) -> None:
    algorithm = get_algorithm(cose_id)
    assert isinstance(algorithm, kind)
    assert isinstance(algorithm, Algorithm)
    assert (algorithm.cose_id, algorithm.name) == (cose_id, name)


def test_lists_supported_algorithms_in_registration_order() -> None:
    assert [a.name for a in supported_algorithms()] == ["EdDSA", "ES256", "PS256"]


def test_rejects_unknown_algorithm_naming_it_and_the_supported_set() -> None:
    expected = "unsupported COSE algorithm -35; supported: EdDSA(-8), ES256(-7), PS256(-37)"
    with pytest.raises(UnsupportedAlgorithm, match=f"^{re.escape(expected)}$"):
        get_algorithm(-35)


def test_rejects_text_algorithm_names() -> None:
    with pytest.raises(UnsupportedAlgorithm, match="unsupported COSE algorithm 'ES256'"):
        get_algorithm("ES256")


def test_rejects_boolean_posing_as_algorithm_id() -> None:
    with pytest.raises(UnsupportedAlgorithm, match="unsupported COSE algorithm True"):
        get_algorithm(True)


@dataclass(frozen=True)
class FakeSm2:
    """A stand-in plug-in: accepts one fixed signature."""

    cose_id: int = -48
    name: str = "SM2"

    def verify(self, public_key: PublicKey, data: bytes, signature: bytes) -> None:
        if signature != b"sm2-ok":
            raise SignatureInvalid("SM2 signature does not verify")


@pytest.fixture
def fake_sm2() -> Iterator[FakeSm2]:
    plug_in = FakeSm2()
    register(plug_in)
    yield plug_in
    unregister(plug_in.cose_id)


def test_registers_a_plug_in_algorithm(fake_sm2: FakeSm2, ed25519_key: Ed25519PrivateKey) -> None:
    assert get_algorithm(-48) is fake_sm2
    verify(-48, ed25519_key.public_key(), DATA, b"sm2-ok")
    with pytest.raises(UnsupportedAlgorithm, match=r"SM2\(-48\)"):
        get_algorithm(-99)


def test_unregistering_removes_the_plug_in(fake_sm2: FakeSm2) -> None:
    assert unregister(fake_sm2.cose_id) is fake_sm2
    with pytest.raises(UnsupportedAlgorithm, match="unsupported COSE algorithm -48"):
        get_algorithm(-48)
    register(fake_sm2)  # the fixture unregisters it again


def test_refuses_to_unregister_an_unknown_id() -> None:
    with pytest.raises(
        UnsupportedAlgorithm, match="cannot unregister COSE algorithm -99: not registered"
    ):
        unregister(-99)


def test_refuses_to_register_an_id_twice() -> None:
    @dataclass(frozen=True)
    class Impostor(FakeSm2):
        cose_id: int = EDDSA

    with pytest.raises(KeyManagementError, match="-8 is already registered as EdDSA"):
        register(Impostor())


def test_refuses_to_register_a_non_integer_id() -> None:
    @dataclass(frozen=True)
    class Named(FakeSm2):
        cose_id: int = "SM2"  # type: ignore[assignment]

    with pytest.raises(KeyManagementError, match="id must be an int, got str 'SM2'"):
        register(Named())


# -- EdDSA ------------------------------------------------------------------------------------


def test_eddsa_verifies_a_good_signature(ed25519_key: Ed25519PrivateKey) -> None:
    verify(EDDSA, ed25519_key.public_key(), DATA, ed25519_key.sign(DATA))


def test_eddsa_rejects_changed_data(ed25519_key: Ed25519PrivateKey) -> None:
    with pytest.raises(SignatureInvalid, match="EdDSA signature does not verify"):
        verify(EDDSA, ed25519_key.public_key(), DATA + b"!", ed25519_key.sign(DATA))


@pytest.mark.parametrize("length", [0, 63, 65, 128])
def test_eddsa_rejects_wrong_signature_length(ed25519_key: Ed25519PrivateKey, length: int) -> None:
    with pytest.raises(SignatureInvalid, match=f"EdDSA signature must be 64 bytes, got {length}$"):
        verify(EDDSA, ed25519_key.public_key(), DATA, bytes(length))


def test_eddsa_rejects_an_ec_key(p256_key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(
        SignatureInvalid, match="EdDSA needs an Ed25519 key, got an EC key on secp256r1"
    ):
        verify(EDDSA, p256_key.public_key(), DATA, bytes(64))


# -- ES256 ------------------------------------------------------------------------------------


def test_es256_verifies_a_raw_r_s_signature(p256_key: ec.EllipticCurvePrivateKey) -> None:
    verify(ES256, p256_key.public_key(), DATA, es256_raw(p256_key, DATA))


def test_es256_rejects_a_der_signature(p256_key: ec.EllipticCurvePrivateKey) -> None:
    der = p256_key.sign(DATA, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(
        SignatureInvalid, match=rf"must be 64 bytes \(raw r \|\| s\), got {len(der)}"
    ):
        verify(ES256, p256_key.public_key(), DATA, der)


@pytest.mark.parametrize("length", [3, 63, 65, 96])
def test_es256_rejects_wrong_signature_length(
    p256_key: ec.EllipticCurvePrivateKey, length: int
) -> None:
    with pytest.raises(SignatureInvalid, match=f"ES256 signature must be 64 bytes.*got {length}$"):
        verify(ES256, p256_key.public_key(), DATA, bytes(length))


def test_es256_rejects_changed_data(p256_key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(SignatureInvalid, match="ES256 signature does not verify"):
        verify(ES256, p256_key.public_key(), DATA + b"!", es256_raw(p256_key, DATA))


def test_es256_rejects_all_zero_r_and_s(p256_key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(SignatureInvalid, match="ES256 signature does not verify"):
        verify(ES256, p256_key.public_key(), DATA, bytes(64))


def test_es256_rejects_a_p384_key() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(
        SignatureInvalid,
        match=r"ES256 needs an EC key on secp256r1 \(P-256\), got an EC key on secp384r1",
    ):
        verify(ES256, p384.public_key(), DATA, bytes(64))


def test_es256_rejects_an_ed25519_key(ed25519_key: Ed25519PrivateKey) -> None:
    with pytest.raises(SignatureInvalid, match="ES256 needs an EC key.*got an Ed25519 key"):
        verify(ES256, ed25519_key.public_key(), DATA, bytes(64))


# -- PS256 ------------------------------------------------------------------------------------


def test_ps256_verifies_a_good_signature(rsa_key: rsa.RSAPrivateKey) -> None:
    verify(PS256, rsa_key.public_key(), DATA, ps256(rsa_key, DATA))


def test_ps256_requires_a_32_byte_salt(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SignatureInvalid, match="PS256 signature does not verify"):
        verify(PS256, rsa_key.public_key(), DATA, ps256(rsa_key, DATA, salt_length=64))


def test_ps256_rejects_changed_data(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SignatureInvalid, match="PS256 signature does not verify"):
        verify(PS256, rsa_key.public_key(), DATA + b"!", ps256(rsa_key, DATA))


@pytest.mark.parametrize("length", [255, 257, 64])
def test_ps256_rejects_signature_not_of_modulus_length(
    rsa_key: rsa.RSAPrivateKey, length: int
) -> None:
    with pytest.raises(
        SignatureInvalid, match=rf"must be 256 bytes \(the modulus length\), got {length}$"
    ):
        verify(PS256, rsa_key.public_key(), DATA, bytes(length))


def test_ps256_rejects_a_short_rsa_key() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(SignatureInvalid, match="at least 2048 bits, got 1024"):
        verify(PS256, small.public_key(), DATA, bytes(128))


def test_ps256_rejects_an_ec_key(p256_key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(
        SignatureInvalid, match="PS256 needs an RSA key, got an EC key on secp256r1"
    ):
        verify(PS256, p256_key.public_key(), DATA, bytes(256))


# -- keys -------------------------------------------------------------------------------------


def _all_public_keys(
    ed25519_key: Ed25519PrivateKey, p256_key: ec.EllipticCurvePrivateKey, rsa_key: rsa.RSAPrivateKey
) -> list[PublicKey]:
    return [ed25519_key.public_key(), p256_key.public_key(), rsa_key.public_key()]


def test_public_keys_round_trip_through_der(
    ed25519_key: Ed25519PrivateKey, p256_key: ec.EllipticCurvePrivateKey, rsa_key: rsa.RSAPrivateKey
) -> None:
    for key in _all_public_keys(ed25519_key, p256_key, rsa_key):
        der = public_key_der(key)
        assert public_key_der(load_public_key(der)) == der


def test_loads_32_raw_bytes_as_ed25519(ed25519_key: Ed25519PrivateKey) -> None:
    raw = ed25519_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert load_public_key(raw) == ed25519_key.public_key()


def test_signer_der_loads_to_its_public_key() -> None:
    ed_signer = signer.Ed25519Signer.generate()
    assert load_public_key(ed_signer.public_key_der()) == ed_signer.public_key()


@pytest.mark.parametrize("data", [b"", b"\x30\x03\x02\x01\x01", b"x" * 31, b"x" * 33])
def test_rejects_bytes_that_are_neither_der_nor_raw_ed25519(data: bytes) -> None:
    with pytest.raises(
        MalformedMessage,
        match=f"expected DER SubjectPublicKeyInfo or 32 raw Ed25519 bytes, got {len(data)} bytes",
    ):
        load_public_key(data)


def test_rejects_der_of_an_unsupported_key_type() -> None:
    der = (
        X25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(
        MalformedMessage, match="holds a X25519PublicKey; expected an Ed25519, EC or RSA"
    ):
        load_public_key(der)


def _self_signed(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "caseledger test DSC")])
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


@pytest.mark.parametrize(
    "encoding", [serialization.Encoding.DER, serialization.Encoding.PEM], ids=["DER", "PEM"]
)
def test_loads_the_public_key_of_a_certificate(
    p256_key: ec.EllipticCurvePrivateKey, encoding: serialization.Encoding
) -> None:
    data = _self_signed(p256_key).public_bytes(encoding)
    assert load_certificate_public_key(data) == p256_key.public_key()


@pytest.mark.parametrize(
    ("data", "form"),
    [(b"\x30\x00", "DER"), (b"-----BEGIN CERTIFICATE-----\nAA==\n", "PEM")],
    ids=["DER", "PEM"],
)
def test_rejects_bytes_that_are_not_a_certificate(data: bytes, form: str) -> None:
    with pytest.raises(
        MalformedMessage, match=f"expected a {form} X.509 certificate, got {len(data)} bytes"
    ):
        load_certificate_public_key(data)


def test_describes_keys_for_messages(
    ed25519_key: Ed25519PrivateKey, p256_key: ec.EllipticCurvePrivateKey, rsa_key: rsa.RSAPrivateKey
) -> None:
    described = [
        algorithms.describe_key(k) for k in _all_public_keys(ed25519_key, p256_key, rsa_key)
    ]
    assert described == ["an Ed25519 key", "an EC key on secp256r1", "an RSA-2048 key"]
