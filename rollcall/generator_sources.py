"""Sample districts in two more layouts, each with its known truth: a SIS export and a multi-source district.

``generate_sis_district`` writes a district that cannot send OneRoster: the SchoolMessenger-style
SIS exports read through ``config/formats/schoolmessenger.yml`` (sections, enrollments, teachers,
students, staff, attendance, guardians in one of three arrangements) plus contact opt-outs
(``config/formats/messaging.yml``). All SIS files have the export's own conventions: header row
as is, every value double-quoted, CRLF line ends, dates ``mm/dd/yyyy``. A few bad rows are
planted (a misaligned section row, a misaligned enrollment row, one teacher id on two different
people, a few invalid phone numbers) and listed in ``truth/planted_rows.csv``.

``generate_multi_source_district`` writes one district seen through four systems: a OneRoster 1.1
package (``generate_district``), a PowerSchool student export, ClassLink users and Renaissance
Star SM / SR / SEL assessment files. The same students appear in every source with realistic
differences, and ``truth/identity_truth.csv`` says which OneRoster student each source record
belongs to and what the default identity cascade should conclude for it.

The truth folder is written next to the drop (default: ``<drop>/../truth``), never inside it,
so a loader pointed at the drop never sees it. Both layouts are deterministic: every draw comes
from ``random.Random`` streams seeded from ``seed`` and a purpose, nothing reads the clock.
See ``docs/sample-districts.md``.

Speed with the defaults (500 students, 100 days), measured on the 2-core development machine:
about 1 s for the SIS layout, 2-3 s for the multi-source layout (most of it the OneRoster package).
"""

from __future__ import annotations

import csv
import math
import random
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from rollcall.generator import (
    CULTURE_WEIGHTS,
    CULTURES,
    ELEMENTARY_GRADES,
    INSTRUCTIONAL_DAYS,
    MAX_SCHOOLS,
    PERIODS,
    GenerationSummary,
    _District,
    generate_district,
)

__all__ = [
    "ATTENDANCE_STYLES",
    "CASCADE_RULES",
    "GUARDIAN_LAYOUTS",
    "LAYOUTS",
    "POWERSCHOOL_HEADER_STYLES",
    "SourcesSummary",
    "generate_multi_source_district",
    "generate_sis_district",
]

LAYOUTS = ("oneroster", "sis", "multi-source")
GUARDIAN_LAYOUTS = ("two-file", "one-file", "three-file")
ATTENDANCE_STYLES = ("records", "one-field", "period-fields")
POWERSCHOOL_HEADER_STYLES = ("table", "plain")
# The default identity cascade, strongest rule first; OneRoster is the anchor.
CASCADE_RULES = ("email", "student_number", "state_id", "name_birth_date", "fuzzy_name_birth_date")
FUZZY_MAX_DISTANCE = 2  # optimal-string-alignment distance between normalised "given family" names
TRUTH_FOLDER = "truth"
SOURCE_SYSTEMS = ("oneroster", "powerschool", "classlink", "star")
IDENTITY_TRUTH_FIELDS = (
    "district_id",
    "source_system",
    "source_record_id",
    "true_person",
    "expected_status",
    "expected_rule",
    "planted",
)
PLANTED_ROW_FIELDS = ("file", "line", "field", "problem", "expected", "detail")
FILES_FIELDS = ("file", "format", "rows", "planted_rows")
MIN_MULTI_SOURCE_STUDENTS = 20

STUDENT_EMAIL_DOMAIN = "students.demousd.example.org"
STAFF_EMAIL_DOMAIN = "demousd.example.org"

# Phone numbers: 555-0100..0199 in real area codes (fictional, but valid for phone-number parsers).
PHONE_AREAS = ("206", "253", "360", "425", "509", "564")
PHONE_STYLES = (  # (template, weight)
    ("({a}) {e}-{l}", 40),
    ("{a}-{e}-{l}", 18),
    ("{a}.{e}.{l}", 14),
    ("+1 {a} {e} {l}", 10),
    ("{a}{e}{l}", 8),
    ("1-{a}-{e}-{l}", 5),
    ("{a} {e} {l}", 5),
)
INVALID_PHONES = ("555-0143", "(206) 555-014", "(555) 123-4567", "n/a")  # no area code, 9 digits, bad area, text
INVALID_STAFF_PHONE = "000-000-0000"

# Home language by culture: (ISO 639-1 code, share of families who ask for it). Blank = English.
HOME_LANGUAGES = {
    "hispanic": (("es", 0.62),),
    "vietnamese": (("vi", 0.7),),
    "chinese": (("zh", 0.65),),
    "south_asian": (("hi", 0.2), ("ur", 0.1), ("bn", 0.08)),
    "korean": (("ko", 0.6),),
    "east_african": (("so", 0.45), ("am", 0.2)),
    "arabic": (("ar", 0.6),),
    "filipino": (("tl", 0.3),),
    "eastern_european": (("uk", 0.3), ("pl", 0.2), ("ru", 0.1)),
}
NON_PARENT_CATEGORIES = {
    "female": (("Grandmother", 45), ("Aunt", 30), ("Guardian", 20), ("Stepmother", 5)),
    "male": (("Grandfather", 45), ("Uncle", 30), ("Guardian", 20), ("Stepfather", 5)),
}
LEVEL_DESCRIPTIONS = {
    "elementary": "Elementary Teacher",
    "middle": "Middle School Teacher",
    "high": "High School Teacher",
    "k8": "K-8 Teacher",
    "k12": "K-12 Teacher",
}
DISTRICT_OFFICE_CODE = "000"

# --- SchoolMessenger layouts (seed spellings) ------------------------------------------------
SIS_SECTION_HEADER = ("Staff ID", "School ID#", "Section#", "Period", "Course Name", "Instructor")
SIS_ENROLLMENT_HEADER = ("Student ID", "School ID#", "Section#", "Period", "Course Name", "Instructor")
SIS_TEACHER_HEADER = ("ID#", "FirstName", "LastName", "UserName", "Email", "Description")
PHONE = "Phone Number w/ Area Code"
ALT_PHONE = "Alternative Phone Number w/ Area Code"
LANGUAGE = "Home / Correspondence Language Code"
SIS_STAFF_HEADER = (
    "Staff ID Number",
    "Last Name",
    "First Name",
    PHONE,
    "School (Location) ID Number or Campus Code",
    LANGUAGE,
    "Position / Title Code",
    ALT_PHONE,
    "Email Address",
)
SIS_STUDENT_FIELDS = (  # after the id and the two name columns
    PHONE,
    "School ID Number or Campus Code",
    LANGUAGE,
    ALT_PHONE,
    "Email Address",
    "Alternative Email Address",
    "Grade Level",
    "Gender",
    "Birth Date",
)
SIS_GUARDIAN_GROUP = (
    "ID Number",
    "First Name",
    "Last Name",
    "Category",
    PHONE,
    ALT_PHONE,
    "Email Address",
    "Alternative Email Address",
)
SIS_GUARDIAN_CONTACT = (PHONE, LANGUAGE, ALT_PHONE, "Email Address", "Alternative Email Address")
SIS_GUARDIAN_LINK_HEADER = ("Student ID Number", "Associated Guardian ID Number", "Guardian Category")
SIS_ATTENDANCE_HEAD = ("Student ID Number", "Absence Reason Code", "Absence Date")
SIS_ATTENDANCE_SCHOOL = "School ID Number"
OPT_OUT_HEADER = ("Contact", "Channel", "Action", "Date", "Person ID", "Reason")

# --- PowerSchool: (plain report header, database-field header) --------------------------------
POWERSCHOOL_COLUMNS = (
    ("ID", "STUDENTS.ID"),
    ("Student_Number", "STUDENTS.STUDENT_NUMBER"),
    ("SchoolID", "STUDENTS.SCHOOLID"),
    ("First_Name", "STUDENTS.FIRST_NAME"),
    ("Middle_Name", "STUDENTS.MIDDLE_NAME"),
    ("Last_Name", "STUDENTS.LAST_NAME"),
    ("Grade_Level", "STUDENTS.GRADE_LEVEL"),
    ("Home_Phone", "STUDENTS.HOME_PHONE"),
    ("Gender", "STUDENTS.GENDER"),
    ("DOB", "STUDENTS.DOB"),
    ("Enroll_Status", "STUDENTS.ENROLL_STATUS"),
    ("EntryDate", "STUDENTS.ENTRYDATE"),
    ("ExitDate", "STUDENTS.EXITDATE"),
    ("Email", "STUDENTS.EMAIL"),
)
CLASSLINK_HEADER = ("SourcedId", "Email", "FirstName", "LastName", "Role", "TenantName")


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


# --- Renaissance Star layouts (column lists of the historical and v2 signatures) -------------
STAR_HISTORICAL_SM_COLUMNS = _names(
    "StudentLocalID|StudentStateID|StudentFirst|StudentMiddle|StudentLast|Gender|BirthDate|Ethnicity|"
    "CurrentGrade|DistrictStateID|SchoolLocalID|SchoolStateID|SchoolName|CourseNumber|CourseName|"
    "ClassNumber|TeacherLocalID|TeacherStateID|TeacherFirst|TeacherMiddle|TeacherLast|"
    "StudentAssessmentID|AssessmentDate|GradePlacement|Grade|ScaledScore|SEM|RaschScore|GradeEquivalent|"
    "PercentileRank|NormalCurveEquivalent|TotalTime|TotalDuration|TotalCorrect|AssessmentNumber|TestType|"
    "WindowName|WindowStart|WindowEnd|ScreeningCategoryGroupAdjustment|StateBenchmarkName|"
    "StateBenchmarkCategoryAdjustment|StateBenchmarkCategoryGroupAdjustment|TestStatus|"
    "DeactivationReason|GlobalWindow|ProbableTestType|FallWinterSGP|WinterSpringSGP|FallSpringSGP"
)
_STAR_V2_HEAD = (
    "RenaissanceClientID|SchoolYear|SchoolYearStartDate|SchoolYearEndDate|StudentRenaissanceID|"
    "StudentSourcedID|StudentIdentifier|StudentUserID|StudentStateID|StudentEmail|StudentFirstName|"
    "StudentMiddleName|StudentLastName|Gender|BirthDate|MultiRace|HispanicOrLatino|"
    "AmericanIndianOrAlaskaNative|Asian|BlackOrAfricanAmerican|NativeHawaiianOrOtherPacificIslander|"
    "White|CurrentGrade|EnrollmentStatus|DistrictRenaissanceID|DistrictSourcedID|DistrictIdentifier|"
    "DistrictStateID|DistrictName|SchoolRenaissanceID|SchoolSourcedID|SchoolIdentifier|SchoolStateID|"
    "SchoolName|CourseRenaissanceID|CourseSourcedID|CourseCode|CourseName|ClassRenaissanceID|"
    "ClassSourcedID|ClassCode|GroupID|GroupOrClassName|TeacherRenaissanceID|TeacherSourcedID|"
    "TeacherIdentifier|TeacherUserID|TeacherStateID|TeacherEmail|TeacherFirstName|TeacherMiddleName|"
    "TeacherLastName|AssessmentID|LaunchDate|CompletedDate|CompletedDateLocal|AssessmentNumber|"
    "AssessmentType|AssessmentStatus|DeactivationReason|GradePlacement|Grade|ExtraTime|ScaledScore|"
    "StandardErrorOfMeasurement|RaschScore|UnifiedScore|PartnershipForAssessmentOfReadinessForCollegeAndCareers|"
    "SmarterBalancedAssessmentConsortium|OpenGrowthScore|GradeEquivalent|PercentileRank|NormalCurveEquivalent|"
)
_STAR_V2_TAIL = (
    "StudentGrowthPercentileFallFall|StudentGrowthPercentileFallSpring|StudentGrowthPercentileFallWinter|"
    "StudentGrowthPercentileSpringFall|StudentGrowthPercentileSpringSpring|"
    "StudentGrowthPercentileWinterSpring|ScreeningPeriodWindowName|ScreeningWindowStartDate|"
    "ScreeningWindowEndDate|RenaissanceBenchmarkCategoryName|RenaissanceBenchmarkCategoryLevel|"
    "RenaissanceBenchmarkCategoryNumberOfLevels|RenaissanceBenchmarkCategoryMinPercentileRank|"
    "RenaissanceBenchmarkCategoryMaxPercentileRank|StateBenchmarkAssessmentName|StateBenchmarkCategoryName|"
    "StateBenchmarkProficient|StateBenchmarkCategoryLevel|StateBenchmarkNumberOfCategoryLevels|"
    "StateBenchmarkMinScaledScore|StateBenchmarkMaxScaledScore|DistrictBenchmarkCategoryName|"
    "DistrictBenchmarkProficient|DistrictBenchmarkCategoryLevel|DistrictBenchmarkNumberOfCategoryLevels|"
    "DistrictBenchmarkMinPercentileRank|DistrictBenchmarkMaxPercentileRank|SchoolBenchmarkCategoryName|"
    "SchoolBenchmarkProficient|SchoolBenchmarkCategoryLevel|SchoolBenchmarkNumberOfCategoryLevels|"
    "SchoolBenchmarkMinPercentileRank|SchoolBenchmarkMaxPercentileRank|CurrentSGP|TakenAt|TakenAtByIPAddress|"
    "StudentDisplayID|TeacherDisplayID"
)
STAR_V2_SR_COLUMNS = _names(
    _STAR_V2_HEAD + "InstructionalReadingLevel|EstimatedOralReadingFluency|LowerZoneOfProximalDevelopment|"
    "UpperZoneOfProximalDevelopment|Lexile|LowerLexileZoneOfProximalDevelopment|"
    "UpperLexileZoneOfProximalDevelopment|TotalTimeInSeconds|TotalCorrect|TotalPossible|"
    "Grade3_AssessmentAttempts|Grade3_PassingStatus|Grade3_PassingScore|"
    + _STAR_V2_TAIL
    + "|SATBenchmarkCategory|ACTBenchmarkCategory"
)
STAR_V2_SEL_COLUMNS = _names(
    _STAR_V2_HEAD
    + "EstimatedOralReadingFluency|LiteracyClassification|TotalTimeInSeconds|TotalCorrect|TotalPossible|"
    + _STAR_V2_TAIL
    + "|Lexile|LexileRange"
)
# file, subject, layout, columns, grades tested
STAR_FILES = (
    ("star/SM.csv", "math", "star_historical", STAR_HISTORICAL_SM_COLUMNS, tuple(f"{g:02d}" for g in range(1, 13))),
    ("star/SR.csv", "reading", "star_v2", STAR_V2_SR_COLUMNS, tuple(f"{g:02d}" for g in range(2, 13))),
    ("star/SEL.csv", "early_literacy", "star_v2", STAR_V2_SEL_COLUMNS, ("KG", "01", "02")),
)
STAR_PARTICIPATION = 0.94
STAR_RETEST_SHARE = 0.04

_FOLD = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ß": "ss", "Ø": "O", "ø": "o"})
_FEMALE_NAMES = frozenset(name for pools in CULTURES.values() for name in pools["female"])


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SourcesSummary:
    """What ``generate_sis_district`` / ``generate_multi_source_district`` wrote."""

    layout: str  # "sis" or "multi-source"
    path: Path  # the drop folder
    truth_path: Path  # the truth folder (next to the drop)
    row_counts: dict[str, int]  # file path relative to the drop -> data rows (header excluded)
    truth_counts: dict[str, int]  # truth file name -> data rows
    seed: int
    details: dict[str, str] = field(default_factory=dict)  # layout options used


def generate_sis_district(
    out_dir: str | Path,
    *,
    students: int = 500,
    schools: int = 4,
    days: int = 100,
    seed: int = 42,
    school_year: int = 2026,
    guardian_layout: str = "two-file",
    attendance_style: str = "records",
    opt_outs: bool = True,
    truth_dir: str | Path | None = None,
) -> SourcesSummary:
    """Write a SIS-export district (SchoolMessenger layouts) into ``out_dir`` and its truth next to it.

    ``guardian_layout``: ``two-file`` (students.csv + guardians.csv with the associated student),
    ``one-file`` (students.csv with repeated ``Guardian N …`` columns) or ``three-file``
    (students.csv + guardians.csv without student + student_guardians.csv).
    ``attendance_style``: periods missed as ``records`` (one record per period),
    ``one-field`` (``"1,3"``) or ``period-fields`` (``Period 1`` … ``Period 6`` columns).
    ``opt_outs`` adds contact_opt_outs.csv. ``truth_dir`` defaults to ``<out_dir>/../truth``.
    """
    _check_arguments(students, schools, days, seed, school_year, minimum_students=1)
    if guardian_layout not in GUARDIAN_LAYOUTS:
        raise ValueError(f"guardian_layout must be one of {', '.join(GUARDIAN_LAYOUTS)}, got {guardian_layout!r}")
    if attendance_style not in ATTENDANCE_STYLES:
        raise ValueError(f"attendance_style must be one of {', '.join(ATTENDANCE_STYLES)}, got {attendance_style!r}")
    if not isinstance(opt_outs, bool):
        raise ValueError(f"opt_outs must be True or False, got {opt_outs!r}")
    root = Path(out_dir)
    truth = _truth_dir(root, truth_dir)
    district = _District(students=students, n_schools=schools, days=days, seed=seed, school_year=school_year)
    district.build()
    tables, planted = _SisExport(district, seed, guardian_layout, attendance_style, opt_outs).build()
    counts = _write_tables(root, tables)
    truth_counts = _write_planted(truth, tables, planted)
    return SourcesSummary(
        layout="sis",
        path=root,
        truth_path=truth,
        row_counts=counts,
        truth_counts=truth_counts,
        seed=seed,
        details={"guardian_layout": guardian_layout, "attendance_style": attendance_style},
    )


def generate_multi_source_district(
    out_dir: str | Path,
    *,
    students: int = 500,
    schools: int = 4,
    days: int = 100,
    seed: int = 42,
    school_year: int = 2026,
    powerschool_headers: str | None = None,
    district_id: str = "demo-unified",
    district_name: str = "Rollcall Demo",
    truth_dir: str | Path | None = None,
) -> SourcesSummary:
    """Write one district as four sources (OneRoster, PowerSchool, ClassLink, Star) plus the identity truth.

    Layout of ``out_dir``: ``oneroster/`` (the ``generate_district`` package),
    ``powerschool/students.csv``, ``classlink/users.csv``, ``star/SM.csv`` (historical layout),
    ``star/SR.csv`` and ``star/SEL.csv`` (v2 layout). ``powerschool_headers``: ``table``
    (``STUDENTS.STUDENT_NUMBER``) or ``plain`` (``Student_Number``); by default ``table`` for even
    seeds, ``plain`` for odd ones. ``district_name`` is the short name the sources spell their own
    way ("<name> PD" in ClassLink, "<name> Public Schools" in Star v2). ``district_id`` labels
    the truth rows. ``truth_dir`` defaults to ``<out_dir>/../truth``.
    """
    _check_arguments(students, schools, days, seed, school_year, minimum_students=MIN_MULTI_SOURCE_STUDENTS)
    style = powerschool_headers or ("table" if seed % 2 == 0 else "plain")
    if style not in POWERSCHOOL_HEADER_STYLES:
        raise ValueError(
            f"powerschool_headers must be one of {', '.join(POWERSCHOOL_HEADER_STYLES)}, got {powerschool_headers!r}"
        )
    for name, value in (("district_id", district_id), ("district_name", district_name)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    root = Path(out_dir)
    truth = _truth_dir(root, truth_dir)
    package = generate_district(
        root / "oneroster", students=students, schools=schools, days=days, seed=seed, school_year=school_year
    )
    builder = _MultiSource(root / "oneroster", seed, style, district_id, district_name, package)
    tables, truth_rows = builder.build()
    counts = {f"oneroster/{stem}.csv": rows for stem, rows in package.row_counts.items()}
    counts.update(_write_tables(root, tables))
    truth.mkdir(parents=True, exist_ok=True)
    _write_plain(truth / "identity_truth.csv", IDENTITY_TRUTH_FIELDS, truth_rows)
    files = [[f"oneroster/{stem}.csv", "oneroster", str(rows), "0"] for stem, rows in package.row_counts.items()]
    files += [[t.name, t.format, str(len(t.rows)), "0"] for t in tables]
    _write_plain(truth / "files.csv", FILES_FIELDS, files)
    return SourcesSummary(
        layout="multi-source",
        path=root,
        truth_path=truth,
        row_counts=counts,
        truth_counts={"identity_truth.csv": len(truth_rows), "files.csv": len(files)},
        seed=seed,
        details={"powerschool_headers": style},
    )


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------
def _check_arguments(
    students: int, schools: int, days: int, seed: int, school_year: int, *, minimum_students: int
) -> None:
    """The checks (and messages) of ``generate_district``, with a layout's own minimum of students."""
    for name, value in (
        ("students", students),
        ("schools", schools),
        ("days", days),
        ("seed", seed),
        ("school_year", school_year),
    ):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if students < minimum_students:
        raise ValueError(f"students must be at least {minimum_students} for this layout, got {students}")
    if not 1 <= schools <= MAX_SCHOOLS:
        raise ValueError(f"schools must be between 1 and {MAX_SCHOOLS}, got {schools}")
    if not 1901 <= school_year <= 9999:
        raise ValueError(f"school_year must be a year between 1901 and 9999, got {school_year}")
    if days < 1 or days > INSTRUCTIONAL_DAYS:
        raise ValueError(f"days must be between 1 and {INSTRUCTIONAL_DAYS}, got {days}")


def _truth_dir(root: Path, truth_dir: str | Path | None) -> Path:
    truth = Path(truth_dir) if truth_dir is not None else root.parent / TRUTH_FOLDER
    resolved_root, resolved_truth = root.resolve(), truth.resolve()
    if resolved_truth == resolved_root or resolved_root in resolved_truth.parents:
        raise ValueError(f"the truth folder {truth} must be outside the drop {root}")
    return truth


def _rng(seed: int, purpose: str) -> random.Random:
    return random.Random(f"rollcall-sources:{seed}:{purpose}")


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, float]]) -> str:
    return rng.choices([k for k, _ in pairs], [w for _, w in pairs])[0]


def _fold(text: str) -> str:
    """Name normalisation of the identity rules: accents folded, lower case, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()


def _us_date(day: date) -> str:
    return f"{day.month:02d}/{day.day:02d}/{day.year:04d}"


def _short_date(day: date) -> str:
    """PowerSchool's m/d/yy."""
    return f"{day.month}/{day.day}/{day.year % 100:02d}"


def _grade_number(grade: str) -> int:
    return 0 if grade == "KG" else int(grade)


def _grade_label(grade: str) -> str:
    return "K" if grade == "KG" else str(int(grade))


def _sex_of(given: str) -> str:
    return "female" if given in _FEMALE_NAMES else "male"


@dataclass
class _Table:
    """One CSV file of a drop: ``style`` is ``sis`` (bare header, every value quoted, CRLF),
    ``quoted`` (everything quoted, LF) or ``plain`` (minimal quoting, LF)."""

    name: str  # path relative to the drop
    format: str  # the config/formats format it is meant for
    header: tuple[str, ...]
    rows: list[list[str]]
    style: str


@dataclass
class _Planted:
    table: str
    row: list[str]  # the row object inside the table (found by identity)
    field: str
    problem: str
    expected: str
    detail: str


def _write_tables(root: Path, tables: Iterable[_Table]) -> dict[str, int]:
    counts = {}
    for table in tables:
        path = root / table.name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            if table.style == "sis":
                handle.write(",".join(table.header) + "\r\n")
                csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(table.rows)
            else:
                quoting = csv.QUOTE_ALL if table.style == "quoted" else csv.QUOTE_MINIMAL
                writer = csv.writer(handle, quoting=quoting, lineterminator="\n")
                writer.writerow(table.header)
                writer.writerows(table.rows)
        counts[table.name] = len(table.rows)
    return counts


def _write_plain(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write_planted(truth: Path, tables: list[_Table], planted: list[_Planted]) -> dict[str, int]:
    """truth/planted_rows.csv (file, physical line, field, problem, expected, detail) and truth/files.csv."""
    by_name = {t.name: t for t in tables}
    positions: dict[str, dict[int, int]] = {}
    rows = []
    for item in planted:
        if item.table not in positions:
            positions[item.table] = {id(r): i for i, r in enumerate(by_name[item.table].rows)}
        line = positions[item.table][id(item.row)] + 2  # line 1 is the header; no value spans lines
        rows.append([item.table, line, item.field, item.problem, item.expected, item.detail])
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    _write_plain(truth / "planted_rows.csv", PLANTED_ROW_FIELDS, rows)
    per_file = {t.name: len({r[1] for r in rows if r[0] == t.name and r[4] == "quarantine"}) for t in tables}
    files = [[t.name, t.format, str(len(t.rows)), str(per_file[t.name])] for t in tables]
    _write_plain(truth / "files.csv", FILES_FIELDS, files)
    return {"planted_rows.csv": len(rows), "files.csv": len(files)}


class _Phones:
    """Fictional phone numbers (area code + 555-01xx) and the many ways people type them."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def number(self) -> str:
        """Ten digits."""
        return f"{self.rng.choice(PHONE_AREAS)}555{self.rng.randint(100, 199):04d}"

    def format(self, digits: str, style: str | None = None) -> str:
        if not digits:
            return ""
        template = style or _weighted(self.rng, PHONE_STYLES)
        return template.format(a=digits[:3], e=digits[3:6], l=digits[6:])


# ---------------------------------------------------------------------------------------------
# SIS layout
# ---------------------------------------------------------------------------------------------
@dataclass
class _SisGuardian:
    gid: str
    given: str
    family: str
    category: str
    phone: str  # formatted, as stored in the SIS
    alt_phone: str
    email: str
    alt_email: str
    language: str
    mobile_digits: str


class _SisExport:
    """Turns the sample district's model into the SchoolMessenger-layout files."""

    def __init__(self, district: _District, seed: int, guardian_layout: str, attendance_style: str, opt_outs: bool):
        self.d = district
        self.seed = seed
        self.guardian_layout = guardian_layout
        self.attendance_style = attendance_style
        self.opt_outs = opt_outs
        self.planted: list[_Planted] = []
        self.export_day = district.last_attendance_day

    def _rng(self, purpose: str) -> random.Random:
        return _rng(self.seed, f"sis:{purpose}")

    def build(self) -> tuple[list[_Table], list[_Planted]]:
        self._codes()
        self._build_guardians()
        tables = [self._sections(), self._enrollments(), self._teachers(), self._staff()]
        tables += self._students_and_guardians()
        tables.append(self._attendance())
        if self.opt_outs:
            tables.append(self._opt_outs())
        return tables, self.planted

    # -- ids ----------------------------------------------------------------------------------
    def _codes(self) -> None:
        rng = self._rng("codes")
        n = len(self.d.schools)
        pool = range(101, 1000) if n <= 899 else range(1001, 10000)
        self.school_code = {s.sid: f"{c:03d}" for s, c in zip(self.d.schools, rng.sample(pool, n), strict=True)}
        self.staff_id = {t["sid"]: str(10000 + i) for i, t in enumerate(self.d.teachers, start=1)}
        base = 10000 + len(self.d.teachers)
        self.staff_id.update({a["sid"]: str(base + i) for i, a in enumerate(self.d.admins, start=1)})
        self.instructor = {}
        for t in self.d.teachers:
            female = _sex_of(t["given"]) == "female"
            title = ("Mrs." if rng.random() < 0.3 else "Ms.") if female else "Mr."
            self.instructor[t["sid"]] = f"{title} {t['family']}"
        self.course_title = {c[0]: c[1] for c in self.d.courses}
        language_rng = self._rng("language")
        self.language = {}
        for fam in self.d.families:
            code = ""
            for candidate, share in HOME_LANGUAGES.get(fam.culture, ()):
                if language_rng.random() < share:
                    code = candidate
                    break
            self.language[id(fam)] = code

    def _build_guardians(self) -> None:
        rng = self._rng("guardians")
        phones = _Phones(self._rng("guardian-phones"))
        by_sid = {g["sid"]: g for g in self.d.guardians}
        self.guardians: dict[str, _SisGuardian] = {}
        for fam in self.d.families:
            for sid in fam.guardians:
                g = by_sid[sid]
                sex = _sex_of(g["given"])
                if g["role"] == "parent":
                    category = "Mother" if sex == "female" else "Father"
                else:
                    category = _weighted(rng, NON_PARENT_CATEGORIES[sex])
                mobile = phones.number()
                home = phones.number() if rng.random() < 0.45 else ""
                alt_email = ""
                if rng.random() < 0.12:
                    alt_email = f"{_fold(g['given'])}{rng.randint(1, 99)}@example.net"
                self.guardians[sid] = _SisGuardian(
                    gid=str(8_000_000 + int(sid.rsplit("-", 1)[1])),
                    given=g["given"],
                    family=g["family"],
                    category=category,
                    phone=phones.format(mobile),
                    alt_phone=phones.format(home),
                    email=g["email"],
                    alt_email=alt_email,
                    language=self.language[id(fam)],
                    mobile_digits=mobile,
                )

    # -- sections, enrollments, teachers, staff -------------------------------------------------
    def _section_values(self, cls) -> tuple[str, str, str]:
        return cls.period or "HR", self.course_title.get(cls.course, cls.title), self.instructor[cls.teacher["sid"]]

    def _sections(self) -> _Table:
        rng = self._rng("sections")
        rows = []
        for cls in self.d.classes:
            if cls.teacher is None:
                continue
            period, course, instructor = self._section_values(cls)
            staff, school = self.staff_id[cls.teacher["sid"]], self.school_code[cls.school.sid]
            rows.append([staff, school, cls.code, period, course, instructor])
        # one more section, written with its values shifted one column (like the layout guide's last sample row)
        candidates = [c for c in self.d.classes if c.teacher is not None and c.class_type == "scheduled"]
        base = rng.choice(candidates or [c for c in self.d.classes if c.teacher is not None])
        taken = {c.code for c in self.d.classes if c.school is base.school}
        prefix, k = base.code.rsplit("-", 1)[0], 9
        while f"{prefix}-{k}" in taken:
            k += 1
        self.extra_section = (base, f"{prefix}-{k}")
        period, course, instructor = self._section_values(base)
        school, staff = self.school_code[base.school.sid], self.staff_id[base.teacher["sid"]]
        shifted = [school, f"{prefix}-{k}", staff, period, course, instructor]
        rows.insert(rng.randrange(len(rows) // 2, len(rows) + 1), shifted)
        self.planted.append(
            _Planted(
                "sections.csv",
                shifted,
                "",
                "misaligned_row",
                "quarantine",
                f"values shifted one column: School ID# holds section {prefix}-{k}, Staff ID holds school {school}, "
                f"Section# holds staff {staff}; the section has no other row",
            )
        )
        return _Table("sections.csv", "sis_sections", SIS_SECTION_HEADER, rows, "sis")

    def _active(self, seg) -> bool:
        return seg.begin <= self.export_day < seg.end

    def _enrollments(self) -> _Table:
        rng = self._rng("enrollments")
        keyed = []
        for order, cls in enumerate(self.d.classes):
            if cls.teacher is None:
                continue
            period, course, instructor = self._section_values(cls)
            school = self.school_code[cls.school.sid]
            for st, seg in cls.students:
                if self._active(seg):
                    keyed.append(((st.idx, order), [st.number, school, cls.code, period, course, instructor]))
        keyed.sort(key=lambda pair: pair[0])
        rows = [row for _, row in keyed]
        base, code = self.extra_section
        members = [st for st, seg in base.students if self._active(seg)]
        if not members:
            members = [st for st in self.d.students if any(self._active(s) for s in st.segments)] or self.d.students
        student = rng.choice(members)
        period, course, instructor = self._section_values(base)
        school = self.school_code[base.school.sid]
        shifted = [school, code, student.number, period, course, instructor]
        rows.insert(rng.randrange(len(rows) + 1), shifted)
        self.planted.append(
            _Planted(
                "enrollments.csv",
                shifted,
                "",
                "misaligned_row",
                "quarantine",
                f"values shifted one column: School ID# holds section {code}, Student ID holds school {school}, "
                f"Section# holds student {student.number}",
            )
        )
        return _Table("enrollments.csv", "sis_enrollments", SIS_ENROLLMENT_HEADER, rows, "sis")

    def _teachers(self) -> _Table:
        rng = self._rng("teachers")
        rows = []
        for t in self.d.teachers:
            description = LEVEL_DESCRIPTIONS[t["school"].level]
            rows.append([self.staff_id[t["sid"]], t["given"], t["family"], t["username"], t["email"], description])
        # a second, different person under an existing teacher id
        position = rng.randrange(len(rows))
        original = rows[position]
        usernames = {r[3] for r in rows}
        while True:
            culture = _weighted(rng, CULTURE_WEIGHTS)
            given = rng.choice(CULTURES[culture][rng.choice(("female", "male"))])
            family = rng.choice(CULTURES[culture]["family"])
            username = f"{_fold(given)[:1]}{_fold(family)}"
            if (given, family) != (original[1], original[2]) and username not in usernames:
                break
        impostor = [original[0], given, family, username, f"{username}@{STAFF_EMAIL_DOMAIN}", original[5]]
        rows.insert(rng.randrange(position + 1, len(rows) + 1), impostor)
        for row, other in ((original, impostor), (impostor, original)):
            self.planted.append(
                _Planted(
                    "teachers.csv",
                    row,
                    "ID#",
                    "duplicate_key",
                    "quarantine",
                    f"Teacher ID {row[0]} is also {other[1]} {other[2]} ({other[3]}): two different people",
                )
            )
        return _Table("teachers.csv", "sis_teachers", SIS_TEACHER_HEADER, rows, "sis")

    def _staff(self) -> _Table:
        rng = self._rng("staff")
        phones = _Phones(self._rng("staff-phones"))
        rows = []
        for t in self.d.teachers:
            alt = phones.format(phones.number()) if rng.random() < 0.4 else ""
            rows.append(
                [
                    self.staff_id[t["sid"]],
                    t["family"],
                    t["given"],
                    phones.format(phones.number()),
                    self.school_code[t["school"].sid],
                    "",
                    "TCH",
                    alt,
                    t["email"],
                ]
            )
        for admin, title in zip(self.d.admins, ("SUPT", "DIR"), strict=False):
            rows.append(
                [
                    self.staff_id[admin["sid"]],
                    admin["family"],
                    admin["given"],
                    phones.format(phones.number()),
                    DISTRICT_OFFICE_CODE,
                    "",
                    title,
                    "",
                    admin["email"],
                ]
            )
        bad = rng.choice(rows)
        bad[3] = INVALID_STAFF_PHONE
        self.planted.append(
            _Planted("staff.csv", bad, PHONE, "invalid_phone", "flag_value", f"{bad[3]!r} is not a valid phone number")
        )
        return _Table("staff.csv", "sis_staff", SIS_STAFF_HEADER, rows, "sis")

    # -- students and guardians -----------------------------------------------------------------
    def _students_and_guardians(self) -> list[_Table]:
        rng = self._rng("students")
        phones = _Phones(self._rng("student-phones"))
        one_file = self.guardian_layout == "one-file"
        width = max((len(f.guardians) for f in self.d.families), default=0) if one_file else 0
        names = ("Student First Name", "Student Last Name") if one_file else ("First Name", "Last Name")
        header = ("Student ID Number", *names, *SIS_STUDENT_FIELDS)
        header += tuple(f"Guardian {n} {member}" for n in range(1, width + 1) for member in SIS_GUARDIAN_GROUP)
        rows, links = [], []
        for st in self.d.students:
            guardians = [self.guardians[sid] for sid in st.family_unit.guardians]
            first = guardians[0] if guardians else None
            household = first.phone if first else ""
            alternative = guardians[1].phone if len(guardians) > 1 else (first.alt_phone if first else "")
            early = st.grade in ELEMENTARY_GRADES[:3]
            email = "" if early and rng.random() < 0.5 else f"{st.username}@{STUDENT_EMAIL_DOMAIN}"
            school = st.segments[-1].school
            row = [
                st.number,
                st.given,
                st.family,
                phones.format(first.mobile_digits) if first and rng.random() < 0.3 else household,
                self.school_code[school.sid],
                self.language[id(st.family_unit)],
                alternative,
                email,
                first.email if first else "",
                _grade_label(st.grade),
                "F" if st.sex == "female" else "M",
                _us_date(st.birth),
            ]
            for g in guardians[:width]:
                row += [g.gid, g.given, g.family, g.category, g.phone, g.alt_phone, g.email, g.alt_email]
            row += [""] * (len(header) - len(row))
            rows.append(row)
            links += [(st, g) for g in guardians]
        count = min(len(rows), max(3, len(rows) // 150))
        for k, row in enumerate(rng.sample(rows, count)):
            column = rng.choice((PHONE, ALT_PHONE))
            row[header.index(column)] = INVALID_PHONES[k % len(INVALID_PHONES)]
            detail = f"{row[header.index(column)]!r} is not a valid phone number"
            self.planted.append(_Planted("students.csv", row, column, "invalid_phone", "flag_value", detail))
        tables = [_Table("students.csv", "sis_students", header, rows, "sis")]
        if self.guardian_layout == "two-file":
            header2 = ("Associated Student ID Number", "Guardian ID Number", "Guardian Category", "First Name")
            header2 += ("Last Name", *SIS_GUARDIAN_CONTACT, "Grade Level")
            rows2 = [
                [st.number, g.gid, g.category, g.given, g.family, *self._contact(g), _grade_label(st.grade)]
                for st, g in links
            ]
            tables.append(_Table("guardians.csv", "sis_guardians", header2, rows2, "sis"))
        elif self.guardian_layout == "three-file":
            header3 = ("Guardian ID Number", "First Name", "Last Name", *SIS_GUARDIAN_CONTACT)
            unique = sorted(self.guardians.values(), key=lambda g: int(g.gid))
            rows3 = [[g.gid, g.given, g.family, *self._contact(g)] for g in unique]
            tables.append(_Table("guardians.csv", "sis_guardians", header3, rows3, "sis"))
            link_rows = [[st.number, g.gid, g.category] for st, g in links]
            tables.append(
                _Table("student_guardians.csv", "sis_guardian_links", SIS_GUARDIAN_LINK_HEADER, link_rows, "sis")
            )
        return tables

    @staticmethod
    def _contact(g: _SisGuardian) -> list[str]:
        """Values of SIS_GUARDIAN_CONTACT."""
        return [g.phone, g.language, g.alt_phone, g.email, g.alt_email]

    # -- attendance -----------------------------------------------------------------------------
    def _absences(self) -> list[tuple[str, str, str, str, list[str]]]:
        """(student number, school code, ISO date, code, periods missed) per absence, date-major."""
        numbers = {st.sid: st.number for st in self.d.students}
        out: list[tuple[str, str, str, str, list[str]]] = []
        current: list | None = None

        def flush() -> None:
            if current is None:
                return
            student, school, day, daily, marks = current
            if not marks:
                if daily != "P":
                    out.append((student, school, day, daily, []))
                return
            missed = [(p, c) for p, c in marks if c != "P"]
            if not missed:
                if daily != "P":
                    out.append((student, school, day, daily, []))
                return
            for code in dict.fromkeys(c for _, c in missed):
                periods = sorted((p for p, c in missed if c == code), key=int)
                out.append((student, school, day, code, periods))

        for chunk in self.d.rows("attendance"):
            for row in chunk:
                user, school, cls, period, day, code = row[3], row[4], row[5], row[6], row[7], row[8]
                if not cls:
                    flush()
                    current = [numbers[user], self.school_code[school], day, code, []]
                elif current is not None:
                    current[4].append((period, code))
        flush()
        return out

    def _attendance(self) -> _Table:
        style = self.attendance_style
        rows = []
        for student, school, day, code, periods in self._absences():
            when = f"{day[5:7]}/{day[8:10]}/{day[:4]}"
            if style == "records":
                for period in periods or [""]:
                    rows.append([student, code, when, period, school])
            elif style == "one-field":
                rows.append([student, code, when, ",".join(periods), school])
            else:
                flags = ["Y" if str(p) in periods else "" for p in range(1, PERIODS + 1)]
                rows.append([student, code, when, *flags, school])
        if style == "period-fields":
            header = (*SIS_ATTENDANCE_HEAD, *(f"Period {p}" for p in range(1, PERIODS + 1)), SIS_ATTENDANCE_SCHOOL)
        else:
            header = (*SIS_ATTENDANCE_HEAD, "Periods Missed", SIS_ATTENDANCE_SCHOOL)
        return _Table("attendance.csv", "sis_attendance", header, rows, "sis")

    def _opt_outs(self) -> _Table:
        rng = self._rng("opt-outs")
        days = [d for d in self.d.base_instructional if d <= self.export_day]
        guardians = sorted(self.guardians.values(), key=lambda g: int(g.gid))
        count = min(len(guardians), max(2, len(guardians) // 30))
        rows, seen = [], set()
        for g in rng.sample(guardians, count):
            channel = rng.choice(("voice", "sms", "email"))
            if channel == "email" and not g.email:
                channel = "sms"
            if channel == "email":
                contact = g.email.upper() if rng.random() < 0.3 else g.email
                reason = "Unsubscribe link"
            else:
                contact = _Phones(rng).format(g.mobile_digits, rng.choice(("+1{a}{e}{l}", "{a}{e}{l}", "{a}-{e}-{l}")))
                reason = "Replied STOP" if channel == "sms" else "Requested by phone"
            day = rng.choice(days)
            if (contact, channel, day) in seen:
                continue
            seen.add((contact, channel, day))
            rows.append([contact, channel, "opt-out", day, g.gid, reason])
        # one contact opts in again later
        first = rows[0]
        later = [d for d in days if d > first[3]]
        if later:
            rows.append([first[0], first[1], "opt-in", rng.choice(later), first[4], "Replied START"])
        rows.sort(key=lambda r: (r[3], r[4], r[1]))
        for row in rows:
            row[3] = _us_date(row[3])
        return _Table("contact_opt_outs.csv", "contact_opt_outs", OPT_OUT_HEADER, rows, "plain")


# ---------------------------------------------------------------------------------------------
# Multi-source layout
# ---------------------------------------------------------------------------------------------
@dataclass
class _Person:
    """A OneRoster student as the other sources see them."""

    sid: str
    number: str
    given: str
    middle: str
    family: str
    email: str
    grade: str
    enabled: bool
    guardians: list[str]
    birth: date = date(2000, 1, 1)
    sex: str = "female"
    school: str = ""
    begin: date | None = None
    end: date | None = None
    homeroom_teacher: str = ""


@dataclass(frozen=True)
class _Identity:
    """What one source record says about its person (empty = not carried)."""

    source: str
    record_id: str
    email: str = ""
    number: str = ""
    state_id: str = ""
    given: str = ""
    family: str = ""
    birth: date | None = None


def _osa_distance(a: str, b: str) -> int:
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


class _Anchor:
    """The default cascade against the OneRoster students: first rule with candidates decides."""

    def __init__(self, persons: Iterable[_Person]):
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
            key = (_fold(p.given), _fold(p.family), p.birth)
            self.by_name_birth.setdefault(key, []).append(p.sid)
            self.by_birth.setdefault(p.birth, []).append((f"{key[0]} {key[1]}", p.sid))

    def resolve(self, ident: _Identity) -> tuple[str, str, str]:
        """(expected_status, expected_rule, OneRoster sourcedId or "")."""
        steps: list[tuple[str, list[str]]] = []
        if ident.email.strip():
            steps.append(("email", self.by_email.get(ident.email.strip().lower(), [])))
        if ident.number.strip():
            steps.append(("student_number", self.by_number.get(ident.number.strip(), [])))
        if ident.state_id.strip():
            steps.append(("state_id", self.by_state_id.get(ident.state_id.strip(), [])))
        if ident.birth is not None and ident.given and ident.family:
            given, family = _fold(ident.given), _fold(ident.family)
            steps.append(("name_birth_date", self.by_name_birth.get((given, family, ident.birth), [])))
            name = f"{given} {family}"
            fuzzy = [
                sid
                for other, sid in self.by_birth.get(ident.birth, [])
                if 0 < _osa_distance(name, other) <= FUZZY_MAX_DISTANCE
            ]
            steps.append(("fuzzy_name_birth_date", fuzzy))
        for rule, hits in steps:
            if len(hits) == 1:
                return "matched", rule, hits[0]
            if len(hits) > 1:
                return "ambiguous", rule, ""
        return "unmatched", "", ""


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, list(reader)


def _typo(rng: random.Random, name: str) -> str:
    """One keyboard slip inside a name (never the first letter): swap, drop or change a letter."""
    spots = [i for i in range(1, len(name)) if name[i].isascii() and name[i].isalpha()]
    if not spots:
        return name + "e"
    i = rng.choice(spots)
    kind = rng.choice(("swap", "drop", "vowel"))
    if kind == "swap" and i + 1 < len(name) and name[i + 1].isalpha() and name[i + 1] != name[i]:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if kind == "drop" and len(name) > 4:
        return name[:i] + name[i + 1 :]
    vowels = [v for v in "aeiou" if v != name[i].lower()]
    return name[:i] + rng.choice(vowels) + name[i + 1 :]


class _MultiSource:
    """PowerSchool, ClassLink and Star views of a generated OneRoster package, and the truth."""

    def __init__(
        self,
        folder: Path,
        seed: int,
        ps_style: str,
        district_id: str,
        district_name: str,
        package: GenerationSummary,
    ):
        self.folder = folder
        self.seed = seed
        self.ps_style = ps_style
        self.district_id = district_id
        self.district_name = district_name.strip()
        self.package = package
        self.records: list[tuple[_Identity, str, str]] = []  # identity, true person, planted case

    def _rng(self, purpose: str) -> random.Random:
        return _rng(self.seed, f"multi:{purpose}")

    def build(self) -> tuple[list[_Table], list[list[str]]]:
        self._read_roster()
        self._plant_same_name_pair()
        self.anchor = _Anchor(self.persons)
        tables = [self._powerschool(), self._classlink(), *self._star()]
        return tables, self._truth()

    # -- the roster -----------------------------------------------------------------------------
    def _read_roster(self) -> None:
        self.users_header, self.user_rows = _read_rows(self.folder / "users.csv")
        self.demo_header, self.demo_rows = _read_rows(self.folder / "demographics.csv")
        u = {name: i for i, name in enumerate(self.users_header)}
        self.u = u
        self.persons: list[_Person] = []
        self.teachers: dict[str, tuple[str, str, str]] = {}
        self.guardian_phone: dict[str, str] = {}
        for row in self.user_rows:
            role = row[u["role"]]
            if role == "student":
                self.persons.append(
                    _Person(
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
                self.teachers[row[u["sourcedId"]]] = (row[u["identifier"]], row[u["givenName"]], row[u["familyName"]])
            elif role in ("parent", "guardian"):
                self.guardian_phone[row[u["sourcedId"]]] = _fictional(row[u["phone"]] or row[u["sms"]])
        self.by_sid = {p.sid: p for p in self.persons}
        dm = {name: i for i, name in enumerate(self.demo_header)}
        self.dm = dm
        for row in self.demo_rows:
            person = self.by_sid.get(row[dm["sourcedId"]])
            if person is not None:
                person.birth = date.fromisoformat(row[dm["birthDate"]])
                person.sex = row[dm["sex"]]
        _, org_rows = _read_rows(self.folder / "orgs.csv")
        self.schools = {r[0]: (r[3], r[5]) for r in org_rows if r[4] == "school"}  # sid -> (name, identifier)
        self.school_number = {sid: str(100 * (i + 1)) for i, sid in enumerate(sorted(self.schools))}
        class_header, class_rows = _read_rows(self.folder / "classes.csv")
        c = {name: i for i, name in enumerate(class_header)}
        homerooms = {r[c["sourcedId"]] for r in class_rows if r[c["classType"]] == "homeroom"}
        enr_header, enr_rows = _read_rows(self.folder / "enrollments.csv")
        e = {name: i for i, name in enumerate(enr_header)}
        class_teacher = {r[e["classSourcedId"]]: r[e["userSourcedId"]] for r in enr_rows if r[e["role"]] == "teacher"}
        latest: dict[str, date] = {}
        for r in enr_rows:
            person = self.by_sid.get(r[e["userSourcedId"]])
            if person is None or r[e["role"]] != "student":
                continue
            begin, end = date.fromisoformat(r[e["beginDate"]]), date.fromisoformat(r[e["endDate"]])
            person.begin = begin if person.begin is None else min(person.begin, begin)
            person.end = end if person.end is None else max(person.end, end)
            if begin >= latest.get(person.sid, begin):
                latest[person.sid] = begin
                person.school = r[e["schoolSourcedId"]]
                if r[e["classSourcedId"]] in homerooms:
                    person.homeroom_teacher = class_teacher.get(r[e["classSourcedId"]], "")

    def _plant_same_name_pair(self) -> None:
        """Give a second student the name and birth date of a first one (two different people)."""
        rng = self._rng("pair")
        by_grade: dict[str, list[_Person]] = {}
        for p in self.persons:
            by_grade.setdefault(p.grade, []).append(p)
        grades = sorted(g for g, members in by_grade.items() if len(members) > 1)
        members = by_grade[rng.choice(grades)] if grades else self.persons
        same_sex = [g for g in (("female",), ("male",)) if sum(p.sex == g[0] for p in members) > 1]
        if same_sex:
            sex = rng.choice(same_sex)[0]
            members = [p for p in members if p.sex == sex]
        first, second = rng.sample(members, 2)
        second.given, second.family, second.birth = first.given, first.family, first.birth
        u, dm = self.u, self.dm
        for row in self.user_rows:
            if row[u["sourcedId"]] == second.sid:
                row[u["givenName"]], row[u["familyName"]] = first.given, first.family
        for row in self.demo_rows:
            if row[dm["sourcedId"]] == second.sid:
                row[dm["birthDate"]] = first.birth.isoformat()
        for name, header, rows in (
            ("users.csv", self.users_header, self.user_rows),
            ("demographics.csv", self.demo_header, self.demo_rows),
        ):
            _write_plain(self.folder / name, header, rows)
        self.pair = (first, second)

    def _record(self, ident: _Identity, true_person: str, planted: str = "") -> None:
        self.records.append((ident, true_person, planted))

    def _new_name(self, rng: random.Random) -> tuple[str, str, str]:
        culture = _weighted(rng, CULTURE_WEIGHTS)
        sex = rng.choice(("female", "male"))
        return rng.choice(CULTURES[culture][sex]), rng.choice(CULTURES[culture]["family"]), sex

    def _stranger_birth(self, rng: random.Random, grade: str) -> date:
        year = self.package.school_year - 1 - (_grade_number(grade) + 5)
        return date(year, 9, 1) - timedelta(days=rng.randrange(365))

    # -- PowerSchool ------------------------------------------------------------------------------
    def _powerschool(self) -> _Table:
        rng = self._rng("powerschool")
        column = 1 if self.ps_style == "table" else 0
        header = tuple(names[column] for names in POWERSCHOOL_COLUMNS)
        year_end = self.package.last_day + timedelta(days=1)
        exclude = {p.sid for p in self.pair}
        typo_people = set(rng.sample([p.sid for p in self.persons if p.sid not in exclude], 2))
        rows = []
        for idx, p in enumerate(self.persons, start=1):
            early = p.grade in ("KG", "01", "02")
            no_email = rng.random() < (0.5 if early else 0.04)
            email = "" if no_email else p.email
            family = _typo(rng, p.family) if p.sid in typo_people else p.family
            phone = self.guardian_phone.get(p.guardians[0], "") if p.guardians else ""
            rows.append(
                [
                    str(1000 + idx),
                    p.number,
                    self.school_number.get(p.school, ""),
                    p.given,
                    p.middle,
                    family,
                    str(_grade_number(p.grade)),
                    phone,
                    "F" if p.sex == "female" else "M",
                    _us_date(p.birth),
                    "0" if p.enabled else "2",
                    _short_date(p.begin or self.package.first_day),
                    _short_date(p.end if (p.end and not p.enabled) else year_end),
                    email,
                ]
            )
            planted = "no_email" if no_email else ("name_typo" if p.sid in typo_people else "")
            self._record(
                _Identity("powerschool", p.number, email, p.number, "", p.given, family, p.birth), p.sid, planted
            )
        # pre-registered students for next year: in PowerSchool only
        numbers = {p.number for p in self.persons}
        first_school = sorted(self.schools)[0]
        next_year = date(self.package.school_year, 8, 24)
        for k in range(max(2, len(self.persons) // 150)):
            while True:
                given, family, sex = self._new_name(rng)
                grade = ("KG", "09")[k % 2]
                birth = self._stranger_birth(rng, grade)
                number = f"{rng.randrange(10_000_000, 99_999_999):09d}"
                ident = _Identity("powerschool", number, "", number, "", given, family, birth)
                if number not in numbers and self.anchor.resolve(ident)[0] == "unmatched":
                    break
            numbers.add(number)
            rows.append(
                [
                    str(1000 + len(rows) + 1),
                    number,
                    self.school_number[first_school],
                    given,
                    "",
                    family,
                    str(_grade_number(grade)),
                    "",
                    "F" if sex == "female" else "M",
                    _us_date(birth),
                    "-1",
                    _short_date(next_year),
                    _short_date(date(self.package.school_year + 1, 6, 30)),
                    "",
                ]
            )
            self._record(ident, "", "pre_registered")
        rows.sort(key=lambda r: (int(r[2] or 0), _fold(r[5]), _fold(r[3]), r[1]))
        return _Table("powerschool/students.csv", "powerschool_students", header, rows, "plain")

    # -- ClassLink -------------------------------------------------------------------------------
    def _classlink(self) -> _Table:
        rng = self._rng("classlink")
        tenant = f"{self.district_name} PD"
        extra = 2
        ids = [str(v) for v in rng.sample(range(10_000_000, 100_000_000), len(self.persons) + extra)]
        exclude = {p.sid for p in self.pair}
        pool = [p for p in self.persons if p.sid not in exclude]
        stale = {p.sid for p in rng.sample(pool, min(len(pool), max(2, len(self.persons) // 200)))}
        rows = []
        for p, sourced_id in zip(self.persons, ids, strict=False):
            if p.sid not in stale and p.sid not in exclude and rng.random() < 0.03:
                continue  # no ClassLink account
            email, planted = p.email, ""
            if p.sid in stale:
                email, planted = f"{_fold(p.given)}.{_fold(p.family)}@{STUDENT_EMAIL_DOMAIN}", "stale_email"
            else:
                r = rng.random()
                if r < 0.08:
                    local, domain = p.email.split("@", 1)
                    email = f"{local[:1].upper()}{local[1:]}@{domain.title()}" if r < 0.05 else p.email.upper()
                    planted = "email_case"
                elif r < 0.12:
                    email = rng.choice((f" {p.email}", f"{p.email} ", f"  {p.email}  "))
                    planted = "email_whitespace"
            rows.append([sourced_id, email, p.given, p.family, "Student", tenant])
            self._record(_Identity("classlink", sourced_id, email, "", "", p.given, p.family), p.sid, planted)
        for k, sourced_id in enumerate(ids[len(self.persons) :], start=1):
            email = f"teststudent{k}@{STUDENT_EMAIL_DOMAIN}"
            rows.append([sourced_id, email, "Test", f"Student{k}", "Student", tenant])
            self._record(_Identity("classlink", sourced_id, email, "", "", "Test", f"Student{k}"), "", "test_account")
        rows.sort(key=lambda r: r[0])
        return _Table("classlink/users.csv", "classlink_users", CLASSLINK_HEADER, rows, "plain")

    # -- Star --------------------------------------------------------------------------------------
    def _windows(self) -> list[tuple[str, date, date]]:
        y = self.package.school_year
        first, last = self.package.first_day, self.package.last_attendance_day
        windows = [
            ("Fall", date(y - 1, 9, 8), date(y - 1, 9, 26)),
            ("Winter", date(y, 1, 12), date(y, 1, 30)),
            ("Spring", date(y, 4, 27), date(y, 5, 15)),
        ]
        kept = [(name, max(start, first), min(end, last)) for name, start, end in windows if start <= last]
        return kept or [("Fall", first, last)]

    def _star(self) -> list[_Table]:
        rng = self._rng("star")
        first, second = self.pair
        participants: dict[str, list[_Person]] = {}
        for name, _, _, _, grades in STAR_FILES:
            participants[name] = [
                p for p in self.persons if p.grade in grades and (p is first or rng.random() < STAR_PARTICIPATION)
            ]
        tested = {p.sid for members in participants.values() for p in members}
        if first.sid not in tested:  # the first of the pair must be seen by Star
            target = next((f for f, *_, grades in STAR_FILES if first.grade in grades), STAR_FILES[0][0])
            participants[target].append(first)
            participants[target].sort(key=lambda p: p.sid)
            tested.add(first.sid)
        # Star ids: the student number, except students typed in by hand (a Star-only local id)
        unique_key = {k for k, sids in self.anchor.by_name_birth.items() if len(sids) == 1}
        pool = [
            p
            for p in self.persons
            if p.sid in tested
            and p.sid not in (first.sid, second.sid)
            and (_fold(p.given), _fold(p.family), p.birth) in unique_key
        ]
        n_local = min(len(pool), max(4, round(0.02 * len(tested))))
        local_people = rng.sample(pool, n_local)
        n_fuzzy = n_local // 2
        local_ids = iter(str(v) for v in rng.sample(range(10_000, 100_000), n_local + 3))
        star_id = {p.sid: p.number for p in self.persons}
        star_name = {p.sid: (p.given, p.family) for p in self.persons}
        planted = dict.fromkeys(star_id, "")
        for k, p in enumerate(local_people):
            star_id[p.sid] = next(local_ids)
            planted[p.sid] = "local_id"
            if k < n_fuzzy:
                for _ in range(20):
                    family = _typo(rng, p.family) if len(_fold(p.family)) >= 4 else p.family
                    given = p.given if family != p.family else _typo(rng, p.given)
                    ident = _Identity("star", star_id[p.sid], "", star_id[p.sid], "", given, family, p.birth)
                    if self.anchor.resolve(ident) == ("matched", "fuzzy_name_birth_date", p.sid):
                        star_name[p.sid] = (given, family)
                        planted[p.sid] = "local_id_name_typo"
                        break
        star_id[first.sid] = next(local_ids)
        planted[first.sid] = "same_name_birth_date"
        # records of nobody in the roster: a demo account and a student from elsewhere
        demo = _Person("", "DEMO1", "Demo", "", "Student", "", "04", True, [], date(2015, 1, 1), "female")
        strangers = [demo]
        stranger_case = {demo.number: "test_account"}
        while True:
            given, family, sex = self._new_name(rng)
            number = f"{rng.randrange(10_000_000, 99_999_999):09d}"
            birth = self._stranger_birth(rng, "06")
            visitor = _Person("", number, given, "", family, "", "06", True, [], birth, sex)
            ident = _Identity("star", number, "", number, "", given, family, birth)
            if self.anchor.resolve(ident)[0] == "unmatched":
                break
        strangers.append(visitor)
        stranger_case[visitor.number] = "not_in_roster"
        for s in strangers:
            s.school = sorted(self.schools)[0]
        for name in ("star/SM.csv", "star/SR.csv"):
            participants[name] = participants[name] + strangers
        # identities
        seen: set[str] = set()
        for members in participants.values():
            for p in members:
                rid = star_id[p.sid] if p.sid else p.number
                if rid in seen:
                    continue
                seen.add(rid)
                given, family = star_name[p.sid] if p.sid else (p.given, p.family)
                ident = _Identity("star", rid, "", rid, "", given, family, p.birth)
                self._record(ident, p.sid, planted[p.sid] if p.sid else stranger_case[rid])
        tables = []
        windows = self._windows()
        for file_name, subject, layout, columns, _ in STAR_FILES:
            rows = self._star_rows(rng, subject, layout, participants[file_name], windows, star_id, star_name)
            tables.append(_Table(file_name, layout, columns, [[r.get(c, "") for c in columns] for r in rows], "quoted"))
        return tables

    def _test_dates(
        self, rng: random.Random, windows: list[tuple[str, date, date]]
    ) -> list[tuple[str, date, date, date]]:
        """(window name or "" for progress monitoring, date, window start, window end) of one student's tests:
        one screening per window, a progress-monitoring test about every four weeks in between, a few
        retests; at least two tests."""
        last = self.package.last_attendance_day
        tests: list[tuple[str, date, date, date]] = []
        for window, start, end in windows:
            days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
            days = [d for d in days if d.weekday() < 5] or [start]
            taken = rng.choice(days)
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

    def _star_rows(
        self,
        rng: random.Random,
        subject: str,
        layout: str,
        members: list[_Person],
        windows: list[tuple[str, date, date]],
        star_id: dict[str, str],
        star_name: dict[str, tuple[str, str]],
    ) -> list[dict[str, str]]:
        """One dict per assessment (column -> value; columns not set stay empty)."""
        v2 = layout == "star_v2"
        y = self.package.school_year
        counter = rng.randrange(1000, 9000)
        out = []
        for p in members:
            rid = star_id[p.sid] if p.sid else p.number
            given, family = star_name[p.sid] if p.sid else (p.given, p.family)
            school_name, school_id = self.schools.get(p.school, ("", ""))
            teacher = self.teachers.get(p.homeroom_teacher, ("", "", ""))
            ability = random.Random(f"rollcall-sources:{self.seed}:ability:{subject}:{rid}").gauss(0, 1)
            grade = _grade_number(p.grade)
            tests = self._test_dates(rng, windows)
            for number, (window, taken, start, end) in enumerate(tests, start=1):
                counter += 1
                growth = ((taken - self.package.first_day).days / 300) if taken > self.package.first_day else 0.0
                z = ability + rng.gauss(0, 0.25)
                percentile = min(99, max(1, round(50 * (1 + math.erf(z / math.sqrt(2))))))
                if subject == "math":
                    scaled = 300 + 70 * grade + 60 * z + 40 * growth
                elif subject == "reading":
                    scaled = 250 + 85 * grade + 90 * z + 45 * growth
                else:
                    scaled = 480 + 90 * grade + 70 * z + 50 * growth
                scaled = max(0, min(1400 if subject != "early_literacy" else 900, round(scaled)))
                moment = f"{_us_date(taken)} {rng.randint(8, 14):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
                placement = f"{grade + ((taken.month - 8) % 12 + taken.day / 31) / 10:.2f}"
                row = {
                    "Gender": "F" if p.sex == "female" else "M",
                    "CurrentGrade": _grade_label(p.grade),
                    "SchoolName": school_name,
                    "GradePlacement": placement,
                    "Grade": _grade_label(p.grade),
                    "ScaledScore": str(scaled),
                    "PercentileRank": str(percentile),
                    "NormalCurveEquivalent": f"{min(99.0, max(1.0, 50 + 21.06 * z)):.1f}",
                    "AssessmentNumber": str(number),
                }
                if subject != "early_literacy":
                    row["GradeEquivalent"] = f"{max(0.0, grade + 0.8 * z + growth):.1f}"
                if subject == "reading":
                    lexile = int(round(200 + 110 * grade + 120 * z + 40 * growth, -1))
                    row["Lexile"] = f"{lexile}L" if lexile > 0 else "BR"
                if subject == "early_literacy":
                    row["LiteracyClassification"] = (
                        "Emergent Reader"
                        if scaled < 675
                        else "Transitional Reader"
                        if scaled < 775
                        else "Probable Reader"
                    )
                if window in ("Winter", "Spring"):
                    row["CurrentSGP"] = str(rng.randint(1, 99))
                if v2:
                    row.update(
                        {
                            "RenaissanceClientID": "7731",
                            "SchoolYear": f"{y - 1}-{y}",
                            "SchoolYearStartDate": f"{y - 1}-07-01 00:00:00.000",
                            "SchoolYearEndDate": f"{y}-06-30 00:00:00.000",
                            "StudentRenaissanceID": _guid(random.Random(f"rollcall-sources:{self.seed}:ren:{rid}")),
                            "StudentIdentifier": rid,
                            "StudentFirstName": given,
                            "StudentMiddleName": p.middle,
                            "StudentLastName": family,
                            "BirthDate": p.birth.isoformat() if subject == "reading" else _us_date(p.birth),
                            "EnrollmentStatus": "Active" if p.enabled else "Inactive",
                            "DistrictName": f"{self.district_name} Public Schools",
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
                            "ScreeningWindowStartDate": _us_date(start) if window else "",
                            "ScreeningWindowEndDate": _us_date(end) if window else "",
                        }
                    )
                else:
                    row.update(
                        {
                            "StudentLocalID": rid,
                            "StudentFirst": given,
                            "StudentMiddle": p.middle,
                            "StudentLast": family,
                            "BirthDate": _us_date(p.birth),
                            "SchoolLocalID": school_id,
                            "TeacherLocalID": teacher[0],
                            "TeacherFirst": teacher[1],
                            "TeacherLast": teacher[2],
                            "StudentAssessmentID": str(counter),
                            "AssessmentDate": moment,
                            "SEM": str(rng.randint(20, 60)),
                            "TotalTime": str(rng.randint(600, 1500)),
                            "TestType": "Enterprise",
                            "WindowName": window,
                            "WindowStart": f"{_us_date(start)} 00:00:00" if window else "",
                            "WindowEnd": f"{_us_date(end)} 23:59:59" if window else "",
                            "TestStatus": "Active",
                            "GlobalWindow": window or _season(taken),
                            "ProbableTestType": "Screening" if window else "PM",
                        }
                    )
                out.append(row)
        return out

    # -- truth ----------------------------------------------------------------------------------
    def _truth(self) -> list[list[str]]:
        rows = [[self.district_id, "oneroster", p.sid, p.sid, "matched", "anchor", ""] for p in self.persons]
        first, second = self.pair
        rows[[p.sid for p in self.persons].index(second.sid)][6] = "same_name_birth_date"
        rows[[p.sid for p in self.persons].index(first.sid)][6] = "same_name_birth_date"
        for ident, true_person, planted in self.records:
            status, rule, person = self.anchor.resolve(ident)
            if status == "matched" and person != true_person:
                raise RuntimeError(f"{ident.source} record {ident.record_id} would match the wrong student")
            rows.append([self.district_id, ident.source, ident.record_id, true_person, status, rule, planted])
        order = {name: i for i, name in enumerate(SOURCE_SYSTEMS)}
        rows.sort(key=lambda r: (order[r[1]], r[2]))
        return rows


def _season(day: date) -> str:
    """Star's global window of a date."""
    return "Fall" if day.month >= 8 else "Winter" if day.month <= 2 else "Spring"


def _fictional(phone: str) -> str:
    """The same formatting with the exchange and line moved into the fictional 555-01xx range."""
    digits = [ch for ch in phone if ch.isdigit()]
    if len(digits) < 10:
        return phone
    target = iter([*digits[-10:-7], "5", "5", "5", "0", "1", *digits[-2:]])
    skip = len(digits) - 10  # a leading country code stays as it is
    out = []
    for ch in phone:
        if ch.isdigit():
            if skip:
                skip -= 1
                out.append(ch)
            else:
                out.append(next(target))
        else:
            out.append(ch)
    return "".join(out)


def _guid(rng: random.Random) -> str:
    text = f"{rng.getrandbits(128):032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}".upper()
