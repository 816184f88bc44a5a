"""The trust list: every public key with its metadata and history, signed by the root key.

Served as a COSE_Sign1 over a CBOR document (and a JSON view of the same content), so an offline
verifier needs nothing but the trust list and the root public key. Each entry keeps the root's
registration certificate, so a trust list can be re-checked entry by entry as well.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from keys import cbor, cose
from keys.algorithms import load_public_key
from keys.errors import KeyManagementError, MalformedMessage, UnknownKey
from keys.registry import KeyEntry, kid_for, sorted_entries
from keys.signer import Signer

FORMAT = "caseledger-trust-list/1"


def _ts(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def _dt(value: Any, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedMessage(f"trust list field {field!r} must be integer seconds, got {value!r}")
    return datetime.fromtimestamp(value, UTC)


def entry_to_map(entry: KeyEntry) -> dict[str, Any]:
    """Return an entry as the CBOR map the trust list carries."""
    return {
        "kid": entry.kid,
        "alg": entry.alg,
        "public_key": entry.public_key,
        "owner": entry.owner,
        "role": entry.role,
        "department": entry.department,
        "license_types": list(entry.license_types),
        "valid_from": _ts(entry.valid_from),
        "valid_to": _ts(entry.valid_to),
        "rotated_at": _ts(entry.rotated_at),
        "successor": entry.successor,
        "revoked_at": _ts(entry.revoked_at),
        "revocation_reason": entry.revocation_reason,
        "certificate": entry.certificate,
    }


def _expect(m: Mapping[str, Any], key: str, kinds: tuple[type, ...], optional: bool = False) -> Any:
    if key not in m:
        raise MalformedMessage(f"trust list entry lacks {key!r}")
    value = m[key]
    if value is None and optional:
        return None
    if not isinstance(value, kinds) or isinstance(value, bool):
        names = "/".join(k.__name__ for k in kinds)
        raise MalformedMessage(
            f"trust list entry field {key!r} must be {names}, got {type(value).__name__}"
        )
    return value


def entry_from_map(m: Any) -> KeyEntry:
    """Parse one trust list entry strictly."""
    if not isinstance(m, dict):
        raise MalformedMessage(f"trust list entry must be a map, got {type(m).__name__}")
    types = _expect(m, "license_types", (list,))
    if not all(isinstance(t, str) for t in types):
        raise MalformedMessage("trust list entry field 'license_types' must hold text strings")
    public_key = _expect(m, "public_key", (bytes,))
    kid = _expect(m, "kid", (bytes,))
    if kid != kid_for(public_key):
        raise MalformedMessage(
            f"trust list entry kid {kid.hex()} does not match its public key "
            f"(expected {kid_for(public_key).hex()})"
        )
    valid_from = _dt(_expect(m, "valid_from", (int,)), "valid_from")
    if valid_from is None:
        raise MalformedMessage("trust list entry field 'valid_from' must be set")
    return KeyEntry(
        kid=kid,
        alg=_expect(m, "alg", (int,)),
        public_key=public_key,
        owner=_expect(m, "owner", (str,)),
        role=_expect(m, "role", (str,)),
        department=_expect(m, "department", (str,), optional=True),
        license_types=tuple(types),
        valid_from=valid_from,
        valid_to=_dt(_expect(m, "valid_to", (int,), optional=True), "valid_to"),
        certificate=_expect(m, "certificate", (bytes,)),
        rotated_at=_dt(_expect(m, "rotated_at", (int,), optional=True), "rotated_at"),
        successor=_expect(m, "successor", (bytes,), optional=True),
        revoked_at=_dt(_expect(m, "revoked_at", (int,), optional=True), "revoked_at"),
        revocation_reason=_expect(m, "revocation_reason", (str,), optional=True),
    )


def build_trust_list(
    entries: Iterable[KeyEntry], *, root: Signer, issued_at: datetime, sequence: int
) -> bytes:
    """Return the signed trust list (COSE_Sign1 by the root key over the CBOR document)."""
    document = {
        "format": FORMAT,
        "issued_at": int(issued_at.timestamp()),
        "sequence": sequence,
        "keys": [entry_to_map(e) for e in sorted_entries(list(entries))],
    }
    return cose.sign1(cbor.dumps_canonical(document), root, kid=kid_for(root.public_key_der()))


@dataclass(frozen=True)
class TrustList:
    """A verified trust list: look keys up by kid, answer validity questions offline."""

    issued_at: datetime
    sequence: int
    entries: Mapping[bytes, KeyEntry]

    def entry(self, kid: bytes) -> KeyEntry:
        """Return the entry for ``kid`` or raise ``UnknownKey``."""
        try:
            return self.entries[kid]
        except KeyError:
            raise UnknownKey(f"key id {kid.hex()} is not on the trust list") from None

    def to_json(self) -> dict[str, Any]:
        """Return the JSON view: bytes as base64url, times as ISO 8601 UTC."""

        def b64(b: bytes | None) -> str | None:
            return None if b is None else base64.urlsafe_b64encode(b).decode().rstrip("=")

        def iso(t: datetime | None) -> str | None:
            return None if t is None else t.astimezone(UTC).isoformat()

        return {
            "format": FORMAT,
            "issued_at": iso(self.issued_at),
            "sequence": self.sequence,
            "keys": [
                {
                    "kid": e.kid.hex(),
                    "alg": e.alg,
                    "public_key": b64(e.public_key),
                    "owner": e.owner,
                    "role": e.role,
                    "department": e.department,
                    "license_types": list(e.license_types),
                    "valid_from": iso(e.valid_from),
                    "valid_to": iso(e.valid_to),
                    "rotated_at": iso(e.rotated_at),
                    "successor": None if e.successor is None else e.successor.hex(),
                    "revoked_at": iso(e.revoked_at),
                    "revocation_reason": e.revocation_reason,
                    "certificate": b64(e.certificate),
                }
                for e in sorted_entries(list(self.entries.values()))
            ],
        }


def load_trust_list(data: bytes, root_public_key_der: bytes) -> TrustList:
    """Verify a signed trust list with the root public key and return it (fail closed)."""
    # 1. The signature: only the root key may sign a trust list.
    message = cose.decode_sign1(data)
    root_kid = kid_for(root_public_key_der)
    if message.kid != root_kid:
        got = message.kid.hex() if isinstance(message.kid, bytes) else repr(message.kid)
        raise UnknownKey(f"trust list must be signed by root key {root_kid.hex()}, got kid {got}")
    cose.verify_decoded(message, load_public_key(root_public_key_der))
    # 2. The document: strict CBOR, known format, well-typed entries.
    document = cbor.loads_strict(message.payload)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise MalformedMessage(f"trust list format must be {FORMAT!r}, got {found!r}")
    keys_field = document.get("keys")
    if not isinstance(keys_field, list):
        raise MalformedMessage("trust list field 'keys' must be an array")
    issued_at = _dt(document.get("issued_at"), "issued_at")
    sequence = document.get("sequence")
    if issued_at is None or not isinstance(sequence, int):
        raise MalformedMessage("trust list needs integer 'issued_at' and 'sequence'")
    entries: dict[bytes, KeyEntry] = {}
    for raw in keys_field:
        entry = entry_from_map(raw)
        if entry.kid in entries:
            raise MalformedMessage(f"trust list holds key {entry.kid.hex()} twice")
        entries[entry.kid] = entry
    if root_kid not in entries:
        raise KeyManagementError(f"trust list does not list its own root key {root_kid.hex()}")
    return TrustList(issued_at=issued_at, sequence=sequence, entries=entries)
