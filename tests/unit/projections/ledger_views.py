"""A provisioned ledger whose notification log feeds the domain read models, and a desk that plays
small cases through it: shared by the read models' unit and integration tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

from keys.store import InMemoryKeyStore
from ledger.actors import Actor, Channel, Role
from ledger.application import CaseLedger
from ledger.commands import Command
from projections.audit_index import AuditIndex
from projections.case_board import CaseBoard
from projections.catalog_view import CatalogView
from projections.database import Database, open_database, open_recorder
from projections.models import default_read_models
from projections.runtime import ProjectionRunner, ReadModel
from projections.statistics import Statistics
from projections.supervision import Supervision
from tests.scenarios import APPLICANT, BUSINESS, COMPANY, COURIER, DESK, doc, officer
from tests.unit.ledger.conftest import T0, make_ledger

SOLE_TRADER = "11512000MB1578349K000112005000"  # 个体工商户设立登记: 1 day, zero-visit target
REAL_ESTATE = "11512000MB1532340D000105002000"  # 企业不动产登记: 5 days, site inspection, zrzyghj
MATERIALS = {
    BUSINESS: ("sqs", "zc", "rzwj", "zszm", "wtsh"),
    SOLE_TRADER: ("sqs", "sfzm", "csbm"),
    REAL_ESTATE: ("sqs", "yyzz", "qsly", "wszm", "djdc"),
}
LEAD = officer("scjgj")
_M = TypeVar("_M", bound=ReadModel)


def memory_database() -> Database:
    """A private in-memory SQLite database that every pooled connection shares."""
    name = f"file:views-{uuid4().hex}?mode=memory&cache=shared"
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": name}
    return open_database(open_recorder(env, "views"))


@dataclass
class Views:
    """A ledger, the default read models and the runner that feeds them."""

    ledger: CaseLedger
    store: InMemoryKeyStore
    database: Database
    runner: ProjectionRunner
    models: dict[str, ReadModel] = field(default_factory=dict)

    def run(self) -> int:
        """Catch every model up with the log."""
        return self.runner.run_once()

    @property
    def board(self) -> CaseBoard:
        return self._model("case_board", CaseBoard)

    @property
    def supervision(self) -> Supervision:
        return self._model("supervision", Supervision)

    @property
    def statistics(self) -> Statistics:
        return self._model("statistics", Statistics)

    @property
    def audit(self) -> AuditIndex:
        return self._model("audit_index", AuditIndex)

    @property
    def catalog(self) -> CatalogView:
        return self._model("catalog_view", CatalogView)

    def _model(self, name: str, kind: type[_M]) -> _M:
        model = self.models[name]
        assert isinstance(model, kind)
        return model


def open_views(env: dict[str, str] | None = None, **runner_options: Any) -> Views:
    """Views over a provisioned ledger: in memory by default, else over ``env``'s database."""
    ledger, store = make_ledger(env)
    models = default_read_models(ledger.calendar)
    database = memory_database() if env is None else None
    runner = ProjectionRunner(ledger.recorder, models, database=database, **runner_options)
    return Views(ledger, store, runner.database, runner, {m.name: m for m in models})


def local_day(day: int, hour: int = 9) -> datetime:
    """A time on day ``day`` of March 2026, at ``hour`` o'clock in China (as UTC)."""
    return T0 + timedelta(days=day - 2, hours=hour - 9)


@dataclass
class Desk:
    """Plays small cases through the ledger, each command at the time given."""

    ledger: CaseLedger

    def submit(
        self,
        item: str,
        at: datetime,
        *,
        window: bool = False,
        holder: str = COMPANY,
        actor: Actor = APPLICANT,
    ) -> UUID:
        """Submit ``item`` with every material, online or at the window."""
        channel = Channel.WINDOW if window else Channel.ONLINE
        return self.ledger.submit(
            Command(at=at, actor=actor, channel=channel),
            submission_id=uuid4().hex,
            item_code=item,
            applicant_id=holder,
            materials={code: doc(code) for code in MATERIALS[item]},
        )

    def receive(self, case_id: UUID, at: datetime) -> date:
        """Receive at the front desk."""
        return self.ledger.receive(case_id, Command(at=at, actor=DESK, channel=Channel.WINDOW))

    def grant(self, case_id: UUID, at: datetime) -> None:
        """The lead approves and grants."""
        self.ledger.give_opinion(case_id, Command(at=at, actor=LEAD), approve=True)
        self.ledger.decide(
            case_id, Command(at=at + timedelta(minutes=1), actor=LEAD), grant=True, legal_basis="法"
        )

    def finish(
        self, case_id: UUID, at: datetime, *, pickup: bool = False, stars: int | None = None
    ) -> None:
        """Issue, hand over (courier or window), close and perhaps rate."""
        step = timedelta(minutes=1)
        self.ledger.issue_license(case_id, Command(at=at, actor=LEAD))
        if pickup:
            self.ledger.pick_up(
                case_id, Command(at=at + step, actor=APPLICANT, channel=Channel.WINDOW)
            )
        else:
            self.ledger.dispatch(
                case_id,
                Command(at=at + step, actor=DESK, channel=Channel.WINDOW),
                courier="ems",
                tracking_number="EA1CN",
            )
            self.ledger.deliver(
                case_id,
                Command(at=at + 2 * step, actor=COURIER, channel=Channel.COURIER),
                signed_by="张三",
                report={},
            )
        self.ledger.close_case(case_id, Command(at=at + 3 * step, actor=LEAD))
        if stars is not None:
            self.ledger.rate(
                case_id,
                Command(at=at + 4 * step, actor=APPLICANT, channel=Channel.ONLINE),
                stars=stars,
            )

    def visit(self, case_id: UUID, at: datetime, reason: str = "核验原件") -> None:
        """Record an in-person visit at the window."""
        self.ledger.record_visit(
            case_id, Command(at=at, actor=APPLICANT, channel=Channel.WINDOW), reason=reason
        )

    def notify(self, case_id: UUID, at: datetime, actor: Actor = DESK) -> None:
        """Give the one-time correction notice for the application form."""
        self.ledger.notify_correction(
            case_id,
            Command(at=at, actor=actor, channel=Channel.WINDOW),
            items={"sqs": "签字缺失"},
            text="请补正申请书签字",
        )

    def correct(self, case_id: UUID, at: datetime) -> None:
        """Re-supply the application form online."""
        self.ledger.correct(
            case_id,
            Command(at=at, actor=APPLICANT, channel=Channel.ONLINE),
            materials={"sqs": doc("signed form")},
        )


PROXY = Actor("officer-wang", Role.OFFICER, department="zwfwzx", on_behalf_of=COMPANY)


def play_statistics_cases(desk: Desk) -> dict[str, UUID]:
    """Four small cases whose figures are worked out by hand in the statistics tests.

    a: business, online, decided in 2 working days, courier, 5 stars (0 visits, on time);
    b: business, window, decided in 5 (late), picked up, 3 stars (2 visits);
    c: sole trader, online, paused for a correction, one recorded visit, decided in 2, 4 stars;
    d: business, received and still under review.
    """
    a = desk.submit(BUSINESS, local_day(2))
    desk.receive(a, local_day(2, 10))
    desk.grant(a, local_day(4))
    desk.finish(a, local_day(4, 10), stars=5)
    b = desk.submit(BUSINESS, local_day(2), window=True)
    desk.receive(b, local_day(2, 10))
    desk.grant(b, local_day(9))
    desk.finish(b, local_day(10), pickup=True, stars=3)
    c = desk.submit(SOLE_TRADER, local_day(2))
    desk.receive(c, local_day(2, 10))
    desk.notify(c, local_day(2, 11))
    desk.correct(c, local_day(4))
    desk.visit(c, local_day(4, 10))
    desk.grant(c, local_day(5))
    desk.finish(c, local_day(5, 10), stars=4)
    d = desk.submit(BUSINESS, local_day(3))
    desk.receive(d, local_day(3, 10))
    return {"a": a, "b": b, "c": c, "d": d}
