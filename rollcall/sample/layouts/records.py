"""The district model as plain Python records, for the demo-size layouts (SIS exports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from rollcall.sample.model import District
from rollcall.sample.people import GUARDIAN_DOMAINS, STUDENT_EMAIL_DOMAIN
from rollcall.sample.schools import School
from rollcall.sample.staff import ADMIN_TITLES, STAFF_EMAIL_DOMAIN
from rollcall.sample.vocab import GRADES


@dataclass
class Person:
    index: int
    sid: str
    given: str
    family: str
    female: bool
    username: str
    email: str


@dataclass
class Student(Person):
    number: str = ""
    middle: str = ""
    grade: str = ""
    birth: date = date(2000, 1, 1)
    household: int = 0  # family index
    school: School | None = None  # the school of the student's last segment
    guardians: list[int] = field(default_factory=list)


@dataclass
class Guardian(Person):
    parent: bool = True
    household: int = 0


@dataclass
class Teacher(Person):
    school: School | None = None


@dataclass
class Section:
    index: int
    code: str
    school: School
    course_title: str
    period: str  # "HR" for homerooms
    teacher: int
    scheduled: bool


def _names(d: District, given: np.ndarray, surname: np.ndarray) -> tuple[list[str], list[str]]:
    return d.pools.given[given].tolist(), d.pools.family[surname].tolist()


def students(d: District) -> list[Student]:
    s = d.students
    given, family = _names(d, s.given, s.surname)
    middle = ["" if m < 0 else d.pools.given[m] for m in s.middle.tolist()]
    last = np.searchsorted(d.segments.student, np.arange(len(s)), side="right") - 1
    counts = np.bincount(d.guardians.family, minlength=len(d.families.culture))
    first = np.concatenate([[0], np.cumsum(counts)])
    out = []
    for i in range(len(s)):
        f = int(s.family[i])
        out.append(
            Student(
                index=i,
                sid=f"stu-{i + 1:06d}",
                given=given[i],
                family=family[i],
                female=bool(s.female[i]),
                username=s.username[i],
                email=f"{s.username[i]}@{STUDENT_EMAIL_DOMAIN}",
                number=f"{int(s.number[i]):09d}",
                middle=middle[i],
                grade=GRADES[int(s.grade[i])],
                birth=s.birth[i].astype(date),
                household=f,
                school=d.schools[int(d.segments.school[last[i]])],
                guardians=list(range(int(first[f]), int(first[f + 1]))),
            )
        )
    return out


def guardians(d: District) -> list[Guardian]:
    g = d.guardians
    given, family = _names(d, g.given, g.surname)
    return [
        Guardian(
            index=i,
            sid=f"grd-{i + 1:06d}",
            given=given[i],
            family=family[i],
            female=bool(g.female[i]),
            username=g.username[i],
            email=f"{g.username[i]}@{GUARDIAN_DOMAINS[int(g.domain[i])]}" if g.has_email[i] else "",
            parent=bool(g.parent[i]),
            household=int(g.family[i]),
        )
        for i in range(len(g))
    ]


def staff(d: District) -> tuple[list[Teacher], list[Person]]:
    """Teachers and administrators."""
    s = d.staff
    given, family = _names(d, s.given, s.surname)

    def fields(i: int) -> tuple:
        return given[i], family[i], bool(s.female[i]), s.username[i], f"{s.username[i]}@{STAFF_EMAIL_DOMAIN}"

    teachers = [Teacher(i, f"tch-{i + 1:04d}", *fields(i), school=d.schools[s.school[i]]) for i in range(s.teachers)]
    admin_ids = [sid for _, sid in ADMIN_TITLES[: s.admins]]
    admins = [Person(s.teachers + k, sid, *fields(s.teachers + k)) for k, sid in enumerate(admin_ids)]
    return teachers, admins


def sections(d: District) -> list[Section]:
    c = d.roster.classes
    title = dict(zip(d.roster.courses.sid, d.roster.courses.title, strict=True))
    return [
        Section(
            index=k,
            code=c.code[k],
            school=d.schools[c.school[k]],
            course_title=title.get(c.course[k], c.title[k]),
            period=str(c.period[k]) if c.period[k] else "HR",
            teacher=int(d.staff.class_teacher[k]),
            scheduled=not c.homeroom[k],
        )
        for k in range(len(c))
    ]
