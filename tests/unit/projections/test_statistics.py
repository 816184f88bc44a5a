"""The reform's figures over four small cases whose counts are worked out by hand."""

from __future__ import annotations

import pytest

from projections.statistics import Figures
from tests.scenarios import (
    BUSINESS,
    Clock,
    finish_by_courier,
    play_permit_until_decision,
    supplement_all,
)
from tests.unit.ledger.conftest import T0
from tests.unit.projections.ledger_views import (
    SOLE_TRADER,
    Desk,
    Views,
    open_views,
    play_statistics_cases,
)

# a: 0 visits, on time, 2 days, 5 stars; b: 2 visits, late, 5 days, 3 stars;
# c: 1 visit, on time, 2 days, 4 stars; d: received, open.
OVERALL = Figures(
    cases=4,
    closed=3,
    closed_at_most_one_visit=2,
    closed_zero_visits=1,
    decided=3,
    decided_on_time=2,
    timed=3,
    working_days_total=9,
    rated=3,
    stars_total=12,
)
BUSINESS_FIGURES = Figures(4 - 1, 2, 1, 1, 2, 1, 2, 7, 2, 8)
SOLE_TRADER_FIGURES = Figures(1, 1, 1, 0, 1, 1, 1, 2, 1, 4)


@pytest.fixture
def views() -> Views:
    return open_views()


def test_the_figures_of_four_small_cases_match_the_hand_count(views: Views) -> None:
    play_statistics_cases(Desk(views.ledger))
    views.run()
    report = views.statistics.report(views.database)
    assert report.overall == OVERALL
    assert report.item(BUSINESS) == BUSINESS_FIGURES
    assert report.item(SOLE_TRADER) == SOLE_TRADER_FIGURES
    assert [g.key for g in report.by_department] == ["scjgj"]
    assert report.department("scjgj") == OVERALL
    assert [g.name for g in report.by_item] == ["企业设立登记", "个体工商户设立登记"]


def test_shares_rates_and_averages_divide_the_counts(views: Views) -> None:
    play_statistics_cases(Desk(views.ledger))
    views.run()
    overall = views.statistics.report(views.database).overall
    assert overall.share_at_most_one_visit == pytest.approx(2 / 3)
    assert overall.share_zero_visits == pytest.approx(1 / 3)
    assert overall.on_time_rate == pytest.approx(2 / 3)
    assert overall.average_working_days == 3.0
    assert overall.average_stars == 4.0
    business = views.statistics.report(views.database).item(BUSINESS)
    assert (business.average_working_days, business.share_at_most_one_visit) == (3.5, 0.5)


def test_a_permit_closed_by_courier_counts_for_its_lead_department(views: Views) -> None:
    clock = Clock(T0)
    story = play_permit_until_decision(views.ledger, clock, "permit-1")
    supplement_all(views.ledger, clock, story.case_id)
    finish_by_courier(views.ledger, clock, story.case_id)
    views.run()
    zjj = views.statistics.report(views.database).department("zjj")
    # Received on the 2nd, inspected on the 2nd and 3rd, decided on the 4th: one working day.
    assert zjj == Figures(1, 1, 1, 1, 1, 1, 1, 1, 1, 5)


def test_with_no_cases_every_share_and_average_is_none(views: Views) -> None:
    views.run()
    report = views.statistics.report(views.database)
    assert report.overall == Figures()
    assert (report.by_item, report.by_department) == ((), ())
    assert report.overall.share_at_most_one_visit is None
    assert report.overall.on_time_rate is None
    assert report.overall.average_working_days is None
    assert report.overall.average_stars is None
    assert report.item("nope") == Figures()
