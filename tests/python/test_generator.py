"""Tests for the sample-district generator (rollcall.sample)."""

from __future__ import annotations

import csv
import hashlib
import itertools
import zipfile
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from rollcall.sample import (
    ABSENT_FILES,
    INSTRUCTIONAL_DAYS,
    WRITTEN_FILES,
    generate_district,
)

FIELD_TABLE = Path(__file__).resolve().parents[2] / "seeds" / "oneroster_fields.csv"
SMALL = {"students": 120, "days": 40, "seed": 7}
HIGH_GRADES = {"09", "10", "11", "12"}


def read(folder: Path, stem: str) -> list[dict[str, str]]:
    with (folder / f"{stem}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.csv"))}


def split(value: str) -> list[str]:
    return [v for v in value.split(",") if v]


def d(text: str) -> date:
    return date.fromisoformat(text)


class Package:
    """A generated folder, read once."""

    def __init__(self, folder: Path, summary):
        self.folder = folder
        self.summary = summary
        self.tables = {stem: read(folder, stem) for stem in WRITTEN_FILES if stem != "manifest"}

    def __getitem__(self, stem: str) -> list[dict[str, str]]:
        return self.tables[stem]

    def calendar(self) -> dict[tuple[str, date], dict[str, str]]:
        return {(r["schoolSourcedId"], d(r["date"])): r for r in self["calendar"]}


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Package:
    folder = tmp_path_factory.mktemp("small")
    return Package(folder, generate_district(folder, **SMALL))


@pytest.fixture(scope="module")
def default(tmp_path_factory) -> Package:
    folder = tmp_path_factory.mktemp("default")
    return Package(folder, generate_district(folder))


# --- determinism, sizes, formats ----------------------------------------------------------------
def test_same_arguments_give_identical_bytes_and_other_seed_differs(tmp_path, small):
    generate_district(tmp_path / "again", **SMALL)
    assert digests(tmp_path / "again") == digests(small.folder)
    assert len(digests(small.folder)) == len(WRITTEN_FILES)
    generate_district(tmp_path / "other", **{**SMALL, "seed": 8})
    other = digests(tmp_path / "other")
    for name in ("users.csv", "attendance.csv", "enrollments.csv", "demographics.csv"):
        assert other[name] != digests(small.folder)[name], name
    # the calendar and code list do not depend on the seed
    assert other["calendar.csv"] == digests(small.folder)["calendar.csv"]


def test_zip_holds_the_same_files_at_its_root(tmp_path, small):
    target = tmp_path / "sample.zip"
    summary = generate_district(target, as_zip=True, **SMALL)
    assert summary.path == target and target.is_file()
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == sorted(f"{s}.csv" for s in WRITTEN_FILES)
        for name in archive.namelist():
            assert archive.read(name) == (small.folder / name).read_bytes(), name
    first = target.read_bytes()
    generate_district(target, as_zip=True, **SMALL)  # overwrite: still byte-identical
    assert target.read_bytes() == first


def test_summary(small):
    s = small.summary
    assert s.district_sourced_id == "district-demo"
    assert s.first_day == date(2025, 8, 25) and s.first_day.weekday() == 0
    assert s.instructional_days == INSTRUCTIONAL_DAYS
    assert s.row_counts["demographics"] == SMALL["students"]
    for stem in WRITTEN_FILES:
        with (small.folder / f"{stem}.csv").open(encoding="utf-8") as handle:
            assert s.row_counts[stem] == sum(1 for _ in csv.reader(handle)) - 1, stem
    # last_attendance_day is the days-th day with instructionalValue > 0 at the first school
    days = sorted(
        d(r["date"])
        for r in small["calendar"]
        if r["schoolSourcedId"] == "school-001" and r["instructionalValue"] != "0"
    )
    assert s.last_attendance_day == days[SMALL["days"] - 1]
    assert max(d(r["date"]) for r in small["attendance"]) == s.last_attendance_day


def test_row_counts_scale_with_flags(tmp_path):
    base = generate_district(tmp_path / "a", students=60, days=20, seed=3).row_counts
    more = generate_district(tmp_path / "b", students=240, days=20, seed=3).row_counts
    longer = generate_district(tmp_path / "c", students=60, days=40, seed=3).row_counts
    wider = generate_district(tmp_path / "d", students=60, days=20, seed=3, schools=7).row_counts
    assert base["demographics"] == 60 and more["demographics"] == 240
    assert more["attendance"] > 3 * base["attendance"]
    assert more["enrollments"] > 3 * base["enrollments"]
    assert more["users"] > 2.5 * base["users"]  # teachers and admins do not scale 1:1
    assert 1.7 * base["attendance"] < longer["attendance"] < 2.3 * base["attendance"]
    assert longer["users"] == base["users"]
    assert base["orgs"] == 5 and wider["orgs"] == 8
    assert wider["calendar"] == 7 * base["calendar"] // 4
    assert base["absenceCodes"] == 7 and base["academicSessions"] == 7


def test_headers_follow_the_field_table(small):
    """The sample is a OneRoster 1.1 package: the field table's 1.1 columns, in order."""
    table: dict[str, list[tuple[int, str]]] = defaultdict(list)
    with FIELD_TABLE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if "1.1" in row["versions"].split("|"):
                table[row["file_name"]].append((int(row["field_order"]), row["field_name"]))
    for stem in WRITTEN_FILES:
        expected = [name for _, name in sorted(table[stem]) if not (stem == "users" and name == "password")]
        raw = (small.folder / f"{stem}.csv").read_bytes()
        assert b"\r" not in raw, stem
        header = raw.decode("utf-8").split("\n", 1)[0].split(",")
        assert header == expected, stem
        if stem != "manifest":
            assert header[:3] == ["sourcedId", "status", "dateLastModified"]
            rows = small[stem]
            assert rows, stem
            assert all(r["status"] == "" and r["dateLastModified"] == "" for r in rows), stem
            ids = [r["sourcedId"] for r in rows]
            assert len(set(ids)) == len(ids) and all(ids), stem
    assert "password" not in (small.folder / "users.csv").read_text(encoding="utf-8").split("\n", 1)[0]


def test_packaged_column_order_is_the_field_table_order(monkeypatch):
    """Installed without the repository's seeds, the package's own column order gives the same headers."""
    from rollcall.sample import oneroster

    from_field_table = oneroster.headers()
    monkeypatch.setattr(oneroster, "FIELD_TABLE_PATH", FIELD_TABLE.parent / "no-such-file.csv")
    assert oneroster.headers() == from_field_table


def test_manifest(small):
    with (small.folder / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        manifest = dict(csv.reader(handle))
    assert manifest.pop("propertyName") == "value"
    assert manifest["manifest.version"] == "1.0" and manifest["oneroster.version"] == "1.1"
    assert manifest["source.systemName"] == "rollcall sample district"
    for stem in WRITTEN_FILES[1:]:
        assert manifest[f"file.{stem}"] == "bulk"
    for stem in ABSENT_FILES:
        assert manifest[f"file.{stem}"] == "absent"
        assert not (small.folder / f"{stem}.csv").exists()


def test_list_fields_are_quoted_and_ids_keep_leading_zeros(default):
    raw = (default.folder / "users.csv").read_text(encoding="utf-8")
    assert ',"grd-' in raw  # two guardians -> one quoted, comma-separated field
    assert '"as-2026-s1,as-2026-s2"' in (default.folder / "classes.csv").read_text(encoding="utf-8")
    students = [u for u in default["users"] if u["role"] == "student"]
    assert all(len(u["identifier"]) == 9 and u["identifier"].startswith("00") for u in students)
    assert all(u["userIds"] == f"{{SIS:{u['identifier']}}}" for u in students)
    usernames = [u["username"] for u in default["users"]]
    assert len(set(usernames)) == len(usernames)
    assert any(not u["givenName"].isascii() or not u["familyName"].isascii() for u in default["users"])


# --- structure -----------------------------------------------------------------------------------
def test_references_resolve(default):
    orgs = {r["sourcedId"]: r for r in default["orgs"]}
    sessions = {r["sourcedId"]: r for r in default["academicSessions"]}
    courses = {r["sourcedId"]: r for r in default["courses"]}
    classes = {r["sourcedId"]: r for r in default["classes"]}
    users = {r["sourcedId"]: r for r in default["users"]}
    codes = {r["code"] for r in default["absenceCodes"]}
    schools = {k for k, v in orgs.items() if v["type"] == "school"}
    assert [k for k, v in orgs.items() if v["type"] == "district"] == ["district-demo"]
    assert orgs["district-demo"]["identifier"] == "9900001"
    for s in schools:
        assert orgs[s]["parentSourcedId"] == "district-demo"
        assert len(orgs[s]["identifier"]) == 12 and orgs[s]["identifier"].startswith("9900001")
    for s in sessions.values():
        assert s["parentSourcedId"] == "" or s["parentSourcedId"] in sessions
    for c in courses.values():
        assert c["orgSourcedId"] in schools and sessions[c["schoolYearSourcedId"]]["type"] == "schoolYear"
    for c in classes.values():
        assert c["courseSourcedId"] in courses and c["schoolSourcedId"] in schools
        assert courses[c["courseSourcedId"]]["orgSourcedId"] == c["schoolSourcedId"]
        assert split(c["termSourcedIds"]) and all(t in sessions for t in split(c["termSourcedIds"]))
    for e in default["enrollments"]:
        assert e["classSourcedId"] in classes and e["userSourcedId"] in users
        assert classes[e["classSourcedId"]]["schoolSourcedId"] == e["schoolSourcedId"]
        assert users[e["userSourcedId"]]["role"] == e["role"]
        assert e["primary"] == ("true" if e["role"] == "teacher" else "")
    for u in users.values():
        assert split(u["orgSourcedIds"]) and all(o in orgs for o in split(u["orgSourcedIds"]))
        for agent in split(u["agentSourcedIds"]):
            assert agent in users
            assert u["sourcedId"] in split(users[agent]["agentSourcedIds"])  # reciprocal
    for r in default["demographics"]:
        assert users[r["sourcedId"]]["role"] == "student"
    for a in default["attendance"]:
        assert users[a["userSourcedId"]]["role"] == "student"
        assert a["schoolSourcedId"] in schools and a["absenceCode"] in codes
        if a["classSourcedId"]:
            assert classes[a["classSourcedId"]]["schoolSourcedId"] == a["schoolSourcedId"]
    for r in default["calendar"]:
        assert r["schoolSourcedId"] in schools


def test_roster_shape(default):
    users = default["users"]
    roles = Counter(u["role"] for u in users)
    assert roles["student"] == 500 and 1 <= roles["administrator"] <= 2
    assert roles["teacher"] > 10 and roles["parent"] > roles["guardian"] > 0
    assert any(u["enabledUser"] == "false" for u in users)
    assert Counter(u["enabledUser"] for u in users)["true"] > 0.9 * len(users)
    guardians = [u for u in users if u["role"] in ("parent", "guardian")]
    assert any(len(split(g["agentSourcedIds"])) >= 2 for g in guardians)  # siblings share guardians
    assert {len(split(u["agentSourcedIds"])) for u in users if u["role"] == "student"} == {1, 2}
    assert all(sum(ch.isdigit() for ch in g["sms"]) == 10 for g in guardians if g["sms"])
    assert len({g["phone"][3] for g in guardians if g["phone"]}) > 1  # mixed phone formats
    classes = default["classes"]
    assert {c["classType"] for c in classes} == {"homeroom", "scheduled"}
    assert {c["periods"] for c in classes if c["classType"] == "scheduled"} == {
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
    }
    # every student is in exactly one homeroom per school they attend; secondary students take
    # six scheduled classes with distinct periods
    class_by_id = {c["sourcedId"]: c for c in classes}
    per_student = defaultdict(list)
    for e in default["enrollments"]:
        if e["role"] == "student":
            per_student[(e["userSourcedId"], e["schoolSourcedId"])].append(class_by_id[e["classSourcedId"]])
    grade = {u["sourcedId"]: u["grades"] for u in users if u["role"] == "student"}
    assert {sid for sid, _ in per_student} == set(grade)
    for (sid, _), taken in per_student.items():
        assert sum(c["classType"] == "homeroom" for c in taken) == 1
        assert all(c["grades"] == grade[sid] for c in taken)
        periods = [c["periods"] for c in taken if c["classType"] == "scheduled"]
        if grade[sid] in ("KG", "01", "02", "03", "04", "05"):
            assert periods == []
        else:
            assert sorted(periods) == ["1", "2", "3", "4", "5", "6"]
    # teachers: every class has exactly one primary teacher, at most ~5-6 sections each
    teachers = Counter(e["classSourcedId"] for e in default["enrollments"] if e["role"] == "teacher")
    assert set(teachers) == set(class_by_id) and set(teachers.values()) == {1}
    load = Counter(e["userSourcedId"] for e in default["enrollments"] if e["role"] == "teacher")
    assert max(load.values()) <= 6


def test_birth_dates_match_grades(default):
    grade = {u["sourcedId"]: u["grades"] for u in default["users"] if u["role"] == "student"}
    grades = ["KG"] + [f"{g:02d}" for g in range(1, 13)]
    for r in default["demographics"]:
        born = d(r["birthDate"])
        sept1 = date(2025, 9, 1)
        age = sept1.year - born.year - ((sept1.month, sept1.day) < (born.month, born.day))
        assert age - 5 - grades.index(grade[r["sourcedId"]]) in (0, 1)
        assert r["sex"] in ("male", "female")
        flags = [
            r[k]
            for k in (
                "americanIndianOrAlaskaNative",
                "asian",
                "blackOrAfricanAmerican",
                "nativeHawaiianOrOtherPacificIslander",
                "white",
            )
        ]
        assert set(flags) <= {"true", "false"} and flags.count("true") >= 1
        assert (flags.count("true") >= 2) == (r["demographicRaceTwoOrMoreRaces"] == "true")
        assert r["hispanicOrLatinoEthnicity"] in ("true", "false")


@pytest.mark.parametrize(
    ("schools", "levels"),
    [
        (1, [("KG", "12")]),
        (2, [("KG", "08"), ("09", "12")]),
        (3, [("KG", "05"), ("06", "08"), ("09", "12")]),
        (4, [("KG", "05"), ("KG", "05"), ("06", "08"), ("09", "12")]),
        (8, [("KG", "05")] * 4 + [("06", "08")] * 2 + [("09", "12")] * 2),
    ],
)
def test_school_levels(tmp_path, schools, levels):
    generate_district(tmp_path, students=40, days=5, schools=schools)
    spans = defaultdict(set)
    for c in read(tmp_path, "courses"):
        spans[c["orgSourcedId"]].add(c["grades"])
    got = [
        (min(g, key=lambda x: (x != "KG", x)), max(g, key=lambda x: (x != "KG", x))) for _, g in sorted(spans.items())
    ]
    assert got == levels
    names = [o["name"] for o in read(tmp_path, "orgs") if o["type"] == "school"]
    assert len(set(names)) == schools and all(n.endswith(("School", "Academy")) for n in names)


# --- calendar and sessions -----------------------------------------------------------------------
def test_sessions_tile_with_exclusive_end_dates(default):
    sessions = {r["sourcedId"]: r for r in default["academicSessions"]}
    year = [r for r in sessions.values() if r["type"] == "schoolYear"]
    assert len(year) == 1 and year[0]["title"] == "2025-2026" and year[0]["schoolYear"] == "2026"
    year = year[0]
    calendar_days = sorted({d(r["date"]) for r in default["calendar"]})
    assert d(year["startDate"]) == calendar_days[0] == default.summary.first_day
    assert d(year["endDate"]) == calendar_days[-1] + timedelta(days=1)  # exclusive
    assert all(r["schoolYear"] == "2026" for r in sessions.values())

    def tiles(children, parent):
        spans = sorted((d(c["startDate"]), d(c["endDate"])) for c in children)
        assert spans[0][0] == d(parent["startDate"]) and spans[-1][1] == d(parent["endDate"])
        assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # no gaps, no overlaps
        assert all(s < e for s, e in spans)

    semesters = [r for r in sessions.values() if r["type"] == "semester"]
    assert len(semesters) == 2 and all(s["parentSourcedId"] == year["sourcedId"] for s in semesters)
    tiles(semesters, year)
    terms = [r for r in sessions.values() if r["type"] == "term"]
    assert len(terms) == 4
    for semester in semesters:
        mine = [t for t in terms if t["parentSourcedId"] == semester["sourcedId"]]
        assert len(mine) == 2
        tiles(mine, semester)


def test_calendar(default):
    cal = default["calendar"]
    schools = sorted({r["schoolSourcedId"] for r in cal})
    assert len(schools) == 4
    first, last = default.summary.first_day, default.summary.last_day
    weekdays = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    weekdays = [x for x in weekdays if x.weekday() < 5]
    by_school = defaultdict(list)
    for r in cal:
        by_school[r["schoolSourcedId"]].append(r)
        assert (r["instructionalValue"], r["dayType"]) in {
            ("1", "instructional"),
            ("0.5", "halfDay"),
            ("0", "holiday"),
            ("0", "break"),
            ("0", "professionalDevelopment"),
        }
    for school, rows in by_school.items():
        assert [d(r["date"]) for r in rows] == weekdays, school  # every weekday, no weekends
    instructional = {s: sum(r["instructionalValue"] != "0" for r in rows) for s, rows in by_school.items()}
    assert instructional[schools[0]] == INSTRUCTIONAL_DAYS
    assert instructional[schools[-1]] == INSTRUCTIONAL_DAYS - 1  # one extra PD day
    assert len({tuple((r["date"], r["dayType"]) for r in rows) for rows in by_school.values()}) == 2
    text = {r["description"] for r in cal}
    for holiday in (
        "Labor Day",
        "Thanksgiving Day",
        "Day after Thanksgiving",
        "Winter break",
        "Martin Luther King Jr. Day",
        "Presidents' Day",
        "Spring break",
        "Memorial Day",
    ):
        assert holiday in text
    rows = by_school[schools[0]]
    assert sum(r["dayType"] == "break" for r in rows if r["description"] == "Winter break") == 10
    assert sum(r["description"] == "Spring break" for r in rows) == 5
    assert sum(r["dayType"] == "professionalDevelopment" for r in rows) >= 2
    half = [d(r["date"]) for r in rows if r["dayType"] == "halfDay"]
    assert len(half) >= 3 and last in half
    assert d(next(r["date"] for r in rows if r["description"] == "Thanksgiving Day")).weekday() == 3


# --- enrollment mobility -------------------------------------------------------------------------
def test_transfers_exits_and_late_entries_exist(default):
    s = default.summary
    year_end = (s.last_day + timedelta(days=1)).isoformat()
    first = s.first_day.isoformat()
    cal = default.calendar()
    spans = defaultdict(set)
    for e in default["enrollments"]:
        if e["role"] == "student":
            spans[e["userSourcedId"]].add((e["schoolSourcedId"], e["beginDate"], e["endDate"]))
    users = {u["sourcedId"]: u for u in default["users"]}
    transfers, exits, late = [], [], []
    for sid, stays in spans.items():
        stays = sorted(stays, key=lambda x: x[1])
        if len(stays) == 2:
            (a, _, a_end), (b, b_begin, b_end) = stays
            assert a != b and a_end == b_begin and b_end == year_end
            assert split(users[sid]["orgSourcedIds"]) == [a, b]
            when = d(b_begin)
            assert cal[(a, when)]["instructionalValue"] != "0" and cal[(b, when)]["instructionalValue"] != "0"
            assert s.first_day < when <= s.last_day  # anywhere in the year: never depends on days
            transfers.append((sid, when))
        else:
            assert len(stays) == 1
            _, begin, end = stays[0]
            if end != year_end:
                assert begin == first and s.first_day < d(end) <= s.last_day
                assert users[sid]["enabledUser"] == "false"
                exits.append((sid, d(end)))
            if begin != first:
                assert s.first_day < d(begin) <= s.last_day
                assert cal[(stays[0][0], d(begin))]["instructionalValue"] != "0"
                late.append((sid, d(begin)))
    for group in (transfers, exits, late):
        assert 5 <= len(group) <= 30  # ~3 % of 500
        assert any(when <= s.last_attendance_day for _, when in group)  # some show in the attendance
    school_days = sorted(day for school, day in cal if school == "school-001")
    six_weeks = [day for day in school_days if cal[("school-001", day)]["instructionalValue"] != "0"][29]
    assert all(when <= six_weeks for _, when in late)  # late entries arrive in the first six weeks
    for group in (transfers, exits):  # a third of the moves in the first six weeks, the rest later
        assert sum(when <= six_weeks for _, when in group) == -(-len(group) // 3)
    transfers = [sid for sid, _ in transfers]
    # transfers stay within a level: both schools teach the student's grade
    grades_of = defaultdict(set)
    for c in default["courses"]:
        grades_of[c["orgSourcedId"]].add(c["grades"])
    for sid in transfers:
        assert all(users[sid]["grades"] in grades_of[o] for o in split(users[sid]["orgSourcedIds"]))


# --- attendance ----------------------------------------------------------------------------------
def membership_days(pkg: Package) -> dict[str, set[tuple[str, date]]]:
    """student -> {(school, date)} expected from homeroom enrollments x calendar x window."""
    cal = pkg.calendar()
    homerooms = {c["sourcedId"] for c in pkg["classes"] if c["classType"] == "homeroom"}
    window_end = pkg.summary.last_attendance_day
    expected = defaultdict(set)
    for e in pkg["enrollments"]:
        if e["role"] != "student" or e["classSourcedId"] not in homerooms:
            continue
        day, end = (
            d(e["beginDate"]),
            min(d(e["endDate"]), window_end + timedelta(days=1)),
        )
        while day < end:
            row = cal.get((e["schoolSourcedId"], day))
            if row is not None and row["instructionalValue"] != "0":
                expected[e["userSourcedId"]].add((e["schoolSourcedId"], day))
            day += timedelta(days=1)
    return expected


@pytest.mark.parametrize("which", ["small", "default"])
def test_one_daily_row_per_membership_day_and_nothing_else(which, request):
    pkg = request.getfixturevalue(which)
    expected = membership_days(pkg)
    daily = Counter(
        (a["userSourcedId"], a["schoolSourcedId"], d(a["date"])) for a in pkg["attendance"] if not a["classSourcedId"]
    )
    assert set(daily.values()) == {1}
    got = defaultdict(set)
    for sid, school, day in daily:
        got[sid].add((school, day))
    assert got == expected
    assert all(bool(a["classSourcedId"]) == bool(a["period"]) for a in pkg["attendance"])


def test_period_rows(default):
    users = {u["sourcedId"]: u for u in default["users"]}
    enrolled = defaultdict(list)
    periods = {c["sourcedId"]: c["periods"] for c in default["classes"]}
    for e in default["enrollments"]:
        if e["role"] == "student":
            enrolled[(e["userSourcedId"], e["classSourcedId"])].append((d(e["beginDate"]), d(e["endDate"])))
    day_rows = defaultdict(list)
    daily = {}
    for a in default["attendance"]:
        key = (a["userSourcedId"], a["date"])
        if a["classSourcedId"]:
            assert users[a["userSourcedId"]]["grades"] in HIGH_GRADES  # period attendance in 09-12 only
            assert periods[a["classSourcedId"]] == a["period"]
            assert any(b <= d(a["date"]) < e for b, e in enrolled[(a["userSourcedId"], a["classSourcedId"])])
            day_rows[key].append(a["absenceCode"])
        else:
            daily[key] = a["absenceCode"]
    high_days = [k for k in daily if users[k[0]]["grades"] in HIGH_GRADES]
    assert high_days and all(len(day_rows[k]) == 6 for k in high_days)
    assert set(day_rows) <= set(daily)
    cuts = 0
    for key, codes in day_rows.items():
        if daily[key] in ("EX", "UX", "OSS"):
            assert set(codes) == {daily[key]}  # absent all day: every period carries the day's code
        elif daily[key] == "P" and "UX" in codes:
            assert codes.count("UX") == 1  # single-period cut; the daily row stays P
            cuts += 1
    assert cuts > 0
    assert any(daily[k] == "P" and "T" in codes for k, codes in day_rows.items())


def test_no_attendance_on_non_instructional_days_or_outside_window(default):
    cal = default.calendar()
    for a in default["attendance"]:
        row = cal[(a["schoolSourcedId"], d(a["date"]))]  # KeyError for weekends / outside the year
        assert row["instructionalValue"] in ("1", "0.5")
        assert d(a["date"]) <= default.summary.last_attendance_day
    half_days = {(r["schoolSourcedId"], r["date"]) for r in default["calendar"] if r["dayType"] == "halfDay"}
    assert any((a["schoolSourcedId"], a["date"]) in half_days for a in default["attendance"])
    ids = [a["sourcedId"] for a in default["attendance"]]
    assert ids[0] == "att-0000001" and len(set(ids)) == len(ids)


def test_absence_mix_and_chronic_share(default):
    value = {r["code"]: float(r["absentValue"]) for r in default["absenceCodes"]}
    assert value == {"P": 0, "T": 0, "ED": 0.5, "EX": 1, "UX": 1, "OSS": 1, "ISS": 0}
    assert all(r["orgSourcedId"] == "" for r in default["absenceCodes"])
    absent, days, codes = Counter(), Counter(), Counter()
    for a in default["attendance"]:
        if not a["classSourcedId"]:
            days[a["userSourcedId"]] += 1
            absent[a["userSourcedId"]] += value[a["absenceCode"]]
            codes[a["absenceCode"]] += 1
    rates = {sid: absent[sid] / days[sid] for sid in days}
    chronic = sum(r >= 0.10 for r in rates.values()) / len(rates)
    assert 0.10 <= chronic <= 0.30
    typical = sum(0.01 <= r <= 0.06 for r in rates.values()) / len(rates)
    assert typical > 0.4
    assert sum(0.09 <= r <= 0.11 for r in rates.values()) >= 3  # a few right around the threshold
    total = sum(codes.values())
    assert 0.02 <= codes["T"] / total <= 0.07
    assert 0 < codes["ED"] / total < 0.02 and 0 < codes["OSS"] / total < 0.01 and codes["ISS"] > 0
    assert codes["EX"] > 0 and codes["UX"] > 0 and codes["P"] / total > 0.85


# --- arguments -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [
        {"students": 0},
        {"students": -5},
        {"schools": 0},
        {"days": 0},
        {"days": INSTRUCTIONAL_DAYS + 1},
        {"students": 2.5},
        {"schools": True},
        {"school_year": 10},
    ],
)
def test_bad_arguments_raise_value_error(tmp_path, kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        generate_district(tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_extreme_but_valid_arguments(tmp_path):
    one = generate_district(tmp_path / "one", students=1, schools=1, days=1)
    assert one.row_counts["demographics"] == 1 and one.row_counts["orgs"] == 2
    attendance = read(tmp_path / "one", "attendance")
    assert {a["date"] for a in attendance} == {one.first_day.isoformat()}
    full = generate_district(tmp_path / "full", students=10, days=INSTRUCTIONAL_DAYS)
    assert full.last_attendance_day == full.last_day


# --- incremental days, scale, progress -----------------------------------------------------------
def test_one_more_day_only_appends_that_days_attendance(tmp_path):
    """A day's rows depend only on (seed, student, date): days=N+1 is days=N plus day N+1's rows,
    with the same sourcedIds and values; every other file is identical."""
    shorter = generate_district(tmp_path / "short", students=150, days=12, seed=9)
    longer = generate_district(tmp_path / "long", students=150, days=13, seed=9)
    old = (tmp_path / "short" / "attendance.csv").read_bytes()
    new = (tmp_path / "long" / "attendance.csv").read_bytes()
    assert new.startswith(old) and len(new) > len(old)
    added = list(csv.reader(new[len(old) :].decode("utf-8").splitlines()))
    assert {row[7] for row in added} == {longer.last_attendance_day.isoformat()}
    assert shorter.last_attendance_day < longer.last_attendance_day
    assert added[0][0] == f"att-{shorter.row_counts['attendance'] + 1:07d}"
    assert longer.row_counts["attendance"] == shorter.row_counts["attendance"] + len(added)
    short, long = digests(tmp_path / "short"), digests(tmp_path / "long")
    assert {name for name in short if short[name] != long[name]} == {"attendance.csv"}


def test_a_longer_window_starts_with_the_shorter_one(tmp_path):
    generate_district(tmp_path / "a", students=80, days=30, seed=4)
    generate_district(tmp_path / "b", students=80, days=INSTRUCTIONAL_DAYS, seed=4)
    assert (tmp_path / "b" / "attendance.csv").read_bytes().startswith((tmp_path / "a" / "attendance.csv").read_bytes())


def test_thousands_of_students_vectorised(tmp_path):
    """3,000 students for the whole year: twice the same bytes, and the row count the roster implies."""
    first = generate_district(tmp_path / "a", students=3000, days=INSTRUCTIONAL_DAYS, seed=21)
    generate_district(tmp_path / "b", students=3000, days=INSTRUCTIONAL_DAYS, seed=21)
    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    raw = (tmp_path / "a" / "attendance.csv").read_bytes()
    assert raw.count(b"\n") - 1 == first.row_counts["attendance"]
    users = read(tmp_path / "a", "users")
    high = sum(u["grades"] in HIGH_GRADES for u in users if u["role"] == "student") / 3000
    expected = 3000 * INSTRUCTIONAL_DAYS * (1 + 6 * high)  # everyone, every day; transfers ~ balance exits
    assert 0.9 * expected < first.row_counts["attendance"] < 1.02 * expected
    assert first.row_counts["demographics"] == 3000 and first.row_counts["enrollments"] > 3000 * (1 + 6 * high)
    last = raw[raw.rindex(b"\n", 0, len(raw) - 1) + 1 :].decode()
    assert last.startswith(f"att-{first.row_counts['attendance']:07d},") and first.last_day.isoformat() in last
    rates = duckdb.sql(
        f"""select sum(c.absentValue) / count(*) as rate
            from read_csv('{tmp_path / "a" / "attendance.csv"}', all_varchar = true) a
            join read_csv('{tmp_path / "a" / "absenceCodes.csv"}') c on a.absenceCode = c.code
            where a.classSourcedId is null group by a.userSourcedId"""
    ).fetchall()
    chronic = sum(rate >= 0.1 for (rate,) in rates) / len(rates)
    assert 0.13 <= chronic <= 0.23  # ~15-20 % chronically absent over a whole year


def test_progress_lines_name_every_file(tmp_path, capsys):
    files: list[tuple[str, int]] = []
    summary = generate_district(tmp_path / "p", students=20, days=3, progress=lambda *file: files.append(file))
    assert files == [(f"{stem}.csv", summary.row_counts[stem]) for stem in WRITTEN_FILES]
    from rollcall.cli import main

    assert main(["generate", str(tmp_path / "q"), "--students", "20", "--days", "3"]) == 0
    assert capsys.readouterr().err == ""  # small runs are quiet
