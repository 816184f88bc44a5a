"""Working-day calendar: holiday edges, the day-after rule, pauses, unknown years, data checks."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.calendar import Deadline, Pause, WorkingCalendar, load_calendar
from ledger.errors import (
    CalendarDataInvalid,
    CalendarError,
    CalendarYearUnknown,
    InvalidPeriod,
    LedgerError,
)

CALENDAR = load_calendar()
FALLBACK = load_calendar(provisional_fallback=True)

# Inputs for the properties stay far enough before 2027 that 2n working days never leave the
# known years (60 working days are under three months, even across National Day).
STARTS = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 8, 31))
PERIODS = st.integers(min_value=0, max_value=30)


def year_doc(**changes: Any) -> dict[str, Any]:
    """A valid weekends-and-one-holiday document for 2030, with top-level fields replaced."""
    doc: dict[str, Any] = {
        "year": 2030,
        "notice": {
            "title": "国务院办公厅关于2030年部分节假日安排的通知",
            "document_number": "国办发明电〔2029〕1号",
            "issued": "2029-11-01",
            "sources": ["https://example.org/2030"],
        },
        "holidays": [
            {
                "name_zh": "元旦",
                "name_en": "New Year's Day",
                "start": "2030-01-01",
                "end": "2030-01-01",
            }
        ],
        "makeup_working_days": [{"date": "2030-01-05", "holiday": "元旦"}],
    }
    doc.update(changes)
    return doc


def packaged(year: int) -> dict[str, Any]:
    """The shipped data file of ``year``, parsed."""
    path = Path(__file__).resolve().parents[3] / "ledger" / "data" / "holidays" / f"{year}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


# --- the shipped notices ------------------------------------------------------------------------


def test_loads_the_packaged_notices_for_2025_and_2026() -> None:
    assert {2025, 2026} <= set(CALENDAR.known_years)
    by_year = {n.year: n for n in CALENDAR.notices}
    assert by_year[2025].document_number == "国办发明电〔2024〕12号"
    assert by_year[2026].document_number == "国办发明电〔2025〕7号"


def test_counts_every_published_holiday_and_make_up_day() -> None:
    by_year = {n.year: n for n in CALENDAR.notices}
    assert sum(len(list(h.days())) for h in by_year[2025].holidays) == 28
    assert sum(len(list(h.days())) for h in by_year[2026].holidays) == 33
    assert [m.day for m in by_year[2025].makeup_days] == [
        date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27),
        date(2025, 9, 28), date(2025, 10, 11),
    ]  # fmt: skip
    assert [m.day for m in by_year[2026].makeup_days] == [
        date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28),
        date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10),
    ]  # fmt: skip


def test_a_holiday_on_a_weekday_is_not_a_working_day() -> None:
    assert not CALENDAR.is_working_day(date(2025, 10, 8))  # Wednesday, National Day
    assert not CALENDAR.is_working_day(date(2026, 2, 23))  # Monday, Spring Festival
    assert CALENDAR.is_working_day(date(2026, 2, 24))


def test_a_plain_weekend_is_not_a_working_day() -> None:
    assert not CALENDAR.is_working_day(date(2025, 3, 8))
    assert not CALENDAR.is_working_day(date(2025, 3, 9))


# --- the day-after rule and holiday edges ---------------------------------------------------------


def test_counting_starts_on_the_day_after_receipt() -> None:
    friday = date(2025, 3, 7)
    assert CALENDAR.add_working_days(friday, 3) == Deadline(due=date(2025, 3, 12))
    assert CALENDAR.add_working_days(date(2025, 3, 10), 1).due == date(2025, 3, 11)


def test_an_immediate_item_is_due_on_the_day_of_receipt() -> None:
    assert CALENDAR.add_working_days(date(2025, 3, 8), 0) == Deadline(due=date(2025, 3, 8))


def test_a_deadline_spanning_spring_festival_2026_skips_the_nine_days() -> None:
    # Fri 13 Feb received; Sat 14 is a make-up day; 15–23 Feb are the holiday.
    deadline = CALENDAR.add_working_days(date(2026, 2, 13), 3)
    assert deadline == Deadline(due=date(2026, 2, 25), provisional=False, paused=False)


def test_a_deadline_spanning_national_day_2025_skips_the_eight_days() -> None:
    # Tue 30 Sep received; 1–8 Oct are the holiday; Sat 11 Oct is a make-up day.
    assert CALENDAR.add_working_days(date(2025, 9, 30), 5).due == date(2025, 10, 14)


def test_a_make_up_saturday_counts_as_a_working_day() -> None:
    assert CALENDAR.is_working_day(date(2026, 2, 28))
    assert CALENDAR.add_working_days(date(2026, 2, 27), 1).due == date(2026, 2, 28)


def test_a_make_up_sunday_counts_as_a_working_day() -> None:
    assert CALENDAR.add_working_days(date(2025, 9, 26), 1).due == date(2025, 9, 28)


def test_a_receipt_on_a_holiday_starts_counting_on_the_next_working_day_after_it() -> None:
    assert CALENDAR.add_working_days(date(2025, 10, 3), 1).due == date(2025, 10, 9)
    assert CALENDAR.add_working_days(date(2025, 1, 1), 1).due == date(2025, 1, 2)


def test_working_days_between_counts_after_start_up_to_and_including_end() -> None:
    assert CALENDAR.working_days_between(date(2025, 3, 7), date(2025, 3, 12)) == 3
    assert CALENDAR.working_days_between(date(2025, 9, 30), date(2025, 10, 14)) == 5
    assert CALENDAR.working_days_between(date(2025, 3, 7), date(2025, 3, 7)) == 0


def test_working_days_between_is_zero_when_end_is_before_start() -> None:
    assert CALENDAR.working_days_between(date(2025, 3, 12), date(2025, 3, 7)) == 0


# --- pauses ---------------------------------------------------------------------------------------


def test_a_closed_pause_stops_the_clock_until_its_end_date() -> None:
    # Received Wed 5 Mar; correction pending from Fri 7 until Tue 11 (counting resumes on the 11th).
    pause = Pause(start=date(2025, 3, 7), end=date(2025, 3, 11))
    assert CALENDAR.add_working_days(date(2025, 3, 5), 5).due == date(2025, 3, 12)
    assert CALENDAR.add_working_days(date(2025, 3, 5), 5, [pause]).due == date(2025, 3, 14)
    assert CALENDAR.working_days_between(date(2025, 3, 5), date(2025, 3, 14), [pause]) == 5


def test_a_pause_covering_only_a_weekend_does_not_extend_the_deadline() -> None:
    weekend = Pause(start=date(2025, 3, 8), end=date(2025, 3, 10))
    assert CALENDAR.add_working_days(date(2025, 3, 5), 5, [weekend]).due == date(2025, 3, 12)


def test_overlapping_pauses_do_not_stop_the_clock_twice() -> None:
    pauses = [
        Pause(date(2025, 3, 7), date(2025, 3, 11)),
        Pause(date(2025, 3, 10), date(2025, 3, 11)),
    ]
    assert CALENDAR.add_working_days(date(2025, 3, 5), 5, pauses).due == date(2025, 3, 14)


def test_an_open_pause_leaves_the_deadline_without_a_due_date() -> None:
    open_pause = Pause(start=date(2025, 3, 7))
    deadline = CALENDAR.add_working_days(date(2025, 3, 5), 5, [open_pause])
    assert deadline == Deadline(due=None, provisional=False, paused=True)


def test_an_open_pause_after_the_due_date_changes_nothing() -> None:
    late = Pause(start=date(2025, 3, 20))
    assert CALENDAR.add_working_days(date(2025, 3, 5), 5, [late]) == Deadline(date(2025, 3, 12))


def test_working_days_inside_an_open_pause_are_not_counted() -> None:
    open_pause = Pause(start=date(2025, 3, 10))
    assert CALENDAR.working_days_between(date(2025, 3, 5), date(2025, 3, 31), [open_pause]) == 2


def test_rejects_a_pause_that_ends_before_it_starts() -> None:
    with pytest.raises(
        InvalidPeriod, match=r"on or after its start 2025-03-10, got end 2025-03-09"
    ):
        Pause(start=date(2025, 3, 10), end=date(2025, 3, 9))


def test_rejects_a_negative_period() -> None:
    with pytest.raises(InvalidPeriod, match=r"at least 0 working days, got -1"):
        CALENDAR.add_working_days(date(2025, 3, 5), -1)


def test_rejects_a_deadline_that_is_paused_and_due_at_once() -> None:
    with pytest.raises(InvalidPeriod, match=r"got due=2025-03-05 with paused=True"):
        Deadline(due=date(2025, 3, 5), paused=True)


# --- unknown years ------------------------------------------------------------------------------


def test_a_deadline_reaching_an_unknown_year_raises_naming_the_year_and_known_years() -> None:
    with pytest.raises(CalendarYearUnknown, match=r"2027: expected one of .*2025, 2026") as info:
        CALENDAR.add_working_days(date(2026, 12, 30), 5)
    assert info.value.year == 2027
    assert isinstance(info.value, CalendarError)
    assert isinstance(info.value, LedgerError)


def test_is_working_day_in_an_unknown_year_raises() -> None:
    with pytest.raises(CalendarYearUnknown, match=r"no holiday notice loaded for 2024"):
        CALENDAR.is_working_day(date(2024, 10, 1))


def test_the_provisional_fallback_counts_weekends_only_and_flags_the_result() -> None:
    # 31 Dec 2026 is a known working day; 1 Jan 2027 has no notice, so only weekends are skipped.
    deadline = FALLBACK.add_working_days(date(2026, 12, 30), 5)
    assert deadline == Deadline(due=date(2027, 1, 6), provisional=True, paused=False)


def test_the_provisional_fallback_leaves_known_years_unflagged() -> None:
    assert FALLBACK.add_working_days(date(2026, 2, 13), 3) == Deadline(date(2026, 2, 25))


def test_a_calendar_without_notices_raises_for_every_date() -> None:
    empty = WorkingCalendar.from_data([])
    with pytest.raises(CalendarYearUnknown, match=r"known years \(none\)"):
        empty.is_working_day(date(2025, 3, 5))


# --- data validation ------------------------------------------------------------------------------


def test_builds_a_calendar_from_a_valid_mapping() -> None:
    calendar = WorkingCalendar.from_data([year_doc()])
    assert calendar.known_years == (2030,)
    assert not calendar.is_working_day(date(2030, 1, 1))
    assert calendar.is_working_day(date(2030, 1, 5))  # a make-up Saturday


def test_rejects_a_holiday_outside_its_year() -> None:
    doc = year_doc()
    doc["holidays"][0]["end"] = "2031-01-02"
    with pytest.raises(CalendarDataInvalid, match=r"元旦 ends 2031-01-02, expected a date in 2030"):
        WorkingCalendar.from_data([doc])


def test_rejects_a_make_up_day_on_a_weekday() -> None:
    doc = year_doc(makeup_working_days=[{"date": "2030-01-07", "holiday": "元旦"}])
    with pytest.raises(CalendarDataInvalid, match=r"2030-01-07 expected on a Saturday or Sunday"):
        WorkingCalendar.from_data([doc])


def test_rejects_a_date_that_is_both_holiday_and_make_up_day() -> None:
    doc = year_doc()
    doc["holidays"][0]["end"] = "2030-01-06"
    with pytest.raises(CalendarDataInvalid, match=r"holiday or a make-up day, got both"):
        WorkingCalendar.from_data([doc])


def test_rejects_overlapping_holidays() -> None:
    doc = year_doc()
    doc["holidays"].append(
        {
            "name_zh": "春节",
            "name_en": "Spring Festival",
            "start": "2030-01-01",
            "end": "2030-01-02",
        }
    )
    with pytest.raises(CalendarDataInvalid, match=r"2030-01-01 expected in one holiday"):
        WorkingCalendar.from_data([doc])


def test_rejects_a_holiday_that_ends_before_it_starts() -> None:
    doc = year_doc()
    doc["holidays"][0].update(start="2030-01-03", end="2030-01-01")
    with pytest.raises(CalendarDataInvalid, match=r"must end on or after 2030-01-03"):
        WorkingCalendar.from_data([doc])


def test_rejects_a_make_up_day_naming_no_holiday_of_the_notice() -> None:
    doc = year_doc(makeup_working_days=[{"date": "2030-01-05", "holiday": "春节"}])
    with pytest.raises(
        CalendarDataInvalid, match=r"name a holiday of the notice \(元旦\), got '春节'"
    ):
        WorkingCalendar.from_data([doc])


def test_rejects_unexpected_keys() -> None:
    doc = year_doc(holidayz=[])
    with pytest.raises(
        CalendarDataInvalid, match=r"expected the document with keys .* got .*holidayz"
    ):
        WorkingCalendar.from_data([doc])


def test_rejects_a_date_not_in_yyyy_mm_dd_form() -> None:
    doc = year_doc()
    doc["holidays"][0]["start"] = "20300101"
    with pytest.raises(CalendarDataInvalid, match=r"holiday start as YYYY-MM-DD, got '20300101'"):
        WorkingCalendar.from_data([doc])


def test_rejects_a_boolean_year() -> None:
    with pytest.raises(CalendarDataInvalid, match=r"expected year as an integer .* got True"):
        WorkingCalendar.from_data([year_doc(year=True)])


def test_rejects_two_notices_for_the_same_year() -> None:
    with pytest.raises(CalendarDataInvalid, match=r"one notice per year, got several for \[2030\]"):
        WorkingCalendar.from_data([year_doc(), year_doc()])


def test_loads_a_year_from_a_data_file_alone(tmp_path: Path) -> None:
    (tmp_path / "2030.json").write_text(json.dumps(year_doc()), encoding="utf-8")
    assert load_calendar(directory=tmp_path).known_years == (2030,)


def test_rejects_a_data_file_whose_name_and_year_disagree(tmp_path: Path) -> None:
    (tmp_path / "2031.json").write_text(json.dumps(year_doc()), encoding="utf-8")
    with pytest.raises(CalendarDataInvalid, match=r"2031.json: expected year 2031, got year 2030"):
        load_calendar(directory=tmp_path)


def test_rejects_a_data_file_with_a_bad_holiday_and_names_the_file(tmp_path: Path) -> None:
    doc = packaged(2026)
    doc["holidays"][0]["start"] = "2025-12-31"
    (tmp_path / "2026.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CalendarDataInvalid, match=r"^2026.json: holiday 元旦 starts 2025-12-31"):
        load_calendar(directory=tmp_path)


def test_rejects_a_data_file_that_is_not_json(tmp_path: Path) -> None:
    (tmp_path / "2030.json").write_text("{", encoding="utf-8")
    with pytest.raises(CalendarDataInvalid, match=r"2030.json: expected UTF-8 JSON"):
        load_calendar(directory=tmp_path)


def test_rejects_a_json_file_not_named_after_a_year(tmp_path: Path) -> None:
    (tmp_path / "holidays.json").write_text(json.dumps(year_doc()), encoding="utf-8")
    with pytest.raises(
        CalendarDataInvalid, match=r"holidays.json: expected a file named YYYY.json"
    ):
        load_calendar(directory=tmp_path)


def test_rejects_a_folder_without_year_files(tmp_path: Path) -> None:
    with pytest.raises(CalendarDataInvalid, match=r"expected at least one YYYY.json, got none"):
        load_calendar(directory=tmp_path)


def test_building_a_calendar_does_not_modify_the_input_mapping() -> None:
    doc = year_doc()
    before = copy.deepcopy(doc)
    WorkingCalendar.from_data([doc])
    assert doc == before


# --- properties -----------------------------------------------------------------------------------


@given(start=STARTS, n=PERIODS)
def test_adding_n_then_n_more_equals_adding_2n(start: date, n: int) -> None:
    first = CALENDAR.add_working_days(start, n).due
    assert first is not None
    assert CALENDAR.add_working_days(first, n).due == CALENDAR.add_working_days(start, 2 * n).due


@given(start=STARTS, n=st.integers(min_value=1, max_value=60))
def test_the_due_date_is_always_a_working_day(start: date, n: int) -> None:
    due = CALENDAR.add_working_days(start, n).due
    assert due is not None
    assert CALENDAR.is_working_day(due)


@given(start=STARTS, n=st.integers(min_value=0, max_value=60))
def test_working_days_between_start_and_due_is_the_period(start: date, n: int) -> None:
    due = CALENDAR.add_working_days(start, n).due
    assert due is not None
    assert CALENDAR.working_days_between(start, due) == n


@given(
    start=STARTS,
    n=st.integers(min_value=1, max_value=30),
    spans=st.lists(
        st.tuples(st.integers(min_value=-5, max_value=40), st.integers(min_value=0, max_value=15)),
        max_size=3,
    ),
)
def test_closed_pauses_only_ever_push_the_due_date_later_by_the_paused_days(
    start: date, n: int, spans: list[tuple[int, int]]
) -> None:
    pauses = [Pause(start + timedelta(days=a), start + timedelta(days=a + b)) for a, b in spans]
    plain = CALENDAR.add_working_days(start, n).due
    paused = CALENDAR.add_working_days(start, n, pauses).due
    assert plain is not None and paused is not None
    assert paused >= plain
    assert CALENDAR.working_days_between(start, paused, pauses) == n
    assert CALENDAR.is_working_day(paused)
    assert not any(p.covers(paused) for p in pauses)
