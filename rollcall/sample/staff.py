"""Teachers (one per elementary homeroom; subject teachers with up to five sections and a homeroom
in 06-12) and the district administrators."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from rollcall.sample.people import draw_given_names
from rollcall.sample.phones import oneroster_phones
from rollcall.sample.rng import below, pick, stream
from rollcall.sample.rosters import Classes
from rollcall.sample.schools import School
from rollcall.sample.text import unique_names
from rollcall.sample.vocab import ELEMENTARY, NamePools

SECTIONS_PER_TEACHER = 5
STAFF_EMAIL_DOMAIN = "demousd.example.org"
ADMIN_TITLES = (("Superintendent", "adm-0001"), ("Director of Student Services", "adm-0002"))


@dataclass
class Staff:
    """Teachers and administrators with their names (arrays), teachers in creation order."""

    school: list[int] = field(default_factory=list)  # per teacher
    given: np.ndarray | None = None  # teachers then administrators
    middle: np.ndarray | None = None  # -1 for none (administrators never have one)
    surname: np.ndarray | None = None
    female: np.ndarray | None = None
    enabled: np.ndarray | None = None
    phone: list[str] = field(default_factory=list)
    username: list[str] = field(default_factory=list)
    admins: int = 0
    class_teacher: np.ndarray | None = None  # per class: teacher index

    @property
    def teachers(self) -> int:
        return len(self.school)


@dataclass
class _Teacher:
    index: int
    subject: str = ""
    load: int = 0
    periods: set[int] = field(default_factory=set)
    homeroom: bool = False


class _Assigner:
    """Gives every class of one school its teacher."""

    def __init__(self, staff: Staff, classes: Classes, school: School, class_teacher: np.ndarray):
        self.staff, self.classes, self.school, self.class_teacher = staff, classes, school, class_teacher
        self.subject_staff: list[_Teacher] = []
        self.open: dict[str, list[_Teacher]] = {}  # subject -> teachers with a free section

    def new_teacher(self, subject: str = "") -> _Teacher:
        self.staff.school.append(self.school.index)
        return _Teacher(len(self.staff.school) - 1, subject)

    def run(self, members: list[int]) -> None:
        c = self.classes
        for k in members:
            if c.homeroom[k] and c.grade[k] in ELEMENTARY:
                self.class_teacher[k] = self.new_teacher().index
        scheduled = sorted((k for k in members if not c.homeroom[k]), key=lambda k: (c.dept[k], c.grade[k], k))
        for k in scheduled:
            self.class_teacher[k] = self.subject_teacher(c.dept[k], c.period[k]).index
        free = [(t.load, t.index, t) for t in self.subject_staff]
        heapq.heapify(free)
        for k in members:
            if c.homeroom[k] and c.grade[k] not in ELEMENTARY:
                teacher = heapq.heappop(free)[2] if free else self.new_teacher()
                teacher.homeroom = True
                self.class_teacher[k] = teacher.index

    def subject_teacher(self, subject: str, period: int) -> _Teacher:
        """The first teacher of the subject with a free section in that period, else a new one."""
        candidates = self.open.setdefault(subject, [])
        teacher = next((t for t in candidates if period not in t.periods), None)
        if teacher is None:
            teacher = self.new_teacher(subject)
            self.subject_staff.append(teacher)
            candidates.append(teacher)
        teacher.load += 1
        teacher.periods.add(period)
        if teacher.load >= SECTIONS_PER_TEACHER:
            candidates.remove(teacher)
        return teacher


def build_staff(seed: int, classes: Classes, schools: tuple[School, ...], pools: NamePools, used: set[str]) -> Staff:
    """Teachers for every class, then names for them and the administrators; claims user names in ``used``."""
    staff = Staff()
    class_teacher = np.full(len(classes), -1, dtype=np.int64)
    by_school: dict[int, list[int]] = {}
    for k, school in enumerate(classes.school):
        by_school.setdefault(school, []).append(k)
    for school in schools:
        _Assigner(staff, classes, school, class_teacher).run(by_school.get(school.index, []))
    staff.class_teacher = class_teacher
    staff.admins = len(ADMIN_TITLES) if len(schools) > 1 else 1
    _name_staff(stream(seed, "staff"), staff, pools, used)
    return staff


def _name_staff(rng: np.random.Generator, staff: Staff, pools: NamePools, used: set[str]) -> None:
    n = staff.teachers + staff.admins
    culture = pick(rng, pools.culture_weights, n)
    female = rng.random(n) < np.where(np.arange(n) < staff.teachers, 0.7, 0.5)
    staff.given, staff.middle = draw_given_names(rng, pools, culture, female)
    staff.middle[staff.teachers :] = -1
    staff.surname = pools.family_start[culture] + below(rng, pools.family_count[culture])
    staff.female = female
    staff.enabled = (rng.random(n) > 0.02) | (np.arange(n) >= staff.teachers)
    staff.phone = oneroster_phones(rng, n)
    initials = [name[:1] for name in pools.given_folded[staff.given]]
    bases = [f"{a}{b}" for a, b in zip(initials, pools.family_folded[staff.surname], strict=True)]
    staff.username = unique_names(bases, used)
