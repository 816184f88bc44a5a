"""The working-day calendar behind every time limit (case rule 6): weekends, public holidays and
make-up working days (调休) from each year's State Council General Office notice. Periods count
working days without statutory holidays (行政许可法 第八十二条), from the day after receipt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from importlib.resources.abc import Traversable

from ledger.errors import CalendarDataInvalid, CalendarYearUnknown, InvalidPeriod

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5
_FILE_NAME = re.compile(r"^(\d{4})\.json$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TOP_KEYS = frozenset({"year", "notice", "holidays", "makeup_working_days"})
_NOTICE_KEYS = frozenset({"title", "document_number", "issued", "sources"})
_HOLIDAY_KEYS = frozenset({"name_zh", "name_en", "start", "end"})
_MAKEUP_KEYS = frozenset({"date", "holiday"})


@dataclass(frozen=True)
class Pause:
    """The clock stopped from ``start`` (inclusive) to ``end`` (exclusive); ``end=None`` is open."""

    start: date
    end: date | None = None

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise InvalidPeriod(
                f"a pause must end on or after its start {self.start}, got end {self.end}"
            )

    def covers(self, day: date) -> bool:
        """Whether the clock is stopped on ``day``."""
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True)
class Deadline:
    """A computed due date; ``due`` is None exactly while an open pause stops the clock."""

    due: date | None
    provisional: bool = False
    paused: bool = False

    def __post_init__(self) -> None:
        if (self.due is None) != self.paused:
            raise InvalidPeriod(
                "a deadline has no due date exactly when it is paused, "
                f"got due={self.due} with paused={self.paused}"
            )


@dataclass(frozen=True)
class Holiday:
    """One public holiday of a notice: its names and inclusive date range."""

    name_zh: str
    name_en: str
    start: date
    end: date

    def days(self) -> Iterable[date]:
        """Every date of the holiday, first to last."""
        day = self.start
        while day <= self.end:
            yield day
            day += _ONE_DAY


@dataclass(frozen=True)
class MakeupDay:
    """A weekend day declared a working day (调休上班), and the holiday it makes up for."""

    day: date
    holiday: str


@dataclass(frozen=True)
class HolidayNotice:
    """One year's holiday arrangement, as published in a State Council General Office notice."""

    year: int
    title: str
    document_number: str
    issued: date
    sources: tuple[str, ...]
    holidays: tuple[Holiday, ...]
    makeup_days: tuple[MakeupDay, ...]

    def __post_init__(self) -> None:
        _check_notice(self)


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days of the known years; other years raise unless ``provisional_fallback`` is set."""

    notices: tuple[HolidayNotice, ...]
    provisional_fallback: bool = False
    _holidays: frozenset[date] = field(init=False, repr=False, compare=False)
    _makeup_days: frozenset[date] = field(init=False, repr=False, compare=False)
    _years: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        years = [notice.year for notice in self.notices]
        duplicates = sorted({y for y in years if years.count(y) > 1})
        if duplicates:
            raise CalendarDataInvalid(
                "calendar", f"expected one notice per year, got several for {duplicates}"
            )
        # Frozen dataclass: the derived look-up sets are set once, here, and never change.
        holidays = frozenset(d for n in self.notices for h in n.holidays for d in h.days())
        makeup = frozenset(m.day for n in self.notices for m in n.makeup_days)
        object.__setattr__(self, "_holidays", holidays)
        object.__setattr__(self, "_makeup_days", makeup)
        object.__setattr__(self, "_years", frozenset(years))

    @classmethod
    def from_data(
        cls, years: Iterable[Mapping[str, object]], *, provisional_fallback: bool = False
    ) -> WorkingCalendar:
        """Build a calendar from parsed year documents (the JSON files' shape)."""
        notices = tuple(
            parse_notice(data, source=f"holiday data #{i}") for i, data in enumerate(years)
        )
        return cls(notices=notices, provisional_fallback=provisional_fallback)

    @property
    def known_years(self) -> tuple[int, ...]:
        """The years with a loaded notice, ascending."""
        return tuple(sorted(self._years))

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a working day (weekends only in a fallback year)."""
        return self._classify(d)[0]

    def add_working_days(self, start: date, days: int, pauses: Sequence[Pause] = ()) -> Deadline:
        """The date on which ``days`` working days after ``start`` have elapsed, minus pauses."""
        if days < 0:
            raise InvalidPeriod(f"a period must be at least 0 working days, got {days}")
        open_from = min((p.start for p in pauses if p.end is None), default=None)
        counted = 0
        provisional = False
        day = start
        # The day of receipt is never counted (期间开始的当日不计入); a period of 0 days is an
        # immediate item (即办件), due on the day of receipt itself.
        while counted < days:
            day += _ONE_DAY
            if open_from is not None and day >= open_from:
                return Deadline(due=None, provisional=provisional, paused=True)
            if any(p.covers(day) for p in pauses):
                continue
            working, guessed = self._classify(day)
            provisional = provisional or guessed
            if working:
                counted += 1
        return Deadline(due=day, provisional=provisional, paused=False)

    def working_days_between(self, start: date, end: date, pauses: Sequence[Pause] = ()) -> int:
        """Working days after ``start`` up to and including ``end``, minus paused ones (≥ 0)."""
        count = 0
        day = start + _ONE_DAY
        while day <= end:
            if not any(p.covers(day) for p in pauses) and self._classify(day)[0]:
                count += 1
            day += _ONE_DAY
        return count

    def _classify(self, d: date) -> tuple[bool, bool]:
        """Return (is a working day, was guessed from weekends alone)."""
        if d.year in self._years:
            if d in self._makeup_days:
                return True, False
            if d in self._holidays:
                return False, False
            return d.weekday() < _SATURDAY, False
        if self.provisional_fallback:
            return d.weekday() < _SATURDAY, True
        raise CalendarYearUnknown(d.year, self.known_years)


def load_calendar(
    *, provisional_fallback: bool = False, directory: Traversable | None = None
) -> WorkingCalendar:
    """Load every ``YYYY.json`` in the package's ``data/holidays`` (or ``directory``)."""
    folder = resources.files("ledger") / "data" / "holidays" if directory is None else directory
    try:
        entries = sorted(folder.iterdir(), key=lambda entry: entry.name)
    except OSError as exc:
        raise CalendarDataInvalid(
            str(folder), f"expected a readable folder of YYYY.json files, got {exc}"
        ) from None
    notices: list[HolidayNotice] = []
    for entry in entries:
        if not entry.name.endswith(".json"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise CalendarDataInvalid(entry.name, "expected a file named YYYY.json")
        try:
            data = json.loads(entry.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CalendarDataInvalid(entry.name, f"expected UTF-8 JSON, got {exc}") from None
        notice = parse_notice(data, source=entry.name)
        if notice.year != int(match.group(1)):
            raise CalendarDataInvalid(
                entry.name, f"expected year {match.group(1)}, got year {notice.year}"
            )
        notices.append(notice)
    if not notices:
        raise CalendarDataInvalid(str(folder), "expected at least one YYYY.json, got none")
    return WorkingCalendar(notices=tuple(notices), provisional_fallback=provisional_fallback)


def parse_notice(data: object, *, source: str) -> HolidayNotice:
    """Validate one year document and turn it into a ``HolidayNotice``."""
    try:
        top = _mapping(data, _TOP_KEYS, "the document")
        notice = _mapping(top["notice"], _NOTICE_KEYS, "notice")
        holidays = tuple(
            Holiday(
                name_zh=_text(h["name_zh"], "holiday name_zh"),
                name_en=_text(h["name_en"], "holiday name_en"),
                start=_date(h["start"], "holiday start"),
                end=_date(h["end"], "holiday end"),
            )
            for h in (
                _mapping(item, _HOLIDAY_KEYS, "a holiday")
                for item in _list(top["holidays"], "holidays")
            )
        )
        makeup_days = tuple(
            MakeupDay(
                day=_date(m["date"], "make-up day date"),
                holiday=_text(m["holiday"], "make-up day holiday"),
            )
            for m in (
                _mapping(item, _MAKEUP_KEYS, "a make-up day")
                for item in _list(top["makeup_working_days"], "makeup_working_days")
            )
        )
        return HolidayNotice(
            year=_year(top["year"]),
            title=_text(notice["title"], "notice title"),
            document_number=_text(notice["document_number"], "notice document_number"),
            issued=_date(notice["issued"], "notice issued"),
            sources=tuple(
                _text(s, "notice source") for s in _list(notice["sources"], "notice sources")
            ),
            holidays=holidays,
            makeup_days=makeup_days,
        )
    except _DataError as exc:
        raise CalendarDataInvalid(source, str(exc)) from None
    except CalendarDataInvalid as exc:
        raise CalendarDataInvalid(source, exc.detail) from None


def _check_notice(notice: HolidayNotice) -> None:
    """Enforce the data rules that keep a notice unambiguous (raises ``CalendarDataInvalid``)."""
    where = f"notice for {notice.year}"

    def fail(detail: str) -> CalendarDataInvalid:
        return CalendarDataInvalid(where, detail)

    if f"{notice.year}年" not in notice.title:
        raise fail(f"expected a title naming {notice.year}年, got {notice.title!r}")
    if not notice.holidays:
        raise fail("expected at least one holiday, got none")
    seen: dict[date, str] = {}
    for holiday in notice.holidays:
        for label, d in (("starts", holiday.start), ("ends", holiday.end)):
            if d.year != notice.year:
                raise fail(
                    f"holiday {holiday.name_zh} {label} {d}, expected a date in {notice.year}"
                )
        if holiday.end < holiday.start:
            raise fail(
                f"holiday {holiday.name_zh} must end on or after {holiday.start}, "
                f"got end {holiday.end}"
            )
        for d in holiday.days():
            if d in seen:
                raise fail(f"{d} expected in one holiday, got both {seen[d]} and {holiday.name_zh}")
            seen[d] = holiday.name_zh
    names = {h.name_zh for h in notice.holidays}
    makeup_seen: set[date] = set()
    for makeup in notice.makeup_days:
        d = makeup.day
        if d.year != notice.year:
            raise fail(f"make-up day {d}, expected a date in {notice.year}")
        if d.weekday() < _SATURDAY:
            raise fail(f"make-up day {d} expected on a Saturday or Sunday, got a {d:%A}")
        if d in seen:
            raise fail(f"{d} expected to be a holiday or a make-up day, got both ({seen[d]})")
        if d in makeup_seen:
            raise fail(f"make-up day {d} expected once, got it twice")
        if makeup.holiday not in names:
            raise fail(
                f"make-up day {d} expected to name a holiday of the notice "
                f"({', '.join(sorted(names))}), got {makeup.holiday!r}"
            )
        makeup_seen.add(d)


class _DataError(Exception):
    """A shape problem found while parsing; ``parse_notice`` names the source and re-raises."""


def _mapping(value: object, keys: frozenset[str], what: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise _DataError(f"expected {what} to be an object, got {type(value).__name__}")
    actual = {str(k) for k in value}
    if actual != keys:
        raise CalendarDataInvalid(
            "", f"expected {what} with keys {sorted(keys)}, got {sorted(actual)}"
        )
    return {str(k): v for k, v in value.items()}


def _list(value: object, what: str) -> list[object]:
    if not isinstance(value, list):
        raise _DataError(f"expected {what} to be a list, got {type(value).__name__}")
    return value


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _DataError(f"expected {what} to be a non-empty string, got {value!r}")
    return value


def _date(value: object, what: str) -> date:
    text = _text(value, what)
    try:
        # fromisoformat alone would also take 20250101 and week dates; the files use one form.
        if not _ISO_DATE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise _DataError(f"expected {what} as YYYY-MM-DD, got {text!r}") from None


def _year(value: object) -> int:
    # bool is an int subclass; a JSON true must not pass for a year.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 9999:
        raise _DataError(f"expected year as an integer from 1 to 9999, got {value!r}")
    return value
