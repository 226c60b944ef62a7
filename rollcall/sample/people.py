"""Students, their families and guardians, as arrays (one element per person).

Families have one to three children in different grades; siblings share a family name, a
culture (which picks the name pools and demographics) and the family's guardians.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from rollcall.sample.phones import oneroster_phones
from rollcall.sample.rng import below, pick, stream
from rollcall.sample.schools import School
from rollcall.sample.text import unique_names
from rollcall.sample.vocab import GRADES, NamePools

CHILDREN_PER_FAMILY = (0.58, 0.30, 0.12)  # share of families with 1, 2, 3 children at the district
GRADE_WEIGHTS = (0.95, *([1.0] * 11), 0.9)
GUARDIAN_DOMAINS = ("example.com", "example.net", "example.org")
STUDENT_EMAIL_DOMAIN = "students.demousd.example.org"


@dataclass
class Families:
    culture: np.ndarray  # culture index per family
    surname: np.ndarray  # index into NamePools.family
    offsets: np.ndarray  # children of family f: children[offsets[f]:offsets[f + 1]]
    children: np.ndarray  # student indexes, ascending within a family


@dataclass
class Students:
    number: np.ndarray  # student number (written with 9 digits)
    grade: np.ndarray  # grade index
    female: np.ndarray  # bool
    family: np.ndarray  # family index
    surname: np.ndarray  # index into NamePools.family (the family's)
    given: np.ndarray  # index into NamePools.given
    middle: np.ndarray  # index into NamePools.given, -1 for none
    birth: np.ndarray  # datetime64[D]
    school: np.ndarray  # school index at the start of the year
    username: list[str]

    def __len__(self) -> int:
        return len(self.grade)


@dataclass
class Guardians:
    family: np.ndarray  # family index (ascending)
    female: np.ndarray
    given: np.ndarray
    surname: np.ndarray
    parent: np.ndarray  # bool: role parent (else guardian)
    mobile: list[str]
    home: list[str]  # "" for none
    domain: np.ndarray  # index into GUARDIAN_DOMAINS
    has_email: np.ndarray
    has_sms: np.ndarray
    enabled: np.ndarray
    username: list[str]

    def __len__(self) -> int:
        return len(self.family)


def build_students(
    seed: int, n: int, schools: tuple[School, ...], school_year: int, pools: NamePools
) -> tuple[Students, Families]:
    rng = stream(seed, "students")
    slot_family = _family_slots(rng, n)
    slot_grade = _sibling_grades(rng, slot_family)
    order = rng.permutation(n)  # student i is construction slot order[i]
    family = _renumber(slot_family[order])
    grade = slot_grade[order]
    n_families = int(family.max()) + 1
    culture = pick(rng, pools.culture_weights, n_families)
    surname = pools.family_start[culture] + below(rng, pools.family_count[culture])
    female = rng.random(n) < 0.49
    given, middle = draw_given_names(rng, pools, culture[family], female)
    students = Students(
        number=_student_numbers(rng, n),
        grade=grade,
        female=female,
        family=family,
        surname=surname[family],
        given=given,
        middle=middle,
        birth=_birth_dates(rng, grade, school_year),
        school=_first_schools(rng, grade, schools),
        username=[],
    )
    return students, _families(family, culture, surname)


def draw_given_names(
    rng: np.random.Generator, pools: NamePools, culture: np.ndarray, female: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A given name and, for 40 %, a different middle name from the same pool (-1 for none)."""
    sex = (~female).astype(np.int64)
    start, count = pools.given_start[culture, sex], pools.given_count[culture, sex]
    given = start + below(rng, count)
    middle = start + below(rng, count)
    middle[(rng.random(len(given)) >= 0.4) | (middle == given)] = -1
    return given, middle


def _family_slots(rng: np.random.Generator, n: int) -> np.ndarray:
    """Family index of each construction slot: families of 1-3 children, contiguous."""
    sizes = 1 + pick(rng, CHILDREN_PER_FAMILY, n)
    total = np.cumsum(sizes)
    count = int(np.searchsorted(total, n)) + 1
    sizes = sizes[:count]
    sizes[-1] -= int(total[count - 1]) - n
    return np.repeat(np.arange(count), sizes)


def _sibling_grades(rng: np.random.Generator, family: np.ndarray) -> np.ndarray:
    """A weighted grade per child, redrawn until siblings are in different grades."""
    grade = pick(rng, GRADE_WEIGHTS, len(family)).astype(np.int8)
    for _ in range(100):
        key = family.astype(np.int64) * len(GRADES) + grade
        order = np.argsort(key, kind="stable")
        repeat = np.zeros(len(key), dtype=bool)
        repeat[order[1:]] = key[order[1:]] == key[order[:-1]]
        if not repeat.any():
            break
        grade[repeat] = pick(rng, GRADE_WEIGHTS, int(repeat.sum()))
    return grade


def _renumber(family: np.ndarray) -> np.ndarray:
    """Families numbered in order of their first child's student index."""
    first = np.full(int(family.max()) + 1, len(family))
    np.minimum.at(first, family, np.arange(len(family)))
    rank = np.empty_like(first)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[family]


def _families(family: np.ndarray, culture: np.ndarray, surname: np.ndarray) -> Families:
    children = np.argsort(family, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(family, minlength=len(culture)))])
    return Families(culture=culture, surname=surname, offsets=offsets, children=children)


def _student_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    low, high = 100_000, max(10_000_000, 100_000 + 4 * n)
    return rng.choice(high - low, size=n, replace=False) + low


def _birth_dates(rng: np.random.Generator, grade: np.ndarray, school_year: int) -> np.ndarray:
    """Age = grade + 5 (+1 for the 3 % retained a year) on Sep 1; birthday within the year before."""
    age = grade.astype(np.int64) + 5 + (rng.random(len(grade)) < 0.03)
    youngest = np.array([np.datetime64(date(school_year - 1 - a, 9, 1), "D") for a in range(40)])
    return youngest[age] - rng.integers(0, 365, len(grade))


def _first_schools(rng: np.random.Generator, grade: np.ndarray, schools: tuple[School, ...]) -> np.ndarray:
    """A school teaching the student's grade, by school weight."""
    out = np.zeros(len(grade), dtype=np.int64)
    for g in range(len(GRADES)):
        serving = [s for s in schools if g in s.grades]
        members = np.flatnonzero(grade == g)
        choice = pick(rng, [s.weight for s in serving], len(members))
        out[members] = np.array([s.index for s in serving])[choice]
    return out


def build_guardians(seed: int, families: Families, pools: NamePools) -> Guardians:
    """One or two guardians per family (68 % two); the first is usually the mother."""
    rng = stream(seed, "guardians")
    count = 1 + (rng.random(len(families.culture)) < 0.68)
    family = np.repeat(np.arange(len(count)), count)
    first = np.concatenate([[True], family[1:] != family[:-1]])
    female = first == (rng.random(len(family)) < 0.72)
    culture = families.culture[family]
    given, _ = draw_given_names(rng, pools, culture, female)
    other = pools.family_start[culture] + below(rng, pools.family_count[culture])
    surname = np.where(rng.random(len(family)) < 0.85, families.surname[family], other)
    mobile = oneroster_phones(rng, len(family))
    home = oneroster_phones(rng, len(family))
    home = ["" if skip else phone for skip, phone in zip(rng.random(len(family)) < 0.55, home, strict=True)]
    return Guardians(
        family=family,
        female=female,
        given=given,
        surname=surname,
        parent=rng.random(len(family)) < 0.9,
        mobile=mobile,
        home=home,
        domain=rng.integers(0, len(GUARDIAN_DOMAINS), len(family)),
        has_email=rng.random(len(family)) >= 0.06,
        has_sms=rng.random(len(family)) >= 0.08,
        enabled=rng.random(len(family)) > 0.03,
        username=[],
    )


def assign_usernames(students: Students, guardians: Guardians, pools: NamePools, used: set[str]) -> None:
    """Students ``jsmith1234`` (initial, family name, last four digits of the number), then guardians
    ``first.last``; unique over ``used`` (staff names are taken first)."""
    initial = [name[:1] for name in pools.given_folded[students.given]]
    surname = pools.family_folded[students.surname]
    digits = [f"{number % 10000:04d}" for number in students.number.tolist()]
    students.username = unique_names((f"{a}{b}{c}" for a, b, c in zip(initial, surname, digits, strict=True)), used)
    given, family = pools.given_folded[guardians.given], pools.family_folded[guardians.surname]
    guardians.username = unique_names((f"{a}.{b}" for a, b in zip(given, family, strict=True)), used)
