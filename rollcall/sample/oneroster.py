"""The OneRoster 1.1 + OneRoster+ package of a district: one column builder per file.

Headers follow the repository's field table (``seeds/oneroster_fields.csv``, when present) and
otherwise ``data/oneroster_fields.csv``; ``users.password`` is never written.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

import pyarrow as pa

from rollcall.sample.attendance import CODES
from rollcall.sample.calendar import sessions
from rollcall.sample.columns import lookup, sequential
from rollcall.sample.dates import iso, to_numpy
from rollcall.sample.model import District
from rollcall.sample.oneroster_users import (
    Table,
    demographics_table,
    enrollments_table,
    school_ids,
    student_ids,
    users_table,
)
from rollcall.sample.schools import DISTRICT_NAME, DISTRICT_NCES_ID, DISTRICT_SOURCED_ID
from rollcall.sample.vocab import GRADES, absence_codes, oneroster_fields
from rollcall.settings import FIELD_TABLE_PATH

SYSTEM_NAME = "rollcall sample district"
ONEROSTER_FILES = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics")
EXTENSION_FILES = ("absenceCodes", "attendance", "calendar")
ABSENT_FILES = ("resources", "classResources", "courseResources", "categories", "lineItems", "results")
WRITTEN_FILES = ("manifest", *ONEROSTER_FILES, *EXTENSION_FILES)
NEVER_WRITTEN = {("users", "password")}


def headers() -> dict[str, tuple[str, ...]]:
    """Header per file: the field table's OneRoster 1.1 fields in order, secrets left out."""
    out = {stem: oneroster_fields()[stem] for stem in WRITTEN_FILES}
    if not FIELD_TABLE_PATH.exists():  # installed without the repository's seeds
        return out
    table: dict[str, list[tuple[int, str]]] = {}
    with FIELD_TABLE_PATH.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = (row["file_name"], row["field_name"])
            if key in NEVER_WRITTEN or row["data_type"] == "secret" or "1.1" not in row["versions"].split("|"):
                continue
            table.setdefault(key[0], []).append((int(row["field_order"]), key[1]))
    out.update({stem: tuple(name for _, name in sorted(table[stem])) for stem in WRITTEN_FILES if stem in table})
    return out


def tables(district: District, stem: str) -> Iterator[Table]:
    """The file's rows as column tables (attendance: several, in order)."""
    if stem == "attendance":
        return attendance_tables(district)
    return iter([_BUILDERS[stem](district)])


def _rows(columns: dict[str, object]) -> Table:
    """Columns of plain lists, all of one length."""
    return columns, len(next(iter(columns.values())))


def manifest(district: District) -> Table:
    del district
    rows = [("manifest.version", "1.0"), ("oneroster.version", "1.1")]
    rows += [(f"file.{stem}", "bulk") for stem in ONEROSTER_FILES]
    rows += [(f"file.{stem}", "absent") for stem in ABSENT_FILES]
    rows += [(f"file.{stem}", "bulk") for stem in EXTENSION_FILES]
    rows.append(("source.systemName", SYSTEM_NAME))
    return _rows({"propertyName": [r[0] for r in rows], "value": [r[1] for r in rows]})


def orgs(district: District) -> Table:
    schools = district.schools
    return _rows(
        {
            "sourcedId": [DISTRICT_SOURCED_ID, *(s.sid for s in schools)],
            "name": [DISTRICT_NAME, *(s.name for s in schools)],
            "type": ["district", *(["school"] * len(schools))],
            "identifier": [DISTRICT_NCES_ID, *(s.identifier for s in schools)],
            "parentSourcedId": ["", *([DISTRICT_SOURCED_ID] * len(schools))],
        }
    )


def academic_sessions(district: District) -> Table:
    rows = sessions(district.calendar)
    return _rows(
        {
            "sourcedId": [r[0] for r in rows],
            "title": [r[1] for r in rows],
            "type": [r[2] for r in rows],
            "startDate": [r[3].isoformat() for r in rows],
            "endDate": [r[4].isoformat() for r in rows],
            "parentSourcedId": [r[5] for r in rows],
            "schoolYear": [str(district.calendar.school_year)] * len(rows),
        }
    )


def courses_table(district: District) -> Table:
    c = district.roster.courses
    return _rows(
        {
            "sourcedId": c.sid,
            "schoolYearSourcedId": [f"as-{district.calendar.school_year}"] * len(c.sid),
            "title": c.title,
            "courseCode": c.code,
            "grades": c.grade,
            "orgSourcedId": c.school,
            "subjects": c.subject,
            "subjectCodes": c.subject_code,
        }
    )


def classes_table(district: District) -> Table:
    c, y = district.roster.classes, district.calendar.school_year
    return _rows(
        {
            "sourcedId": c.sid,
            "title": c.title,
            "grades": [GRADES[g] for g in c.grade],
            "courseSourcedId": c.course,
            "classCode": c.code,
            "classType": ["homeroom" if h else "scheduled" for h in c.homeroom],
            "location": c.room,
            "schoolSourcedId": [district.schools[s].sid for s in c.school],
            "termSourcedIds": [f"as-{y}-s1,as-{y}-s2"] * len(c.sid),
            "subjects": c.subject,
            "subjectCodes": c.subject_code,
            "periods": [str(p) if p else "" for p in c.period],
        }
    )


def attendance_tables(district: District) -> Iterator[Table]:
    """Attendance a few days at a time; sourcedIds number the rows of the whole file."""
    users, schools = student_ids(district), school_ids(district)
    classes = pa.array(district.roster.classes.sid, type=pa.string())
    dates = iso(to_numpy(district.calendar.days))
    periods = ["", *map(str, range(1, 7))]
    for chunk in district.attendance():
        columns = {
            "sourcedId": sequential("att-", chunk.first_row + 1, len(chunk), 7),
            "userSourcedId": lookup(users, chunk.student),
            "schoolSourcedId": lookup(schools, chunk.school),
            "classSourcedId": lookup(classes, chunk.klass),
            "period": lookup(periods, chunk.period),
            "date": lookup(dates, chunk.day),
            "absenceCode": lookup(CODES, chunk.code),
        }
        yield columns, len(chunk)


def absence_codes_table(district: District) -> Table:
    del district
    codes = absence_codes()
    return _rows(
        {
            "sourcedId": [f"ac-{c[0].lower()}" for c in codes],
            "code": [c[0] for c in codes],
            "description": [c[1] for c in codes],
            "absentValue": [c[2] for c in codes],
            "category": [c[3] for c in codes],
        }
    )


def calendar_table(district: District) -> Table:
    rows = []
    for school in district.schools:
        has_extra_pd = school.index == len(district.schools) - 1
        rows += [(school, *day) for day in district.calendar.school_rows(has_extra_pd)]
    return _rows(
        {
            "sourcedId": [f"cal-{s.num:03d}-{d:%Y%m%d}" for s, d, *_ in rows],
            "schoolSourcedId": [s.sid for s, *_ in rows],
            "date": [d.isoformat() for _, d, *_ in rows],
            "instructionalValue": [r[2] for r in rows],
            "dayType": [r[3] for r in rows],
            "description": [r[4] for r in rows],
        }
    )


_BUILDERS = {
    "manifest": manifest,
    "orgs": orgs,
    "academicSessions": academic_sessions,
    "courses": courses_table,
    "classes": classes_table,
    "users": users_table,
    "enrollments": enrollments_table,
    "demographics": demographics_table,
    "absenceCodes": absence_codes_table,
    "calendar": calendar_table,
}
