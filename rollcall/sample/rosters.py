"""Courses, classes (homerooms and period sections) and student enrollments.

Each (school, grade) roster is shuffled and dealt into sections of about 22 (K-05) or 28
(06-12) students. Every section has a homeroom; grades 06-12 also take six period courses, the
section's classes rotating through periods 1-6. A segment (a stay at one school) is enrolled in
its section's classes for the whole segment.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field, fields

import numpy as np

from rollcall.sample.mobility import Segments
from rollcall.sample.rng import stream
from rollcall.sample.schools import School
from rollcall.sample.text import grade_label
from rollcall.sample.vocab import ELEMENTARY, GRADES, Course, courses

ELEMENTARY_CLASS_SIZE = 22
SECONDARY_CLASS_SIZE = 28
PERIODS = 6


class _Columns:
    """A table kept as one list per field; ``add`` appends one row."""

    def add(self, **row) -> None:
        for column in fields(self):  # type: ignore[arg-type]
            getattr(self, column.name).append(row[column.name])


@dataclass
class Courses(_Columns):
    sid: list[str] = field(default_factory=list)
    title: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    grade: list[str] = field(default_factory=list)
    school: list[str] = field(default_factory=list)
    subject: list[str] = field(default_factory=list)
    subject_code: list[str] = field(default_factory=list)


@dataclass
class Classes(_Columns):
    sid: list[str] = field(default_factory=list)
    school: list[int] = field(default_factory=list)
    grade: list[int] = field(default_factory=list)
    course: list[str] = field(default_factory=list)  # course sourcedId
    title: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    homeroom: list[bool] = field(default_factory=list)
    room: list[str] = field(default_factory=list)
    period: list[int] = field(default_factory=list)  # 0 for homerooms
    subject: list[str] = field(default_factory=list)
    subject_code: list[str] = field(default_factory=list)
    dept: list[str] = field(default_factory=list)  # course key, "hr" for homerooms

    def __len__(self) -> int:
        return len(self.sid)


@dataclass
class Roster:
    courses: Courses
    classes: Classes
    segment: np.ndarray  # student enrollments: segment index …
    klass: np.ndarray  # … and class index
    periods: np.ndarray  # [segment, period - 1] -> class index, -1 where none


@dataclass
class _Group:
    """First class indexes of one (school, grade) roster's homerooms and period courses."""

    sections: int = 0
    homeroom: int = -1
    scheduled: list[int] = field(default_factory=list)


def build_roster(seed: int, grade: np.ndarray, segments: Segments, schools: tuple[School, ...]) -> Roster:
    """``grade``: grade index per student."""
    rng = stream(seed, "classes")
    seg_grade = grade[segments.student].astype(np.int64)
    group = segments.school * len(GRADES) + seg_grade
    sizes = np.bincount(group, minlength=len(schools) * len(GRADES))
    courses_, classes = Courses(), Classes()
    groups = {}
    for school in schools:
        rooms = itertools.count()
        for g in school.grades:
            _add_courses(courses_, school, g)
            count = int(sizes[school.index * len(GRADES) + g])
            if count:
                groups[school.index * len(GRADES) + g] = _add_classes(classes, school, g, count, rooms)
    section = _deal(rng, group, groups)
    klass, segment = _enrollments(group, section, groups)
    return Roster(courses_, classes, segment, klass, _periods(group, section, groups, len(segments)))


def _add_courses(out: Courses, school: School, g: int) -> None:
    grade, number = GRADES[g], f"{school.num:03d}"
    out.add(
        sid=f"crs-{number}-{grade.lower()}-hr",
        title=_homeroom_title(g),
        code=f"HR-{grade}",
        grade=grade,
        school=school.sid,
        subject="Homeroom",
        subject_code="",
    )
    for c in courses().get(g, ()) if g not in ELEMENTARY else ():
        out.add(
            sid=f"crs-{number}-{grade}-{c.key}",
            title=c.title,
            code=f"{c.key.upper()}-{grade}",
            grade=grade,
            school=school.sid,
            subject=c.subject,
            subject_code=c.code,
        )


def _homeroom_title(g: int) -> str:
    return "Kindergarten Homeroom" if g == 0 else f"Grade {grade_label(GRADES[g])} Homeroom"


def _add_classes(out: Classes, school: School, g: int, count: int, rooms: Iterator[int]) -> _Group:
    """Homerooms, then each period course's sections, for one (school, grade) roster."""
    secondary = g not in ELEMENTARY
    size = SECONDARY_CLASS_SIZE if secondary else ELEMENTARY_CLASS_SIZE
    group = _Group(sections=max(1, math.ceil(count / size)), homeroom=len(out))
    grade, number = GRADES[g], f"{school.num:03d}"
    for h in range(group.sections):
        room = _room(next(rooms))
        out.add(
            sid=f"cls-{number}-{grade.lower()}-hr-{h + 1}",
            school=school.index,
            grade=g,
            course=f"crs-{number}-{grade.lower()}-hr",
            title=f"{_homeroom_title(g)} - Room {room}",
            code=f"HR{grade}-{h + 1}",
            homeroom=True,
            room=room,
            period=0,
            subject="Homeroom",
            subject_code="",
            dept="hr",
        )
    for c, course in enumerate(courses().get(g, ()) if secondary else ()):
        group.scheduled.append(len(out))
        for j in range(group.sections):
            _add_section(out, school, g, course, (c + j) % PERIODS + 1, j, _room(next(rooms)))
    return group


def _add_section(out: Classes, school: School, g: int, course: Course, period: int, j: int, room: str) -> None:
    grade, number = GRADES[g], f"{school.num:03d}"
    out.add(
        sid=f"cls-{number}-{grade}-{course.key}-{j + 1}",
        school=school.index,
        grade=g,
        course=f"crs-{number}-{grade}-{course.key}",
        title=f"{course.title} - Period {period}",
        code=f"{course.key.upper()}{grade}-{j + 1}",
        homeroom=False,
        room=room,
        period=period,
        subject=course.subject,
        subject_code=course.code,
        dept=course.key,
    )


def _room(k: int) -> str:
    """Room numbers 101-129, 201-229, ... in the order a school's classes are created."""
    return f"{k // 29 + 1}{k % 29 + 1:02d}"


def _deal(rng: np.random.Generator, group: np.ndarray, groups: dict[int, _Group]) -> np.ndarray:
    """Section of each segment: its (school, grade) roster shuffled, then dealt round-robin."""
    order = np.lexsort((rng.random(len(group)), group))
    starts = np.searchsorted(group[order], group[order])
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(group)) - starts
    sections = np.zeros(int(group.max()) + 1 if len(group) else 0, dtype=np.int64)
    for key, info in groups.items():
        sections[key] = info.sections
    return rank % sections[group]


def _enrollments(group: np.ndarray, section: np.ndarray, groups: dict[int, _Group]) -> tuple[np.ndarray, np.ndarray]:
    """(class, segment) of every student enrollment: the section's homeroom and period classes."""
    width = 1 + PERIODS
    first = np.full((int(group.max()) + 1, width), -1, dtype=np.int64)
    for key, info in groups.items():
        first[key, : 1 + len(info.scheduled)] = [info.homeroom, *info.scheduled]
    taken = first[group] >= 0  # [segment, slot]
    segment = np.repeat(np.arange(len(group)), taken.sum(axis=1))
    klass = first[group][taken] + section[segment]
    return klass, segment


def _periods(group: np.ndarray, section: np.ndarray, groups: dict[int, _Group], n: int) -> np.ndarray:
    """[segment, period - 1] -> class index: course c's section j meets in period (c + j) % 6 + 1."""
    out = np.full((n, PERIODS), -1, dtype=np.int64)
    for c in range(PERIODS):
        first = np.full(int(group.max()) + 1, -1, dtype=np.int64)
        for key, info in groups.items():
            if c < len(info.scheduled):
                first[key] = info.scheduled[c]
        has = first[group] >= 0
        rows = np.flatnonzero(has)
        out[rows, (c + section[rows]) % PERIODS] = first[group[rows]] + section[rows]
    return out
