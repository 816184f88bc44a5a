"""Append throughput of the signed, chained ledger vs a bare eventsourcing application saving the
same events to the same kind of store in the same run, and the time to load a 30-event case with
full verification.

    .venv/bin/python bench/bench_ledger.py [--commands 2000] [--postgres]

Each command loads an aggregate (from the repository's cache, as a service would), triggers one
event and saves it. Ratios are signed / bare; targets: ≥ 0.6 on SQLite, ≥ 0.8 on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from eventsourcing.application import Application
from eventsourcing.domain import event
from eventsourcing.persistence import JSONTranscoder, Transcoding

from keys.store import InMemoryKeyStore
from ledger.actors import Actor, Channel, Role
from ledger.application import CaseLedger
from ledger.calendar import load_calendar
from ledger.case import SupplementVia
from ledger.catalog_data import load_sample_catalog, load_sample_departments
from ledger.commands import Command
from ledger.documents import DocumentRef
from ledger.persistence import postgres_env, sqlite_env
from ledger.provisioning import provision
from ledger.rules import LedgerAggregate

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
OFFICER = Actor("officer-li", Role.OFFICER, department="scjgj")


class Docket(LedgerAggregate):
    """A minimal aggregate: one event per command, with the ledger's at/actor/channel fields."""

    TOPIC_PREFIX: ClassVar[str] = "bench.docket"

    @event("Opened")
    def __init__(self, *, title: str, at: datetime, actor: Actor, channel: Channel) -> None:
        self.entries = 0

    @event("Entered")
    def enter(self, *, text: str, at: datetime, actor: Actor, channel: Channel) -> None:
        self.entries += 1


class ActorAsDict(Transcoding):
    type = Actor
    name = "actor"

    def encode(self, obj: Actor) -> dict[str, Any]:
        return obj.as_dict()

    def decode(self, data: dict[str, Any]) -> Actor:
        return Actor.from_dict(data)


class BareApp(Application[uuid.UUID]):
    """The baseline: the library's default mapper and store, JSON, no signatures, no chain."""

    name = "bare"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(ActorAsDict())


class BenchLedger(CaseLedger):
    aggregates = (*CaseLedger.aggregates, Docket)


def make_env(kind: str, workdir: Path, label: str) -> dict[str, str]:
    if kind == "sqlite":
        return sqlite_env(workdir / f"{label}.sqlite")
    import psycopg

    dsn = os.environ.get(
        "CASELEDGER_TEST_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test"
    )
    parts = dict(p.split("=", 1) for p in dsn.split())
    schema = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return postgres_env(
        host=parts.get("host", "127.0.0.1"),
        port=parts.get("port", "5432"),
        user=parts.get("user", "postgres"),
        password=parts.get("password", ""),
        dbname=parts.get("dbname", "test"),
        schema=schema,
    )


def provisioned(env: dict[str, str]) -> BenchLedger:
    store = InMemoryKeyStore()
    root = store.generate("root")
    ledger = BenchLedger(
        env, key_store=store, root_public_key_der=root.public_key_der(), calendar=load_calendar()
    )
    provision(
        ledger,
        store,
        departments=load_sample_departments(),
        license_types={},
        couriers=["ems"],
        catalog=load_sample_catalog(),
        admin=Actor("admin", Role.ADMIN),
        at=T0,
    )
    return ledger


def run_commands(app: Application[uuid.UUID], commands: int, dockets: int) -> float:
    """Return seconds for ``commands`` single-event commands spread over ``dockets`` streams."""
    ids = []
    for i in range(dockets):
        d = Docket(title=f"d{i}", at=T0, actor=OFFICER, channel=Channel.WINDOW)
        app.save(d)
        ids.append(d.id)
    at = T0
    start = time.perf_counter()
    for n in range(commands):
        at += timedelta(milliseconds=1)
        docket: Docket = app.repository.get(ids[n % dockets])
        docket.enter(text=f"entry {n}", at=at, actor=OFFICER, channel=Channel.WINDOW)
        app.save(docket)
    return time.perf_counter() - start


def thirty_event_case(ledger: CaseLedger) -> uuid.UUID:
    """Play a construction-permit case to exactly 30 events."""
    import hashlib

    def doc(label: str) -> DocumentRef:
        return DocumentRef(hashlib.sha256(label.encode()).hexdigest(), 1000, "application/pdf")

    from licenses.holder_ids import make_uscc

    company = make_uscc("9", "1", "512000", "MA62A0XC")
    applicant = Actor(company, Role.APPLICANT)
    desk = Actor("officer-chen", Role.OFFICER, department="zwfwzx")
    clock = [T0]

    def cmd(actor: Actor, channel: Channel = Channel.SYSTEM) -> Command:
        clock[0] += timedelta(minutes=5)
        return Command(at=clock[0], actor=actor, channel=channel)

    materials = {code: doc(code) for code in ("sqb", "ghxkz", "sght", "stsc", "xfsj", "rfsj")}
    case_id = ledger.submit(
        cmd(applicant, Channel.ONLINE),
        submission_id=str(uuid.uuid4()),
        item_code="11512000MB1546347P000101003000",
        applicant_id=company,
        materials=materials,
    )
    ledger.accept_with_tolerance(
        case_id,
        cmd(desk, Channel.WINDOW),
        commitment="承诺补齐",
        commitment_due=(T0 + timedelta(days=5)).date(),
    )
    for i in range(20):
        ledger.record_visit(case_id, cmd(desk, Channel.WINDOW), reason=f"咨询 {i}")
    for dept in ("zjj", "zrzyghj", "xfjy", "rfb"):
        ledger.give_opinion(
            case_id, cmd(Actor(f"o-{dept}", Role.OFFICER, department=dept)), approve=True
        )
    lead = Actor("o-zjj", Role.OFFICER, department="zjj")
    ledger.decide(case_id, cmd(lead), grant=True, legal_basis="办法第四条")
    ledger.supplement(
        case_id,
        cmd(applicant, Channel.ONLINE),
        via=SupplementVia.EMAIL,
        materials={c: doc(c) for c in ("zjls", "aqxk", "zljd")},
    )
    ledger.issue_license(case_id, cmd(lead))
    ledger.dispatch(case_id, cmd(desk, Channel.WINDOW), courier="ems", tracking_number="EA1CN")
    return case_id


def measure(kind: str, commands: int, workdir: Path) -> None:
    dockets = 50
    bare = BareApp(make_env(kind, workdir, "bare"))
    signed = provisioned(make_env(kind, workdir, "signed"))
    run_commands(bare, 100, 5)  # warm up both (connections, caches, code paths)
    run_commands(signed, 100, 5)
    bare_s, signed_s = [], []
    for _ in range(3):  # interleave rounds so drift hits both alike
        bare_s.append(run_commands(bare, commands, dockets))
        signed_s.append(run_commands(signed, commands, dockets))
    b, s = statistics.median(bare_s), statistics.median(signed_s)
    target = 0.6 if kind == "sqlite" else 0.8
    print(f"\n{kind}: {commands} single-event commands over {dockets} streams, median of 3")
    print(f"  bare eventsourcing  {commands / b:9.0f} commands/s  {commands / b:9.0f} events/s")
    print(f"  signed + chained    {commands / s:9.0f} commands/s  {commands / s:9.0f} events/s")
    print(f"  ratio signed/bare   {b / s:9.2f}   (target >= {target})")
    case_id = thirty_event_case(signed)
    loads = []
    for _ in range(20):
        fresh = BenchLedger(
            signed.env,
            key_store=signed.key_directory.store,
            root_public_key_der=signed.keyring_entry(signed.keyring.root_kid).public_key,
            calendar=load_calendar(),
        )
        start = time.perf_counter()
        case = fresh.case(case_id)
        loads.append(time.perf_counter() - start)
        fresh.close()
        assert case.version == 30
    print(
        f"  load a 30-event case, fresh process, full verification (keys cold): "
        f"median {statistics.median(loads) * 1000:.1f} ms"
    )
    warm = []
    for _ in range(50):
        signed.repository.cache = None  # type: ignore[assignment]
        start = time.perf_counter()
        signed.case(case_id)
        warm.append(time.perf_counter() - start)
    print(
        f"  load a 30-event case, full verification (keys warm): "
        f"median {statistics.median(warm) * 1000:.2f} ms"
    )
    bare.close()
    signed.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--postgres", action="store_true", help="also measure PostgreSQL")
    parser.add_argument("--only-postgres", action="store_true")
    args = parser.parse_args(argv)
    kinds: list[str] = [] if args.only_postgres else ["sqlite"]
    if args.postgres or args.only_postgres:
        kinds.append("postgres")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            measure(kind, args.commands, Path(tmp))


if __name__ == "__main__":
    main()
