"""Audit and supervision over HTTP: a case's trace with log positions, the signed checkpoint,
inclusion and consistency proofs that verify, an offline bundle, the department index, the reform
figures and supervision findings; and the read-model routes on storage that keeps none."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from api.auth import AuthConfig
from api.main import create_app
from ledger.checkpoint import open_checkpoint
from ledger.merkle import verify_consistency, verify_inclusion
from ledger.signed_note import NoteVerifierKey
from projections.bundle import verify_bundle
from tests.e2e.conftest import (
    DESK,
    ISSUER,
    LEAD,
    FakeClock,
    Handle,
    Service,
    Tokens,
    business_case,
    courier_report,
    ok,
    played_permit,
    post,
    problem,
    submit_permit,
)
from tests.e2e.test_http_cases import NOTICE
from tests.unit.ledger.conftest import make_ledger


def test_the_trace_names_each_event_signer_and_leaf(service: Service) -> None:
    case_id = submit_permit(service)
    trace = ok(
        service.client.get(f"/v1/audit/cases/{case_id}/trace", headers=service.tokens.auditor())
    )
    assert [(e["seq"], e["verified"]) for e in trace] == [(1, True)]
    assert isinstance(trace[0]["leaf_index"], int)


def test_the_trace_of_an_unknown_case_is_404(service: Service) -> None:
    response = service.client.get(
        "/v1/audit/cases/3f1f2b8e-1111-4c3a-9d7e-2b9c0a5d4e6f/trace",
        headers=service.tokens.auditor(),
    )
    problem(response, 404, "unknown-case")


def test_the_checkpoint_is_a_signed_note_and_proofs_verify_against_it(service: Service) -> None:
    case_id = submit_permit(service)
    auditor = service.tokens.auditor()
    checkpoint = ok(service.client.get("/v1/audit/checkpoint", headers=auditor))
    key = NoteVerifierKey.parse(checkpoint["verifier_key"])
    signed, _ = open_checkpoint(checkpoint["note"].encode(), [key])
    assert signed.size == checkpoint["size"] and signed.root_hash.hex() == checkpoint["root"]
    proof = ok(
        service.client.get(f"/v1/audit/proofs/inclusion?case_id={case_id}&seq=1", headers=auditor)
    )
    verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        proof["leaf_index"],
        proof["tree_size"],
        [bytes.fromhex(p) for p in proof["proof"]],
        signed.root_hash,
    )


def test_a_consistency_proof_joins_two_checkpoints(service: Service) -> None:
    auditor = service.tokens.auditor()
    first = ok(service.client.get("/v1/audit/checkpoint", headers=auditor))
    submit_permit(service)
    service.clock.advance(timedelta(minutes=5))  # the next checkpoint is due after a minute
    second = ok(service.client.get("/v1/audit/checkpoint", headers=service.tokens.auditor()))
    assert second["size"] > first["size"]
    proof = ok(
        service.client.get(
            f"/v1/audit/proofs/consistency?old_size={first['size']}",
            headers=service.tokens.auditor(),
        )
    )
    verify_consistency(
        first["size"],
        second["size"],
        bytes.fromhex(first["root"]),
        bytes.fromhex(second["root"]),
        [bytes.fromhex(p) for p in proof["proof"]],
    )


def test_proofs_beyond_the_log_are_refused(service: Service) -> None:
    case_id = submit_permit(service)
    auditor = service.tokens.auditor()
    missing = service.client.get(
        f"/v1/audit/proofs/inclusion?case_id={case_id}&seq=9", headers=auditor
    )
    problem(missing, 404, "proof-unavailable")
    backwards = service.client.get("/v1/audit/proofs/consistency?old_size=999999", headers=auditor)
    problem(backwards, 422, "tree-request-invalid")


def test_a_case_bundle_verifies_offline(service: Service) -> None:
    case_id, _ = played_permit(service)
    service.clock.advance(timedelta(minutes=5))
    auditor = service.tokens.auditor()
    checkpoint = ok(service.client.get("/v1/audit/checkpoint", headers=auditor))
    bundle = service.client.get(f"/v1/audit/cases/{case_id}/bundle", headers=auditor)
    assert bundle.headers["content-type"] == "application/cbor"
    root = service.client.get("/v1/keys/root.der").content
    report = verify_bundle(bundle.content, root, checkpoint["verifier_key"])
    assert str(report.case_id) == case_id and report.events >= 10


def test_a_bundle_of_a_case_after_the_checkpoint_is_404(service: Service) -> None:
    auditor = service.tokens.auditor()
    ok(service.client.get("/v1/audit/checkpoint", headers=auditor))
    case_id = submit_permit(service)  # within the minute: no new checkpoint covers it
    problem(
        service.client.get(f"/v1/audit/cases/{case_id}/bundle", headers=auditor),
        404,
        "proof-unavailable",
    )


def test_the_department_index_pages_its_officers_events(service: Service) -> None:
    played_permit(service)
    auditor = service.tokens.auditor()
    page = ok(service.client.get(f"/v1/audit/departments/{LEAD}/events?limit=2", headers=auditor))
    assert (
        len(page["entries"]) == 2 and page["next_after"] == page["entries"][-1]["notification_id"]
    )
    assert {e["department"] for e in page["entries"]} == {LEAD}
    bad = service.client.get(f"/v1/audit/departments/{LEAD}/events?limit=0", headers=auditor)
    problem(bad, 422, "validation-failed")


# --- statistics and supervision ------------------------------------------------------------


def test_the_figures_count_a_closed_case_delivered_by_courier(service: Service) -> None:
    case_id, _ = played_permit(service)
    ok(
        service.client.post(
            "/v1/courier/reports",
            json={"report": courier_report(service, case_id)},
            headers=service.tokens.courier(),
        )
    )
    ok(post(service, case_id, "close", service.tokens.officer(LEAD)))
    figures = ok(service.client.get("/v1/stats", headers=service.tokens.admin()))
    overall = figures["overall"]
    assert (overall["closed"], overall["closed_zero_visits"], overall["share_zero_visits"]) == (
        1,
        1,
        1.0,
    )
    assert [g["key"] for g in figures["by_department"]] == [LEAD]


def test_applicants_do_not_read_the_figures(service: Service) -> None:
    problem(service.client.get("/v1/stats", headers=service.tokens.applicant()), 403, "forbidden")


def test_a_refused_second_notice_is_a_finding_for_its_department(service: Service) -> None:
    case_id = business_case(service, complete=False)
    ok(post(service, case_id, "notify-correction", service.tokens.officer(DESK), NOTICE))
    post(service, case_id, "notify-correction", service.tokens.officer(DESK), NOTICE)
    found = ok(service.client.get("/v1/supervision/findings", headers=service.tokens.auditor()))
    assert [(f["kind"], f["case_id"]) for f in found] == [("second_notice", case_id)]
    mine = ok(service.client.get("/v1/supervision/findings", headers=service.tokens.officer("rfb")))
    assert mine == []  # an officer sees only their own department's findings


def test_an_unknown_finding_kind_fails_validation(service: Service) -> None:
    response = service.client.get(
        "/v1/supervision/findings?kind=gossip", headers=service.tokens.auditor()
    )
    problem(response, 422, "validation-failed")


# --- storage without read models ----------------------------------------------------------


def test_read_model_routes_answer_503_on_in_memory_storage() -> None:
    ledger, store = make_ledger()
    clock = FakeClock()
    tokens = Tokens(clock)
    app = create_app(
        lambda: Handle(ledger, store), auth=AuthConfig({ISSUER: (tokens.signer.public_key_der(),)})
    )
    with TestClient(app) as client:
        problem(client.get("/v1/catalog/items"), 503, "read-models-unavailable")
        assert client.get("/readyz").status_code == 200
