"""The default identity cascade, as the truth file expects it: OneRoster is the anchor.

Rules in order, each applied only when the record carries the field; the first rule with
candidates decides (one candidate: matched, more: ambiguous); no rule left: unmatched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from rollcall.sample.text import fold

CASCADE_RULES = ("email", "student_number", "state_id", "name_birth_date", "fuzzy_name_birth_date")
FUZZY_MAX_DISTANCE = 2  # optimal-string-alignment distance between normalised "given family" names


@dataclass
class Person:
    """A OneRoster student as the other sources see them."""

    sid: str
    number: str
    given: str
    middle: str
    family: str
    email: str
    grade: str
    enabled: bool
    guardians: list[str] = field(default_factory=list)
    birth: date = date(2000, 1, 1)
    sex: str = "female"
    school: str = ""
    begin: date | None = None
    end: date | None = None
    homeroom_teacher: str = ""


@dataclass(frozen=True)
class Identity:
    """What one source record says about its person (empty = not carried)."""

    source: str
    record_id: str
    email: str = ""
    number: str = ""
    state_id: str = ""
    given: str = ""
    family: str = ""
    birth: date | None = None


def osa_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions)."""
    if a == b:
        return 0
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


class Anchor:
    """The default cascade against the OneRoster students: first rule with candidates decides."""

    def __init__(self, persons: Iterable[Person]):
        self.by_email: dict[str, list[str]] = {}
        self.by_number: dict[str, list[str]] = {}
        self.by_state_id: dict[str, list[str]] = {}  # OneRoster 1.1 users carry no state id
        self.by_name_birth: dict[tuple[str, str, date], list[str]] = {}
        self.by_birth: dict[date, list[tuple[str, str]]] = {}
        for p in persons:
            if p.email.strip():
                self.by_email.setdefault(p.email.strip().lower(), []).append(p.sid)
            if p.number.strip():
                self.by_number.setdefault(p.number.strip(), []).append(p.sid)
            key = (fold(p.given), fold(p.family), p.birth)
            self.by_name_birth.setdefault(key, []).append(p.sid)
            self.by_birth.setdefault(p.birth, []).append((f"{key[0]} {key[1]}", p.sid))

    def steps(self, ident: Identity) -> list[tuple[str, list[str]]]:
        """(rule, candidates) for every rule the record carries the fields of, in cascade order."""
        steps: list[tuple[str, list[str]]] = []
        if ident.email.strip():
            steps.append(("email", self.by_email.get(ident.email.strip().lower(), [])))
        if ident.number.strip():
            steps.append(("student_number", self.by_number.get(ident.number.strip(), [])))
        if ident.state_id.strip():
            steps.append(("state_id", self.by_state_id.get(ident.state_id.strip(), [])))
        if ident.birth is not None and ident.given and ident.family:
            given, family = fold(ident.given), fold(ident.family)
            steps.append(("name_birth_date", self.by_name_birth.get((given, family, ident.birth), [])))
            name = f"{given} {family}"
            fuzzy = [
                sid
                for other, sid in self.by_birth.get(ident.birth, [])
                if 0 < osa_distance(name, other) <= FUZZY_MAX_DISTANCE
            ]
            steps.append(("fuzzy_name_birth_date", fuzzy))
        return steps

    def resolve(self, ident: Identity) -> tuple[str, str, str]:
        """(expected_status, expected_rule, OneRoster sourcedId or "")."""
        for rule, hits in self.steps(ident):
            if len(hits) == 1:
                return "matched", rule, hits[0]
            if len(hits) > 1:
                return "ambiguous", rule, ""
        return "unmatched", "", ""
