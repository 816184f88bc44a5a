"""How a case refers to a material: a content-addressed document or an e-license held in the vault.

Events never carry document bytes; they carry the SHA-256, size and media type (DESIGN §3).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.errors import InvalidCommand, InvalidDocument

ALLOWED_MEDIA_TYPES: frozenset[str] = frozenset(
    {
        "application/pdf",
        # GB/T 33190: the Chinese fixed-layout format government e-documents are issued in.
        "application/ofd",
        "image/jpeg",
        "image/png",
        "image/tiff",
    }
)

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_MAX_LICENSE_ID = 128


@dataclass(frozen=True)
class DocumentRef:
    """A supplied document, addressed by the SHA-256 of its bytes."""

    sha256: str
    size: int
    media_type: str

    def __post_init__(self) -> None:
        if not isinstance(self.sha256, str) or not _SHA256_HEX.fullmatch(self.sha256):
            raise InvalidDocument(
                f"sha256 must be 64 lowercase hex characters, got {self.sha256!r}"
            )
        # bool is an int subclass; a size of True is a bug, not one byte.
        if type(self.size) is not int or self.size <= 0:
            raise InvalidDocument(f"size must be a positive int of bytes, got {self.size!r}")
        if self.media_type not in ALLOWED_MEDIA_TYPES:
            raise InvalidDocument(
                f"media type must be one of {sorted(ALLOWED_MEDIA_TYPES)}, got {self.media_type!r}"
            )

    def as_dict(self) -> dict[str, Any]:
        """Return the reference as event data."""
        return {
            "kind": "document",
            "sha256": self.sha256,
            "size": self.size,
            "media_type": self.media_type,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DocumentRef:
        """Rebuild a reference from ``as_dict`` output."""
        return cls(sha256=data["sha256"], size=data["size"], media_type=data["media_type"])


@dataclass(frozen=True)
class ELicenseRef:
    """A material satisfied by an e-license: only its id is given; the unit verifies it."""

    license_id: str

    def __post_init__(self) -> None:
        lid = self.license_id
        if (
            not isinstance(lid, str)
            or not lid
            or lid != lid.strip()
            or len(lid) > _MAX_LICENSE_ID
            or not lid.isprintable()
        ):
            raise InvalidCommand(
                f"e-license id must be 1-{_MAX_LICENSE_ID} printable characters without "
                f"surrounding spaces, got {lid!r}"
            )

    def as_dict(self) -> dict[str, Any]:
        """Return the reference as event data."""
        return {"kind": "e_license", "license_id": self.license_id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ELicenseRef:
        """Rebuild a reference from ``as_dict`` output."""
        return cls(license_id=data["license_id"])


MaterialRef = DocumentRef | ELicenseRef


def material_ref_from_dict(data: Mapping[str, Any]) -> MaterialRef:
    """Rebuild a document or e-license reference from its event data."""
    kind = data.get("kind")
    if kind == "document":
        return DocumentRef.from_dict(data)
    if kind == "e_license":
        return ELicenseRef.from_dict(data)
    raise InvalidCommand(f"material reference kind must be 'document' or 'e_license', got {kind!r}")
