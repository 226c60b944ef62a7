"""The invented district every layout is written from: built once from the arguments.

Each concern draws from its own random stream seeded from ``(seed, concern)``, so e.g. the roster
never changes with ``days`` (only the attendance window does).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np

from rollcall.sample import attendance
from rollcall.sample.calendar import INSTRUCTIONAL_DAYS, Calendar, build_calendar
from rollcall.sample.mobility import Segments, build_segments
from rollcall.sample.people import Families, Guardians, Students, assign_usernames, build_guardians, build_students
from rollcall.sample.rosters import Roster, build_roster
from rollcall.sample.schools import MAX_SCHOOLS, School, build_schools
from rollcall.sample.staff import Staff, build_staff
from rollcall.sample.vocab import HIGH, NamePools, name_pools


@dataclass
class District:
    seed: int
    days: int  # instructional days with attendance
    calendar: Calendar
    schools: tuple[School, ...]
    pools: NamePools
    students: Students
    families: Families
    guardians: Guardians
    segments: Segments
    kind: np.ndarray  # per student: mobility.REGULAR / TRANSFER / EXIT / LATE
    roster: Roster
    staff: Staff

    @property
    def last_attendance_day(self) -> date:
        return self.calendar.days[self.days - 1]

    def membership(self) -> attendance.Membership:
        return attendance.Membership(
            seg_student=self.segments.student,
            seg_school=self.segments.school,
            seg_begin=self.segments.begin,
            seg_end=self.segments.end,
            seg_periods=self.roster.periods,
            high=np.isin(self.students.grade, list(HIGH)),
            closed_school=self.schools[-1].index,
            closed_day=self.calendar.extra_pd_index,
            ordinals=np.array([d.toordinal() for d in self.calendar.days], dtype=np.int64),
        )

    def attendance(self) -> Iterator[attendance.Chunk]:
        traits = attendance.student_traits(self.seed, len(self.students))
        return attendance.chunks(self.seed, traits, self.membership(), self.days)


def check_arguments(students, schools, days, seed, school_year, *, minimum_students: int = 1) -> None:
    """ValueError (never TypeError: the CLI handles one error type) for arguments out of range."""
    for name, value in (
        ("students", students),
        ("schools", schools),
        ("days", days),
        ("seed", seed),
        ("school_year", school_year),
    ):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if students < minimum_students:
        suffix = " for this layout" if minimum_students > 1 else ""
        raise ValueError(f"students must be at least {minimum_students}{suffix}, got {students}")
    if not 1 <= schools <= MAX_SCHOOLS:
        raise ValueError(f"schools must be between 1 and {MAX_SCHOOLS}, got {schools}")
    if not 1901 <= school_year <= 9999:
        raise ValueError(f"school_year must be a year between 1901 and 9999, got {school_year}")
    if days < 1 or days > INSTRUCTIONAL_DAYS:
        raise ValueError(
            f"days must be between 1 and {INSTRUCTIONAL_DAYS} (the instructional days in the "
            f"{school_year - 1}-{school_year} calendar), got {days}"
        )


def build_district(*, students: int, schools: int, days: int, seed: int, school_year: int) -> District:
    calendar = build_calendar(school_year)
    school_list = build_schools(seed, schools)
    pools = name_pools()
    people, families = build_students(seed, students, school_list, school_year, pools)
    segments, kind = build_segments(seed, people.school, school_list, calendar)
    roster = build_roster(seed, people.grade, segments, school_list)
    used: set[str] = set()
    staff = build_staff(seed, roster.classes, school_list, pools, used)
    guardians = build_guardians(seed, families, pools)
    assign_usernames(people, guardians, pools, used)
    return District(
        seed=seed,
        days=days,
        calendar=calendar,
        schools=school_list,
        pools=pools,
        students=people,
        families=families,
        guardians=guardians,
        segments=segments,
        kind=kind,
        roster=roster,
        staff=staff,
    )
