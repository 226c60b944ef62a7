"""Clever records -> OneRoster 1.1 rows (dicts keyed by the field table's column names).

Two steps. ``normalise`` brings both API shapes to one: v3.x people come from ``/users`` with
their role details under ``roles.<role>``; v1.1 people are flat and each v1.1 section embeds its
term and names its course, so terms and courses are derived from the sections (with stable
UUID-5 ids). The ``*_rows`` functions then map the normalised records to OneRoster files.
Records arrive without credentials (see ``client.scrub``); no function here reads them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from loaders.clever.settings import ceds_grade

Row = dict[str, str]
Record = dict[str, Any]

# Namespace of the ids rollcall derives for v1.1 terms and courses (UUID 5 of their natural key).
DERIVED_ID_NAMESPACE = uuid.UUID("68fef1b0-d574-4e8b-962f-8af570b533ed")

SEX = {"m": "male", "f": "female", "x": "other"}
RACE_FIELDS = {
    "american indian": "americanIndianOrAlaskaNative",
    "asian": "asian",
    "black or african american": "blackOrAfricanAmerican",
    "hawaiian or other pacific islander": "nativeHawaiianOrOtherPacificIslander",
    "caucasian": "white",
    "two or more races": "demographicRaceTwoOrMoreRaces",
}
YES_NO = {"y": "true", "n": "false"}
RELATIVE_RELATIONSHIPS = {"grandparent", "aunt/uncle", "sibling"}
ROLE_PRECEDENCE = ("teacher", "student", "parent", "guardian", "relative")


def text(value: Any) -> str:
    """A payload value as trimmed text ('' for null)."""
    return "" if value is None else str(value).strip()


def unique(values: Iterable[Any]) -> list[str]:
    """Non-empty texts in first-seen order, without repeats."""
    seen: dict[str, None] = {}
    for value in values:
        item = text(value)
        if item:
            seen.setdefault(item, None)
    return list(seen)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def derived_id(kind: str, *parts: str) -> str:
    """A stable id for a record Clever v1.1 does not give one (a term or a course)."""
    return str(uuid.uuid5(DERIVED_ID_NAMESPACE, "|".join(("clever", kind, *parts))))


def iso_date(value: Any) -> str:
    """``2013-06-01``, ``2013-06-01T00:00:00Z`` or ``6/1/2013`` as ``2013-06-01``; other text as sent."""
    raw = text(value)
    iso = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?:[T ].*)?", raw)
    if iso:
        return iso.group(1)
    us = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", raw)
    if us:
        try:
            return date(int(us.group(3)), int(us.group(1)), int(us.group(2))).isoformat()
        except ValueError:
            return raw
    return raw


def latest(*values: Any) -> str:
    """The latest of some ISO 8601 timestamps ('' when none is given)."""
    return max((text(v) for v in values if text(v)), default="")


def user_ids(pairs: Iterable[tuple[str, Any]]) -> str:
    """OneRoster ``userIds``: ``{sis_id:123},{student_number:456}`` for the non-empty values."""
    return ",".join(f"{{{kind}:{text(value)}}}" for kind, value in pairs if text(value))


@dataclass
class Snapshot:
    """What one pull fetched, per Clever collection (records already without credentials)."""

    api_version: str
    collections: dict[str, list[Record]] = field(default_factory=dict)

    def records(self, collection: str) -> list[Record]:
        return self.collections.get(collection, [])


@dataclass
class Normalised:
    """Clever records in one shape whatever the API version."""

    districts: list[Record]
    schools: list[Record]
    terms: list[Record]
    courses: list[Record]
    sections: list[Record]  # with term_id, course and teachers filled in
    students: list[Record]  # flat: id, district, name, email, last_modified + the student role fields
    teachers: list[Record]
    contacts: list[Record]


def normalise(snapshot: Snapshot, legacy: bool) -> Normalised:
    """Bring a v1.1 or v3.x snapshot to the normalised shape."""
    if legacy:
        terms, courses, sections = _legacy_sections(snapshot.records("sections"))
        students, teachers, contacts = snapshot.records("students"), snapshot.records("teachers"), []
    else:
        terms, courses, sections = snapshot.records("terms"), snapshot.records("courses"), snapshot.records("sections")
        students = _people(snapshot.records("students"), "student")
        teachers = _people(snapshot.records("teachers"), "teacher")
        contacts = _people(snapshot.records("contacts"), "contact")
    return Normalised(
        snapshot.records("districts"),
        snapshot.records("schools"),
        terms,
        courses,
        sections,
        students,
        teachers,
        contacts,
    )


def _people(users: list[Record], role: str) -> list[Record]:
    """v3 users holding ``role``, flattened: the role's fields plus the user's id, name, email, times."""
    people = []
    for user in users:
        detail = (user.get("roles") or {}).get(role)
        if not isinstance(detail, dict):
            continue
        people.append(
            {
                **detail,
                "id": user.get("id"),
                "district": user.get("district") or detail.get("district"),
                "email": user.get("email"),
                "name": user.get("name") or {},
                "last_modified": user.get("last_modified"),
            }
        )
    return people


def _legacy_sections(sections: list[Record]) -> tuple[list[Record], list[Record], list[Record]]:
    """v1.1 sections -> (terms, courses, sections with term_id/course/teachers).

    A term is the section's embedded ``{name, start_date, end_date}``; a course is the section's
    ``course_number`` and ``course_name`` at its school. Both take the latest ``last_modified``
    of the sections that carry them.
    """
    terms: dict[str, Record] = {}
    courses: dict[str, Record] = {}
    normalised = []
    for section in sections:
        district, school = text(section.get("district")), text(section.get("school"))
        term = section.get("term") if isinstance(section.get("term"), dict) else {}
        name, start, end = text(term.get("name")), text(term.get("start_date")), text(term.get("end_date"))
        term_id = derived_id("term", district, name, start, end) if name or start or end else ""
        if term_id:
            entry = terms.setdefault(
                term_id,
                {"id": term_id, "district": district, "name": name, "start_date": start, "end_date": end},
            )
            entry["last_modified"] = latest(entry.get("last_modified"), section.get("last_modified"))
        number, title = text(section.get("course_number")), text(section.get("course_name"))
        course_id = derived_id("course", district, school, number, title) if number or title else ""
        if course_id:
            entry = courses.setdefault(
                course_id,
                {
                    "id": course_id,
                    "district": district,
                    "school": school,
                    "name": title,
                    "number": number,
                    "grades": set(),
                    "subjects": set(),
                },
            )
            entry["grades"].update(unique([section.get("grade")]))
            entry["subjects"].update(unique([section.get("subject")]))
            entry["last_modified"] = latest(entry.get("last_modified"), section.get("last_modified"))
        teacher = text(section.get("teacher"))
        normalised.append(
            {
                **{key: value for key, value in section.items() if key != "term"},
                "term_id": term_id,
                "course": course_id,
                "teachers": [teacher] if teacher else [],
            }
        )
    return list(terms.values()), list(courses.values()), normalised


# --- OneRoster files -------------------------------------------------------------------------


def org_rows(data: Normalised) -> list[Row]:
    """The district (type district) and its schools (type school, parent = the district)."""
    rows = [
        {
            "sourcedId": text(d.get("id")),
            "dateLastModified": latest(d.get("last_modified")),
            "name": text(d.get("name")),
            "type": "district",
            "identifier": text(d.get("nces_id")),
        }
        for d in data.districts
    ]
    rows += [
        {
            "sourcedId": text(s.get("id")),
            "dateLastModified": latest(s.get("last_modified")),
            "name": text(s.get("name")),
            "type": "school",
            "identifier": text(s.get("nces_id")),
            "parentSourcedId": text(s.get("district")),
        }
        for s in data.schools
    ]
    return rows


def school_year(start: str, end: str) -> str:
    """OneRoster ``schoolYear`` (the year the school year ends; a school year runs July to June)
    from a term's ISO start date, else its end date; '' when neither is a date."""
    for value, first_month_of_next in ((start, 7), (end, 9)):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            year, month = int(value[:4]), int(value[5:7])
            return str(year + 1 if month >= first_month_of_next else year)
    return ""


def academic_session_rows(data: Normalised) -> list[Row]:
    """Clever terms as academicSessions of type term, with the school year they belong to."""
    rows = []
    for term in data.terms:
        start, end = iso_date(term.get("start_date")), iso_date(term.get("end_date"))
        year = school_year(start, end)
        rows.append(
            {
                "sourcedId": text(term.get("id")),
                "dateLastModified": latest(term.get("last_modified")),
                "title": text(term.get("name")),
                "type": "term",
                "startDate": start,
                "endDate": end,
                "schoolYear": year,
            }
        )
    return rows


def course_rows(data: Normalised) -> list[Row]:
    """Courses; the org is the course's school (v1.1) or its district (v3 courses are district-wide)."""
    return [
        {
            "sourcedId": text(course.get("id")),
            "dateLastModified": latest(course.get("last_modified")),
            "title": text(course.get("name")),
            "courseCode": text(course.get("number")),
            "grades": ",".join(sorted({ceds_grade(g) for g in course.get("grades", ())})),
            "orgSourcedId": text(course.get("school")) or text(course.get("district")),
            "subjects": ",".join(sorted(course.get("subjects", ()))),
        }
        for course in data.courses
    ]


def class_rows(data: Normalised) -> list[Row]:
    """Sections as classes: homeroom/advisory sections are homerooms, the rest scheduled."""
    rows = []
    for section in data.sections:
        subject = text(section.get("subject"))
        rows.append(
            {
                "sourcedId": text(section.get("id")),
                "dateLastModified": latest(section.get("last_modified")),
                "title": text(section.get("name")),
                "grades": ",".join(ceds_grade(g) for g in unique([section.get("grade")])),
                "courseSourcedId": text(section.get("course")),
                "classCode": text(section.get("section_number")) or text(section.get("sis_id")),
                "classType": "homeroom" if subject.lower() == "homeroom/advisory" else "scheduled",
                "schoolSourcedId": text(section.get("school")),
                "termSourcedIds": text(section.get("term_id")),
                "subjects": subject,
                "periods": text(section.get("period")),
            }
        )
    return rows


def enrollment_rows(data: Normalised) -> list[Row]:
    """One enrollment per section and rostered person: teachers (``primary`` true for the section's
    ``teacher``), then students. The id is ``<section id>-<user id>``."""
    rows = []
    for section in data.sections:
        section_id, school = text(section.get("id")), text(section.get("school"))
        main_teacher = text(section.get("teacher"))
        teachers = unique([main_teacher, *as_list(section.get("teachers"))])
        members = [(t, "teacher", "true" if t == main_teacher else "false") for t in teachers]
        members += [(s, "student", "") for s in unique(as_list(section.get("students"))) if s not in teachers]
        rows += [
            {
                "sourcedId": f"{section_id}-{user_id}",
                "dateLastModified": latest(section.get("last_modified")),
                "classSourcedId": section_id,
                "schoolSourcedId": school,
                "userSourcedId": user_id,
                "role": role,
                "primary": primary,
            }
            for user_id, role, primary in members
        ]
    return rows


def contact_role(relationships: list[Any]) -> str:
    """OneRoster role of a contact: parent when any relationship is Parent, else guardian when a
    Parent/Guardian contact, else relative (grandparents, aunts/uncles, siblings, others)."""
    roles = set()
    for link in relationships:
        if not isinstance(link, dict):
            continue
        relationship, kind = text(link.get("relationship")).lower(), text(link.get("type")).lower()
        if relationship == "parent":
            roles.add("parent")
        elif relationship not in RELATIVE_RELATIONSHIPS and kind == "parent/guardian":
            roles.add("guardian")
        else:
            roles.add("relative")
    return next((role for role in ("parent", "guardian", "relative") if role in roles), "relative")


def user_rows(data: Normalised) -> list[Row]:
    """Students, teachers and contacts as users. A person with several Clever roles gets one row,
    role by precedence teacher > student > contact; guardians and students link each other
    through ``agentSourcedIds``. ``username`` is the email (else the SIS id, else the Clever id):
    Clever's login names travel with the passwords in ``credentials`` and are never read."""
    children: dict[str, list[str]] = {}
    for contact in data.contacts:
        for link in as_list(contact.get("student_relationships")):
            if isinstance(link, dict) and text(link.get("student")):
                children.setdefault(text(contact.get("id")), []).append(text(link.get("student")))
    guardians: dict[str, set[str]] = {}
    for contact_id, students in children.items():
        for student_id in students:
            guardians.setdefault(student_id, set()).add(contact_id)

    candidates: list[tuple[str, Row]] = []
    people_by_role = (("student", data.students, "student_number"), ("teacher", data.teachers, "teacher_number"))
    for role, people, number in people_by_role:
        for person in people:
            row = _person_row(person, role, [person.get("school"), *as_list(person.get("schools"))])
            row["userIds"] = user_ids([(key, person.get(key)) for key in ("sis_id", number, "state_id")])
            if role == "student":
                row["grades"] = ",".join(ceds_grade(g) for g in unique([person.get("grade")]))
            candidates.append((role, row))
    for contact in data.contacts:
        role = contact_role(as_list(contact.get("student_relationships")))
        row = _person_row(contact, role, [contact.get("district")])
        row["userIds"] = user_ids([("sis_id", contact.get("sis_id"))])
        row["phone"] = text(contact.get("phone"))
        row["sms"] = row["phone"] if text(contact.get("phone_type")).lower() == "cell" else ""
        candidates.append((role, row))

    chosen: dict[str, Row] = {}
    for _role, row in sorted(candidates, key=lambda item: ROLE_PRECEDENCE.index(item[0])):
        chosen.setdefault(row["sourcedId"], row)
    for user_id, row in chosen.items():
        agents = unique([*children.get(user_id, []), *sorted(guardians.get(user_id, ()))])
        row["agentSourcedIds"] = ",".join(agents)
    return list(chosen.values())


def _person_row(person: Record, role: str, orgs: list[Any]) -> Row:
    name = person.get("name") if isinstance(person.get("name"), dict) else {}
    email, sis_id, clever_id = text(person.get("email")), text(person.get("sis_id")), text(person.get("id"))
    return {
        "sourcedId": clever_id,
        "dateLastModified": latest(person.get("last_modified")),
        "enabledUser": "true",
        "orgSourcedIds": ",".join(unique(orgs)),
        "role": role,
        "username": email or sis_id or clever_id,
        "givenName": text(name.get("first")),
        "familyName": text(name.get("last")),
        "middleName": text(name.get("middle")),
        "identifier": sis_id,
        "email": email,
    }


def demographic_rows(data: Normalised) -> list[Row]:
    """Students' birth date (ISO), sex, race flags and Hispanic/Latino ethnicity; a student Clever
    says nothing about gets no row."""
    rows = []
    for student in data.students:
        row: Row = {
            "sourcedId": text(student.get("id")),
            "dateLastModified": latest(student.get("last_modified")),
            "birthDate": iso_date(student.get("dob")),
            "sex": SEX.get(text(student.get("gender")).lower(), ""),
            "hispanicOrLatinoEthnicity": YES_NO.get(text(student.get("hispanic_ethnicity")).lower(), ""),
        }
        race_field = RACE_FIELDS.get(text(student.get("race")).lower())
        if race_field:
            row.update({name: "true" if name == race_field else "false" for name in RACE_FIELDS.values()})
        if any(value for key, value in row.items() if key not in ("sourcedId", "dateLastModified")):
            rows.append(row)
    return rows


ROW_BUILDERS: dict[str, Callable[[Normalised], list[Row]]] = {
    "orgs": org_rows,
    "academicSessions": academic_session_rows,
    "courses": course_rows,
    "classes": class_rows,
    "users": user_rows,
    "enrollments": enrollment_rows,
    "demographics": demographic_rows,
}


def build_tables(snapshot: Snapshot, files: Iterable[str], legacy: bool) -> dict[str, list[Row]]:
    """The OneRoster rows of each requested file, one row per sourcedId (the last one sent wins),
    ordered by sourcedId so that the same data always gives the same bytes."""
    data = normalise(snapshot, legacy)
    tables = {}
    for name in files:
        rows = {row["sourcedId"]: row for row in ROW_BUILDERS[name](data) if row.get("sourcedId")}
        tables[name] = [rows[key] for key in sorted(rows)]
    return tables
