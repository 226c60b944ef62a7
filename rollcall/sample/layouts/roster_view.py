"""The multi-source layout's view of its OneRoster package, read back from the files written."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rollcall.sample.layouts.identity import Person
from rollcall.sample.phones import fictional
from rollcall.sample.writers import read_csv, write_rows


@dataclass
class RosterView:
    folder: Path
    users_header: list[str]
    user_rows: list[list[str]]
    demo_header: list[str]
    demo_rows: list[list[str]]
    persons: list[Person] = field(default_factory=list)
    teachers: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # sid -> (identifier, given, family)
    guardian_phone: dict[str, str] = field(default_factory=dict)  # sid -> fictional phone
    schools: dict[str, tuple[str, str]] = field(default_factory=dict)  # sid -> (name, identifier)
    school_number: dict[str, str] = field(default_factory=dict)  # sid -> PowerSchool SchoolID

    @property
    def by_sid(self) -> dict[str, Person]:
        return {p.sid: p for p in self.persons}


def read_roster(folder: Path) -> RosterView:
    view = RosterView(folder, *read_csv(folder / "users.csv"), *read_csv(folder / "demographics.csv"))
    _read_users(view)
    _read_demographics(view)
    _, org_rows = read_csv(folder / "orgs.csv")
    view.schools = {r[0]: (r[3], r[5]) for r in org_rows if r[4] == "school"}
    view.school_number = {sid: str(100 * (i + 1)) for i, sid in enumerate(sorted(view.schools))}
    _read_enrollments(view)
    return view


def _read_users(view: RosterView) -> None:
    u = {name: i for i, name in enumerate(view.users_header)}
    for row in view.user_rows:
        role = row[u["role"]]
        if role == "student":
            view.persons.append(
                Person(
                    sid=row[u["sourcedId"]],
                    number=row[u["identifier"]],
                    given=row[u["givenName"]],
                    middle=row[u["middleName"]],
                    family=row[u["familyName"]],
                    email=row[u["email"]],
                    grade=row[u["grades"]],
                    enabled=row[u["enabledUser"]] == "true",
                    guardians=[g for g in row[u["agentSourcedIds"]].split(",") if g],
                )
            )
        elif role == "teacher":
            view.teachers[row[u["sourcedId"]]] = (row[u["identifier"]], row[u["givenName"]], row[u["familyName"]])
        elif role in ("parent", "guardian"):
            view.guardian_phone[row[u["sourcedId"]]] = fictional(row[u["phone"]] or row[u["sms"]])


def _read_demographics(view: RosterView) -> None:
    dm = {name: i for i, name in enumerate(view.demo_header)}
    by_sid = view.by_sid
    for row in view.demo_rows:
        person = by_sid.get(row[dm["sourcedId"]])
        if person is not None:
            person.birth = date.fromisoformat(row[dm["birthDate"]])
            person.sex = row[dm["sex"]]


def _read_enrollments(view: RosterView) -> None:
    """First begin, last end, the latest school and its homeroom teacher of every student."""
    class_header, class_rows = read_csv(view.folder / "classes.csv")
    c = {name: i for i, name in enumerate(class_header)}
    homerooms = {r[c["sourcedId"]] for r in class_rows if r[c["classType"]] == "homeroom"}
    enr_header, enr_rows = read_csv(view.folder / "enrollments.csv")
    e = {name: i for i, name in enumerate(enr_header)}
    teacher = {r[e["classSourcedId"]]: r[e["userSourcedId"]] for r in enr_rows if r[e["role"]] == "teacher"}
    by_sid, latest = view.by_sid, {}
    for r in enr_rows:
        person = by_sid.get(r[e["userSourcedId"]])
        if person is None or r[e["role"]] != "student":
            continue
        begin, end = date.fromisoformat(r[e["beginDate"]]), date.fromisoformat(r[e["endDate"]])
        person.begin = begin if person.begin is None else min(person.begin, begin)
        person.end = end if person.end is None else max(person.end, end)
        if begin >= latest.get(person.sid, begin):
            latest[person.sid] = begin
            person.school = r[e["schoolSourcedId"]]
            if r[e["classSourcedId"]] in homerooms:
                person.homeroom_teacher = teacher.get(r[e["classSourcedId"]], "")


def plant_same_name_pair(view: RosterView, rng: random.Random) -> tuple[Person, Person]:
    """Give a second student the name and birth date of a first one (two different people), in the
    view and in users.csv / demographics.csv."""
    by_grade: dict[str, list[Person]] = {}
    for p in view.persons:
        by_grade.setdefault(p.grade, []).append(p)
    grades = sorted(g for g, members in by_grade.items() if len(members) > 1)
    members = by_grade[rng.choice(grades)] if grades else view.persons
    same_sex = [s for s in ("female", "male") if sum(p.sex == s for p in members) > 1]
    if same_sex:
        sex = rng.choice(same_sex)
        members = [p for p in members if p.sex == sex]
    first, second = rng.sample(members, 2)
    second.given, second.family, second.birth = first.given, first.family, first.birth
    u = {name: i for i, name in enumerate(view.users_header)}
    dm = {name: i for i, name in enumerate(view.demo_header)}
    for row in view.user_rows:
        if row[u["sourcedId"]] == second.sid:
            row[u["givenName"]], row[u["familyName"]] = first.given, first.family
    for row in view.demo_rows:
        if row[dm["sourcedId"]] == second.sid:
            row[dm["birthDate"]] = first.birth.isoformat()
    write_rows(view.folder / "users.csv", view.users_header, view.user_rows)
    write_rows(view.folder / "demographics.csv", view.demo_header, view.demo_rows)
    return first, second
