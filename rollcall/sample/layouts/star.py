"""Renaissance Star files of the multi-source layout: SM (historical layout), SR and SEL (v2).

Several assessments per student: a screening per window (fall, winter, spring, as far as the
attendance days reach), progress monitoring about every four weeks, a few retests. Star ids are
the student number, except for students typed in by hand with a 5-digit local id (some with a
slip in a name), the second of the same-name pair, a demo account and a student from elsewhere.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from rollcall.sample.dates import us_date
from rollcall.sample.layouts.common import DropFile
from rollcall.sample.layouts.identity import Identity, Person
from rollcall.sample.layouts.names import random_name, typo
from rollcall.sample.text import fold, grade_label, grade_number
from rollcall.sample.vocab import read_lines

if TYPE_CHECKING:
    from rollcall.sample.layouts.multi_source import MultiSource

# file, subject, layout, columns file, grades tested
STAR_FILES = (
    ("star/SM.csv", "math", "star_historical", "star_sm_columns.txt", tuple(f"{g:02d}" for g in range(1, 13))),
    ("star/SR.csv", "reading", "star_v2", "star_sr_columns.txt", tuple(f"{g:02d}" for g in range(2, 13))),
    ("star/SEL.csv", "early_literacy", "star_v2", "star_sel_columns.txt", ("KG", "01", "02")),
)
STAR_PARTICIPATION = 0.94
STAR_RETEST_SHARE = 0.04
Window = tuple[str, date, date]


@dataclass
class StarIds:
    """Who Star knows under which id and name, and the planted case of each."""

    star_id: dict[str, str]  # OneRoster sid -> Star id
    name: dict[str, tuple[str, str]]  # OneRoster sid -> (given, family) as typed into Star
    planted: dict[str, str]  # OneRoster sid -> planted case ("" for none)


def star_files(ms: MultiSource) -> list[DropFile]:
    rng = ms.rng("star")
    participants = _participants(ms, rng)
    tested = {p.sid for members in participants.values() for p in members}
    ids = _star_ids(ms, rng, tested)
    strangers = _strangers(ms, rng)
    for name in ("star/SM.csv", "star/SR.csv"):
        participants[name] = participants[name] + [s for s, _ in strangers]
    _record_identities(ms, participants, ids, dict((s.number, case) for s, case in strangers))
    windows = _windows(ms)
    files = []
    for file_name, subject, layout, columns_file, _ in STAR_FILES:
        columns = read_lines(columns_file)
        counter = itertools.count(rng.randrange(1000, 9000) + 1)  # StudentAssessmentID, SM only
        rows = [
            row
            for p in participants[file_name]
            for row in _student_rows(ms, rng, (subject, layout), p, windows, ids, counter)
        ]
        files.append(DropFile(file_name, layout, columns, [[r.get(c, "") for c in columns] for r in rows], "quoted"))
    return files


def _participants(ms: MultiSource, rng: random.Random) -> dict[str, list[Person]]:
    """Per file: the students of its grades who took the test (the first of the pair always does)."""
    first = ms.pair[0]
    out = {
        name: [p for p in ms.persons if p.grade in grades and (p is first or rng.random() < STAR_PARTICIPATION)]
        for name, _, _, _, grades in STAR_FILES
    }
    if not any(first in members for members in out.values()):
        target = next((f for f, *_, grades in STAR_FILES if first.grade in grades), STAR_FILES[0][0])
        out[target] = sorted([*out[target], first], key=lambda p: p.sid)
    return out


def _star_ids(ms: MultiSource, rng: random.Random, tested: set[str]) -> StarIds:
    first, second = ms.pair
    unique_key = {k for k, sids in ms.anchor.by_name_birth.items() if len(sids) == 1}
    pool = [
        p
        for p in ms.persons
        if p.sid in tested
        and p.sid not in (first.sid, second.sid)
        and (fold(p.given), fold(p.family), p.birth) in unique_key
    ]
    n_local = min(len(pool), max(4, round(0.02 * len(tested))))
    local_people = rng.sample(pool, n_local)
    local_ids = iter(str(v) for v in rng.sample(range(10_000, 100_000), n_local + 3))
    ids = StarIds({p.sid: p.number for p in ms.persons}, {p.sid: (p.given, p.family) for p in ms.persons}, {})
    ids.planted = dict.fromkeys(ids.star_id, "")
    for k, p in enumerate(local_people):
        ids.star_id[p.sid], ids.planted[p.sid] = next(local_ids), "local_id"
        if k < n_local // 2:
            _misspell(ms, rng, p, ids)
    ids.star_id[first.sid], ids.planted[first.sid] = next(local_ids), "same_name_birth_date"
    return ids


def _misspell(ms: MultiSource, rng: random.Random, p: Person, ids: StarIds) -> None:
    """A one-letter slip in a name that the fuzzy rule (and only it) still resolves to ``p``."""
    for _ in range(20):
        family = typo(rng, p.family) if len(fold(p.family)) >= 4 else p.family
        given = p.given if family != p.family else typo(rng, p.given)
        ident = Identity("star", ids.star_id[p.sid], "", ids.star_id[p.sid], "", given, family, p.birth)
        if ms.anchor.resolve(ident) == ("matched", "fuzzy_name_birth_date", p.sid):
            ids.name[p.sid], ids.planted[p.sid] = (given, family), "local_id_name_typo"
            return


def _strangers(ms: MultiSource, rng: random.Random) -> list[tuple[Person, str]]:
    """Records of nobody in the roster: a demo account and a student from elsewhere."""
    demo = Person("", "DEMO1", "Demo", "", "Student", "", "04", True, [], date(2015, 1, 1), "female")
    while True:
        given, family, sex = random_name(rng)
        number = f"{rng.randrange(10_000_000, 99_999_999):09d}"
        birth = ms.stranger_birth(rng, "06")
        ident = Identity("star", number, "", number, "", given, family, birth)
        if ms.anchor.resolve(ident)[0] == "unmatched":
            break
    visitor = Person("", number, given, "", family, "", "06", True, [], birth, sex)
    for s in (demo, visitor):
        s.school = sorted(ms.view.schools)[0]
    return [(demo, "test_account"), (visitor, "not_in_roster")]


def _record_identities(ms: MultiSource, participants, ids: StarIds, stranger_case: dict[str, str]) -> None:
    """One truth record per Star id over the three files."""
    seen: set[str] = set()
    for members in participants.values():
        for p in members:
            rid = ids.star_id[p.sid] if p.sid else p.number
            if rid in seen:
                continue
            seen.add(rid)
            given, family = ids.name[p.sid] if p.sid else (p.given, p.family)
            case = ids.planted[p.sid] if p.sid else stranger_case[rid]
            ms.record(Identity("star", rid, "", rid, "", given, family, p.birth), p.sid, case)


def _windows(ms: MultiSource) -> list[Window]:
    y = ms.package.school_year
    first, last = ms.package.first_day, ms.package.last_attendance_day
    windows = [
        ("Fall", date(y - 1, 9, 8), date(y - 1, 9, 26)),
        ("Winter", date(y, 1, 12), date(y, 1, 30)),
        ("Spring", date(y, 4, 27), date(y, 5, 15)),
    ]
    kept = [(name, max(start, first), min(end, last)) for name, start, end in windows if start <= last]
    return kept or [("Fall", first, last)]


def _test_dates(rng: random.Random, windows: list[Window], last: date) -> list[tuple[str, date, date, date]]:
    """(window name or "" for progress monitoring, date, window start, window end) of one student's
    tests: one screening per window, progress monitoring about every four weeks in between, a few
    retests; at least two tests."""
    tests: list[tuple[str, date, date, date]] = []
    for window, start, end in windows:
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        taken = rng.choice([d for d in days if d.weekday() < 5] or [start])
        tests.append((window, taken, start, end))
        if rng.random() < STAR_RETEST_SHARE:
            tests.append((window, min(end, taken + timedelta(days=rng.randint(1, 4))), start, end))
    day = tests[0][1] + timedelta(days=28 + rng.randint(-3, 3))
    while day <= last:
        weekday = day - timedelta(days=max(0, day.weekday() - 4))
        if not any(start <= weekday <= end for _, start, end in windows):
            tests.append(("", weekday, weekday, weekday))
        day += timedelta(days=28 + rng.randint(-3, 3))
    if len(tests) < 2:
        window, taken, start, end = tests[0]
        tests.append((window, min(last, taken + timedelta(days=rng.randint(1, 4))), start, end))
    return sorted(tests, key=lambda t: t[1])


def _student_rows(ms, rng, kind, p: Person, windows, ids: StarIds, counter) -> list[dict[str, str]]:
    """One dict per assessment of one student (column -> value; columns not set stay empty)."""
    subject, layout = kind
    rid = ids.star_id[p.sid] if p.sid else p.number
    given, family = ids.name[p.sid] if p.sid else (p.given, p.family)
    ability = random.Random(f"rollcall:{ms.seed}:multi:ability:{subject}:{rid}").gauss(0, 1)
    out = []
    for number, (window, taken, start, end) in enumerate(_test_dates(rng, windows, ms.package.last_attendance_day), 1):
        row = _scores(ms, rng, subject, p, ability, taken, window, number)
        if layout == "star_v2":
            row.update(_v2_fields(ms, rng, p, rid, given, family, subject, (window, taken, start, end)))
        else:
            row.update(_historical_fields(ms, rng, p, rid, given, family, next(counter), (window, taken, start, end)))
        out.append(row)
    return out


def _scores(ms, rng, subject: str, p: Person, ability: float, taken: date, window: str, number: int) -> dict:
    grade = grade_number(p.grade)
    first = ms.package.first_day
    growth = ((taken - first).days / 300) if taken > first else 0.0
    z = ability + rng.gauss(0, 0.25)
    base, slope, spread, gain, top = {
        "math": (300, 70, 60, 40, 1400),
        "reading": (250, 85, 90, 45, 1400),
        "early_literacy": (480, 90, 70, 50, 900),
    }[subject]
    scaled = max(0, min(top, round(base + slope * grade + spread * z + gain * growth)))
    school_name, _ = ms.view.schools.get(p.school, ("", ""))
    row = {
        "Gender": "F" if p.sex == "female" else "M",
        "CurrentGrade": grade_label(p.grade),
        "SchoolName": school_name,
        "GradePlacement": f"{grade + ((taken.month - 8) % 12 + taken.day / 31) / 10:.2f}",
        "Grade": grade_label(p.grade),
        "ScaledScore": str(scaled),
        "PercentileRank": str(min(99, max(1, round(50 * (1 + math.erf(z / math.sqrt(2))))))),
        "NormalCurveEquivalent": f"{min(99.0, max(1.0, 50 + 21.06 * z)):.1f}",
        "AssessmentNumber": str(number),
    }
    row.update(_subject_fields(subject, grade, z, growth, scaled))
    if window in ("Winter", "Spring"):
        row["CurrentSGP"] = str(rng.randint(1, 99))
    return row


def _subject_fields(subject: str, grade: int, z: float, growth: float, scaled: int) -> dict[str, str]:
    if subject == "early_literacy":
        kind = "Emergent Reader" if scaled < 675 else "Transitional Reader" if scaled < 775 else "Probable Reader"
        return {"LiteracyClassification": kind}
    row = {"GradeEquivalent": f"{max(0.0, grade + 0.8 * z + growth):.1f}"}
    if subject == "reading":
        lexile = int(round(200 + 110 * grade + 120 * z + 40 * growth, -1))
        row["Lexile"] = f"{lexile}L" if lexile > 0 else "BR"
    return row


def _moment(rng: random.Random, taken: date) -> str:
    return f"{us_date(taken)} {rng.randint(8, 14):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"


def _v2_fields(ms, rng, p: Person, rid: str, given: str, family: str, subject: str, test) -> dict[str, str]:
    window, taken, start, end = test
    y = ms.package.school_year
    moment = _moment(rng, taken)
    _, school_id = ms.view.schools.get(p.school, ("", ""))
    teacher = ms.view.teachers.get(p.homeroom_teacher, ("", "", ""))
    return {
        "RenaissanceClientID": "7731",
        "SchoolYear": f"{y - 1}-{y}",
        "SchoolYearStartDate": f"{y - 1}-07-01 00:00:00.000",
        "SchoolYearEndDate": f"{y}-06-30 00:00:00.000",
        "StudentRenaissanceID": _guid(random.Random(f"rollcall:{ms.seed}:multi:ren:{rid}")),
        "StudentIdentifier": rid,
        "StudentFirstName": given,
        "StudentMiddleName": p.middle,
        "StudentLastName": family,
        "BirthDate": p.birth.isoformat() if subject == "reading" else us_date(p.birth),
        "EnrollmentStatus": "Active" if p.enabled else "Inactive",
        "DistrictName": f"{ms.district_name} Public Schools",
        "SchoolIdentifier": school_id,
        "TeacherIdentifier": teacher[0],
        "TeacherFirstName": teacher[1],
        "TeacherLastName": teacher[2],
        "AssessmentID": _guid(rng),
        "LaunchDate": moment,
        "CompletedDate": moment,
        "CompletedDateLocal": moment,
        "AssessmentType": "Enterprise",
        "AssessmentStatus": "Active",
        "StandardErrorOfMeasurement": str(rng.randint(20, 60)),
        "TotalTimeInSeconds": str(rng.randint(600, 1500)),
        "ScreeningPeriodWindowName": window,
        "ScreeningWindowStartDate": us_date(start) if window else "",
        "ScreeningWindowEndDate": us_date(end) if window else "",
    }


def _historical_fields(ms, rng, p: Person, rid: str, given: str, family: str, counter: int, test) -> dict[str, str]:
    window, taken, start, end = test
    _, school_id = ms.view.schools.get(p.school, ("", ""))
    teacher = ms.view.teachers.get(p.homeroom_teacher, ("", "", ""))
    return {
        "StudentLocalID": rid,
        "StudentFirst": given,
        "StudentMiddle": p.middle,
        "StudentLast": family,
        "BirthDate": us_date(p.birth),
        "SchoolLocalID": school_id,
        "TeacherLocalID": teacher[0],
        "TeacherFirst": teacher[1],
        "TeacherLast": teacher[2],
        "StudentAssessmentID": str(counter),
        "AssessmentDate": _moment(rng, taken),
        "SEM": str(rng.randint(20, 60)),
        "TotalTime": str(rng.randint(600, 1500)),
        "TestType": "Enterprise",
        "WindowName": window,
        "WindowStart": f"{us_date(start)} 00:00:00" if window else "",
        "WindowEnd": f"{us_date(end)} 23:59:59" if window else "",
        "TestStatus": "Active",
        "GlobalWindow": window or _season(taken),
        "ProbableTestType": "Screening" if window else "PM",
    }


def _season(day: date) -> str:
    """Star's global window of a date."""
    return "Fall" if day.month >= 8 else "Winter" if day.month <= 2 else "Spring"


def _guid(rng: random.Random) -> str:
    text = f"{rng.getrandbits(128):032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}".upper()
