"""Verification under concurrent callers and repeated tokens: every call is answered and recorded
once (the uses of concurrent calls are committed together), and a token accepted before is still
refused once it expires or when its signature is not the one that was accepted."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from api.auth import AuthConfig, AuthError, mint_token, verify_token
from keys.signer import Ed25519Signer
from ledger.actors import Role
from licenses.qr import encode_qr_text
from tests.e2e.conftest import ISSUER, Service, ok, open_service, played_permit
from tests.scenarios import COMPANY
from tests.unit.ledger.conftest import T0

NOW = T0 + timedelta(hours=1)


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, str]]:
    for service in open_service(tmp_path_factory.mktemp("verify")):
        _, license_id = played_permit(service)
        yield service, license_id


def test_concurrent_verifications_are_each_answered_and_recorded_once(
    issued: tuple[Service, str],
) -> None:
    svc, license_id = issued
    found = svc.client.get(f"/v1/licenses/{license_id}/credential", headers=svc.tokens.applicant())
    body = {"qr_text": encode_qr_text(found.content), "purpose": "不动产登记"}
    headers = svc.tokens.verifier("swj")
    before = len(ok(svc.client.get("/v1/licenses/uses", headers=svc.tokens.applicant())))
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(
            pool.map(lambda _: svc.client.post("/v1/verify", json=body, headers=headers), range(24))
        )
    assert [a.status_code for a in answers] == [200] * 24
    assert {a.headers["content-type"] for a in answers} == {"application/json"}
    assert {(a.json()["status"], a.json()["license_id"]) for a in answers} == {
        ("valid", license_id)
    }
    uses = ok(svc.client.get("/v1/licenses/uses", headers=svc.tokens.applicant()))
    assert len(uses) == before + 24


def test_a_failed_verification_still_answers_with_the_documented_fields(
    issued: tuple[Service, str],
) -> None:
    svc, _ = issued
    body = {"qr_text": "EL1:NOT-BASE45!!", "purpose": "施工许可"}
    answer = ok(svc.client.post("/v1/verify", json=body, headers=svc.tokens.verifier("zjj")))
    assert set(answer) == {
        "status",
        "valid",
        "step",
        "step_name",
        "reason",
        "license_id",
        "license_type",
        "issuer",
        "holder_masked",
        "fields",
        "undisclosed",
        "status_checked",
        "issuer_region",
    }
    assert (answer["valid"], answer["license_id"], answer["fields"]) == (False, None, {})


def test_a_token_accepted_before_is_refused_once_it_expires() -> None:
    signer = Ed25519Signer.generate()
    config = AuthConfig({ISSUER: (signer.public_key_der(),)})
    token = mint_token(
        signer, COMPANY, Role.APPLICANT, None, timedelta(hours=1), NOW, issuer=ISSUER
    )
    assert verify_token(token, config, NOW).sub == COMPANY
    assert verify_token(token, config, NOW + timedelta(minutes=30)).sub == COMPANY
    with pytest.raises(AuthError, match="token has expired"):
        verify_token(token, config, NOW + timedelta(hours=2))
    with pytest.raises(AuthError, match="token is not valid yet"):
        verify_token(token, config, NOW - timedelta(hours=1))


def test_a_token_with_another_signature_is_refused_after_the_genuine_one_was_accepted() -> None:
    signer = Ed25519Signer.generate()
    config = AuthConfig({ISSUER: (signer.public_key_der(),)})
    token = mint_token(
        signer, "officer-li", Role.OFFICER, "zjj", timedelta(hours=1), NOW, issuer=ISSUER
    )
    assert verify_token(token, config, NOW).department == "zjj"
    head, _, signature = token.rpartition(".")
    forged = f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    with pytest.raises(AuthError, match="token does not verify"):
        verify_token(forged, config, NOW)


def test_a_token_one_config_accepted_is_refused_by_a_config_without_its_issuer() -> None:
    signer = Ed25519Signer.generate()
    accepting = AuthConfig({ISSUER: (signer.public_key_der(),)})
    other = AuthConfig({ISSUER: (Ed25519Signer.generate().public_key_der(),)})
    token = mint_token(
        signer, "auditor-wang", Role.AUDITOR, None, timedelta(hours=1), NOW, issuer=ISSUER
    )
    assert verify_token(token, accepting, NOW).role is Role.AUDITOR
    with pytest.raises(AuthError, match="no accepted key"):
        verify_token(token, other, NOW)
