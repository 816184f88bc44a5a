"""Bearer tokens: EdDSA-signed JWTs naming a principal, its role and department; the accepted
issuers' public keys come from configuration, and ``mint_token`` makes tokens for local use.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
    load_pem_public_key,
)

from keys.errors import UnknownKey
from keys.registry import kid_for
from keys.signer import Signer
from keys.store import KeyStore
from ledger.actors import Actor, Role

LOCAL_ISSUER = "caseledger-local"
AUDIENCE = "caseledger"
TOKEN_KEY_NAME = "token-issuer"  # the key-store name of the local issuer's key
ISSUERS_ENV = "CASELEDGER_TOKEN_ISSUERS"
TOKEN_ROLES = frozenset(r for r in Role if r is not Role.SYSTEM)
_DEPARTMENT_ROLES = frozenset({Role.OFFICER, Role.VERIFIER})
_MAX_TTL = timedelta(hours=12)
_VERIFIED_TOKENS = 4096  # callers reuse a token for its lifetime; this many are remembered


class _VerifiedTokens:
    """Accepted tokens with their claims and principal, most recently used last, bounded."""

    def __init__(self, size: int = _VERIFIED_TOKENS) -> None:
        self._size = size
        self._accepted: OrderedDict[str, tuple[dict[str, Any], Principal]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> tuple[dict[str, Any], Principal] | None:
        with self._lock:
            accepted = self._accepted.get(token)
            if accepted is not None:
                self._accepted.move_to_end(token)
            return accepted

    def put(self, token: str, claims: dict[str, Any], principal: Principal) -> None:
        with self._lock:
            self._accepted[token] = (claims, principal)
            if len(self._accepted) > self._size:
                self._accepted.popitem(last=False)


class AuthError(Exception):
    """A missing, malformed, unverifiable, expired or otherwise unacceptable bearer token."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject, role, department and issuer."""

    sub: str
    role: Role
    department: str | None
    issuer: str

    def actor(self, on_behalf_of: str | None = None) -> Actor:
        """Return the ledger actor this principal acts as."""
        return Actor(self.sub, self.role, department=self.department, on_behalf_of=on_behalf_of)


@dataclass(frozen=True)
class AuthConfig:
    """Accepted issuers (name → Ed25519 public keys, DER), the audience and the clock leeway."""

    issuers: Mapping[str, tuple[bytes, ...]]
    audience: str = AUDIENCE
    leeway: timedelta = timedelta(seconds=30)
    _keys: dict[str, dict[str, Ed25519PublicKey]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _verified: _VerifiedTokens = field(
        default_factory=_VerifiedTokens, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for issuer, ders in self.issuers.items():
            for der in ders:
                key = load_der_public_key(der)
                if not isinstance(key, Ed25519PublicKey):
                    raise AuthError(f"issuer {issuer!r}: expected Ed25519 keys, got {type(key)}")
                self._keys.setdefault(issuer, {})[kid_for(der).hex()] = key

    def keys(self, issuer: str, kid: str | None) -> list[Ed25519PublicKey]:
        """Return the keys of ``issuer`` a token may be checked with (its ``kid``, or all)."""
        known = self._keys.get(issuer, {})
        found = list(known.values()) if kid is None else [k for i, k in known.items() if i == kid]
        if not found:
            raise AuthError(f"no accepted key {kid!r} for issuer {issuer!r}")
        return found

    def with_issuer(self, issuer: str, public_key_der: bytes) -> AuthConfig:
        """Return a copy that also accepts ``public_key_der`` for ``issuer``."""
        merged = {**self.issuers, issuer: (*self.issuers.get(issuer, ()), public_key_der)}
        return AuthConfig(merged, audience=self.audience, leeway=self.leeway)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AuthConfig:
        """Read ``CASELEDGER_TOKEN_ISSUERS``: JSON (or ``@file``) of issuer → PEM or base64 DER."""
        env = os.environ if environ is None else environ
        text = env.get(ISSUERS_ENV, "").strip()
        if not text:
            return cls({})
        if text.startswith("@"):
            text = Path(text[1:]).read_text("utf-8")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AuthError(f"{ISSUERS_ENV}: expected JSON, got: {exc}") from None
        if not isinstance(data, dict):
            raise AuthError(f"{ISSUERS_ENV}: expected a map of issuer to keys")
        return cls({str(iss): tuple(_der(k) for k in _listed(keys)) for iss, keys in data.items()})


def _listed(keys: object) -> list[str]:
    if isinstance(keys, str):
        return [keys]
    if isinstance(keys, list) and all(isinstance(k, str) for k in keys):
        return keys
    raise AuthError(f"{ISSUERS_ENV}: expected a key text or a list of them, got {keys!r}")


def _der(text: str) -> bytes:
    """Return DER SubjectPublicKeyInfo from PEM text or base64 DER."""
    if "BEGIN PUBLIC KEY" in text:
        key = load_pem_public_key(text.encode("ascii"))
        return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise AuthError(f"{ISSUERS_ENV}: a key is neither PEM nor base64 DER") from None


def local_auth_config(store: KeyStore, base: AuthConfig | None = None) -> AuthConfig:
    """Accept tokens of the local issuer (key ``token-issuer``, if the store holds it)."""
    config = base or AuthConfig({})
    try:
        signer = store.signer(TOKEN_KEY_NAME)
    except UnknownKey:
        return config
    return config.with_issuer(LOCAL_ISSUER, signer.public_key_der())


def ensure_token_key(store: KeyStore) -> Signer:
    """Return the local issuer's signer, creating its key on first use."""
    try:
        return store.signer(TOKEN_KEY_NAME)
    except UnknownKey:
        return store.generate(TOKEN_KEY_NAME)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _public_der(key: Signer | Ed25519PrivateKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        return key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return key.public_key_der()


def mint_token(
    signer_or_private_key: Signer | Ed25519PrivateKey,
    sub: str,
    role: Role | str,
    department: str | None,
    ttl: timedelta,
    now: datetime,
    *,
    issuer: str = LOCAL_ISSUER,
    audience: str = AUDIENCE,
) -> str:
    """Return a compact EdDSA JWT for ``sub`` acting in ``role`` (for ``department``)."""
    claims = token_claims(sub, role, department, ttl, now, issuer=issuer, audience=audience)
    header = {
        "alg": "EdDSA",
        "typ": "JWT",
        "kid": kid_for(_public_der(signer_or_private_key)).hex(),
    }
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode("utf-8"))
        for part in (header, claims)
    )
    signature = signer_or_private_key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{_b64url(signature)}"


def token_claims(
    sub: str,
    role: Role | str,
    department: str | None,
    ttl: timedelta,
    now: datetime,
    *,
    issuer: str,
    audience: str,
) -> dict[str, Any]:
    """Return the claims of a token, checking what ``verify_token`` will require."""
    checked = _role(role)
    if not sub:
        raise AuthError("a token needs a subject, got an empty one")
    if checked in _DEPARTMENT_ROLES and not department:
        raise AuthError(f"a {checked.value} token needs a department, got none")
    if not timedelta(0) < ttl <= _MAX_TTL:
        raise AuthError(f"token lifetime must be in (0, {_MAX_TTL}], got {ttl}")
    if now.tzinfo is None:
        raise AuthError(f"token time must be timezone-aware, got {now!r}")
    issued = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "role": checked.value,
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(ttl.total_seconds()),
        "jti": uuid.uuid4().hex,
    }
    if department:
        claims["department"] = department
    return claims


def _role(value: object) -> Role:
    if isinstance(value, str) and value in {r.value for r in TOKEN_ROLES}:
        return Role(value)
    raise AuthError(f"role must be one of {sorted(r.value for r in TOKEN_ROLES)}, got {value!r}")


def verify_token(token: str, config: AuthConfig, now: datetime) -> Principal:
    """Return the principal of a token signed by an accepted issuer and valid at ``now``."""
    # Everything but the times depends only on the token's bytes and the config's keys, so a
    # token accepted before skips the signature and claim checks; its times are checked anew.
    accepted = config._verified.get(token)
    if accepted is not None:
        _check_times(accepted[0], now, config.leeway)
        return accepted[1]
    claims = _signed_claims(token, config)
    _check_times(claims, now, config.leeway)
    role = _role(claims.get("role"))
    department = claims.get("department")
    if department is not None and not isinstance(department, str):
        raise AuthError(f"department must be text, got {type(department).__name__}")
    if role in _DEPARTMENT_ROLES and not department:
        raise AuthError(f"a {role.value} token must name a department")
    sub = claims["sub"]
    if not isinstance(sub, str) or not sub:
        raise AuthError("token subject must be non-empty text")
    principal = Principal(sub, role, department or None, str(claims["iss"]))
    config._verified.put(token, claims, principal)
    return principal


def _signed_claims(token: str, config: AuthConfig) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise AuthError(f"malformed token: {exc}") from None
    if header.get("alg") != "EdDSA":
        raise AuthError(f"token algorithm must be EdDSA, got {header.get('alg')!r}")
    kid = header.get("kid")
    keys = config.keys(str(unverified.get("iss")), kid if isinstance(kid, str) else None)
    return _verified_claims(token, keys, config.audience)


def _verified_claims(token: str, keys: list[Ed25519PublicKey], audience: str) -> dict[str, Any]:
    problem = "no key"
    for key in keys:
        try:
            # Times are checked against the service's own clock, not the host's.
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=["EdDSA"],
                audience=audience,
                options={
                    "require": ["iss", "sub", "aud", "exp", "iat"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
            return claims
        except jwt.InvalidSignatureError as exc:
            problem = str(exc)  # perhaps signed by the issuer's other key
        except jwt.PyJWTError as exc:
            raise AuthError(f"token does not verify: {exc}") from None
    raise AuthError(f"token does not verify: {problem}")


def _check_times(claims: Mapping[str, Any], now: datetime, leeway: timedelta) -> None:
    stamp = now.timestamp()
    slack = leeway.total_seconds()
    values = {k: claims.get(k) for k in ("exp", "iat", "nbf")}
    for name, value in values.items():
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise AuthError(f"{name} must be integer seconds, got {value!r}")
    exp, iat, nbf = (values[k] for k in ("exp", "iat", "nbf"))
    if isinstance(exp, int) and stamp >= exp + slack:
        raise AuthError("token has expired")
    if isinstance(nbf, int) and stamp < nbf - slack:
        raise AuthError("token is not valid yet")
    if isinstance(iat, int) and iat - slack > stamp:
        raise AuthError("token was issued in the future")
    if isinstance(iat, int) and isinstance(exp, int) and exp - iat > _MAX_TTL.total_seconds():
        raise AuthError(f"token lifetime exceeds {_MAX_TTL}")
