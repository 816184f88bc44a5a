"""Who may call what: bearer tokens (EdDSA JWTs from configured issuers) and the table of every
route against every kind of caller — allowed, 401, 403, or 404 where ownership hides a record."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.auth import AuthConfig, AuthError, mint_token, verify_token
from keys.signer import Ed25519Signer
from ledger.actors import Role
from tests.e2e.conftest import (
    ISSUER,
    LEAD,
    OTHER_COMPANY,
    Service,
    business_case,
    ok,
    open_service,
    played_permit,
    post,
)
from tests.foreign_region import ForeignRegion
from tests.scenarios import BUSINESS, COMPANY, PERMIT, doc
from tests.unit.ledger.conftest import T0

NOW = T0 + timedelta(hours=1)


# --- tokens ----------------------------------------------------------------------------------


def config_for(signer: Ed25519Signer) -> AuthConfig:
    return AuthConfig({ISSUER: (signer.public_key_der(),)})


def test_a_token_names_the_principal_role_and_department() -> None:
    signer = Ed25519Signer.generate()
    token = mint_token(
        signer, "officer-li", Role.OFFICER, "zjj", timedelta(hours=1), NOW, issuer=ISSUER
    )
    principal = verify_token(token, config_for(signer), NOW + timedelta(minutes=59))
    assert (principal.sub, principal.role, principal.department, principal.issuer) == (
        "officer-li",
        Role.OFFICER,
        "zjj",
        ISSUER,
    )


def test_a_raw_private_key_mints_tokens_too() -> None:
    key = Ed25519PrivateKey.generate()
    token = mint_token(key, "auditor", "auditor", None, timedelta(minutes=5), NOW, issuer=ISSUER)
    signer = Ed25519Signer(key)
    assert verify_token(token, config_for(signer), NOW).role is Role.AUDITOR


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ("expired", "expired"),
        ("early", "not valid yet"),
        ("other key", "no accepted key"),
        ("other issuer", "no accepted key"),
        ("tampered", "does not verify"),
        ("alg none", "algorithm must be EdDSA"),
        ("garbage", "malformed"),
    ],
)
def test_unacceptable_tokens_are_refused(change: str, match: str) -> None:
    signer = Ed25519Signer.generate()
    minter = Ed25519Signer.generate() if change == "other key" else signer
    issuer = "elsewhere" if change == "other issuer" else ISSUER
    token = mint_token(minter, "x", Role.AUDITOR, None, timedelta(hours=1), NOW, issuer=issuer)
    head, body, signature = token.split(".")
    if change == "tampered":
        claims = json.loads(base64.urlsafe_b64decode(body + "=="))
        body = b64url(json.dumps(claims | {"role": "admin"}).encode())
    if change == "alg none":
        head, signature = b64url(b'{"alg":"none","typ":"JWT"}'), ""
    token = "not-a-jwt" if change == "garbage" else f"{head}.{body}.{signature}"
    at = {"expired": NOW + timedelta(hours=2), "early": NOW - timedelta(hours=1)}.get(change, NOW)
    with pytest.raises(AuthError, match=match):
        verify_token(token, config_for(signer), at)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.mark.parametrize(
    ("role", "department", "match"),
    [("system", None, "role must be one of"), ("officer", None, "needs a department")],
)
def test_tokens_for_impossible_callers_are_not_minted(
    role: str, department: str | None, match: str
) -> None:
    with pytest.raises(AuthError, match=match):
        mint_token(Ed25519Signer.generate(), "x", role, department, timedelta(hours=1), NOW)


def test_issuers_come_from_the_environment_as_base64_der() -> None:
    signer = Ed25519Signer.generate()
    text = json.dumps({"idp": base64.b64encode(signer.public_key_der()).decode()})
    config = AuthConfig.from_env({"CASELEDGER_TOKEN_ISSUERS": text})
    token = mint_token(signer, "a", Role.AUDITOR, None, timedelta(hours=1), NOW, issuer="idp")
    assert verify_token(token, config, NOW).sub == "a"


def test_a_request_without_a_token_gets_a_bearer_challenge(service: Service) -> None:
    response = service.client.get("/v1/stats")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["type"].endswith("/unauthenticated")


def test_an_expired_token_is_401(service: Service) -> None:
    headers = service.tokens.auditor()
    service.clock.advance(timedelta(hours=2))
    assert service.client.get("/v1/stats", headers=headers).status_code == 401


# --- the matrix ------------------------------------------------------------------------------

CALLERS = (
    "anonymous",
    "applicant",
    "stranger",
    "officer",
    "outsider",
    "verifier",
    "auditor",
    "courier",
    "admin",
)
OK = "allowed"


@dataclass(frozen=True)
class Route:
    """One route, who may call it, and what each other caller gets."""

    method: str
    path: str
    allowed: frozenset[str]
    body: Any = None
    department: str = LEAD  # the officer's department that the route expects
    special: dict[str, int] = field(default_factory=dict)  # caller -> status other than 403

    def expected(self, caller: str) -> str | int:
        if caller in self.special:
            return self.special[caller]
        if "anonymous" in self.allowed or caller in self.allowed:
            return OK
        return 401 if caller == "anonymous" else 403


FORM = doc("application form")  # a material of the permit, uploaded by its applicant
PUBLIC = frozenset(CALLERS)
HOLDER = frozenset({"applicant", "stranger"})
OWNED = {"stranger": 404}  # an applicant never learns of another's record
HIDDEN = {"stranger": 404, "outsider": 404}  # nor a department of a case outside it
DEPARTMENT = {"outsider": 403}  # the ledger refuses an officer of the wrong department
READERS = frozenset({"applicant", "stranger", "officer", "outsider", "auditor"})
STAFF = frozenset({"officer", "outsider", "auditor", "admin"})
LICENSE_READERS = frozenset({"applicant", "stranger", "officer", "outsider", "auditor"})
DESK = "zwfwzx"
ADMIN = frozenset({"admin"})
HUNAN = ForeignRegion()


def routes(
    case: str,
    license_id: str,
    noticed: str | None = None,
    refused: str | None = None,
    root_kid: str = "{kid}",
) -> list[Route]:
    officer = frozenset({"officer", "outsider"})
    cmd = f"/v1/cases/{case}"
    documents = f"{cmd}/documents"
    # The played permit had no correction notice nor refusal; business cases given them stand in.
    notice = f"/v1/cases/{noticed or case}/documents/correction-notice.pdf"
    refusal = f"/v1/cases/{refused or case}/documents/refusal-notice.pdf"
    return [
        Route("GET", "/healthz", PUBLIC),
        Route("GET", "/readyz", PUBLIC),
        Route("GET", "/v1/catalog/items", PUBLIC),
        Route("GET", f"/v1/catalog/items/{PERMIT}", PUBLIC),
        Route("GET", "/v1/keys/trust-list", PUBLIC),
        Route("GET", "/v1/keys/trust-list.json", PUBLIC),
        Route("GET", "/v1/keys/root.der", PUBLIC),
        Route("GET", f"/v1/keys/status-lists/{LEAD}", PUBLIC),
        Route("GET", "/pages/", PUBLIC),
        Route("GET", f"/pages/items/{PERMIT}", PUBLIC),
        Route(
            "POST",
            "/v1/cases",
            HOLDER | officer,
            {"item_code": BUSINESS, "applicant_id": COMPANY},
            DESK,
            {"stranger": 403, "outsider": 403},
        ),
        Route("GET", "/v1/cases", HOLDER | officer),
        Route("GET", cmd, READERS, special=HIDDEN),
        Route("GET", f"{cmd}/timeline", READERS, special=HIDDEN),
        Route("GET", f"{documents}/receipt.pdf", READERS, special=HIDDEN),
        Route("GET", notice, READERS, department=DESK, special=HIDDEN),
        Route("GET", refusal, READERS, department=DESK, special=HIDDEN),
        Route("GET", f"{documents}/decision.pdf", READERS, special=HIDDEN),
        Route("GET", f"{cmd}/materials/{FORM.sha256}", READERS, special=HIDDEN),
        # Anyone may upload; only the uploader reads back what was not yet put in a case.
        Route("POST", "/v1/documents", HOLDER | officer, {"not": "a pdf"}),
        Route(
            "GET",
            f"/v1/documents/{FORM.sha256}",
            HOLDER | officer,
            special={"stranger": 404, "officer": 404, "outsider": 404},
        ),
        Route("POST", f"{cmd}/receive", officer, None, DESK, DEPARTMENT),
        Route(
            "POST",
            f"{cmd}/accept-with-tolerance",
            officer,
            {"commitment": "c", "commitment_due": "2026-03-10"},
            DESK,
            DEPARTMENT,
        ),
        Route(
            "POST",
            f"{cmd}/notify-correction",
            officer,
            {"items": {"sqb": "r"}, "text": "t"},
            DESK,
            DEPARTMENT,
        ),
        Route(
            "POST",
            f"{cmd}/refuse",
            officer,
            {"reasons": ["r"], "legal_basis": "b"},
            DESK,
            DEPARTMENT,
        ),
        Route(
            "POST", f"{cmd}/correct", HOLDER | officer, {"materials": {}}, DESK, OWNED | DEPARTMENT
        ),
        Route(
            "POST",
            f"{cmd}/supplement",
            HOLDER | officer,
            {"materials": {}, "via": "fax"},
            DESK,
            OWNED | DEPARTMENT,
        ),
        Route("POST", f"{cmd}/opinions", officer, {"approve": True}, LEAD, DEPARTMENT),
        Route(
            "POST",
            f"{cmd}/transfer",
            officer,
            {"to_level": "city", "to_unit": "u", "opinion": "o"},
            LEAD,
            DEPARTMENT,
        ),
        Route(
            "POST",
            f"{cmd}/suspend",
            officer,
            {"step": "site_inspection", "reason": "r"},
            LEAD,
            DEPARTMENT,
        ),
        Route(
            "POST",
            f"{cmd}/extend",
            officer,
            {"due": "2026-12-01", "reason": "r", "approver": "a"},
            LEAD,
            DEPARTMENT,
        ),
        Route(
            "POST", f"{cmd}/decide", officer, {"grant": False, "legal_basis": "b"}, LEAD, DEPARTMENT
        ),
        Route("POST", f"{cmd}/issue-license", officer, None, LEAD, DEPARTMENT),
        Route(
            "POST",
            f"{cmd}/dispatch",
            officer,
            {"courier": "ems", "tracking_number": "t"},
            DESK,
            DEPARTMENT,
        ),
        Route("POST", f"{cmd}/pick-up", officer, None, DESK, DEPARTMENT),
        Route("POST", f"{cmd}/visits", officer, {"reason": "r"}, DESK, DEPARTMENT),
        Route("POST", f"{cmd}/close", officer, None, LEAD, DEPARTMENT),
        Route(
            "POST", f"{cmd}/withdraw", HOLDER | officer, {"reason": "r"}, LEAD, OWNED | DEPARTMENT
        ),
        Route("POST", f"{cmd}/rate", HOLDER, {"stars": 5}, special=OWNED),
        Route(
            "POST",
            "/v1/licenses/query",
            HOLDER | officer,
            {"holder_id": COMPANY},
            DESK,
            {"stranger": 404, "outsider": 403},
        ),
        Route("GET", "/v1/licenses/uses", HOLDER),
        Route("GET", f"/v1/licenses/{license_id}", LICENSE_READERS, special=HIDDEN),
        Route("GET", f"/v1/licenses/{license_id}/credential", LICENSE_READERS, special=HIDDEN),
        Route("GET", f"/v1/licenses/{license_id}/qr.png", LICENSE_READERS, special=HIDDEN),
        Route("GET", f"/v1/licenses/{license_id}/printout.pdf", LICENSE_READERS, special=HIDDEN),
        Route(
            "POST",
            "/v1/verify",
            officer | {"verifier"},
            {"license_id": license_id, "purpose": "施工许可"},
        ),
        # Multipart: a JSON body gets the allowed callers a 422, the others their 401/403.
        Route("POST", "/v1/verify/image", officer | {"verifier"}, {"purpose": "施工许可"}),
        Route(
            "POST",
            "/v1/shared/views",
            officer | {"verifier"},
            {"holder_id": COMPANY, "purpose": "施工许可"},
            special={"outsider": 403},
        ),
        Route("POST", "/v1/courier/reports", frozenset({"courier"}), {"report": "AAAA"}),
        Route("GET", f"/v1/audit/cases/{case}/trace", frozenset({"auditor"})),
        Route("GET", "/v1/audit/checkpoint", frozenset({"auditor"})),
        Route("GET", f"/v1/audit/proofs/inclusion?case_id={case}&seq=1", frozenset({"auditor"})),
        Route("GET", "/v1/audit/proofs/consistency?old_size=1", frozenset({"auditor"})),
        Route("GET", f"/v1/audit/cases/{case}/bundle", frozenset({"auditor"})),
        Route("GET", f"/v1/audit/departments/{LEAD}/events", frozenset({"auditor"})),
        Route("GET", f"/v1/audit/keys/{root_kid}/events", frozenset({"auditor"})),
        Route("GET", "/v1/regions", STAFF | {"verifier"}),
        Route(
            "PUT",
            "/v1/regions/hunan",
            frozenset({"admin"}),
            {"title": "湖南", "root_public_key": "A"},
        ),
        # A body that is no COSE: the administrator's 422, the others' 401/403 before it is read.
        Route("PUT", "/v1/regions/hunan/trust-list", ADMIN, "not cose"),
        Route("POST", "/v1/regions/hunan/status-lists", ADMIN, "not cose"),
        Route("POST", "/v1/regions/hunan/withdraw", ADMIN, {"reason": "到期"}),
        # The root key: the administrator's 409 (never revoked or replaced here), others' 401/403.
        Route("GET", "/v1/keys", frozenset({"admin", "auditor"})),
        Route("POST", f"/v1/keys/{root_kid}/rotate", frozenset({"admin"})),
        Route("POST", f"/v1/keys/{root_kid}/revoke", frozenset({"admin"}), {"reason": "测试"}),
        Route(
            "POST",
            "/v1/keys/enrolments",
            frozenset({"admin"}),
            {"courier": "ems", "public_key": "AAAA"},
        ),
        Route("GET", "/v1/stats", STAFF),
        Route("GET", "/v1/supervision/findings", STAFF),
    ]


@dataclass
class World:
    service: Service
    case_id: str
    license_id: str
    noticed: str
    refused: str
    root_kid: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for service in open_service(tmp_path_factory.mktemp("matrix")):
        case_id, license_id = played_permit(service)
        noticed = business_case(service, complete=False)
        notice = {"items": {"zc": "章程缺少股东签字"}, "text": "请一次性补正"}
        ok(post(service, noticed, "notify-correction", service.tokens.officer(DESK), notice))
        refused = business_case(service)
        refusal = {"reasons": ["不属于本机关职权范围"], "legal_basis": "《行政许可法》第三十二条"}
        ok(post(service, refused, "refuse", service.tokens.officer(DESK), refusal))
        hunan = {"title": "湖南省", "root_public_key": base64.b64encode(HUNAN.root_key).decode()}
        ok(service.client.put("/v1/regions/hunan", json=hunan, headers=service.tokens.admin()), 201)
        root_kid = service.ledger.keyring.root_kid.hex()
        yield World(service, case_id, license_id, noticed, refused, root_kid)


def headers(world: World, caller: str, route: Route) -> dict[str, str]:
    tokens = world.service.tokens
    return {
        "anonymous": dict,
        "applicant": lambda: tokens.applicant(COMPANY),
        "stranger": lambda: tokens.applicant(OTHER_COMPANY),
        "officer": lambda: tokens.officer(route.department),
        "outsider": lambda: tokens.officer("swj"),
        "verifier": lambda: tokens.verifier(LEAD),
        "auditor": tokens.auditor,
        "courier": tokens.courier,
        "admin": tokens.admin,
    }[caller]()


ROUTE_IDS = [f"{r.method} {r.path.split('?')[0]}" for r in routes("{case}", "{license}")]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("index", range(len(ROUTE_IDS)), ids=ROUTE_IDS)
def test_every_route_answers_every_caller_as_designed(
    world: World, index: int, caller: str
) -> None:
    route = routes(world.case_id, world.license_id, world.noticed, world.refused, world.root_kid)[
        index
    ]
    response = world.service.client.request(
        route.method, route.path, json=route.body, headers=headers(world, caller, route)
    )
    expected = route.expected(caller)
    assert response.status_code < 500, response.text
    if expected == OK:
        assert response.status_code not in (401, 403, 404), response.text
    else:
        assert response.status_code == expected, response.text
        assert response.headers["content-type"] == "application/problem+json"


def test_a_department_view_never_shows_a_field_outside_its_policy(world: World) -> None:
    client, tokens = world.service.client, world.service.tokens
    issued = ok(client.get(f"/v1/licenses/{world.license_id}", headers=tokens.applicant()))
    assert set(issued["fields"]) == {"名称", "事项", "受理编号", "决定依据"}
    body = {"holder_id": COMPANY, "purpose": "规划核实"}
    views = ok(client.post("/v1/shared/views", json=body, headers=tokens.verifier("zrzyghj")))
    assert views, "the planning department may read construction permits for 规划核实"
    for view in views:
        assert set(view["fields"]) <= {"名称", "事项", "决定依据"}
    assert "受理编号" not in views[0]["fields"]
