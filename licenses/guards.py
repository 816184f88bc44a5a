"""Argument checks shared by the License aggregate's commands: each refuses with expected vs got."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from licenses.errors import InvalidIdentifier, LicenseCommandRefused
from licenses.identifiers import LICENSE_ID_ROOT, LicenseId
from licenses.model import MAX_FIELDS, FieldValue

ACTOR_KEYS = frozenset({"principal", "role", "department", "on_behalf_of"})
Actor = dict[str, str | None]


def lineage_of(license_id: str) -> str:
    """Return what stays fixed across versions of a license: its id without version and check."""
    parsed = parse_license_id(license_id)
    return f"{LICENSE_ID_ROOT}.{parsed.type_code}.{parsed.issuer_code}.{parsed.serial}"


def parse_license_id(text: object) -> LicenseId:
    """Return the parsed license id, refusing the command if it is not one."""
    if not isinstance(text, str):
        raise LicenseCommandRefused(f"license id: expected text, got {type(text).__name__}")
    try:
        return LicenseId.parse(text)
    except InvalidIdentifier as error:
        raise LicenseCommandRefused(str(error)) from None


def check_utc_time(what: str, value: object) -> datetime:
    """Return ``value`` if it is an aware UTC datetime; else refuse the command."""
    if not isinstance(value, datetime) or value.utcoffset() != timedelta(0):
        raise LicenseCommandRefused(f"{what}: expected an aware UTC datetime, got {value!r}")
    return value


def check_text(what: str, value: object) -> str:
    """Return ``value`` if it is non-blank text; else refuse the command."""
    if not isinstance(value, str) or not value.strip():
        raise LicenseCommandRefused(f"{what}: expected non-blank text, got {value!r}")
    return value


def check_fields(fields: object) -> dict[str, FieldValue]:
    """Return the fields as a dict if names are text and values text, int or bool."""
    if not isinstance(fields, Mapping) or len(fields) > MAX_FIELDS:
        raise LicenseCommandRefused(f"fields: expected a mapping of at most {MAX_FIELDS} entries")
    for name, value in fields.items():
        check_text("field name", name)
        if not isinstance(value, str | int):  # bool is an int
            raise LicenseCommandRefused(
                f"field {name!r}: expected text, int or bool, got {type(value).__name__}"
            )
    return dict(fields)


def check_validity(valid_from: object, valid_to: object) -> None:
    """Refuse a validity that is not aware UTC or ends before it starts."""
    start = check_utc_time("valid_from", valid_from)
    if valid_to is not None and check_utc_time("valid_to", valid_to) <= start:
        raise LicenseCommandRefused(
            f"valid_to: expected after valid_from {start.isoformat()}, got {valid_to!r}"
        )


def check_credential(credential: object, status_index: object) -> None:
    """Refuse empty credential bytes or a negative status index."""
    if not isinstance(credential, bytes) or not credential:
        raise LicenseCommandRefused("credential: expected non-empty COSE bytes")
    if type(status_index) is not int or status_index < 0:
        raise LicenseCommandRefused(
            f"status index: expected a non-negative int, got {status_index!r}"
        )


def check_actor(actor: object, channel: object, at: object, department: str) -> None:
    """Refuse a malformed actor, channel or time, or an actor of another department."""
    check_utc_time("at", at)
    check_text("channel", channel)
    if not isinstance(actor, Mapping) or set(actor) != ACTOR_KEYS:
        keys = sorted(actor) if isinstance(actor, Mapping) else type(actor).__name__
        raise LicenseCommandRefused(f"actor: expected keys {sorted(ACTOR_KEYS)}, got {keys}")
    check_text("actor principal", actor["principal"])
    if actor["department"] != department:
        raise LicenseCommandRefused(
            f"actor department: expected the issuing department {department!r}, "
            f"got {actor['department']!r}"
        )
