"""License claims validate themselves; status values are the documented numbers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from licenses.errors import InvalidCredential, LicenseError
from licenses.model import (
    FieldValue,
    LicenseClaims,
    LicenseState,
    SlotStatus,
    StatusReference,
    check_time,
)
from tests.unit.licenses.conftest import FIELDS, LICENSE_ID, OTHER_TYPE_CODE, T0, make_claims


def test_claims_keep_a_read_only_copy_of_their_fields() -> None:
    fields = dict(FIELDS)
    claims = make_claims(fields=fields)
    fields["name"] = "李四"
    assert claims.fields["name"] == "张三"
    with pytest.raises(TypeError, match="does not support item assignment"):
        claims.fields["name"] = "李四"  # type: ignore[index]


def test_with_fields_changes_only_the_fields() -> None:
    claims = make_claims()
    fewer = claims.with_fields({"name": "张三"})
    assert dict(fewer.fields) == {"name": "张三"}
    assert fewer.license_id == claims.license_id
    assert fewer.with_fields(claims.fields) == claims


def test_with_fields_still_checks_the_fields() -> None:
    with pytest.raises(InvalidCredential, match="expected text, int or bool, got float"):
        make_claims().with_fields({"area": 1.5})  # type: ignore[dict-item]


def test_status_values_are_the_documented_numbers() -> None:
    assert [int(s) for s in SlotStatus] == [0, 1, 2]
    assert [s.name for s in SlotStatus] == ["VALID", "REVOKED", "SUSPENDED"]
    assert LicenseState.ACTIVE.value == "active"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"iss": ""}, "issuer \\(iss\\): expected 1-256 characters of text, got 0"),
        ({"iss": 7}, "issuer \\(iss\\): expected text, got int"),
        ({"sub": "110105194912310021"}, "holder id \\(sub\\): expected a normalised citizen id"),
        ({"iat": datetime(2026, 1, 6)}, "iat: expected a timezone-aware datetime"),
        ({"nbf": T0 + timedelta(microseconds=5)}, "nbf: expected whole seconds"),
        ({"exp": T0}, "exp: expected after nbf"),
        ({"license_id": LICENSE_ID[:-1] + "V"}, "license id: .*check character"),
        ({"license_type": OTHER_TYPE_CODE}, "license type: expected the license id's type code"),
        ({"version": 2}, "version: expected the license id's version 1, got 2"),
        ({"version": True}, "version: expected the license id's version 1, got True"),
        ({"status": ("list", 1)}, "status: expected a StatusReference, got tuple"),
        ({"fields": {"": "x"}}, "field name: expected 1-256 characters"),
        ({"fields": {"photo": b"\xff"}}, "field 'photo': expected text, int or bool, got bytes"),
        ({"fields": {"note": "x" * 1025}}, "field 'note': expected at most 1024 characters"),
        ({"fields": {f"f{i}": i for i in range(65)}}, "at most 64 fields"),
    ],
    ids=[
        "blank-iss",
        "int-iss",
        "bad-holder",
        "naive-iat",
        "fractional-nbf",
        "exp-before-nbf",
        "bad-check-character",
        "type-mismatch",
        "version-mismatch",
        "bool-version",
        "status-tuple",
        "blank-field-name",
        "bytes-field",
        "long-field",
        "too-many-fields",
    ],
)
def test_claims_refuse_bad_values(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidCredential, match=message):
        make_claims(**changes)


def test_claims_accept_an_enterprise_holder_and_no_expiry() -> None:
    claims = make_claims(sub="91350100M000100Y43", exp=None)
    assert claims.exp is None


def test_claims_accept_times_in_other_offsets() -> None:
    beijing = timezone(timedelta(hours=8))
    claims = make_claims(iat=(T0 + timedelta(days=1)).astimezone(beijing))
    assert claims.iat == T0 + timedelta(days=1)


@pytest.mark.parametrize(
    ("list_id", "index", "message"),
    [
        ("", 1, "status list id: expected 1-256 characters"),
        ("L", -1, "status index: expected a non-negative int, got -1"),
        ("L", True, "status index: expected a non-negative int, got True"),
    ],
    ids=["blank-list", "negative", "bool"],
)
def test_status_reference_refuses_bad_values(list_id: str, index: int, message: str) -> None:
    with pytest.raises(InvalidCredential, match=message):
        StatusReference(list_id, index)


def test_credential_errors_are_license_errors() -> None:
    assert issubclass(InvalidCredential, LicenseError)


def test_check_time_takes_whole_seconds_in_any_timezone() -> None:
    utc = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    east8 = datetime(2026, 1, 5, 17, 0, tzinfo=timezone(timedelta(hours=8)))
    assert check_time("iat", utc) is utc
    assert check_time("iat", east8) is east8


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (datetime(2026, 1, 5, 9, 0, 0, 1, tzinfo=UTC), "iat: expected whole seconds"),
        (datetime(2026, 1, 5, 9, 0), "iat: expected a timezone-aware datetime"),
        (1767603600, "iat: expected a datetime, got int"),
    ],
    ids=["utc-microseconds", "naive", "int"],
)
def test_check_time_refuses_what_is_no_numeric_date(value: object, match: str) -> None:
    with pytest.raises(InvalidCredential, match=match):
        check_time("iat", value)


# --- claims read from a credential ----------------------------------------------------------

_GOOD = make_claims()


def _claims_outcome(build: Callable[[], LicenseClaims]) -> LicenseClaims | str:
    """The claims ``build`` makes, or the message it refuses them with."""
    try:
        return build()
    except InvalidCredential as error:
        return str(error)


def _both_ways(values: dict[str, object]) -> tuple[LicenseClaims | str, LicenseClaims | str]:
    """The constructor's and read's outcome for the same values (read as a reader calls it)."""
    list_id, index = values.pop("status_list_id"), values.pop("status_index")
    fields: dict[str, FieldValue] = dict(FIELDS)

    def construct() -> LicenseClaims:
        status = StatusReference(list_id, index)  # type: ignore[arg-type]
        return LicenseClaims(**values, status=status, fields=fields)  # type: ignore[arg-type]

    def read() -> LicenseClaims:
        return LicenseClaims.read(
            **values,  # type: ignore[arg-type]
            status_list_id=list_id,
            status_index=index,
            fields=fields,
        )

    return _claims_outcome(construct), _claims_outcome(read)


_CHOICES: dict[str, list[object]] = {
    "iss": [_GOOD.iss, "", " \t", "x" * 256, "x" * 257, 7, None],
    "sub": [
        _GOOD.sub,
        "91350100M000100Y43",
        "D2143569X",
        "110105194912310021",
        "11010519491231002x",
        "",
    ],
    "iat": [_GOOD.iat, _GOOD.iat.replace(tzinfo=None), _GOOD.iat + timedelta(microseconds=1), 1],
    "nbf": [_GOOD.nbf, _GOOD.nbf.astimezone(timezone(timedelta(hours=8))), _GOOD.exp, "x"],
    "exp": [_GOOD.exp, None, _GOOD.nbf, T0 + timedelta(days=9999, microseconds=3), 0],
    "license_id": [_GOOD.license_id, LICENSE_ID[:-1] + "V", LICENSE_ID + "." * 300, 7, ""],
    "license_type": [_GOOD.license_type, OTHER_TYPE_CODE, 7, None],
    "version": [1, 2, True, 1.0, "1"],
    "status_list_id": [_GOOD.status.list_id, "", "x" * 257, 3],
    "status_index": [_GOOD.status.index, 0, -1, True, "1"],
}


def test_claims_read_from_a_credential_equal_the_constructed_ones() -> None:
    values: dict[str, object] = {name: choices[0] for name, choices in _CHOICES.items()}
    constructed, read = _both_ways(values)
    assert isinstance(read, LicenseClaims)
    assert read == constructed == make_claims(fields=FIELDS)


@given(st.fixed_dictionaries({name: st.sampled_from(c) for name, c in _CHOICES.items()}))
def test_claims_read_from_a_credential_are_refused_as_the_constructor_refuses_them(
    values: dict[str, object],
) -> None:
    constructed, read = _both_ways(values)
    assert read == constructed


@pytest.mark.parametrize("name", sorted(_CHOICES))
def test_claims_read_refuse_each_bad_value_as_the_constructor_does(name: str) -> None:
    for choice in _CHOICES[name][1:]:
        values: dict[str, object] = {n: c[0] for n, c in _CHOICES.items()}
        values[name] = choice
        constructed, read = _both_ways(values)
        assert read == constructed, (name, choice)
