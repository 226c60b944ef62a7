"""The people files of the OneRoster package: users, enrollments and demographics (vectorised)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rollcall.sample.columns import concat, flags, joined, lookup, numbered, sequential
from rollcall.sample.demographics import RACES, build_demographics
from rollcall.sample.mobility import EXIT
from rollcall.sample.model import District
from rollcall.sample.people import GUARDIAN_DOMAINS, STUDENT_EMAIL_DOMAIN
from rollcall.sample.schools import DISTRICT_SOURCED_ID
from rollcall.sample.staff import ADMIN_TITLES, STAFF_EMAIL_DOMAIN
from rollcall.sample.vocab import GRADES
from rollcall.sample.writers import as_strings

Table = tuple[dict[str, object], int]  # columns by field name, row count


def school_ids(d: District) -> pa.Array:
    return pa.array([s.sid for s in d.schools], type=pa.string())


def student_ids(d: District) -> pa.Array:
    return sequential("stu-", 1, len(d.students), 6)


def teacher_ids(d: District) -> pa.Array:
    return sequential("tch-", 1, d.staff.teachers, 4)


def guardian_ids(d: District) -> pa.Array:
    return sequential("grd-", 1, len(d.guardians), 6)


def given_names(d: District) -> pa.Array:
    return pa.array(d.pools.given.tolist(), type=pa.string())


def family_names(d: District) -> pa.Array:
    return pa.array(d.pools.family.tolist(), type=pa.string())


def users_table(d: District) -> Table:
    """Administrators, teachers, students, then guardians."""
    parts = [_administrators(d), _teachers(d), _students(d), _guardians(d)]
    names = dict.fromkeys(name for cols, _ in parts for name in cols)
    columns = {name: pa.concat_arrays([as_strings(cols.get(name), n) for cols, n in parts]) for name in names}
    return columns, sum(n for _, n in parts)


def _administrators(d: District) -> Table:
    s, first = d.staff, d.staff.teachers
    k = s.admins
    employee = [f"A{i:04d}" for i in range(1, k + 1)]
    return {
        "sourcedId": [sid for _, sid in ADMIN_TITLES[:k]],
        "enabledUser": ["true"] * k,
        "orgSourcedIds": [DISTRICT_SOURCED_ID] * k,
        "role": ["administrator"] * k,
        "username": s.username[first:],
        "userIds": [f"{{SIS:{e}}}" for e in employee],
        "givenName": lookup(given_names(d), s.given[first:]),
        "familyName": lookup(family_names(d), s.surname[first:]),
        "identifier": employee,
        "email": [f"{u}@{STAFF_EMAIL_DOMAIN}" for u in s.username[first:]],
        "phone": s.phone[first:],
    }, k


def _teachers(d: District) -> Table:
    s, n = d.staff, d.staff.teachers
    employee = numbered("E", np.arange(1, n + 1), 5)
    middle = [name[:1] if name else "" for name in lookup(given_names(d), s.middle[:n]).to_pylist()]
    return {
        "sourcedId": teacher_ids(d),
        "enabledUser": flags(s.enabled[:n]),
        "orgSourcedIds": lookup(school_ids(d), np.array(s.school, dtype=np.int64)),
        "role": ["teacher"] * n,
        "username": s.username[:n],
        "userIds": concat("{SIS:", employee, "}"),
        "givenName": lookup(given_names(d), s.given[:n]),
        "familyName": lookup(family_names(d), s.surname[:n]),
        "middleName": middle,
        "identifier": employee,
        "email": [f"{u}@{STAFF_EMAIL_DOMAIN}" for u in s.username[:n]],
        "phone": s.phone[:n],
    }, n


def _students(d: District) -> Table:
    s, n = d.students, len(d.students)
    number = numbered("", s.number, 9)
    username = pa.array(s.username, type=pa.string())
    return {
        "sourcedId": student_ids(d),
        "enabledUser": flags(d.kind != EXIT),
        "orgSourcedIds": _student_schools(d),
        "role": ["student"] * n,
        "username": username,
        "userIds": concat("{SIS:", number, "}"),
        "givenName": lookup(given_names(d), s.given),
        "familyName": lookup(family_names(d), s.surname),
        "middleName": lookup(given_names(d), s.middle),
        "identifier": number,
        "email": concat(username, f"@{STUDENT_EMAIL_DOMAIN}"),
        "agentSourcedIds": _family_guardians(d).take(pa.array(s.family)),
        "grades": lookup(GRADES, s.grade),
    }, n


def _student_schools(d: District) -> pa.Array:
    """The schools of a student's segments, in order (two for a transfer)."""
    seg, n = d.segments, len(d.students)
    first = np.searchsorted(seg.student, np.arange(n))
    second = np.minimum(first + 1, len(seg) - 1)
    moved = (seg.student[second] == np.arange(n)) & (second != first)
    schools = lookup(school_ids(d), seg.school[first])
    both = concat(schools, ",", lookup(school_ids(d), seg.school[second]))
    return pc.if_else(pa.array(moved), both, schools)


def _family_guardians(d: District) -> pa.Array:
    """Per family: its guardians' sourcedIds, comma-separated."""
    counts = np.bincount(d.guardians.family, minlength=len(d.families.culture))
    return joined(guardian_ids(d), np.concatenate([[0], np.cumsum(counts)]))


def _family_schools(d: District) -> pa.Array:
    """Per family: the schools any of its children attends, in sourcedId order."""
    key = np.unique(d.students.family[d.segments.student].astype(np.int64) * 1000 + d.segments.school)
    counts = np.bincount(key // 1000, minlength=len(d.families.culture))
    return joined(lookup(school_ids(d), key % 1000), np.concatenate([[0], np.cumsum(counts)]))


def _guardians(d: District) -> Table:
    g, n = d.guardians, len(d.guardians)
    username = pa.array(g.username, type=pa.string())
    email = concat(username, "@", lookup(GUARDIAN_DOMAINS, g.domain))
    families = pa.array(g.family)
    children = joined(lookup(student_ids(d), d.families.children), d.families.offsets)
    return {
        "sourcedId": guardian_ids(d),
        "enabledUser": flags(g.enabled),
        "orgSourcedIds": _family_schools(d).take(families),
        "role": lookup(["guardian", "parent"], g.parent.astype(np.int64)),
        "username": username,
        "givenName": lookup(given_names(d), g.given),
        "familyName": lookup(family_names(d), g.surname),
        "email": pc.if_else(pa.array(g.has_email), email, pa.scalar(None, pa.string())),
        "sms": [m if keep else "" for m, keep in zip(g.mobile, g.has_sms.tolist(), strict=True)],
        "phone": [h or m for h, m in zip(g.home, g.mobile, strict=True)],
        "agentSourcedIds": children.take(families),
    }, n


def enrollments_table(d: District) -> Table:
    """Per class: its teacher, then its students by student and begin date."""
    r, seg, k = d.roster, d.segments, len(d.roster.classes)
    klass = np.concatenate([np.arange(k), r.klass])
    role = np.concatenate([np.zeros(k, dtype=np.int64), np.ones(len(r.klass), dtype=np.int64)])
    user = np.concatenate([d.staff.class_teacher, seg.student[r.segment]])
    begin = np.concatenate([np.zeros(k, dtype=np.int64), seg.begin[r.segment]])
    end = np.concatenate([np.full(k, len(d.calendar.days)), seg.end[r.segment]])
    order = np.lexsort((begin, user, role, klass))
    klass, role, user, begin, end = klass[order], role[order], user[order], begin[order], end[order]
    users = pa.concat_arrays([teacher_ids(d), student_ids(d)])
    dates = pa.array([day.isoformat() for day in (*d.calendar.days, d.calendar.year_end)], type=pa.string())
    return {
        "sourcedId": sequential("enr-", 1, len(klass), 7),
        "classSourcedId": lookup(pa.array(r.classes.sid, type=pa.string()), klass),
        "schoolSourcedId": lookup(school_ids(d), np.array(r.classes.school, dtype=np.int64)[klass]),
        "userSourcedId": lookup(users, np.where(role == 0, user, d.staff.teachers + user)),
        "role": lookup(["teacher", "student"], role),
        "primary": lookup(["true", ""], role),
        "beginDate": lookup(dates, begin),
        "endDate": lookup(dates, end),
    }, len(klass)


def demographics_table(d: District) -> Table:
    s = d.students
    dem = build_demographics(d.seed, d.families.culture[s.family], d.pools.cultures)
    race = {
        "americanIndianOrAlaskaNative": "aian",
        "asian": "asian",
        "blackOrAfricanAmerican": "black",
        "nativeHawaiianOrOtherPacificIslander": "nhpi",
        "white": "white",
    }
    columns = {
        "sourcedId": student_ids(d),
        "birthDate": pa.array(s.birth).cast(pa.string()),
        "sex": lookup(["male", "female"], s.female.astype(np.int64)),
        **{field: flags(dem.race[:, RACES.index(key)]) for field, key in race.items()},
        "demographicRaceTwoOrMoreRaces": flags(dem.two_or_more),
        "hispanicOrLatinoEthnicity": flags(dem.hispanic),
        "countryOfBirthCode": dem.country,
        "stateOfBirthAbbreviation": dem.state,
        "cityOfBirth": dem.city,
        "publicSchoolResidenceStatus": dem.residence,
    }
    return columns, len(s)
