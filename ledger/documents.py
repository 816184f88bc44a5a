"""How a case refers to its materials — a content-addressed document or an e-license in the
vault — and which of an item's materials are present, missing or may be demanded (case rule 4).

Events never carry document bytes; they carry the SHA-256, size and media type (DESIGN §3).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.actors import Role
from ledger.errors import (
    ELicenseMaterialDemanded,
    ELicenseNotAccepted,
    InvalidCommand,
    InvalidDocument,
)

if TYPE_CHECKING:
    from ledger.catalog import ItemTerms

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

APPLICANT_DAILY_UPLOAD_BYTES = 200 * 1024 * 1024  # ten full applications' scans a day

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


def material_data(terms: ItemTerms, supplied: Mapping[str, object]) -> dict[str, dict[str, Any]]:
    """Check supplied materials against the item and return them as event data by code."""
    data: dict[str, dict[str, Any]] = {}
    for code, ref in supplied.items():
        material = terms.material(code)
        if isinstance(ref, ELicenseRef):
            if material.e_license_type is None:
                raise ELicenseNotAccepted(
                    f"material {code!r} accepts no e-license, expected a document, "
                    f"got e-license {ref.license_id!r}"
                )
        elif not isinstance(ref, DocumentRef):
            raise InvalidCommand(
                f"material {code!r} must be a DocumentRef or ELicenseRef, got {type(ref).__name__}"
            )
        data[code] = ref.as_dict()
    return data


def missing_materials(terms: ItemTerms, held: Collection[str]) -> tuple[list[str], list[str]]:
    """The item's main and secondary material codes not in ``held``, in catalog order."""
    main = [m.code for m in terms.materials if m.is_main and m.code not in held]
    secondary = [m.code for m in terms.materials if not m.is_main and m.code not in held]
    return main, secondary


def notice_items(
    terms: ItemTerms, held: Mapping[str, Mapping[str, Any]], items: Mapping[str, str]
) -> list[dict[str, str]]:
    """Check a correction notice's material → reason map and return it as event data."""
    if not items:
        raise InvalidCommand("a correction notice must list at least one material, got none")
    listed = []
    for code, reason in items.items():
        terms.material(code)
        if held.get(code, {}).get("kind") == "e_license":
            raise ELicenseMaterialDemanded(
                f"material {code!r} is satisfied by e-license "
                f"{held[code].get('license_id')!r}, expected it not to be demanded"
            )
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidCommand(f"reason for {code!r} must be non-empty text, got {reason!r}")
        listed.append({"material": code, "reason": reason})
    return listed


def document_references(data: object) -> dict[str, Mapping[str, Any]]:
    """Every document reference anywhere in event data, by its SHA-256 address (the first one
    met where the same address is referred to twice)."""
    found: dict[str, Mapping[str, Any]] = {}
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            sha256 = item.get("sha256")
            if item.get("kind") == "document" and isinstance(sha256, str):
                found.setdefault(sha256, item)
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list | tuple):
            stack.extend(reversed(item))
    return found


def referenced_documents(data: object) -> set[str]:
    """The SHA-256 addresses of every document reference anywhere in event data."""
    return set(document_references(data))


def daily_upload_quota(
    role: Role, applicant_quota: int = APPLICANT_DAILY_UPLOAD_BYTES
) -> int | None:
    """The bytes a caller in ``role`` may upload in a day: applicants are capped (the endpoint is
    public to every citizen); staff scanning paper at the window are not."""
    return applicant_quota if role is Role.APPLICANT else None
