"""Value types of the e-license: the claims a credential carries and the status a license has."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import TypeAlias, TypeGuard

from licenses.errors import InvalidCredential, InvalidIdentifier
from licenses.holder_ids import is_holder_id
from licenses.identifiers import license_type_and_version, well_formed_license_id

FieldValue: TypeAlias = str | int | bool

# Generous bounds that keep a credential inside one QR code and its messages readable.
MAX_TEXT_LENGTH = 256
MAX_FIELDS = 64


class SlotStatus(IntEnum):
    """The 2-bit value of a status list slot; 3 is reserved and refused."""

    VALID = 0
    REVOKED = 1
    SUSPENDED = 2


class LicenseState(StrEnum):
    """Where a license stands at a given time, as its history and validity say."""

    NOT_YET_VALID = "not_yet_valid"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    REVOKED = "revoked"


def check_text(what: str, value: object) -> str:
    """Return ``value`` if it is non-blank text of at most 256 characters; else raise."""
    if not isinstance(value, str):
        raise InvalidCredential(f"{what}: expected text, got {type(value).__name__}")
    if not value.strip() or len(value) > MAX_TEXT_LENGTH:
        raise InvalidCredential(
            f"{what}: expected 1-{MAX_TEXT_LENGTH} characters of text, got {len(value)}"
        )
    return value


def check_time(what: str, value: object) -> datetime:
    """Return ``value`` if it is an aware datetime in whole seconds (a CWT NumericDate)."""
    if _utc_seconds(value):
        return value  # what decoding a credential makes: the checks below could only pass
    if not isinstance(value, datetime):
        raise InvalidCredential(f"{what}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidCredential(f"{what}: expected a timezone-aware datetime, got a naive one")
    if value.microsecond:
        raise InvalidCredential(
            f"{what}: expected whole seconds (RFC 8392 NumericDate), "
            f"got {value.microsecond} microseconds"
        )
    return value


def _utc_seconds(value: object) -> TypeGuard[datetime]:
    # What check_time lets through at once: what decoding a credential makes.
    return type(value) is datetime and value.tzinfo is UTC and not value.microsecond


def check_field(name: object, value: object) -> None:
    """Raise unless ``name`` is text and ``value`` a text, int or bool field value."""
    check_text("field name", name)
    if isinstance(value, str):
        if len(value) > MAX_TEXT_LENGTH * 4:
            raise InvalidCredential(
                f"field {name!r}: expected at most {MAX_TEXT_LENGTH * 4} characters, "
                f"got {len(value)}"
            )
    elif not isinstance(value, int):
        raise InvalidCredential(
            f"field {name!r}: expected text, int or bool, got {type(value).__name__}"
        )


def _check_fields(fields: object) -> None:
    if not isinstance(fields, (dict, Mapping)) or len(fields) > MAX_FIELDS:
        raise InvalidCredential(f"fields: expected a mapping of at most {MAX_FIELDS} fields")
    for name, value in fields.items():
        check_field(name, value)


@dataclass(frozen=True)
class StatusReference:
    """Where a credential's status lives: a status list id and a slot index in it."""

    list_id: str
    index: int

    def __post_init__(self) -> None:
        self._check()

    def _check(self) -> None:
        check_text("status list id", self.list_id)
        if type(self.index) is not int or self.index < 0:
            raise InvalidCredential(
                f"status index: expected a non-negative int, got {self.index!r}"
            )


@dataclass(frozen=True)
class LicenseClaims:
    """What a credential states about one version of a license (``fields`` as disclosed)."""

    iss: str
    sub: str
    iat: datetime
    nbf: datetime
    license_id: str
    license_type: str
    version: int
    status: StatusReference
    fields: Mapping[str, FieldValue] = field(default_factory=dict)
    exp: datetime | None = None

    def __post_init__(self) -> None:
        self._check()
        _check_fields(self.fields)
        # A read-only copy, so a frozen claims object cannot change under its holder.
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))

    @classmethod
    def read(
        cls,
        *,
        iss: object,
        sub: object,
        iat: datetime,
        nbf: datetime,
        exp: datetime | None,
        license_id: object,
        license_type: object,
        version: object,
        status_list_id: object,
        status_index: object,
        fields: Mapping[str, FieldValue],
    ) -> LicenseClaims:
        """Build checked claims read from a credential whose ``fields`` are checked already."""
        # Without the frozen dataclass __init__, whose attribute-by-attribute setting costs more
        # than the checks, which all run before the claims leave here.
        status = object.__new__(StatusReference)
        status.__dict__.update(list_id=status_list_id, index=status_index)
        claims = object.__new__(cls)
        claims.__dict__.update(
            iss=iss,
            sub=sub,
            iat=iat,
            nbf=nbf,
            license_id=license_id,
            license_type=license_type,
            version=version,
            status=status,
            fields=MappingProxyType(dict(fields)),
            exp=exp,
        )
        if not claims._as_issued():
            status._check()
            claims._check()
        return claims

    def _as_issued(self) -> bool:
        # What _check and StatusReference._check come to for claims as issuers write them, in one
        # pass: True only where both pass; False leaves it to them to say what is wrong. Keep the
        # two in step (test_model holds them to the same answers). A holder id or a license id
        # that validates is non-blank text of at most 256 characters already.
        iss, sub, license_id, status = self.iss, self.sub, self.license_id, self.status
        iat, nbf, exp = self.iat, self.nbf, self.exp
        if type(iss) is not str or not iss.strip() or len(iss) > MAX_TEXT_LENGTH:
            return False
        if type(sub) is not str or not is_holder_id(sub):
            return False
        if type(status) is not StatusReference or type(status.index) is not int:
            return False
        list_id = status.list_id
        if type(list_id) is not str or not list_id.strip() or len(list_id) > MAX_TEXT_LENGTH:
            return False
        if status.index < 0 or not _utc_seconds(iat) or not _utc_seconds(nbf):
            return False
        if exp is not None and (not _utc_seconds(exp) or exp <= nbf):
            return False
        if type(license_id) is not str:
            return False
        parts = well_formed_license_id(license_id)
        return parts == (self.license_type, self.version) and type(self.version) is int

    def _check(self) -> None:
        check_text("issuer (iss)", self.iss)
        if not is_holder_id(check_text("holder id (sub)", self.sub)):
            raise InvalidCredential(
                "holder id (sub): expected a normalised citizen id or credit code, got another text"
            )
        check_time("iat", self.iat)
        check_time("nbf", self.nbf)
        if self.exp is not None and check_time("exp", self.exp) <= self.nbf:
            raise InvalidCredential(
                f"exp: expected after nbf {self.nbf.isoformat()}, got {self.exp.isoformat()}"
            )
        self._check_license_id()
        if not isinstance(self.status, StatusReference):
            raise InvalidCredential(
                f"status: expected a StatusReference, got {type(self.status).__name__}"
            )

    def _check_license_id(self) -> None:
        try:
            type_code, version = license_type_and_version(check_text("license id", self.license_id))
        except InvalidIdentifier as error:
            raise InvalidCredential(f"license id: {error}") from None
        if self.license_type != type_code:
            raise InvalidCredential(
                f"license type: expected the license id's type code {type_code!r}, "
                f"got {self.license_type!r}"
            )
        if self.version != version or type(self.version) is not int:
            raise InvalidCredential(
                f"version: expected the license id's version {version}, got {self.version!r}"
            )

    def with_fields(
        self, fields: Mapping[str, FieldValue], *, checked: bool = False
    ) -> LicenseClaims:
        """Return the same claims with other ``fields``; ``checked`` skips re-checking them."""
        if not checked:
            _check_fields(fields)
        # A copy of the validated attributes without running __init__ again; only fields change.
        claims = object.__new__(LicenseClaims)
        claims.__dict__.update(self.__dict__)
        object.__setattr__(claims, "fields", MappingProxyType(dict(fields)))
        return claims
