"""The sample district's vocabulary: name pools, places, schools, courses and codes.

Everything here is read from the files in ``rollcall/sample/data`` (shipped inside the package),
once per process.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np

from rollcall.sample.text import fold

GRADES = ("KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12")
ELEMENTARY = frozenset(range(6))  # grade indexes KG-05: self-contained homerooms, daily attendance
HIGH = frozenset(range(9, 13))  # grade indexes 09-12: period attendance
SEXES = ("female", "male")
HOME_STATE = "WA"


def read_rows(name: str) -> list[dict[str, str]]:
    """Rows of a CSV data file as dicts."""
    text = (files("rollcall.sample") / "data" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def read_lines(name: str) -> tuple[str, ...]:
    """Non-empty lines of a text data file."""
    text = (files("rollcall.sample") / "data" / name).read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines() if line)


@dataclass(frozen=True)
class NamePools:
    """Given and family names by culture; ``*_start`` / ``*_count`` locate a culture's slice."""

    cultures: tuple[str, ...]
    culture_weights: np.ndarray
    given: np.ndarray  # str objects, grouped by culture then sex
    given_folded: np.ndarray
    given_start: np.ndarray  # [culture, sex] -> first index (sex 0 female, 1 male)
    given_count: np.ndarray
    family: np.ndarray
    family_folded: np.ndarray
    family_start: np.ndarray  # [culture] -> first index
    family_count: np.ndarray
    female_names: frozenset[str]


@cache
def name_pools() -> NamePools:
    cultures = read_rows("cultures.csv")
    names = [c["culture"] for c in cultures]
    index = {name: i for i, name in enumerate(names)}
    given = sorted(read_rows("given_names.csv"), key=lambda r: (index[r["culture"]], SEXES.index(r["sex"])))
    family = sorted(read_rows("family_names.csv"), key=lambda r: index[r["culture"]])
    given_start = np.zeros((len(names), 2), dtype=np.int64)
    given_count = np.zeros((len(names), 2), dtype=np.int64)
    for i, row in reversed(list(enumerate(given))):
        key = (index[row["culture"]], SEXES.index(row["sex"]))
        given_start[key] = i
        given_count[key] += 1
    family_start = np.zeros(len(names), dtype=np.int64)
    family_count = np.zeros(len(names), dtype=np.int64)
    for i, row in reversed(list(enumerate(family))):
        family_start[index[row["culture"]]] = i
        family_count[index[row["culture"]]] += 1
    given_names = [r["name"] for r in given]
    family_names = [r["name"] for r in family]
    return NamePools(
        cultures=tuple(names),
        culture_weights=np.array([float(c["weight"]) for c in cultures]),
        given=np.array(given_names, dtype=object),
        given_folded=np.array([fold(n) for n in given_names], dtype=object),
        given_start=given_start,
        given_count=given_count,
        family=np.array(family_names, dtype=object),
        family_folded=np.array([fold(n) for n in family_names], dtype=object),
        family_start=family_start,
        family_count=family_count,
        female_names=frozenset(r["name"] for r in given if r["sex"] == "female"),
    )


@dataclass(frozen=True)
class Level:
    name: str  # elementary, middle, high, k8, k12
    suffix: str  # "Elementary School", ...
    grades: tuple[int, ...]  # grade indexes taught
    teacher_description: str
    school_names: tuple[str, ...]


@cache
def levels() -> dict[str, Level]:
    names: dict[str, list[str]] = {}
    for row in read_rows("school_names.csv"):
        names.setdefault(row["level"], []).append(row["name"])
    out = {}
    for row in read_rows("school_levels.csv"):
        first, last = GRADES.index(row["first_grade"]), GRADES.index(row["last_grade"])
        out[row["level"]] = Level(
            row["level"],
            row["suffix"],
            tuple(range(first, last + 1)),
            row["teacher_description"],
            tuple(names[row["level"]]),
        )
    return out


@dataclass(frozen=True)
class Course:
    key: str  # department: ela, math, sci, ss, pe, elec
    subject: str
    title: str
    code: str  # SCED-style course code


@cache
def courses() -> dict[int, tuple[Course, ...]]:
    """Scheduled (period) courses by grade index: grades 06-12, six each."""
    out: dict[int, list[Course]] = {}
    for row in read_rows("courses.csv"):
        out.setdefault(GRADES.index(row["grade"]), []).append(
            Course(row["key"], row["subject"], row["title"], row["code"])
        )
    return {grade: tuple(items) for grade, items in out.items()}


@cache
def absence_codes() -> tuple[tuple[str, str, str, str], ...]:
    """(code, description, absentValue, category), in file order."""
    return tuple((r["code"], r["description"], r["absentValue"], r["category"]) for r in read_rows("absence_codes.csv"))


def weighted(name: str, group: str, key: str, weight: str = "weight") -> dict[str, tuple[list[str], list[float]]]:
    """group value -> (keys, weights) of a weighted data file."""
    out: dict[str, tuple[list[str], list[float]]] = {}
    for row in read_rows(name):
        keys, weights = out.setdefault(row[group], ([], []))
        keys.append(row[key])
        weights.append(float(row[weight]))
    return out


@cache
def phone_styles(use: str) -> tuple[tuple[str, ...], np.ndarray]:
    """Templates (``{a}`` area, ``{e}`` exchange, ``{l}`` line) and weights for ``oneroster`` or ``sis``."""
    keys, weights = weighted("phone_styles.csv", "use", "template")[use]
    return tuple(keys), np.array(weights)


@cache
def phone_areas(use: str) -> tuple[str, ...]:
    return tuple(r["area"] for r in read_rows("phone_areas.csv") if r["use"] == use)


@cache
def oneroster_fields() -> dict[str, tuple[str, ...]]:
    """The generator's own column order per file (header when the repository's field table is absent)."""
    out: dict[str, list[str]] = {}
    for row in read_rows("oneroster_fields.csv"):
        out.setdefault(row["file"], []).append(row["field"])
    return {stem: tuple(fields) for stem, fields in out.items()}
