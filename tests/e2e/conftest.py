"""The HTTP service over a provisioned SQLite ledger: a fake clock at the edge, a local token
issuer, and callers of every role."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.auth import AuthConfig, mint_token
from api.main import create_app
from keys import cbor, cose
from keys.registry import kid_for
from keys.signer import Ed25519Signer
from keys.store import PASSPHRASE_ENV, InMemoryKeyStore
from ledger.actors import Role
from ledger.application import CaseLedger
from ledger.calendar import load_calendar
from ledger.documents import DocumentRef
from ledger.persistence import sqlite_env
from licenses.holder_ids import make_uscc
from licenses.qr import encode_qr_text
from tests.scenarios import BUSINESS, COMPANY, DOCUMENT_BYTES, PERMIT, doc, permit_materials
from tests.unit.ledger.conftest import T0, make_ledger

ISSUER = "test-idp"
OTHER_COMPANY = make_uscc("9", "1", "512000", "MA62A0XD")


@dataclass
class FakeClock:
    """The edge clock under the test's control."""

    now: datetime = T0 + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, step: timedelta = timedelta(minutes=10)) -> datetime:
        self.now += step
        return self.now


@dataclass
class Handle:
    """An open ledger with its key store, as ``create_app`` expects one."""

    ledger: CaseLedger
    keys: InMemoryKeyStore

    def close(self) -> None:
        self.ledger.close()


@dataclass
class Tokens:
    """Bearer headers for callers of every role, minted by the test identity provider."""

    clock: FakeClock
    signer: Ed25519Signer = field(default_factory=Ed25519Signer.generate)

    def headers(self, sub: str, role: Role, department: str | None = None) -> dict[str, str]:
        token = mint_token(
            self.signer, sub, role, department, timedelta(hours=1), self.clock.now, issuer=ISSUER
        )
        return {"Authorization": f"Bearer {token}"}

    def applicant(self, holder: str = COMPANY) -> dict[str, str]:
        return self.headers(holder, Role.APPLICANT)

    def officer(self, department: str, name: str | None = None) -> dict[str, str]:
        return self.headers(name or f"officer-{department}", Role.OFFICER, department)

    def verifier(self, department: str) -> dict[str, str]:
        return self.headers(f"verifier-{department}", Role.VERIFIER, department)

    def auditor(self) -> dict[str, str]:
        return self.headers("auditor-wang", Role.AUDITOR)

    def courier(self, courier: str = "ems") -> dict[str, str]:
        return self.headers(courier, Role.COURIER)

    def admin(self) -> dict[str, str]:
        return self.headers("admin-zhao", Role.ADMIN)


@dataclass
class Service:
    """A running service: its client, ledger, key store, clock and tokens."""

    app: FastAPI
    client: TestClient
    handle: Handle
    clock: FakeClock
    tokens: Tokens

    @property
    def ledger(self) -> CaseLedger:
        return self.handle.ledger


def open_service(tmp_path: Path, **app_options: Any) -> Iterator[Service]:
    env = sqlite_env(tmp_path / "ledger.sqlite")
    ledger, store = make_ledger(env)
    handle = Handle(ledger, store)
    first = [handle]

    def open_ledger() -> Handle:
        # After a lifespan ends (and closes the ledger) the app reopens the same store.
        if first:
            return first.pop()
        root = store.signer("root").public_key_der()
        again = CaseLedger(env, key_store=store, root_public_key_der=root, calendar=load_calendar())
        return Handle(again, store)

    clock = FakeClock()
    tokens = Tokens(clock)
    auth = AuthConfig({ISSUER: (tokens.signer.public_key_der(),)})
    app = create_app(open_ledger, auth=auth, clock=clock, **app_options)
    with TestClient(app) as client:
        yield Service(app, client, handle, clock, tokens)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory for the command line, the embedded default, a local passphrase."""
    monkeypatch.setenv("CASELEDGER_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("CASELEDGER_DATABASE_URL", raising=False)
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    return tmp_path / "data"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    yield from open_service(tmp_path)


@pytest.fixture(scope="module")
def shared_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One service for a module whose tests do not depend on each other's state."""
    yield from open_service(tmp_path_factory.mktemp("service"))


# --- the construction-permit story over HTTP ------------------------------------------------------


def upload(svc: Service, headers: dict[str, str], ref: DocumentRef) -> dict[str, Any]:
    """Upload the bytes ``ref`` addresses (a ``doc``) as the caller of ``headers``."""
    response = svc.client.post(
        "/v1/documents",
        content=DOCUMENT_BYTES[ref.sha256],
        headers=headers | {"Content-Type": ref.media_type},
    )
    assert response.status_code in (200, 201), response.text
    stored: dict[str, Any] = response.json()
    return stored


def materials_json(
    svc: Service, headers: dict[str, str], materials: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Material references as request JSON, the documents among them uploaded as the caller."""
    for ref in materials.values():
        if isinstance(ref, DocumentRef):
            upload(svc, headers, ref)
    return {code: ref.as_dict() for code, ref in materials.items()}


SUPPLEMENT = {"zjls": "supervision contract", "aqxk": "safety licence", "zljd": "quality filing"}
JOINT = ("zrzyghj", "xfjy", "rfb")
DESK = "zwfwzx"
LEAD = "zjj"


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    """The JSON body of a response with ``status`` (the problem is shown if it differs)."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def submit_permit(svc: Service, holder: str = COMPANY, key: str | None = None) -> str:
    """Submit the construction permit online; returns the case id."""
    headers = svc.tokens.applicant(holder) | ({"Idempotency-Key": key} if key else {})
    body = {"item_code": PERMIT, "materials": materials_json(svc, headers, permit_materials())}
    return str(ok(svc.client.post("/v1/cases", json=body, headers=headers), 201)["case_id"])


def post(
    svc: Service, case_id: str, command: str, headers: dict[str, str], body: Any = None
) -> Any:
    """POST one case command, the clock moved on by ten minutes first."""
    svc.clock.advance()
    return svc.client.post(f"/v1/cases/{case_id}/{command}", json=body, headers=headers)


def accept_with_tolerance(svc: Service, case_id: str) -> dict[str, Any]:
    """The window accepts with three materials committed for ten days later."""
    due = (svc.clock.now + timedelta(days=10)).date().isoformat()
    body = {"commitment": "申请人承诺在10日内补齐安全生产许可证等材料", "commitment_due": due}
    return ok(post(svc, case_id, "accept-with-tolerance", svc.tokens.officer(DESK), body))


def review_and_grant(svc: Service, case_id: str) -> None:
    """Joint review, a site inspection of two days, the supplement by e-mail, the grant."""
    for department in (LEAD, *JOINT):
        ok(post(svc, case_id, "opinions", svc.tokens.officer(department), {"approve": True}))
    step = {"step": "site_inspection", "reason": "现场踏勘"}
    ok(post(svc, case_id, "suspend", svc.tokens.officer(LEAD), step))
    svc.clock.advance(timedelta(days=2))
    ok(post(svc, case_id, "resume", svc.tokens.officer(LEAD)))
    refs = {code: doc(label) for code, label in SUPPLEMENT.items()}
    body = {"materials": materials_json(svc, svc.tokens.applicant(), refs), "via": "email"}
    ok(post(svc, case_id, "supplement", svc.tokens.applicant(), body))
    decision = {"grant": True, "legal_basis": "《建筑工程施工许可管理办法》第四条"}
    ok(post(svc, case_id, "decide", svc.tokens.officer(LEAD), decision))


def issue_and_dispatch(svc: Service, case_id: str, tracking: str = "EA123456789CN") -> str:
    """Issue the license and hand it to EMS; returns the license id."""
    issued = ok(post(svc, case_id, "issue-license", svc.tokens.officer(LEAD)))
    body = {"courier": "ems", "tracking_number": tracking}
    ok(post(svc, case_id, "dispatch", svc.tokens.officer(DESK), body))
    return str(issued["license_id"])


def courier_report(
    svc: Service,
    case_id: str,
    *,
    event: str = "delivered",
    nonce: str | None = None,
    at: datetime | None = None,
    signer: Any = None,
    **extra: Any,
) -> str:
    """A courier report signed by EMS's registered key (or ``signer``), base64."""
    key = signer or svc.handle.keys.signer("courier-ems")
    payload = {
        "case_id": case_id,
        "tracking_number": "EA123456789CN",
        "event": event,
        "at": int((at or svc.clock.now).timestamp()),
        "nonce": nonce or uuid.uuid4().hex,
        "signed_by": "张三",
        **extra,
    }
    message = cose.sign1(cbor.dumps_canonical(payload), key, kid=kid_for(key.public_key_der()))
    return base64.b64encode(message).decode("ascii")


def played_permit(svc: Service) -> tuple[str, str]:
    """A permit case issued and dispatched by courier; returns (case id, license id)."""
    case_id = submit_permit(svc)
    accept_with_tolerance(svc, case_id)
    review_and_grant(svc, case_id)
    return case_id, issue_and_dispatch(svc, case_id)


# --- the enterprise registration, and refusals -------------------------------------------

PROBLEMS = "https://caseledger.example/problems/"
BUSINESS_DESK = "scjgj"  # the business license's lead department
GRANT = {"grant": True, "legal_basis": "《中华人民共和国公司法》第六条"}


def problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    """The problem+json body of a refusal, checked for its status and type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEMS + slug, body
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def business_case(svc: Service, *, complete: bool = True, holder: str = COMPANY) -> str:
    """Submit an enterprise registration online (all materials, or without the articles)."""
    codes = ["sqs", "zc", "rzwj", "zszm", "wtsh"]
    materials = {code: doc(f"business {code}") for code in codes if complete or code != "zc"}
    headers = svc.tokens.applicant(holder)
    body = {"item_code": BUSINESS, "materials": materials_json(svc, headers, materials)}
    response = svc.client.post("/v1/cases", json=body, headers=headers)
    return str(ok(response, 201)["case_id"])


def received(svc: Service) -> str:
    """A complete enterprise registration, received at the window."""
    case_id = business_case(svc)
    ok(post(svc, case_id, "receive", svc.tokens.officer(DESK)))
    return case_id


def granted_business(svc: Service) -> str:
    """A received enterprise registration, approved and granted by its lead department."""
    case_id = received(svc)
    lead = svc.tokens.officer(BUSINESS_DESK)
    ok(post(svc, case_id, "opinions", lead, {"approve": True}))
    ok(post(svc, case_id, "decide", svc.tokens.officer(BUSINESS_DESK), GRANT))
    return case_id


@dataclass
class Issued:
    """A service with a played permit: the license's number and its QR text."""

    service: Service
    license_id: str
    qr_text: str


def issued_permit(svc: Service) -> Issued:
    """Play a permit case to its license; return the license's number and QR text."""
    _, license_id = played_permit(svc)
    credential = svc.client.get(
        f"/v1/licenses/{license_id}/credential", headers=svc.tokens.applicant()
    )
    assert credential.status_code == 200, credential.text
    return Issued(svc, license_id, encode_qr_text(credential.content))


def holder_uses(svc: Service) -> list[tuple[str, str, str]]:
    """The holder's license uses as the JSON API lists them: (department, purpose, result)."""
    listed = svc.client.get("/v1/licenses/uses", headers=svc.tokens.applicant())
    assert listed.status_code == 200, listed.text
    return [(u["department"], u["purpose"], u["result"]) for u in listed.json()]
