"""Tests for the SIS-export and multi-source sample districts (rollcall.sample.layouts)."""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import phonenumbers
import pytest
import yaml

from rollcall.cli import main
from rollcall.sample import (
    CASCADE_RULES,
    generate_district,
    generate_multi_source_district,
    generate_sis_district,
)

ROOT = Path(__file__).resolve().parents[2]
FORMATS_DIR = ROOT / "config" / "formats"
SIS = {"students": 150, "days": 30, "seed": 5}
MULTI = {"students": 150, "days": 40, "seed": 6}
SIS_FILES = (
    "sections.csv",
    "enrollments.csv",
    "teachers.csv",
    "staff.csv",
    "students.csv",
    "guardians.csv",
    "student_guardians.csv",
    "attendance.csv",
)
PHONE_COLUMNS = ("Phone Number w/ Area Code", "Alternative Phone Number w/ Area Code")
US_DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")


# --- helpers ------------------------------------------------------------------------------------
def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def header_of(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def lines(path: Path) -> list[list[str]]:
    """Parsed records by physical line (index 0 = line 1, the header)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.csv"))
    }


def normalize_header(name: str) -> str:
    """Lower case, no ``TABLE.`` prefix, letters and digits only."""
    text = name.strip().lower()
    text = re.sub(r"^[a-z_][a-z0-9_]*\.(?=.)", "", text)
    return re.sub(r"[^a-z0-9]", "", text)


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d"})))
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()


def formats() -> dict[str, dict]:
    out = {}
    for path in sorted(FORMATS_DIR.glob("*.yml")):
        for fmt in yaml.safe_load(path.read_text(encoding="utf-8"))["formats"]:
            out[fmt["name"]] = fmt
    return out


def is_valid_phone(text: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text, "US"))
    except phonenumbers.NumberParseException:
        return False


def shape(phone: str) -> str:
    return re.sub(r"\d", "9", phone)


class Drop:
    """A generated drop with its truth folder, read on demand."""

    def __init__(self, root: Path, summary):
        self.root = root
        self.drop = summary.path
        self.truth = summary.truth_path
        self.summary = summary

    def __getitem__(self, name: str) -> list[dict[str, str]]:
        return read(self.drop / name)

    def truth_rows(self, name: str) -> list[dict[str, str]]:
        return read(self.truth / name)


def make_sis(root: Path, **options) -> Drop:
    return Drop(root, generate_sis_district(root / "drop", **{**SIS, **options}))


def make_multi(root: Path, **options) -> Drop:
    return Drop(root, generate_multi_source_district(root / "drop", **{**MULTI, **options}))


@pytest.fixture(scope="module")
def sis_two(tmp_path_factory) -> Drop:
    return make_sis(tmp_path_factory.mktemp("sis_two"), guardian_layout="two-file", attendance_style="records")


@pytest.fixture(scope="module")
def sis_one(tmp_path_factory) -> Drop:
    return make_sis(tmp_path_factory.mktemp("sis_one"), guardian_layout="one-file", attendance_style="one-field")


@pytest.fixture(scope="module")
def sis_three(tmp_path_factory) -> Drop:
    return make_sis(
        tmp_path_factory.mktemp("sis_three"), guardian_layout="three-file", attendance_style="period-fields"
    )


@pytest.fixture(scope="module")
def multi(tmp_path_factory) -> Drop:
    return make_multi(tmp_path_factory.mktemp("multi"))


@pytest.fixture(scope="module")
def multi_plain(tmp_path_factory) -> Drop:
    return make_multi(tmp_path_factory.mktemp("multi_plain"), students=40, days=10, seed=7)


# --- determinism ----------------------------------------------------------------------------------
def test_sis_same_seed_same_bytes_other_seed_differs(tmp_path, sis_two):
    again = make_sis(tmp_path / "again", guardian_layout="two-file", attendance_style="records")
    assert digests(again.drop) == digests(sis_two.drop)
    assert digests(again.truth) == digests(sis_two.truth)
    assert again.truth == tmp_path / "again" / "truth"
    other = make_sis(tmp_path / "other", seed=SIS["seed"] + 1)
    for name in ("students.csv", "teachers.csv", "attendance.csv"):
        assert digests(other.drop)[name] != digests(sis_two.drop)[name], name


def test_multi_source_same_seed_same_bytes_other_seed_differs(tmp_path, multi):
    again = make_multi(tmp_path / "again")
    assert digests(again.drop) == digests(multi.drop)
    assert digests(again.truth) == digests(multi.truth)
    other = make_multi(tmp_path / "other", seed=MULTI["seed"] + 2)
    assert digests(other.truth) != digests(multi.truth)


# --- headers against config/formats ----------------------------------------------------------------
@pytest.mark.parametrize("name", ["sis_two", "sis_one", "sis_three", "multi", "multi_plain"])
def test_headers_carry_every_required_column_of_their_format(request, name):
    drop: Drop = request.getfixturevalue(name)
    catalog = formats()
    checked = 0
    for entry in drop.truth_rows("files.csv"):
        assert (drop.drop / entry["file"]).is_file(), entry["file"]
        if entry["format"] == "oneroster":
            continue
        fmt = catalog[entry["format"]]
        headers = {normalize_header(h) for h in header_of(drop.drop / entry["file"])}
        for column in fmt["columns"]:
            if column.get("required"):
                spellings = {normalize_header(h) for h in column["headers"]}
                assert headers & spellings, f"{entry['file']}: no header for required {column['name']}"
        group = fmt.get("repeating")
        if group and not group.get("value_only"):
            pattern = re.compile(group["group_pattern"])
            members = defaultdict(set)
            for h in headers:
                m = pattern.match(h)
                if m:
                    members[m.group(1)].add(m.group(2))
            if name == "sis_one" and entry["file"] == "students.csv":
                assert len(members) == 2, "Guardian 1 and Guardian 2 columns"
            for number, found in members.items():
                for column in group["columns"]:
                    if column.get("required"):
                        assert found & {normalize_header(h) for h in column["headers"]}, (number, column["name"])
        checked += 1
    assert checked >= 4


# --- SIS layout -------------------------------------------------------------------------------------
def test_sis_files_are_crlf_with_every_value_quoted(sis_two, sis_three):
    seen = 0
    for drop in (sis_two, sis_three):
        for name in SIS_FILES:
            path = drop.drop / name
            if not path.exists():
                continue
            seen += 1
            raw = path.read_bytes().decode("utf-8")
            assert raw.endswith("\r\n") and "\n" not in raw.replace("\r\n", ""), name
            header, *records = raw.split("\r\n")[:-1]
            assert not header.startswith('"'), name  # the header is written as is, like the seed samples
            width = len(header.split(","))
            for record in records:
                assert record.startswith('"') and record.endswith('"'), (name, record)
                assert len(next(csv.reader([record]))) == width, (name, record)
    assert seen == 15


def test_sis_seed_header_spellings(sis_two, sis_one):
    assert header_of(sis_two.drop / "sections.csv") == [
        "Staff ID",
        "School ID#",
        "Section#",
        "Period",
        "Course Name",
        "Instructor",
    ]
    assert header_of(sis_two.drop / "enrollments.csv")[:3] == ["Student ID", "School ID#", "Section#"]
    assert header_of(sis_two.drop / "teachers.csv") == [
        "ID#",
        "FirstName",
        "LastName",
        "UserName",
        "Email",
        "Description",
    ]
    guardians = header_of(sis_two.drop / "guardians.csv")
    assert guardians[:3] == ["Associated Student ID Number", "Guardian ID Number", "Guardian Category"]
    students = header_of(sis_one.drop / "students.csv")
    assert students[:3] == ["Student ID Number", "Student First Name", "Student Last Name"]
    assert "Guardian 1 ID Number" in students and "Guardian 2 Category" in students
    assert "Guardian 2 Phone Number w/ Area Code" in students
    assert not (sis_one.drop / "guardians.csv").exists()


def test_planted_rows_are_present_and_listed(sis_two):
    planted = sis_two.truth_rows("planted_rows.csv")
    problems = Counter((p["file"], p["problem"]) for p in planted)
    assert problems[("sections.csv", "misaligned_row")] == 1
    assert problems[("enrollments.csv", "misaligned_row")] == 1
    assert problems[("teachers.csv", "duplicate_key")] == 2
    assert sum(n for (_, problem), n in problems.items() if problem == "invalid_phone") >= 4
    schools = {r["School ID Number or Campus Code"] for r in sis_two["students.csv"]}
    sections = {r["Section#"] for r in sis_two["sections.csv"]}
    students = {r["Student ID Number"] for r in sis_two["students.csv"]}
    staff = {r["Staff ID Number"] for r in sis_two["staff.csv"]}
    tables = {name: lines(sis_two.drop / name) for name in {p["file"] for p in planted}}
    for p in planted:
        header, record = tables[p["file"]][0], tables[p["file"]][int(p["line"]) - 1]
        values = dict(zip(header, record, strict=True))
        if p["problem"] == "misaligned_row":
            assert p["expected"] == "quarantine"
            assert values["School ID#"] not in schools and values["School ID#"] in sections | {record[1]}
            assert values["School ID#"] in p["detail"]
            first = "Staff ID" if p["file"] == "sections.csv" else "Student ID"
            assert values[first] in schools  # the school id moved one column left
            assert values["Section#"] in (staff if p["file"] == "sections.csv" else students)
        elif p["problem"] == "duplicate_key":
            assert p["field"] == "ID#" and p["expected"] == "quarantine"
        else:
            assert p["problem"] == "invalid_phone" and p["expected"] == "flag_value"
            assert values[p["field"]] and repr(values[p["field"]]) in p["detail"]
            assert not is_valid_phone(values[p["field"]])
    # the two rows sharing a teacher id are two different people; every other id is unique
    duplicated = [tables["teachers.csv"][int(p["line"]) - 1] for p in planted if p["problem"] == "duplicate_key"]
    assert duplicated[0][0] == duplicated[1][0] and duplicated[0][1:3] != duplicated[1][1:3]
    ids = Counter(r["ID#"] for r in sis_two["teachers.csv"])
    assert [i for i, n in ids.items() if n > 1] == [duplicated[0][0]]
    # no other bad rows: schools known, keys unique
    planted_lines = {(p["file"], int(p["line"])) for p in planted if p["expected"] == "quarantine"}
    for name in ("sections.csv", "enrollments.csv"):
        rows = lines(sis_two.drop / name)
        good = [r for i, r in enumerate(rows[1:], start=2) if (name, i) not in planted_lines]
        assert all(r[1] in schools for r in good), name
        keys = Counter(tuple(r[:3]) for r in good)
        assert max(keys.values()) == 1, name
    files = {r["file"]: r for r in sis_two.truth_rows("files.csv")}
    assert files["sections.csv"]["planted_rows"] == "1" and files["teachers.csv"]["planted_rows"] == "2"
    assert int(files["attendance.csv"]["rows"]) == len(sis_two["attendance.csv"])


def test_every_phone_outside_the_planted_ones_is_valid_and_formats_vary(sis_two, sis_one):
    planted = {(p["file"], int(p["line"]), p["field"]) for p in sis_two.truth_rows("planted_rows.csv")}
    shapes: Counter[str] = Counter()
    checked = 0
    for name in ("students.csv", "guardians.csv", "staff.csv"):
        rows = lines(sis_two.drop / name)
        header = rows[0]
        for line, record in enumerate(rows[1:], start=2):
            for column in PHONE_COLUMNS:
                value = record[header.index(column)]
                if not value or (name, line, column) in planted:
                    continue
                assert is_valid_phone(value), (name, line, value)
                shapes[shape(value)] += 1
                checked += 1
    assert checked > 300
    assert {"(999) 999-9999", "999.999.9999", "+9 999 999 9999", "999-999-9999", "9999999999"} <= set(shapes)
    one = lines(sis_one.drop / "students.csv")
    guardian_phones = [i for i, h in enumerate(one[0]) if re.fullmatch(r"Guardian \d Phone Number w/ Area Code", h)]
    assert all(is_valid_phone(r[i]) for r in one[1:] for i in guardian_phones if r[i])


def test_student_contact_and_demographic_values(sis_two):
    students = sis_two["students.csv"]
    languages = Counter(r["Home / Correspondence Language Code"] for r in students)
    assert languages[""] > len(students) / 2  # blank means English
    assert len(set(languages) - {""}) >= 2
    assert all(US_DATE.match(r["Birth Date"]) for r in students)
    assert {r["Gender"] for r in students} == {"F", "M"}
    assert {r["Grade Level"] for r in students} <= {"K", *map(str, range(1, 13))}
    assert len({r["Student ID Number"] for r in students}) == len(students)
    assert all(re.fullmatch(r"\d{9}", r["Student ID Number"]) for r in students)


def guardian_links(drop: Drop) -> set[tuple[str, str, str]]:
    layout = drop.summary.details["guardian_layout"]
    if layout == "two-file":
        rows = drop["guardians.csv"]
        return {(r["Associated Student ID Number"], r["Guardian ID Number"], r["Guardian Category"]) for r in rows}
    if layout == "three-file":
        rows = drop["student_guardians.csv"]
        return {(r["Student ID Number"], r["Associated Guardian ID Number"], r["Guardian Category"]) for r in rows}
    links = set()
    for r in drop["students.csv"]:
        for n in (1, 2):
            if r[f"Guardian {n} ID Number"]:
                links.add((r["Student ID Number"], r[f"Guardian {n} ID Number"], r[f"Guardian {n} Category"]))
    return links


def test_three_guardian_arrangements_carry_the_same_links(sis_two, sis_one, sis_three):
    two, one, three = guardian_links(sis_two), guardian_links(sis_one), guardian_links(sis_three)
    assert two == one == three and len(two) > 150
    categories = Counter(category for _, _, category in two)
    assert categories["Mother"] and categories["Father"]
    assert {"Grandmother", "Grandfather", "Aunt", "Uncle", "Guardian"} & set(categories)
    guardians = sis_three["guardians.csv"]
    assert "Associated Student ID Number" not in guardians[0] and "Guardian Category" not in guardians[0]
    guardian_ids = {r["Guardian ID Number"] for r in guardians}
    assert len(guardian_ids) == len(guardians) == len({g for _, g, _ in two})
    people = {r["Student ID Number"] for r in sis_two["students.csv"]} | {
        r["Staff ID Number"] for r in sis_two["staff.csv"]
    }
    assert not guardian_ids & people


def absences(drop: Drop) -> set[tuple[str, str, str, str]]:
    style = drop.summary.details["attendance_style"]
    out = set()
    for r in drop["attendance.csv"]:
        key = (r["Student ID Number"], r["Absence Date"], r["Absence Reason Code"])
        if style == "records":
            periods = [r["Periods Missed"]]
        elif style == "one-field":
            periods = r["Periods Missed"].split(",") if r["Periods Missed"] else [""]
        else:
            periods = [str(n) for n in range(1, 7) if r[f"Period {n}"]] or [""]
        for period in periods:
            assert (*key, period) not in out
            out.add((*key, period))
    return out


def test_three_attendance_styles_carry_the_same_absences(sis_two, sis_one, sis_three):
    records, one_field, period_fields = absences(sis_two), absences(sis_one), absences(sis_three)
    assert records == one_field == period_fields
    assert {code for _, _, code, _ in records} <= {"T", "ED", "EX", "UX", "OSS", "ISS"}
    assert {period for *_, period in records} >= {"", "1", "6"}  # whole days and periods
    assert all(US_DATE.match(day) for _, day, _, _ in records)
    assert any("," in r["Periods Missed"] for r in sis_one["attendance.csv"])
    assert len(sis_one["attendance.csv"]) < len(sis_two["attendance.csv"])


def test_contact_opt_outs(sis_two):
    rows = sis_two["contact_opt_outs.csv"]
    assert {r["Action"] for r in rows} == {"opt-out", "opt-in"}
    assert all(US_DATE.match(r["Date"]) for r in rows)
    guardians = {r["Guardian ID Number"]: r for r in sis_two["guardians.csv"]}
    for r in rows:
        g = guardians[r["Person ID"]]
        if r["Channel"] == "email":
            assert r["Contact"].lower() == g["Email Address"].lower()
        else:
            digits = re.sub(r"\D", "", r["Contact"])[-10:]
            assert digits in {re.sub(r"\D", "", g[c])[-10:] for c in PHONE_COLUMNS}


def test_sis_calendar_files_name_the_schools_by_their_sis_codes(tmp_path, sis_two):
    """orgs.csv, academicSessions.csv and calendar.csv beside the exports: the oneroster layout's
    schools, sessions and school days of the same district, under the schools' SIS codes."""
    codes = {r["School ID Number or Campus Code"] for r in sis_two["students.csv"]}
    orgs = sis_two["orgs.csv"]
    assert {r["sourcedId"] for r in orgs} == codes and {r["type"] for r in orgs} == {"school"}
    package = generate_district(tmp_path / "package", **SIS)
    oneroster_orgs = read(package.path / "orgs.csv")
    code_of = {o["sourcedId"]: s["sourcedId"] for o in oneroster_orgs for s in orgs if o["name"] == s["name"]}
    assert len(code_of) == len(orgs)  # every school, by name
    assert sis_two["academicSessions.csv"] == read(package.path / "academicSessions.csv")
    expected = [{**r, "schoolSourcedId": code_of[r["schoolSourcedId"]]} for r in read(package.path / "calendar.csv")]
    assert sis_two["calendar.csv"] == expected
    files = {r["file"]: r["format"] for r in sis_two.truth_rows("files.csv")}
    assert {name: files[name] for name in ("orgs.csv", "academicSessions.csv", "calendar.csv")} == dict.fromkeys(
        ("orgs.csv", "academicSessions.csv", "calendar.csv"), "oneroster"
    )
    bare = make_sis(tmp_path / "bare", calendar=False)
    assert not {"orgs.csv", "academicSessions.csv", "calendar.csv"} & {p.name for p in bare.drop.iterdir()}
    assert digests(bare.drop)["attendance.csv"] == digests(sis_two.drop)["attendance.csv"]


# --- multi-source layout ------------------------------------------------------------------------------
def roster(drop: Drop) -> dict[str, dict[str, str]]:
    """OneRoster students: sourcedId -> users row + birthDate."""
    users = {r["sourcedId"]: r for r in drop["oneroster/users.csv"] if r["role"] == "student"}
    for r in drop["oneroster/demographics.csv"]:
        users[r["sourcedId"]]["birthDate"] = r["birthDate"]
    return users


def star_records(drop: Drop) -> dict[str, dict[str, str]]:
    """Star id -> (first, last, ISO birth date, files) over the three files."""
    out: dict[str, dict[str, str]] = {}
    for name in ("SM", "SR", "SEL"):
        for r in drop[f"star/{name}.csv"]:
            rid = r.get("StudentLocalID") or r["StudentIdentifier"]
            first = r.get("StudentFirst") or r["StudentFirstName"]
            last = r.get("StudentLast") or r["StudentLastName"]
            birth = r["BirthDate"]
            iso = birth if "-" in birth else f"{birth[6:]}-{birth[:2]}-{birth[3:5]}"
            record = out.setdefault(rid, {"first": first, "last": last, "birth": iso, "rows": 0})
            assert (record["first"], record["last"], record["birth"]) == (first, last, iso), rid
            record["rows"] += 1
    return out


def test_truth_lists_every_source_record_exactly_once(multi):
    truth = multi.truth_rows("identity_truth.csv")
    keys = Counter((r["source_system"], r["source_record_id"]) for r in truth)
    assert max(keys.values()) == 1
    ps_id = "STUDENTS.STUDENT_NUMBER" if "STUDENTS.STUDENT_NUMBER" in multi["powerschool/students.csv"][0] else ""
    expected = {("oneroster", sid) for sid in roster(multi)}
    expected |= {("powerschool", r[ps_id or "Student_Number"]) for r in multi["powerschool/students.csv"]}
    expected |= {("classlink", r["SourcedId"]) for r in multi["classlink/users.csv"]}
    expected |= {("star", rid) for rid in star_records(multi)}
    assert set(keys) == expected
    assert {r["district_id"] for r in truth} == {"demo-unified"}
    assert set(truth[0]) >= {"source_system", "source_record_id", "true_person", "expected_status", "expected_rule"}


def test_truth_statuses_and_rules(multi):
    truth = multi.truth_rows("identity_truth.csv")
    status = Counter(r["expected_status"] for r in truth)
    assert set(status) == {"matched", "ambiguous", "unmatched"}
    assert status["ambiguous"] == 1 and status["unmatched"] >= 5
    rules = Counter(r["expected_rule"] for r in truth if r["expected_status"] == "matched")
    assert set(rules) <= {"anchor", *CASCADE_RULES}
    for rule in ("anchor", "email", "student_number", "name_birth_date", "fuzzy_name_birth_date"):
        assert rules[rule] >= (2 if "name" in rule else 10), rule
    assert {r["source_system"] for r in truth if r["expected_status"] == "unmatched"} == {
        "powerschool",
        "classlink",
        "star",
    }
    for r in truth:
        if r["expected_status"] == "unmatched":
            assert r["expected_rule"] == ""
        if r["source_system"] == "oneroster":
            assert (r["true_person"], r["expected_rule"]) == (r["source_record_id"], "anchor")
    # some records of real students cannot be linked (a stale ClassLink email), some are nobody
    unmatched = [r for r in truth if r["expected_status"] == "unmatched"]
    assert any(r["true_person"] for r in unmatched) and any(not r["true_person"] for r in unmatched)


def test_matched_records_really_match_their_person_by_their_rule(multi):
    people = roster(multi)
    truth = {(r["source_system"], r["source_record_id"]): r for r in multi.truth_rows("identity_truth.csv")}
    ps = multi["powerschool/students.csv"]
    prefix = "STUDENTS." if "STUDENTS.EMAIL" in ps[0] else ""
    for row in ps:
        number, email = (
            row[f"{prefix}STUDENT_NUMBER" if prefix else "Student_Number"],
            row[f"{prefix}EMAIL" if prefix else "Email"],
        )
        t = truth[("powerschool", number)]
        if t["expected_status"] == "matched":
            person = people[t["true_person"]]
            assert person["identifier"] == number  # PowerSchool student number = OneRoster identifier
            assert t["expected_rule"] == ("email" if email else "student_number")
            assert not email or email == person["email"]
    variants = Counter()
    for row in multi["classlink/users.csv"]:
        t = truth[("classlink", row["SourcedId"])]
        assert row["TenantName"] == "Rollcall Demo PD"
        if t["expected_status"] == "matched":
            assert t["expected_rule"] == "email"
            assert row["Email"].strip().lower() == people[t["true_person"]]["email"]
            variants["case" if row["Email"].strip() != row["Email"].strip().lower() else "lower"] += 1
            variants["space" if row["Email"] != row["Email"].strip() else "trim"] += 1
    assert variants["case"] >= 3 and variants["space"] >= 2
    stars = star_records(multi)
    for rid, record in stars.items():
        t = truth[("star", rid)]
        person = people.get(t["true_person"])
        if t["expected_rule"] == "student_number":
            assert rid == person["identifier"] and rid.startswith("0")  # leading zeros kept
        elif t["expected_rule"] == "name_birth_date" and t["expected_status"] == "matched":
            assert rid not in {p["identifier"] for p in people.values()}
            same = [
                p
                for p in people.values()
                if (fold(p["givenName"]), fold(p["familyName"]), p["birthDate"])
                == (fold(record["first"]), fold(record["last"]), record["birth"])
            ]
            assert [p["sourcedId"] for p in same] == [t["true_person"]]
        elif t["expected_rule"] == "fuzzy_name_birth_date":
            assert record["birth"] == person["birthDate"]
            assert (record["first"], record["last"]) != (person["givenName"], person["familyName"])
            assert fold(record["first"])[:1] == fold(person["givenName"])[:1]


def test_the_ambiguous_pair_is_two_people_and_one_star_record(multi):
    people = roster(multi)
    truth = multi.truth_rows("identity_truth.csv")
    (ambiguous,) = [r for r in truth if r["expected_status"] == "ambiguous"]
    assert (ambiguous["source_system"], ambiguous["expected_rule"]) == ("star", "name_birth_date")
    record = star_records(multi)[ambiguous["source_record_id"]]
    twins = [
        p
        for p in people.values()
        if (p["givenName"], p["familyName"], p["birthDate"]) == (record["first"], record["last"], record["birth"])
    ]
    assert len(twins) == 2 and twins[0]["identifier"] != twins[1]["identifier"]
    assert ambiguous["true_person"] in {p["sourcedId"] for p in twins}
    pair = {
        r["source_record_id"]
        for r in truth
        if r["planted"] == "same_name_birth_date" and r["source_system"] == "oneroster"
    }
    assert pair == {p["sourcedId"] for p in twins}


def test_oneroster_package_is_generate_district_with_only_the_pair_renamed(tmp_path, multi):
    plain = generate_district(tmp_path / "plain", **MULTI)
    assert plain.row_counts["users"] == len(multi["oneroster/users.csv"])
    ours, theirs = digests(multi.drop / "oneroster"), digests(tmp_path / "plain")
    assert {name for name in ours if ours[name] != theirs[name]} == {"users.csv", "demographics.csv"}
    for name in ("users.csv", "demographics.csv"):
        a = (multi.drop / "oneroster" / name).read_text(encoding="utf-8").splitlines()
        b = (tmp_path / "plain" / name).read_text(encoding="utf-8").splitlines()
        assert len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1, name


def test_star_layouts_and_repeated_assessments(multi):
    sm, sr, sel = (header_of(multi.drop / f"star/{n}.csv") for n in ("SM", "SR", "SEL"))
    assert sm[0] == "StudentLocalID" and "StudentAssessmentID" in sm and "DistrictName" not in sm
    for header in (sr, sel):
        assert header[0] == "RenaissanceClientID" and {"StudentIdentifier", "AssessmentID", "DistrictName"} <= set(
            header
        )
    assert {r["DistrictName"] for n in ("SR", "SEL") for r in multi[f"star/{n}.csv"]} == {
        "Rollcall Demo Public Schools"
    }
    counts = Counter(r["StudentLocalID"] for r in multi["star/SM.csv"])
    assert max(counts.values()) >= 2 and sum(n >= 2 for n in counts.values()) > len(counts) / 2
    raw = (multi.drop / "star/SM.csv").read_text(encoding="utf-8").splitlines()
    assert all(line.startswith('"') for line in raw)


def test_powerschool_header_styles(multi, multi_plain, tmp_path):
    table = header_of(multi.drop / "powerschool/students.csv")
    plain = header_of(multi_plain.drop / "powerschool/students.csv")
    assert "STUDENTS.STUDENT_NUMBER" in table and "STUDENTS.EMAIL" in table  # seed 6: even
    assert "Student_Number" in plain and "Email" in plain  # seed 7: odd
    assert multi.summary.details["powerschool_headers"] == "table"
    forced = make_multi(tmp_path / "forced", students=30, days=5, seed=7, powerschool_headers="table")
    assert header_of(forced.drop / "powerschool/students.csv")[1] == "STUDENTS.STUDENT_NUMBER"


# --- arguments and the CLI ----------------------------------------------------------------------------
def test_bad_arguments_raise_value_error(tmp_path):
    with pytest.raises(ValueError, match="guardian_layout"):
        generate_sis_district(tmp_path / "a", students=20, guardian_layout="four-file")
    with pytest.raises(ValueError, match="attendance_style"):
        generate_sis_district(tmp_path / "a", students=20, attendance_style="weekly")
    with pytest.raises(ValueError, match="calendar"):
        generate_sis_district(tmp_path / "a", students=20, calendar="no")
    with pytest.raises(ValueError, match="at least 20"):
        generate_multi_source_district(tmp_path / "b", students=5)
    with pytest.raises(ValueError, match="outside the drop"):
        generate_sis_district(tmp_path / "c", students=20, truth_dir=tmp_path / "c" / "truth")


def test_cli_generate_layouts(tmp_path, capsys):
    out = tmp_path / "sis"
    assert (
        main(
            [
                "generate",
                str(out),
                "--layout",
                "sis",
                "--students",
                "40",
                "--days",
                "5",
                "--guardian-layout",
                "one-file",
            ]
        )
        == 0
    )
    assert (out / "students.csv").is_file() and (tmp_path / "truth" / "planted_rows.csv").is_file()
    assert not (out / "guardians.csv").exists()
    assert (out / "calendar.csv").is_file()
    bare = tmp_path / "bare" / "drop"
    assert main(["generate", str(bare), "--layout", "sis", "--students", "20", "--days", "5", "--no-calendar"]) == 0
    assert (bare / "students.csv").is_file() and not (bare / "calendar.csv").exists()
    assert "truth in" in capsys.readouterr().out
    multi_out, truth = tmp_path / "ms", tmp_path / "ms-truth"
    args = [
        "generate",
        str(multi_out),
        "--layout",
        "multi-source",
        "--students",
        "30",
        "--days",
        "5",
        "--truth",
        str(truth),
    ]
    assert main(args) == 0
    assert (multi_out / "oneroster" / "users.csv").is_file() and (truth / "identity_truth.csv").is_file()
    assert main(["generate", str(tmp_path / "z"), "--layout", "sis", "--zip"]) == 2
    assert "--zip" in capsys.readouterr().err
