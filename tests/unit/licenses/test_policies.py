"""Verification rules: each accepts or names its reason; an empty set is refused."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from licenses.errors import InvalidPolicy
from licenses.policies import (
    DEFAULT_POLICIES,
    AcceptIssuers,
    AcceptLicenseTypes,
    NotIssuedInFuture,
    Policy,
    PolicyContext,
    PolicySet,
    RequireFields,
    RequireStatusChecked,
)
from tests.unit.licenses.conftest import (
    ISSUER,
    OTHER_ISSUER,
    OTHER_TYPE_CODE,
    T0,
    TYPE_CODE,
    make_claims,
)

CLAIMS = make_claims()
LATER = PolicyContext(at=T0 + timedelta(days=2), undisclosed=frozenset(), status_checked=True)


def test_empty_policy_set_is_refused() -> None:
    with pytest.raises(InvalidPolicy, match="expected at least one policy, got none"):
        PolicySet(())
    with pytest.raises(InvalidPolicy, match="expected at least one policy"):
        PolicySet.of([])


def test_policy_set_refuses_objects_that_are_not_policies() -> None:
    with pytest.raises(InvalidPolicy, match="expected policies with name and check"):
        PolicySet.of([lambda claims, context: None])  # type: ignore[list-item]


def test_default_policies_form_a_valid_set() -> None:
    assert PolicySet.of(DEFAULT_POLICIES).first_rejection(CLAIMS, LATER) is None
    assert all(isinstance(policy, Policy) for policy in DEFAULT_POLICIES)


def test_first_rejection_names_the_policy_that_said_no() -> None:
    policies = PolicySet.of([NotIssuedInFuture(), AcceptIssuers(frozenset({OTHER_ISSUER}))])
    assert policies.first_rejection(CLAIMS, LATER) == (
        "accepted issuers",
        f"expected an issuer in ['{OTHER_ISSUER}'], got '{ISSUER}'",
    )


@pytest.mark.parametrize(
    ("policy", "context", "reason"),
    [
        (NotIssuedInFuture(), LATER, None),
        (
            NotIssuedInFuture(),
            PolicyContext(at=T0, undisclosed=frozenset(), status_checked=True),
            "expected iat on or before 2026-01-05T09:00:00\\+00:00",
        ),
        (RequireFields(frozenset({"name"})), LATER, None),
        (RequireFields(frozenset({"name", "photo"})), LATER, "expected fields \\['photo'\\]"),
        (AcceptLicenseTypes(frozenset({TYPE_CODE})), LATER, None),
        (AcceptLicenseTypes(frozenset({OTHER_TYPE_CODE})), LATER, "expected a license type in"),
        (AcceptIssuers(frozenset({ISSUER})), LATER, None),
        (RequireStatusChecked(), LATER, None),
        (
            RequireStatusChecked(),
            PolicyContext(at=LATER.at, undisclosed=frozenset(), status_checked=False),
            "expected a status list check, got no status list",
        ),
    ],
    ids=[
        "issued-before",
        "issued-after",
        "fields-present",
        "field-missing",
        "type-accepted",
        "type-refused",
        "issuer-accepted",
        "status-checked",
        "status-unchecked",
    ],
)
def test_each_policy_accepts_or_gives_its_reason(
    policy: Policy, context: PolicyContext, reason: str | None
) -> None:
    result = policy.check(CLAIMS, context)
    if reason is None:
        assert result is None
    else:
        assert result is not None
        assert re.search(reason, result), result
