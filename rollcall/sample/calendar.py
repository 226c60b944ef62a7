"""The district calendar (holidays, breaks, PD days, half days) and the academic sessions.

Every school follows the district calendar except the last one, which has one extra
school-site professional-development day. Nothing here depends on the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from rollcall.sample.dates import nth_weekday, weekdays

INSTRUCTIONAL_DAYS = 180  # student days (value > 0) in the district calendar

Day = tuple[date, str, str, str]  # date, instructionalValue, dayType, description


@dataclass(frozen=True)
class Calendar:
    school_year: int
    first_day: date
    last_day: date  # last day of school (inclusive)
    days: tuple[date, ...]  # the district's instructional days, in order
    rows: tuple[Day, ...]  # every weekday of the year, district calendar
    extra_pd: date  # the last school's school-site PD day (a district instructional day)
    event_days: tuple[int, ...]  # indexes into ``days`` usable for mid-year events

    @property
    def year_end(self) -> date:
        """Exclusive end of the school year."""
        return self.last_day + timedelta(days=1)

    @property
    def extra_pd_index(self) -> int:
        return self.days.index(self.extra_pd)

    def school_rows(self, has_extra_pd: bool) -> tuple[Day, ...]:
        if not has_extra_pd:
            return self.rows
        site = (self.extra_pd, "0", "professionalDevelopment", "School-site professional development day")
        return tuple(site if row[0] == self.extra_pd else row for row in self.rows)


def build_calendar(school_year: int) -> Calendar:
    special = special_days(school_year)
    first = first_day(school_year)
    days: list[date] = []
    day = first
    while len(days) < INSTRUCTIONAL_DAYS:
        if day.weekday() < 5 and (day not in special or special[day][0] != "0"):
            days.append(day)
        day += timedelta(days=1)
    last = days[-1]
    extra_pd = nth_weekday(school_year - 1, 10, 4, -1)  # last Friday of October
    while extra_pd in special or extra_pd == first:
        extra_pd -= timedelta(days=7)
    rows = []
    for day in weekdays(first, last):
        if day == first:
            rows.append((day, "1", "instructional", "First day of school"))
        elif day == last:
            rows.append((day, "0.5", "halfDay", "Last day of school (early release)"))
        else:
            rows.append((day, *special.get(day, ("1", "instructional", ""))))
    events = tuple(i for i, d in enumerate(days) if i > 0 and d != extra_pd)
    return Calendar(school_year, first, last, tuple(days), tuple(rows), extra_pd, events)


def first_day(school_year: int) -> date:
    """The Monday closest to Aug 25 of the calendar year the school year starts in."""
    anchor = date(school_year - 1, 8, 25)
    shift = -anchor.weekday() if anchor.weekday() <= 3 else 7 - anchor.weekday()
    return anchor + timedelta(days=shift)


def special_days(school_year: int) -> dict[date, tuple[str, str, str]]:
    """date -> (instructionalValue, dayType, description) for non-regular weekdays."""
    special: dict[date, tuple[str, str, str]] = {}

    def put(day: date, value: str, kind: str, text: str) -> None:
        if day.weekday() < 5 and day not in special:
            special[day] = (value, kind, text)

    for day, value, kind, text in (*_fall_days(school_year - 1), *_winter_days(school_year - 1)):
        put(day, value, kind, text)
    for day, value, kind, text in _spring_days(school_year):
        put(day, value, kind, text)
    return special


def _fall_days(fall: int) -> list[tuple[date, str, str, str]]:
    thanksgiving = nth_weekday(fall, 11, 3, 4)
    return [
        (nth_weekday(fall, 9, 0, 1), "0", "holiday", "Labor Day"),
        (nth_weekday(fall, 10, 0, 2), "0", "professionalDevelopment", "Professional development day"),
        (thanksgiving, "0", "holiday", "Thanksgiving Day"),
        (thanksgiving + timedelta(days=1), "0", "holiday", "Day after Thanksgiving"),
        (thanksgiving - timedelta(days=1), "0.5", "halfDay", "Early release before Thanksgiving"),
    ]


def _winter_days(fall: int) -> list[tuple[date, str, str, str]]:
    """Ten weekdays of winter break from the Monday of the week of Dec 24 (next Monday on a weekend)."""
    dec24 = date(fall, 12, 24)
    start = dec24 - timedelta(days=dec24.weekday())
    if dec24.weekday() >= 5:
        start = dec24 + timedelta(days=7 - dec24.weekday())
    breaks = weekdays(start, start + timedelta(days=11))
    out = [(day, "0", "break", "Winter break") for day in breaks]
    out.append((start - timedelta(days=3), "0.5", "halfDay", "Early release before winter break"))
    out.append((date(fall + 1, 1, 1), "0", "holiday", "New Year's Day"))
    work_day = breaks[-1] + timedelta(days=3)  # the Monday after
    out.append((work_day, "0", "professionalDevelopment", "Teacher work day (no school for students)"))
    return out


def _spring_days(spring: int) -> list[tuple[date, str, str, str]]:
    presidents = nth_weekday(spring, 2, 0, 3)
    spring_break = nth_weekday(spring, 3, 0, 3)
    return [
        (nth_weekday(spring, 1, 0, 3), "0", "holiday", "Martin Luther King Jr. Day"),
        (presidents, "0", "holiday", "Presidents' Day"),
        (presidents - timedelta(days=3), "0", "professionalDevelopment", "Professional development day"),
        *[(d, "0", "break", "Spring break") for d in weekdays(spring_break, spring_break + timedelta(days=4))],
        (nth_weekday(spring, 5, 0, -1), "0", "holiday", "Memorial Day"),
        (date(spring, 6, 19), "0", "holiday", "Juneteenth"),
    ]


def sessions(calendar: Calendar) -> list[tuple[str, str, str, date, date, str]]:
    """(sourcedId, title, type, start, exclusive end, parent): the year, two semesters, four quarters."""
    days, y = calendar.days, calendar.school_year
    n, title, year_id = len(days), f"{y - 1}-{y}", f"as-{y}"
    s2, q2, q4 = days[n // 2], days[round(n / 4)], days[round(3 * n / 4)]
    first, end = calendar.first_day, calendar.year_end
    s1_id, s2_id = f"as-{y}-s1", f"as-{y}-s2"
    return [
        (year_id, title, "schoolYear", first, end, ""),
        (s1_id, f"Semester 1 {title}", "semester", first, s2, year_id),
        (s2_id, f"Semester 2 {title}", "semester", s2, end, year_id),
        (f"as-{y}-q1", f"Q1 {title}", "term", first, q2, s1_id),
        (f"as-{y}-q2", f"Q2 {title}", "term", q2, s2, s1_id),
        (f"as-{y}-q3", f"Q3 {title}", "term", s2, q4, s2_id),
        (f"as-{y}-q4", f"Q4 {title}", "term", q4, end, s2_id),
    ]
