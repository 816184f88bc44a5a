"""The same construction-permit story against a real ``caseledger serve`` process on PostgreSQL:
init, serve, a full case over HTTP with a courier report signed by the courier's key, a
verification by another department, and the holder seeing that use."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from keys.signer import Ed25519Signer
from keys.store import PASSPHRASE_ENV, FileKeyStore
from tests.conftest import postgres_params
from tests.e2e.conftest import (
    ISSUER,
    LEAD,
    Service,
    Tokens,
    accept_with_tolerance,
    courier_report,
    issue_and_dispatch,
    ok,
    post,
    review_and_grant,
    submit_permit,
)

PASSPHRASE = "live-test-passphrase"


class WallClock:
    """The real server stamps commands with its own clock; tests read the same wall clock."""

    @property
    def now(self) -> datetime:
        return datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, step: timedelta = timedelta(minutes=10)) -> datetime:
        return self.now  # a live server's time cannot be moved; the story does not need it


@dataclass
class LiveHandle:
    keys: FileKeyStore


@dataclass
class LiveService:
    client: httpx.Client
    handle: LiveHandle
    clock: WallClock = field(default_factory=WallClock)
    tokens: Tokens = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = Tokens(cast(Any, self.clock))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live(tmp_path: Path, postgres_schema: str) -> Iterator[LiveService]:
    p = postgres_params()
    url = (
        f"postgresql://{p['POSTGRES_USER']}@{p['POSTGRES_HOST']}:{p['POSTGRES_PORT']}/"
        f"{p['POSTGRES_DBNAME']}?schema={postgres_schema}"
    )
    idp = Ed25519Signer.generate()
    env = {
        **os.environ,
        "CASELEDGER_DATA": str(tmp_path / "data"),
        "CASELEDGER_DATABASE_URL": url,
        PASSPHRASE_ENV: PASSPHRASE,
        # A 50-working-day permit received late in a year reaches into the next one, whose
        # holiday notice may not be published yet: count it provisionally (weekends only).
        "CASELEDGER_PROVISIONAL_CALENDAR": "1",
        "CASELEDGER_TOKEN_ISSUERS": json.dumps(
            {ISSUER: base64.b64encode(idp.public_key_der()).decode()}
        ),
    }
    cli = [sys.executable, "-m", "api.cli"]
    subprocess.run([*cli, "init"], env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                output = server.stdout.read().decode() if server.stdout else ""
                pytest.fail(f"caseledger serve did not become ready:\n{output[-2000:]}")
            time.sleep(0.2)
        keys = FileKeyStore(tmp_path / "data" / "keys", environ={PASSPHRASE_ENV: PASSPHRASE})
        with httpx.Client(base_url=base, timeout=30) as client:
            service = LiveService(client, LiveHandle(keys))
            service.tokens.signer = idp
            yield service
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_real_server_on_postgresql_runs_the_permit_story(live: LiveService) -> None:
    svc = cast(Service, live)
    case_id = submit_permit(svc)
    assert accept_with_tolerance(svc, case_id)["due"] is not None
    review_and_grant(svc, case_id)
    license_id = issue_and_dispatch(svc, case_id)
    ok(
        live.client.post(
            "/v1/courier/reports",
            json={"report": courier_report(svc, case_id)},
            headers=live.tokens.courier(),
        )
    )
    ok(post(svc, case_id, "close", live.tokens.officer(LEAD)))
    case = ok(live.client.get(f"/v1/cases/{case_id}", headers=live.tokens.applicant()))
    assert (case["status"], case["license_id"]) == ("closed", license_id)
    timeline = ok(live.client.get(f"/v1/cases/{case_id}/timeline", headers=live.tokens.auditor()))
    assert len(timeline) >= 14 and all(event["verified"] for event in timeline)
    verified = ok(
        live.client.post(
            "/v1/verify",
            json={"license_id": license_id, "purpose": "规划核实"},
            headers=live.tokens.verifier("zrzyghj"),
        )
    )
    assert verified["status"] == "valid"
    uses = ok(live.client.get("/v1/licenses/uses", headers=live.tokens.applicant()))
    assert [(u["department"], u["purpose"]) for u in uses] == [("zrzyghj", "规划核实")]
    checkpoint = ok(live.client.get("/v1/audit/checkpoint", headers=live.tokens.auditor()))
    assert checkpoint["size"] >= len(timeline)
