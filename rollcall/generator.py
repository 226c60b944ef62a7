"""Deterministic sample district: a OneRoster 1.1 CSV package plus the OneRoster+ extension files.

``generate_district`` writes a bulk-mode OneRoster 1.1 package (manifest, orgs,
academicSessions, courses, classes, users, enrollments, demographics) and the three
OneRoster+ files (absenceCodes, attendance, calendar; see ``docs/oneroster-plus.md``) for an
invented district, either into a folder or into a zip with the files at its root.

Same arguments, same bytes: every random draw comes from ``random.Random`` streams seeded
from ``seed`` (one stream per concern, so e.g. the roster does not change with ``days``),
iteration is always over lists in a fixed order, and nothing reads the clock.
Headers follow ``seeds/oneroster_fields.csv`` (``users.password`` is never written).

Realism built in: sibling groups sharing guardians, mid-year transfers between two schools of
the same level, mid-year withdrawals and late entries, per-school calendars (one school has an
extra professional-development day), half days, period attendance for grades 09-12 and a
chronic-absence rate of roughly 15-20 %.

Speed, measured on the 2-core development machine (CPython 3.11, folder output)::

    /usr/bin/time -f "%e s" .venv/bin/python -c "from rollcall.generator import \\
        generate_district as g; print(g('/tmp/big', students=5000, days=180).row_counts)"

    -> 2,471,891 attendance rows (871,577 daily + 1,600,314 period rows), 7.1-10.7 s wall
       clock over four runs, 120 MB peak RSS; with as_zip=True about 12-15 s.
"""

from __future__ import annotations

import csv
import io
import math
import random
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

__all__ = ["INSTRUCTIONAL_DAYS", "GenerationSummary", "generate_district"]

FIELD_TABLE_PATH = Path(__file__).resolve().parents[1] / "seeds" / "oneroster_fields.csv"

DISTRICT_SOURCED_ID = "district-demo"
DISTRICT_NCES_ID = "9900001"
DISTRICT_NAME = "Rollcall Demo Unified School District"
SYSTEM_NAME = "rollcall sample district"
INSTRUCTIONAL_DAYS = 180  # student days (value > 0) in the district calendar
MAX_SCHOOLS = 999

# Files written, in manifest order. Extension files last.
ONEROSTER_FILES = (
    "orgs",
    "academicSessions",
    "courses",
    "classes",
    "users",
    "enrollments",
    "demographics",
)
EXTENSION_FILES = ("absenceCodes", "attendance", "calendar")
ABSENT_FILES = (
    "resources",
    "classResources",
    "courseResources",
    "categories",
    "lineItems",
    "results",
)
WRITTEN_FILES = ("manifest", *ONEROSTER_FILES, *EXTENSION_FILES)

_META = ("sourcedId", "status", "dateLastModified")
# The generator's own column order; projected onto the field table's order when writing.
CANONICAL_FIELDS: dict[str, tuple[str, ...]] = {
    "manifest": ("propertyName", "value"),
    "orgs": (*_META, "name", "type", "identifier", "parentSourcedId"),
    "academicSessions": (
        *_META,
        "title",
        "type",
        "startDate",
        "endDate",
        "parentSourcedId",
        "schoolYear",
    ),
    "courses": (
        *_META,
        "schoolYearSourcedId",
        "title",
        "courseCode",
        "grades",
        "orgSourcedId",
        "subjects",
        "subjectCodes",
    ),
    "classes": (
        *_META,
        "title",
        "grades",
        "courseSourcedId",
        "classCode",
        "classType",
        "location",
        "schoolSourcedId",
        "termSourcedIds",
        "subjects",
        "subjectCodes",
        "periods",
    ),
    "users": (
        *_META,
        "enabledUser",
        "orgSourcedIds",
        "role",
        "username",
        "userIds",
        "givenName",
        "familyName",
        "middleName",
        "identifier",
        "email",
        "sms",
        "phone",
        "agentSourcedIds",
        "grades",
    ),
    "enrollments": (
        *_META,
        "classSourcedId",
        "schoolSourcedId",
        "userSourcedId",
        "role",
        "primary",
        "beginDate",
        "endDate",
    ),
    "demographics": (
        *_META,
        "birthDate",
        "sex",
        "americanIndianOrAlaskaNative",
        "asian",
        "blackOrAfricanAmerican",
        "nativeHawaiianOrOtherPacificIslander",
        "white",
        "demographicRaceTwoOrMoreRaces",
        "hispanicOrLatinoEthnicity",
        "countryOfBirthCode",
        "stateOfBirthAbbreviation",
        "cityOfBirth",
        "publicSchoolResidenceStatus",
    ),
    "absenceCodes": (
        *_META,
        "code",
        "description",
        "absentValue",
        "category",
        "orgSourcedId",
    ),
    "attendance": (
        *_META,
        "userSourcedId",
        "schoolSourcedId",
        "classSourcedId",
        "period",
        "date",
        "absenceCode",
    ),
    "calendar": (
        *_META,
        "schoolSourcedId",
        "date",
        "instructionalValue",
        "dayType",
        "description",
    ),
}
NEVER_WRITTEN = {("users", "password")}

# code, description, absentValue, category
ABSENCE_CODES = (
    ("P", "Present", "0", "present"),
    ("T", "Tardy", "0", "tardy"),
    ("ED", "Early departure", "0.5", "earlyDeparture"),
    ("EX", "Excused absence", "1", "excused"),
    ("UX", "Unexcused absence", "1", "unexcused"),
    ("OSS", "Out-of-school suspension", "1", "suspension"),
    ("ISS", "In-school suspension", "0", "suspension"),
)

GRADES = ("KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12")
ELEMENTARY_GRADES = GRADES[:6]
HIGH_GRADES = GRADES[9:]
ELEMENTARY_CLASS_SIZE = 22
SECONDARY_CLASS_SIZE = 28
SECTIONS_PER_TEACHER = 5
PERIODS = 6

# ---------------------------------------------------------------------------------------------
# Name pools (given names by sex, family names) for a mix of cultures, with rough weights.
# ---------------------------------------------------------------------------------------------


def _names(text: str) -> tuple[str, ...]:
    """``"a|b|c"`` -> ``("a", "b", "c")``: compact name pools."""
    return tuple(text.split("|"))


CULTURES: dict[str, dict[str, tuple[str, ...]]] = {
    "anglo": {
        "male": _names(
            "James|Liam|Noah|Ethan|Mason|Logan|Lucas|Henry|Owen|Wyatt|Caleb|Jack|"
            "Benjamin|Samuel|Isaac|Connor|Dylan|Gavin|Tyler|Michael|David|Daniel|Ryan|"
            "Aaron|Christopher|Jordan|Malik|Andre"
        ),
        "female": _names(
            "Olivia|Emma|Ava|Sophia|Isabella|Charlotte|Amelia|Harper|Evelyn|Abigail|"
            "Emily|Ella|Avery|Scarlett|Madison|Chloé|Zoë|Grace|Hannah|Lily|Aaliyah|"
            "Jasmine|Brianna|Renée|Claire|Nora"
        ),
        "family": _names(
            "Smith|Johnson|Williams|Brown|Jones|Miller|Davis|Wilson|Anderson|Taylor|"
            "Thomas|Moore|Jackson|Martin|Thompson|White|Harris|Clark|Lewis|Robinson|"
            "Walker|Young|Allen|King|Wright|Scott|Green|Baker|Adams|Nelson|Hill|"
            "Campbell|Mitchell|Carter|Roberts|O'Brien|O'Connor|McAllister|Sullivan|"
            "Murphy|Washington|Jefferson|Brooks|Bennett|Hughes|Price|Foster"
        ),
    },
    "hispanic": {
        "male": _names(
            "José|Luis|Carlos|Juan|Miguel|Diego|Mateo|Santiago|Alejandro|Javier|Ángel|"
            "Emiliano|Sebastián|Adrián|Jesús|Andrés|Julián|Rafael|Fernando|Jorge"
        ),
        "female": _names(
            "María|Sofía|Valentina|Camila|Isabel|Lucía|Ximena|Daniela|Gabriela|"
            "Mariana|Natalia|Fernanda|Guadalupe|Alejandra|Paola|Elena|Ana|Victoria|"
            "Jimena|Renata"
        ),
        "family": _names(
            "García|Rodríguez|Martínez|Hernández|López|González|Pérez|Sánchez|Ramírez|"
            "Torres|Flores|Rivera|Gómez|Díaz|Cruz|Morales|Reyes|Gutiérrez|Ortiz|"
            "Chávez|Ruiz|Mendoza|Castillo|Vargas|Romero|Herrera|Medina|Aguilar|"
            "De la Cruz|Núñez"
        ),
    },
    "vietnamese": {
        "male": _names("Minh|Huy|Duc|Khoa|Bao|Long|Tuan|Quang|Phuc|Thanh"),
        "female": _names("Linh|Anh|Mai|Thao|Ngoc|Lan|Trang|Huong|Vy|Nhung"),
        "family": _names("Nguyễn|Trần|Lê|Phạm|Hoàng|Vũ|Đặng|Bùi|Đỗ|Ngô"),
    },
    "chinese": {
        "male": _names("Wei|Jun|Hao|Yi|Jian|Kai|Ming|Tao|Bo|Chen"),
        "female": _names("Mei|Xin|Yan|Ling|Hui|Jing|Fang|Xiu|Lan|Yu"),
        "family": _names("Wang|Li|Zhang|Liu|Chen|Yang|Huang|Zhao|Wu|Zhou|Lin"),
    },
    "south_asian": {
        "male": _names("Aarav|Vihaan|Arjun|Rohan|Aditya|Ishaan|Kabir|Rahul|Sai|Dev|Imran|Farhan"),
        "female": _names("Ananya|Diya|Priya|Saanvi|Aisha|Kavya|Meera|Riya|Neha|Fatima|Zara|Ishita"),
        "family": _names("Patel|Shah|Singh|Kumar|Sharma|Gupta|Reddy|Iyer|Khan|Chowdhury|Desai|Mehta|Nair|Rao"),
    },
    "korean": {
        "male": _names("Min-jun|Seo-jun|Ji-ho|Joon|Hyun|Dong-hyun|Sung-min|Tae-yang"),
        "female": _names("Seo-yeon|Ji-woo|Ha-eun|Min-seo|Soo-ah|Yuna|Ji-yeon|Eun-ji"),
        "family": _names("Kim|Lee|Park|Choi|Jung|Kang|Cho|Yoon|Jang|Lim"),
    },
    "west_african": {
        "male": _names("Chinedu|Emeka|Oluwaseun|Tunde|Kwame|Kofi|Obinna|Ifeanyi|Babajide|Yaw"),
        "female": _names("Adaeze|Chiamaka|Ngozi|Folake|Amara|Abena|Yetunde|Ifeoma|Efua|Nkechi"),
        "family": _names("Okafor|Adeyemi|Okonkwo|Mensah|Eze|Balogun|Nwosu|Asante|Oyelaran|Owusu"),
    },
    "east_african": {
        "male": _names("Abdi|Mohamed|Hassan|Yonas|Dawit|Abdirahman|Tesfaye|Bereket"),
        "female": _names("Hodan|Ayaan|Fadumo|Hiwot|Selam|Sagal|Meron|Liya"),
        "family": _names("Hussein|Ahmed|Warsame|Abdullahi|Tesfaye|Bekele|Haile|Mohamud"),
    },
    "arabic": {
        "male": _names("Omar|Yusuf|Ali|Khalid|Hamza|Karim|Tariq|Sami|Ibrahim|Zaid"),
        "female": _names("Layla|Noor|Yasmin|Maryam|Amira|Salma|Hana|Rania|Leen|Dana"),
        "family": _names("Haddad|Khoury|Nasser|Hamdan|Saleh|Mansour|Farah|Aziz|Al-Amin|El-Sayed"),
    },
    "filipino": {
        "male": _names("Jose Miguel|Paolo|Rafael|Mark Anthony|Jericho|Carlo|Joshua|Renz"),
        "female": _names("Maria Clara|Angelica|Kristine|Bea|Jasmine|Patricia|Nicole|Rhea"),
        "family": _names("Santos|Reyes|Cruz|Bautista|Ocampo|Garcia|Mendoza|Villanueva|Dela Cruz|Aquino"),
    },
    "eastern_european": {
        "male": _names("Jakub|Łukasz|Mateusz|Piotr|Oleksandr|Dmytro|Ivan|Nikola"),
        "female": _names("Zuzanna|Małgorzata|Katarzyna|Olena|Anastasia|Milena|Iryna|Ewa"),
        "family": _names("Kowalski|Nowak|Wiśniewski|Wójcik|Kowalczyk|Shevchenko|Kovalenko|Petrović|Horvat|Novák"),
    },
}
CULTURE_WEIGHTS = (
    ("anglo", 44),
    ("hispanic", 27),
    ("vietnamese", 4),
    ("chinese", 4),
    ("south_asian", 5),
    ("korean", 2),
    ("west_african", 3),
    ("east_african", 3),
    ("arabic", 3),
    ("filipino", 3),
    ("eastern_european", 2),
)
BIRTH_COUNTRIES = {
    "anglo": ("CA", "GB"),
    "hispanic": ("MX", "SV", "GT", "HN", "CO"),
    "vietnamese": ("VN",),
    "chinese": ("CN", "TW"),
    "south_asian": ("IN", "PK", "BD"),
    "korean": ("KR",),
    "west_african": ("NG", "GH"),
    "east_african": ("SO", "ET", "ER"),
    "arabic": ("EG", "JO", "IQ", "SY"),
    "filipino": ("PH",),
    "eastern_european": ("PL", "UA", "RS"),
}
# race weights (key -> weight); "two" means two or more races
RACE_WEIGHTS = {
    "anglo": (("white", 78), ("black", 14), ("two", 6), ("aian", 2)),
    "hispanic": (("white", 72), ("two", 14), ("aian", 8), ("black", 5), ("nhpi", 1)),
    "vietnamese": (("asian", 95), ("two", 5)),
    "chinese": (("asian", 95), ("two", 5)),
    "south_asian": (("asian", 97), ("two", 3)),
    "korean": (("asian", 95), ("two", 5)),
    "west_african": (("black", 97), ("two", 3)),
    "east_african": (("black", 96), ("two", 4)),
    "arabic": (("white", 90), ("two", 10)),
    "filipino": (("asian", 85), ("nhpi", 5), ("two", 10)),
    "eastern_european": (("white", 97), ("two", 3)),
}
RACE_FIELDS = ("aian", "asian", "black", "nhpi", "white")
HOME_STATE = "WA"
HOME_CITIES = (
    "Tacoma",
    "Seattle",
    "Spokane",
    "Everett",
    "Olympia",
    "Kent",
    "Renton",
    "Yakima",
)
OTHER_STATES = (
    ("CA", "Los Angeles"),
    ("OR", "Portland"),
    ("TX", "Houston"),
    ("NY", "New York"),
    ("IL", "Chicago"),
    ("AZ", "Phoenix"),
    ("FL", "Miami"),
    ("ID", "Boise"),
)
FOREIGN_CITIES = {
    "CA": "Vancouver",
    "GB": "London",
    "MX": "Guadalajara",
    "SV": "San Salvador",
    "GT": "Guatemala City",
    "HN": "Tegucigalpa",
    "CO": "Medellín",
    "VN": "Ho Chi Minh City",
    "CN": "Guangzhou",
    "TW": "Taipei",
    "IN": "Hyderabad",
    "PK": "Lahore",
    "BD": "Dhaka",
    "KR": "Seoul",
    "NG": "Lagos",
    "GH": "Accra",
    "SO": "Mogadishu",
    "ET": "Addis Ababa",
    "ER": "Asmara",
    "EG": "Cairo",
    "JO": "Amman",
    "IQ": "Baghdad",
    "SY": "Aleppo",
    "PH": "Manila",
    "PL": "Kraków",
    "UA": "Kyiv",
    "RS": "Belgrade",
}

SCHOOL_NAME_POOLS = {
    "elementary": _names(
        "Lincoln|Roosevelt|Cesar Chavez|Maple Grove|Sacajawea|Hillcrest|Riverside|"
        "Sunnyside|Mary Lyon|Lakeview|Meadowbrook|Frederick Douglass|Willow Creek|"
        "Cedar Park|Harriet Tubman|Pine Ridge|Garfield|Sequoia|Madrona|Ruby Bridges|"
        "Evergreen|Fern Hill|Whitman|Alder Creek"
    ),
    "middle": _names(
        "Sally Ride|Franklin|Thurgood Marshall|Jane Addams|Mount Rainier|Eastside|"
        "Hamilton|Chief Sealth|Ellen Ochoa|Westwood|Olympic View|Mae Jemison"
    ),
    "high": _names(
        "Rollcall|Central|Kennedy|Cascade|Northgate|Bayview|Ida B. Wells|Summit|Lakeside|Roberto Clemente|Foss|Skyline"
    ),
    "k8": _names("Orca|Salmon Bay|Blue Heron|Thornton Creek"),
    "k12": _names("Cedar Ridge|Puget Sound|Columbia"),
}
SCHOOL_NAME_SUFFIX = {
    "elementary": "Elementary School",
    "middle": "Middle School",
    "high": "High School",
    "k8": "K-8 School",
    "k12": "K-12 Academy",
}
SCHOOL_GRADES = {
    "elementary": ELEMENTARY_GRADES,
    "middle": GRADES[6:9],
    "high": HIGH_GRADES,
    "k8": GRADES[:9],
    "k12": GRADES,
}

# Secondary courses: (key, subject, title by grade, SCED-style code by grade).
SECONDARY_COURSES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "06": (
        ("ela", "English Language Arts", "English Language Arts 6", "51036"),
        ("math", "Mathematics", "Mathematics 6", "52036"),
        ("sci", "Science", "Science 6", "53036"),
        ("ss", "Social Studies", "World Cultures 6", "54036"),
        ("pe", "Physical Education", "Physical Education 6", "58036"),
        ("elec", "Fine and Performing Arts", "Art 6", "55036"),
    ),
    "07": (
        ("ela", "English Language Arts", "English Language Arts 7", "51037"),
        ("math", "Mathematics", "Mathematics 7", "52037"),
        ("sci", "Science", "Life Science 7", "53037"),
        ("ss", "Social Studies", "Washington State History 7", "54037"),
        ("pe", "Physical Education", "Physical Education 7", "58037"),
        ("elec", "Fine and Performing Arts", "Band 7", "55137"),
    ),
    "08": (
        ("ela", "English Language Arts", "English Language Arts 8", "51038"),
        ("math", "Mathematics", "Pre-Algebra 8", "52038"),
        ("sci", "Science", "Physical Science 8", "53038"),
        ("ss", "Social Studies", "U.S. History 8", "54038"),
        ("pe", "Physical Education", "Physical Education 8", "58038"),
        (
            "elec",
            "Computer and Information Sciences",
            "Computer Science Discoveries",
            "60038",
        ),
    ),
    "09": (
        ("ela", "English Language and Literature", "English 9", "01001"),
        ("math", "Mathematics", "Algebra I", "02052"),
        ("sci", "Life and Physical Sciences", "Biology", "03051"),
        ("ss", "Social Sciences and History", "World Geography", "04001"),
        ("pe", "Physical, Health, and Safety Education", "Physical Education", "08001"),
        ("elec", "World Languages", "Spanish I", "06101"),
    ),
    "10": (
        ("ela", "English Language and Literature", "English 10", "01002"),
        ("math", "Mathematics", "Geometry", "02072"),
        ("sci", "Life and Physical Sciences", "Chemistry", "03101"),
        ("ss", "Social Sciences and History", "World History", "04051"),
        ("pe", "Physical, Health, and Safety Education", "Health", "08051"),
        ("elec", "World Languages", "Spanish II", "06102"),
    ),
    "11": (
        ("ela", "English Language and Literature", "English 11", "01003"),
        ("math", "Mathematics", "Algebra II", "02056"),
        ("sci", "Life and Physical Sciences", "Physics", "03151"),
        ("ss", "Social Sciences and History", "U.S. History", "04101"),
        ("pe", "Physical, Health, and Safety Education", "Lifetime Fitness", "08005"),
        ("elec", "Fine and Performing Arts", "Visual Art I", "05154"),
    ),
    "12": (
        ("ela", "English Language and Literature", "English 12", "01004"),
        ("math", "Mathematics", "Pre-Calculus", "02110"),
        ("sci", "Life and Physical Sciences", "Environmental Science", "03003"),
        ("ss", "Social Sciences and History", "U.S. Government and Economics", "04151"),
        ("pe", "Physical, Health, and Safety Education", "Physical Education", "08001"),
        (
            "elec",
            "Computer and Information Sciences",
            "AP Computer Science Principles",
            "10019",
        ),
    ),
}

_ASCII_FOLD = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ß": "ss", "Ø": "O", "ø": "o"})


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GenerationSummary:
    """What ``generate_district`` wrote."""

    path: Path  # folder, or zip file when as_zip
    row_counts: dict[str, int]  # file stem -> data rows (header excluded), manifest included
    district_sourced_id: str
    first_day: date  # first day of school
    last_attendance_day: date  # last date with attendance rows (the `days`-th instructional day)
    last_day: date  # last day of school (inclusive)
    school_year: int
    instructional_days: int  # instructional days in the district calendar
    seed: int
    files: tuple[str, ...] = field(default=WRITTEN_FILES)  # file stems written, in manifest order


def generate_district(
    out_dir: str | Path,
    *,
    students: int = 500,
    schools: int = 4,
    days: int = 100,
    seed: int = 42,
    school_year: int = 2026,
    as_zip: bool = False,
) -> GenerationSummary:
    """Write a sample district's OneRoster 1.1 + OneRoster+ CSV package.

    ``out_dir`` is a folder (created if needed; files with the same names are overwritten) or,
    with ``as_zip=True``, the path of the zip file to write (files at the zip root).
    ``days`` is the number of instructional days, counted from the first day of school, that
    have attendance rows (the rest of the year is "in the future").
    """
    for name, value in (
        ("students", students),
        ("schools", schools),
        ("days", days),
        ("seed", seed),
        ("school_year", school_year),
    ):
        if not isinstance(value, int) or isinstance(value, bool):
            # ValueError, not TypeError: callers (the CLI) handle one error type for bad arguments
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if students < 1:
        raise ValueError(f"students must be at least 1, got {students}")
    if not 1 <= schools <= MAX_SCHOOLS:
        raise ValueError(f"schools must be between 1 and {MAX_SCHOOLS}, got {schools}")
    if not 1901 <= school_year <= 9999:
        raise ValueError(f"school_year must be a year between 1901 and 9999, got {school_year}")
    if days < 1 or days > INSTRUCTIONAL_DAYS:
        raise ValueError(
            f"days must be between 1 and {INSTRUCTIONAL_DAYS} (the instructional days in the "
            f"{school_year - 1}-{school_year} calendar), got {days}"
        )
    if not isinstance(as_zip, bool):
        raise ValueError(f"as_zip must be True or False, got {as_zip!r}")

    district = _District(
        students=students,
        n_schools=schools,
        days=days,
        seed=seed,
        school_year=school_year,
    )
    district.build()
    headers = _headers()
    path = Path(out_dir)
    counts: dict[str, int] = {}
    with _sink_factory(path, as_zip) as open_file:
        for stem in WRITTEN_FILES:
            with open_file(f"{stem}.csv") as handle:
                counts[stem] = _write_csv(handle, stem, headers[stem], district.rows(stem))
    return GenerationSummary(
        path=path,
        row_counts=counts,
        district_sourced_id=DISTRICT_SOURCED_ID,
        first_day=district.first_day,
        last_attendance_day=district.last_attendance_day,
        last_day=district.last_day,
        school_year=school_year,
        instructional_days=len(district.base_instructional),
        seed=seed,
    )


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------
def _headers() -> dict[str, tuple[str, ...]]:
    """Header per file from the field table (``seeds/oneroster_fields.csv``), secrets left out."""
    headers = {stem: CANONICAL_FIELDS[stem] for stem in WRITTEN_FILES}
    if not FIELD_TABLE_PATH.exists():  # installed without the repo's seeds
        return headers
    table: dict[str, list[tuple[int, str]]] = {}
    with FIELD_TABLE_PATH.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = (row["file_name"], row["field_name"])
            if key in NEVER_WRITTEN or row["data_type"] == "secret" or "1.1" not in row["versions"].split("|"):
                continue
            table.setdefault(key[0], []).append((int(row["field_order"]), key[1]))
    for stem in WRITTEN_FILES:
        if stem in table:
            headers[stem] = tuple(name for _, name in sorted(table[stem]))
    return headers


def _write_csv(handle: io.TextIOBase, stem: str, header: tuple[str, ...], rows) -> int:
    """Write header + rows (in canonical column order) projected onto ``header``; return row count."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(header)
    canonical = CANONICAL_FIELDS[stem]
    count = 0
    if header == canonical:
        for chunk in rows:
            writer.writerows(chunk)
            count += len(chunk)
        return count
    position = {name: i for i, name in enumerate(canonical)}
    picks = [position.get(name) for name in header]
    for chunk in rows:
        writer.writerows([[row[i] if i is not None else "" for i in picks] for row in chunk])
        count += len(chunk)
    return count


@contextmanager
def _sink_factory(path: Path, as_zip: bool):
    """Yield ``open_file(name)`` -> context manager of a UTF-8 text handle (folder or zip member)."""
    if not as_zip:
        path.mkdir(parents=True, exist_ok=True)

        @contextmanager
        def open_in_folder(name: str):
            with (path / name).open("w", newline="", encoding="utf-8") as handle:
                yield handle

        yield open_in_folder
        return

    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:

        @contextmanager
        def open_in_zip(name: str):
            # fixed time stamp and attributes: byte-identical zips
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=False)
                try:
                    yield text
                finally:
                    text.flush()
                    text.detach()

        yield open_in_zip


# ---------------------------------------------------------------------------------------------
# Calendar helpers
# ---------------------------------------------------------------------------------------------
def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """n-th (1-based) given weekday (Mon=0) of a month; n=-1 for the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _first_day(school_year: int) -> date:
    """The Monday closest to Aug 25 of the calendar year the school year starts in."""
    anchor = date(school_year - 1, 8, 25)
    shift = -anchor.weekday() if anchor.weekday() <= 3 else 7 - anchor.weekday()
    return anchor + timedelta(days=shift)


def _weekdays(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


def _district_special_days(school_year: int) -> dict[date, tuple[str, str, str]]:
    """date -> (instructionalValue, dayType, description) for non-regular weekdays."""
    fall, spring = school_year - 1, school_year
    special: dict[date, tuple[str, str, str]] = {}

    def put(day: date, value: str, kind: str, text: str) -> None:
        if day.weekday() < 5 and day not in special:
            special[day] = (value, kind, text)

    put(_nth_weekday(fall, 9, 0, 1), "0", "holiday", "Labor Day")
    put(
        _nth_weekday(fall, 10, 0, 2),
        "0",
        "professionalDevelopment",
        "Professional development day",
    )
    thanksgiving = _nth_weekday(fall, 11, 3, 4)
    put(thanksgiving, "0", "holiday", "Thanksgiving Day")
    put(thanksgiving + timedelta(days=1), "0", "holiday", "Day after Thanksgiving")
    put(
        thanksgiving - timedelta(days=1),
        "0.5",
        "halfDay",
        "Early release before Thanksgiving",
    )
    # Winter break: ten weekdays from the Monday of the week of Dec 24 (next Monday if a weekend).
    dec24 = date(fall, 12, 24)
    start = (
        dec24 - timedelta(days=dec24.weekday()) if dec24.weekday() < 5 else dec24 + timedelta(days=7 - dec24.weekday())
    )
    breaks = list(_weekdays(start, start + timedelta(days=11)))
    for day in breaks:
        put(day, "0", "break", "Winter break")
    before = start - timedelta(days=3)  # the Friday before
    put(before, "0.5", "halfDay", "Early release before winter break")
    put(date(spring, 1, 1), "0", "holiday", "New Year's Day")
    after = breaks[-1] + timedelta(days=3)  # the Monday after
    put(
        after,
        "0",
        "professionalDevelopment",
        "Teacher work day (no school for students)",
    )
    put(_nth_weekday(spring, 1, 0, 3), "0", "holiday", "Martin Luther King Jr. Day")
    presidents = _nth_weekday(spring, 2, 0, 3)
    put(presidents, "0", "holiday", "Presidents' Day")
    put(
        presidents - timedelta(days=3),
        "0",
        "professionalDevelopment",
        "Professional development day",
    )
    spring_break = _nth_weekday(spring, 3, 0, 3)
    for day in _weekdays(spring_break, spring_break + timedelta(days=4)):
        put(day, "0", "break", "Spring break")
    put(_nth_weekday(spring, 5, 0, -1), "0", "holiday", "Memorial Day")
    put(date(spring, 6, 19), "0", "holiday", "Juneteenth")
    return special


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------
class _School:
    __slots__ = (
        "calendar",
        "grades",
        "identifier",
        "instructional",
        "instructional_set",
        "level",
        "name",
        "next_room",
        "num",
        "sid",
        "weight",
    )

    def __init__(self, num: int, name: str, level: str, weight: float):
        self.num = num
        self.sid = f"school-{num:03d}"
        self.name = name
        self.level = level
        self.grades = SCHOOL_GRADES[level]
        self.identifier = f"{DISTRICT_NCES_ID}{num:05d}"
        self.weight = weight
        self.calendar: list[tuple[date, str, str, str]] = []
        self.instructional: list[date] = []
        self.instructional_set: set[date] = set()
        self.next_room = 0


class _Class:
    __slots__ = (
        "class_type",
        "code",
        "course",
        "grade",
        "period",
        "room",
        "school",
        "sid",
        "students",
        "subject",
        "subject_code",
        "teacher",
        "title",
    )

    def __init__(
        self,
        sid,
        school,
        grade,
        course,
        title,
        code,
        class_type,
        room,
        period,
        subject,
        subject_code,
    ):
        self.sid = sid
        self.school = school
        self.grade = grade
        self.course = course
        self.title = title
        self.code = code
        self.class_type = class_type
        self.room = room
        self.period = period
        self.subject = subject
        self.subject_code = subject_code
        self.teacher = None
        self.students: list = []  # (student, segment)


class _Segment:
    """A student's stay at one school: [begin, end) and the classes taken there."""

    __slots__ = ("begin", "classes", "end", "periods", "school")

    def __init__(self, school: _School, begin: date, end: date):
        self.school = school
        self.begin = begin
        self.end = end
        self.classes: list[_Class] = []
        self.periods: list[tuple[str, str]] = []  # (period, class sid) of scheduled classes


class _Student:
    __slots__ = (
        "birth",
        "culture",
        "family",
        "family_unit",
        "given",
        "grade",
        "idx",
        "kind",
        "middle",
        "number",
        "retained",
        "segments",
        "sex",
        "sid",
        "username",
    )

    def __init__(self, idx: int):
        self.idx = idx
        self.sid = f"stu-{idx:06d}"
        self.segments: list[_Segment] = []
        self.kind = "regular"


class _Family:
    __slots__ = ("children", "culture", "family", "guardians")

    def __init__(self, culture: str, family: str):
        self.culture = culture
        self.family = family
        self.children: list[_Student] = []
        self.guardians: list[str] = []


def _weighted(rng: random.Random, pairs) -> str:
    keys = [k for k, _ in pairs]
    weights = [w for _, w in pairs]
    return rng.choices(keys, weights)[0]


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII_FOLD))
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum()).lower()


def _phone(rng: random.Random) -> str:
    area = rng.choice(("253", "206", "360", "425", "509"))
    exchange = rng.randint(200, 989)
    line = rng.randint(0, 9999)
    style = rng.random()
    if style < 0.45:
        return f"({area}) {exchange}-{line:04d}"
    if style < 0.65:
        return f"{area}-{exchange}-{line:04d}"
    if style < 0.85:
        return f"{area}.{exchange}.{line:04d}"
    return f"{area}{exchange}{line:04d}"


def _list(values) -> str:
    return ",".join(values)


class _District:
    def __init__(self, *, students: int, n_schools: int, days: int, seed: int, school_year: int):
        self.n_students = students
        self.n_schools = n_schools
        self.days = days
        self.seed = seed
        self.school_year = school_year
        self.year_id = f"as-{school_year}"

    def _rng(self, purpose: str) -> random.Random:
        return random.Random(f"rollcall:{self.seed}:{purpose}")

    # -- build ------------------------------------------------------------------------------
    def build(self) -> None:
        self._build_schools()
        self._build_calendar()
        self._build_sessions()
        self._build_students()
        self._build_events()
        self._build_classes()
        self._build_teachers()
        self._build_guardians()

    def _build_schools(self) -> None:
        rng = self._rng("schools")
        n = self.n_schools
        if n == 1:
            levels = ["k12"]
        elif n == 2:
            levels = ["k8", "high"]
        else:
            elementary = max(1, min(n - 2, math.ceil(n / 2)))
            middle = math.ceil((n - elementary) / 2)
            levels = ["elementary"] * elementary + ["middle"] * middle + ["high"] * (n - elementary - middle)
        pools = {level: rng.sample(names, len(names)) for level, names in SCHOOL_NAME_POOLS.items()}
        used: dict[str, int] = {}
        self.schools: list[_School] = []
        for num, level in enumerate(levels, start=1):
            k = used.get(level, 0)
            used[level] = k + 1
            pool = pools[level]
            base = pool[k % len(pool)]
            name = f"{base} {SCHOOL_NAME_SUFFIX[level]}"
            if k >= len(pool):
                name += f" {k // len(pool) + 1}"
            self.schools.append(_School(num, name, level, rng.uniform(0.8, 1.25)))

    def _build_calendar(self) -> None:
        special = _district_special_days(self.school_year)
        self.first_day = _first_day(self.school_year)
        instructional: list[date] = []
        day = self.first_day
        while len(instructional) < INSTRUCTIONAL_DAYS:
            if day.weekday() < 5 and (day not in special or special[day][0] != "0"):
                instructional.append(day)
            day += timedelta(days=1)
        self.last_day = instructional[-1]
        self.year_end = self.last_day + timedelta(days=1)
        self.base_instructional = instructional
        self.last_attendance_day = instructional[self.days - 1]
        # One school (the last) has a school-site PD day: the last Friday of October.
        extra_pd = _nth_weekday(self.school_year - 1, 10, 4, -1)
        while extra_pd in special or extra_pd == self.first_day:
            extra_pd -= timedelta(days=7)
        self.extra_pd = extra_pd
        base_rows: list[tuple[date, str, str, str]] = []
        for day in _weekdays(self.first_day, self.last_day):
            if day == self.first_day:
                base_rows.append((day, "1", "instructional", "First day of school"))
            elif day == self.last_day:
                base_rows.append((day, "0.5", "halfDay", "Last day of school (early release)"))
            elif day in special:
                base_rows.append((day, *special[day]))
            else:
                base_rows.append((day, "1", "instructional", ""))
        for school in self.schools:
            rows = base_rows
            if school is self.schools[-1]:
                rows = [
                    (
                        d,
                        "0",
                        "professionalDevelopment",
                        "School-site professional development day",
                    )
                    if d == extra_pd
                    else (d, v, k, t)
                    for d, v, k, t in base_rows
                ]
            school.calendar = rows
            school.instructional = [d for d, v, _, _ in rows if v != "0"]
            school.instructional_set = set(school.instructional)
        # Dates usable for mid-year events: instructional at every school, after the first day,
        # inside the attendance window when the window allows it.
        common = [d for d in instructional[1:] if d != extra_pd]
        in_window = [d for d in common if d <= self.last_attendance_day]
        self.event_dates = in_window or common

    def _build_sessions(self) -> None:
        inst = self.base_instructional
        n = len(inst)
        y = self.school_year
        title = f"{y - 1}-{y}"
        s2 = inst[n // 2]
        q2, q4 = inst[round(n / 4)], inst[round(3 * n / 4)]
        self.semesters = (f"as-{y}-s1", f"as-{y}-s2")
        self.sessions = [
            (self.year_id, title, "schoolYear", self.first_day, self.year_end, ""),
            (
                self.semesters[0],
                f"Semester 1 {title}",
                "semester",
                self.first_day,
                s2,
                self.year_id,
            ),
            (
                self.semesters[1],
                f"Semester 2 {title}",
                "semester",
                s2,
                self.year_end,
                self.year_id,
            ),
            (
                f"as-{y}-q1",
                f"Q1 {title}",
                "term",
                self.first_day,
                q2,
                self.semesters[0],
            ),
            (f"as-{y}-q2", f"Q2 {title}", "term", q2, s2, self.semesters[0]),
            (f"as-{y}-q3", f"Q3 {title}", "term", s2, q4, self.semesters[1]),
            (f"as-{y}-q4", f"Q4 {title}", "term", q4, self.year_end, self.semesters[1]),
        ]

    def _new_name(self, rng: random.Random, culture: str, sex: str) -> tuple[str, str]:
        pool = CULTURES[culture]
        given = rng.choice(pool[sex])
        middle = ""
        if rng.random() < 0.4:
            middle = rng.choice(pool[sex])
            if middle == given:
                middle = ""
        return given, middle

    def _build_students(self) -> None:
        rng = self._rng("students")
        grade_weights = [1.0] * 13
        grade_weights[0] = 0.95
        grade_weights[12] = 0.9
        serving = {g: [s for s in self.schools if g in s.grades] for g in GRADES}
        numbers = rng.sample(
            range(100_000, max(10_000_000, 100_000 + 4 * self.n_students)),
            self.n_students,
        )
        self.students: list[_Student] = []
        self.families: list[_Family] = []
        open_families: list[_Family] = []
        for idx in range(1, self.n_students + 1):
            st = _Student(idx)
            st.number = f"{numbers[idx - 1]:09d}"
            st.grade = rng.choices(GRADES, grade_weights)[0]
            schools = serving[st.grade]
            school = rng.choices(schools, [s.weight for s in schools])[0] if len(schools) > 1 else schools[0]
            st.segments = [_Segment(school, self.first_day, self.year_end)]
            st.sex = "female" if rng.random() < 0.49 else "male"
            fam = None
            if open_families and rng.random() < 0.3:
                candidate = open_families[rng.randrange(len(open_families))]
                if all(c.grade != st.grade for c in candidate.children):
                    fam = candidate
            if fam is None:
                culture = _weighted(rng, CULTURE_WEIGHTS)
                fam = _Family(culture, rng.choice(CULTURES[culture]["family"]))
                self.families.append(fam)
                open_families.append(fam)
                if len(open_families) > 40:
                    open_families.pop(0)
            fam.children.append(st)
            if len(fam.children) >= 3 and fam in open_families:
                open_families.remove(fam)
            st.family_unit = fam
            st.culture = fam.culture
            st.family = fam.family
            st.given, st.middle = self._new_name(rng, fam.culture, st.sex)
            st.retained = rng.random() < 0.03
            age = GRADES.index(st.grade) + 5 + (1 if st.retained else 0)
            youngest = date(self.school_year - 1 - age, 9, 1)  # turned `age` by Sep 1
            st.birth = youngest - timedelta(days=rng.randrange(365))
            self.students.append(st)

    def _build_events(self) -> None:
        """~3 % transfers (same level), ~3 % withdrawals, ~3 % late entries; disjoint groups."""
        rng = self._rng("events")
        dates = self.event_dates
        n = self.n_students
        target = max(1, round(0.03 * n))
        order = list(self.students)
        rng.shuffle(order)
        peers = {}
        for school in self.schools:
            peers[school.sid] = [o for o in self.schools if o is not school and o.level == school.level]
        taken: set[int] = set()
        transfers = [st for st in order if peers[st.segments[0].school.sid]][:target]
        for st in transfers:
            first = st.segments[0]
            when = rng.choice(dates)
            dest = rng.choice(peers[first.school.sid])
            first.end = when
            st.segments.append(_Segment(dest, when, self.year_end))
            st.kind = "transfer"
            taken.add(st.idx)
        rest = [st for st in order if st.idx not in taken]
        for st in rest[:target]:
            st.segments[0].end = rng.choice(dates)
            st.kind = "exit"
        for st in rest[target : 2 * target]:
            st.segments[0].begin = rng.choice(dates)
            st.kind = "late"

    def _build_classes(self) -> None:
        rng = self._rng("classes")
        self.courses: list[tuple] = []
        self.classes: list[_Class] = []
        by_school_grade: dict[tuple[str, str], list[tuple[_Student, _Segment]]] = {}
        for st in self.students:
            for seg in st.segments:
                by_school_grade.setdefault((seg.school.sid, st.grade), []).append((st, seg))
        for school in self.schools:
            sn = f"{school.num:03d}"
            for grade in school.grades:
                gl = "K" if grade == "KG" else str(int(grade))
                roster = by_school_grade.get((school.sid, grade), [])
                rng.shuffle(roster)
                hr_course = f"crs-{sn}-{grade.lower()}-hr"
                self.courses.append(
                    (
                        hr_course,
                        f"Grade {gl} Homeroom" if grade != "KG" else "Kindergarten Homeroom",
                        f"HR-{grade}",
                        grade,
                        school.sid,
                        "Homeroom",
                        "",
                    )
                )
                secondary = grade not in ELEMENTARY_GRADES
                subject_courses = SECONDARY_COURSES.get(grade, ()) if secondary else ()
                for key, subject, title, code in subject_courses:
                    self.courses.append(
                        (
                            f"crs-{sn}-{grade}-{key}",
                            title,
                            f"{key.upper()}-{grade}",
                            grade,
                            school.sid,
                            subject,
                            code,
                        )
                    )
                if not roster:
                    continue
                size = SECONDARY_CLASS_SIZE if secondary else ELEMENTARY_CLASS_SIZE
                sections = max(1, math.ceil(len(roster) / size))
                homerooms = []
                for h in range(1 if secondary else sections):
                    room = self._room(school)
                    title = f"Grade {gl} Homeroom" if grade != "KG" else "Kindergarten Homeroom"
                    if not secondary:
                        title += f" - Room {room}"
                    homerooms.append(
                        _Class(
                            f"cls-{sn}-{grade.lower()}-hr-{h + 1}",
                            school,
                            grade,
                            hr_course,
                            title,
                            f"HR{grade}-{h + 1}",
                            "homeroom",
                            room,
                            "",
                            "Homeroom",
                            "",
                        )
                    )
                self.classes.extend(homerooms)
                scheduled: list[list[_Class]] = []  # [course][section]
                for c, (key, subject, title, code) in enumerate(subject_courses):
                    row = []
                    for j in range(sections):
                        period = str((c + j) % PERIODS + 1)
                        row.append(
                            _Class(
                                f"cls-{sn}-{grade}-{key}-{j + 1}",
                                school,
                                grade,
                                f"crs-{sn}-{grade}-{key}",
                                f"{title} - Period {period}",
                                f"{key.upper()}{grade}-{j + 1}",
                                "scheduled",
                                self._room(school),
                                period,
                                subject,
                                code,
                            )
                        )
                    scheduled.append(row)
                    self.classes.extend(row)
                for i, (st, seg) in enumerate(roster):
                    section = i % sections
                    hr = homerooms[0] if secondary else homerooms[section]
                    seg.classes.append(hr)
                    hr.students.append((st, seg))
                    for row in scheduled:
                        cls = row[section]
                        seg.classes.append(cls)
                        cls.students.append((st, seg))
                    seg.periods = sorted(
                        ((c.period, c.sid) for c in seg.classes if c.period),
                        key=lambda p: int(p[0]),
                    )
        for cls in self.classes:
            cls.students.sort(key=lambda pair: (pair[0].idx, pair[1].begin))

    @staticmethod
    def _room(school: _School) -> str:
        """Room numbers 101-129, 201-229, ... in the order classes are created."""
        k = school.next_room
        school.next_room += 1
        return f"{k // 29 + 1}{k % 29 + 1:02d}"

    def _build_teachers(self) -> None:
        rng = self._rng("staff")
        self.teachers: list[dict] = []
        used_usernames: set[str] = set()

        def new_teacher(school: _School) -> dict:
            culture = _weighted(rng, CULTURE_WEIGHTS)
            sex = "female" if rng.random() < 0.7 else "male"
            given, middle = self._new_name(rng, culture, sex)
            family = rng.choice(CULTURES[culture]["family"])
            num = len(self.teachers) + 1
            teacher = {
                "sid": f"tch-{num:04d}",
                "school": school,
                "given": given,
                "middle": middle[:1],
                "family": family,
                "employee": f"E{num:05d}",
                "load": 0,
                "periods": set(),
                "subject": None,
                "homeroom": False,
                "enabled": rng.random() > 0.02,
                "phone": _phone(rng),
            }
            teacher["username"] = self._unique(used_usernames, _ascii(given)[:1] + _ascii(family))
            teacher["email"] = f"{teacher['username']}@demousd.example.org"
            self.teachers.append(teacher)
            return teacher

        for school in self.schools:
            staff: list[dict] = []
            school_classes = [c for c in self.classes if c.school is school]
            for cls in school_classes:
                if cls.class_type == "homeroom" and cls.grade in ELEMENTARY_GRADES:
                    teacher = new_teacher(school)
                    teacher["load"] = 1
                    teacher["homeroom"] = True
                    cls.teacher = teacher
            scheduled = sorted(
                (c for c in school_classes if c.class_type == "scheduled"),
                key=lambda c: (c.sid.split("-")[3], c.grade, c.sid),
            )
            for cls in scheduled:
                dept = cls.sid.split("-")[3]
                teacher = next(
                    (
                        t
                        for t in staff
                        if t["subject"] == dept and t["load"] < SECTIONS_PER_TEACHER and cls.period not in t["periods"]
                    ),
                    None,
                )
                if teacher is None:
                    teacher = new_teacher(school)
                    teacher["subject"] = dept
                    staff.append(teacher)
                teacher["load"] += 1
                teacher["periods"].add(cls.period)
                cls.teacher = teacher
            for cls in school_classes:
                if cls.class_type == "homeroom" and cls.grade not in ELEMENTARY_GRADES:
                    free = [t for t in staff if not t["homeroom"]]
                    teacher = min(free, key=lambda t: t["load"]) if free else new_teacher(school)
                    if not free:
                        staff.append(teacher)
                    teacher["homeroom"] = True
                    teacher["load"] += 1
                    cls.teacher = teacher
        self.admins = []
        titles = [("Superintendent", "adm-0001")] + (
            [("Director of Student Services", "adm-0002")] if self.n_schools > 1 else []
        )
        for _, sid in titles:
            culture = _weighted(rng, CULTURE_WEIGHTS)
            sex = "female" if rng.random() < 0.5 else "male"
            given, _ = self._new_name(rng, culture, sex)
            family = rng.choice(CULTURES[culture]["family"])
            username = self._unique(used_usernames, _ascii(given)[:1] + _ascii(family))
            self.admins.append(
                {
                    "sid": sid,
                    "given": given,
                    "family": family,
                    "username": username,
                    "email": f"{username}@demousd.example.org",
                    "phone": _phone(rng),
                    "employee": f"A{len(self.admins) + 1:04d}",
                }
            )
        self._used_usernames = used_usernames

    @staticmethod
    def _unique(used: set[str], base: str) -> str:
        base = base or "user"
        name, k = base, 1
        while name in used:
            k += 1
            name = f"{base}{k}"
        used.add(name)
        return name

    def _build_guardians(self) -> None:
        rng = self._rng("guardians")
        used = self._used_usernames
        for st in self.students:
            st.username = self._unique(used, f"{_ascii(st.given)[:1]}{_ascii(st.family)}{st.number[-4:]}")
        self.guardians: list[dict] = []
        for fam in self.families:
            count = 2 if rng.random() < 0.68 else 1
            schools = sorted({seg.school.sid for c in fam.children for seg in c.segments})
            for k in range(count):
                sex = "female" if (k == 0) == (rng.random() < 0.72) else "male"
                given, _ = self._new_name(rng, fam.culture, sex)
                family = fam.family if rng.random() < 0.85 else rng.choice(CULTURES[fam.culture]["family"])
                num = len(self.guardians) + 1
                mobile = _phone(rng)
                home = "" if rng.random() < 0.55 else _phone(rng)
                domain = rng.choice(("example.com", "example.net", "example.org"))
                username = self._unique(used, f"{_ascii(given)}.{_ascii(family)}")
                sid = f"grd-{num:06d}"
                self.guardians.append(
                    {
                        "sid": sid,
                        "role": "parent" if rng.random() < 0.9 else "guardian",
                        "given": given,
                        "family": family,
                        "username": username,
                        "email": "" if rng.random() < 0.06 else f"{username}@{domain}",
                        "sms": "" if rng.random() < 0.08 else mobile,
                        "phone": home or mobile,
                        "children": [c.sid for c in fam.children],
                        "schools": schools,
                        "enabled": rng.random() > 0.03,
                    }
                )
                fam.guardians.append(sid)

    # -- rows -------------------------------------------------------------------------------
    def rows(self, stem: str) -> Iterator[list[list[str]]]:
        """Chunks of rows in CANONICAL_FIELDS order."""
        return getattr(self, f"_rows_{stem}")()

    def _rows_manifest(self):
        rows = [["manifest.version", "1.0"], ["oneroster.version", "1.1"]]
        rows += [[f"file.{stem}", "bulk"] for stem in ONEROSTER_FILES]
        rows += [[f"file.{stem}", "absent"] for stem in ABSENT_FILES]
        rows += [[f"file.{stem}", "bulk"] for stem in EXTENSION_FILES]
        rows.append(["source.systemName", SYSTEM_NAME])
        yield rows

    def _rows_orgs(self):
        rows = [
            [
                DISTRICT_SOURCED_ID,
                "",
                "",
                DISTRICT_NAME,
                "district",
                DISTRICT_NCES_ID,
                "",
            ]
        ]
        rows += [[s.sid, "", "", s.name, "school", s.identifier, DISTRICT_SOURCED_ID] for s in self.schools]
        yield rows

    def _rows_academicSessions(self):
        yield [
            [
                sid,
                "",
                "",
                title,
                kind,
                start.isoformat(),
                end.isoformat(),
                parent,
                str(self.school_year),
            ]
            for sid, title, kind, start, end, parent in self.sessions
        ]

    def _rows_courses(self):
        yield [
            [sid, "", "", self.year_id, title, code, grade, org, subject, subject_code]
            for sid, title, code, grade, org, subject, subject_code in self.courses
        ]

    def _rows_classes(self):
        terms = _list(self.semesters)
        yield [
            [
                c.sid,
                "",
                "",
                c.title,
                c.grade,
                c.course,
                c.code,
                c.class_type,
                c.room,
                c.school.sid,
                terms,
                c.subject,
                c.subject_code,
                c.period,
            ]
            for c in self.classes
        ]

    def _rows_users(self):
        rows = []
        for a in self.admins:
            rows.append(
                [
                    a["sid"],
                    "",
                    "",
                    "true",
                    DISTRICT_SOURCED_ID,
                    "administrator",
                    a["username"],
                    f"{{SIS:{a['employee']}}}",
                    a["given"],
                    a["family"],
                    "",
                    a["employee"],
                    a["email"],
                    "",
                    a["phone"],
                    "",
                    "",
                ]
            )
        for t in self.teachers:
            rows.append(
                [
                    t["sid"],
                    "",
                    "",
                    "true" if t["enabled"] else "false",
                    t["school"].sid,
                    "teacher",
                    t["username"],
                    f"{{SIS:{t['employee']}}}",
                    t["given"],
                    t["family"],
                    t["middle"],
                    t["employee"],
                    t["email"],
                    "",
                    t["phone"],
                    "",
                    "",
                ]
            )
        for st in self.students:
            schools = []
            for seg in st.segments:
                if seg.school.sid not in schools:
                    schools.append(seg.school.sid)
            rows.append(
                [
                    st.sid,
                    "",
                    "",
                    "false" if st.kind == "exit" else "true",
                    _list(schools),
                    "student",
                    st.username,
                    f"{{SIS:{st.number}}}",
                    st.given,
                    st.family,
                    st.middle,
                    st.number,
                    f"{st.username}@students.demousd.example.org",
                    "",
                    "",
                    _list(st.family_unit.guardians),
                    st.grade,
                ]
            )
        for g in self.guardians:
            rows.append(
                [
                    g["sid"],
                    "",
                    "",
                    "true" if g["enabled"] else "false",
                    _list(g["schools"]),
                    g["role"],
                    g["username"],
                    "",
                    g["given"],
                    g["family"],
                    "",
                    "",
                    g["email"],
                    g["sms"],
                    g["phone"],
                    _list(g["children"]),
                    "",
                ]
            )
        yield rows

    def _rows_enrollments(self):
        rows = []
        first, end = self.first_day.isoformat(), self.year_end.isoformat()
        for cls in self.classes:
            school = cls.school.sid
            if cls.teacher is not None:
                rows.append(
                    [
                        "",
                        "",
                        "",
                        cls.sid,
                        school,
                        cls.teacher["sid"],
                        "teacher",
                        "true",
                        first,
                        end,
                    ]
                )
            for st, seg in cls.students:
                rows.append(
                    [
                        "",
                        "",
                        "",
                        cls.sid,
                        school,
                        st.sid,
                        "student",
                        "",
                        seg.begin.isoformat(),
                        seg.end.isoformat(),
                    ]
                )
        for i, row in enumerate(rows, start=1):
            row[0] = f"enr-{i:07d}"
        yield rows

    def _rows_demographics(self):
        rng = self._rng("demographics")
        rows = []
        for st in self.students:
            race = _weighted(rng, RACE_WEIGHTS[st.culture])
            flags = dict.fromkeys(RACE_FIELDS, False)
            two = race == "two"
            if two:
                first = _weighted(rng, [(r, w) for r, w in RACE_WEIGHTS[st.culture] if r != "two"])
                second = rng.choice([r for r in RACE_FIELDS if r != first])
                flags[first] = flags[second] = True
            else:
                flags[race] = True
            hispanic = rng.random() < (0.95 if st.culture == "hispanic" else 0.04)
            if rng.random() < 0.88:
                country = "US"
                if rng.random() < 0.8:
                    state, city = HOME_STATE, rng.choice(HOME_CITIES)
                else:
                    state, city = rng.choice(OTHER_STATES)
            else:
                country = rng.choice(BIRTH_COUNTRIES[st.culture])
                state, city = "", FOREIGN_CITIES[country]
            residence = _weighted(rng, (("01652", 86), ("01653", 10), ("01654", 4)))
            b = "true", "false"
            rows.append(
                [
                    st.sid,
                    "",
                    "",
                    st.birth.isoformat(),
                    st.sex,
                    b[not flags["aian"]],
                    b[not flags["asian"]],
                    b[not flags["black"]],
                    b[not flags["nhpi"]],
                    b[not flags["white"]],
                    b[not two],
                    b[not hispanic],
                    country,
                    state,
                    city,
                    residence,
                ]
            )
        yield rows

    def _rows_absenceCodes(self):
        yield [
            [f"ac-{code.lower()}", "", "", code, text, value, category, ""]
            for code, text, value, category in ABSENCE_CODES
        ]

    def _rows_calendar(self):
        rows = []
        for school in self.schools:
            for day, value, kind, text in school.calendar:
                rows.append(
                    [
                        f"cal-{school.num:03d}-{day:%Y%m%d}",
                        "",
                        "",
                        school.sid,
                        day.isoformat(),
                        value,
                        kind,
                        text,
                    ]
                )
        yield rows

    def _rows_attendance(self):
        """Positive attendance, date-major: per date, per student (id order) a daily row, then
        period rows for grades 09-12."""
        rng = self._rng("attendance")
        window = [d for d in self.base_instructional if d <= self.last_attendance_day]
        index = {d: i for i, d in enumerate(window)}
        date_text = [d.isoformat() for d in window]
        buckets: list[list[tuple]] = [[] for _ in window]
        for st in self.students:
            membership: list[tuple[int, _Segment]] = []
            for seg in st.segments:
                school = seg.school
                for d in window:
                    if seg.begin <= d < seg.end and d in school.instructional_set:
                        membership.append((index[d], seg))
            n = len(membership)
            if not n:
                continue
            daily, period_codes = self._draw_student(rng, st, membership)
            by_period = st.grade in HIGH_GRADES  # period attendance is taken in grades 09-12
            for pos, (di, seg) in enumerate(membership):
                buckets[di].append((st.sid, seg, daily[pos], period_codes.get(pos), by_period))
        counter = 0
        for di, bucket in enumerate(buckets):
            day = date_text[di]
            chunk = []
            for sid, seg, code, overrides, by_period in bucket:
                counter += 1
                school = seg.school.sid
                chunk.append([f"att-{counter:07d}", "", "", sid, school, "", "", day, code])
                if by_period:
                    for period, cls_sid in seg.periods:
                        counter += 1
                        pcode = overrides.get(period, "P") if overrides is not None else "P"
                        chunk.append(
                            [
                                f"att-{counter:07d}",
                                "",
                                "",
                                sid,
                                school,
                                cls_sid,
                                period,
                                day,
                                pcode,
                            ]
                        )
            yield chunk

    @staticmethod
    def _draw_student(rng: random.Random, st: _Student, membership) -> tuple[list[str], dict]:
        """Daily code per membership day and period-code overrides (pos -> {period: code})."""
        n = len(membership)
        # Absence propensity: ~80 % typical (0.5-6 %), ~3 % right around 10 %, ~17 % chronic.
        r = rng.random()
        if r < 0.80:
            rate = 0.005 + 0.055 * rng.random()
        elif r < 0.83:
            rate = rng.uniform(0.095, 0.105)
        else:
            rate = 0.105 + 0.25 * rng.random() ** 2
        tardy_rate = 0.15 if rng.random() < 0.04 else 0.08 * rng.random()
        ux_share = rng.betavariate(2, 2) if rate < 0.1 else rng.betavariate(3, 2)

        def stochastic_round(x: float) -> int:
            whole = int(x)
            return whole + (rng.random() < x - whole)

        daily = ["P"] * n
        budget = rate * n
        # Suspensions (a few students) and rare early departures come out of the budget.
        if rng.random() < 0.015:
            start = rng.randrange(n)
            for pos in range(start, min(n, start + rng.randint(1, 3))):
                daily[pos] = "OSS"
                budget -= 1
        for pos in rng.sample(range(n), min(n, stochastic_round(0.006 * n))):
            if daily[pos] == "P":
                daily[pos] = "ED"
                budget -= 0.5
        absences = stochastic_round(max(0.0, budget))
        attempts = 0
        while absences > 0 and attempts < 10 * n:
            attempts += 1
            start = rng.randrange(n)
            streak = 1 if rng.random() < 0.7 else (2 if rng.random() < 0.65 else 3)
            code = "UX" if rng.random() < ux_share else "EX"
            for pos in range(start, min(n, start + streak)):
                if absences > 0 and daily[pos] == "P":
                    daily[pos] = code
                    absences -= 1
        if rng.random() < 0.02:
            for pos in rng.sample(range(n), min(n, rng.randint(1, 2))):
                if daily[pos] == "P":
                    daily[pos] = "ISS"
        free = [pos for pos in range(n) if daily[pos] == "P"]
        for pos in rng.sample(free, min(len(free), stochastic_round(tardy_rate * n))):
            daily[pos] = "T"
        overrides: dict[int, dict[str, str]] = {}
        if st.grade in HIGH_GRADES:
            for pos in range(n):
                code = daily[pos]
                if code == "P":
                    continue
                periods = [p for p, _ in membership[pos][1].periods]
                if not periods:
                    continue
                if code in ("EX", "UX", "OSS", "ISS"):
                    overrides[pos] = dict.fromkeys(periods, code)
                elif code == "T":
                    overrides[pos] = {periods[0]: "T"}
                elif code == "ED":
                    leave = rng.randint(2, len(periods) - 1) if len(periods) > 2 else 1
                    overrides[pos] = dict.fromkeys(periods[leave:], "EX")
            present = [pos for pos in range(n) if daily[pos] == "P"]
            cut_rate = 0.003 + (0.03 if rate >= 0.1 else 0.01) * rng.random()
            for pos in rng.sample(present, min(len(present), stochastic_round(cut_rate * n))):
                periods = [p for p, _ in membership[pos][1].periods]
                if periods:
                    overrides[pos] = {rng.choice(periods): "UX"}
            for pos in rng.sample(present, min(len(present), stochastic_round(0.015 * n))):
                periods = [p for p, _ in membership[pos][1].periods]
                if periods and pos not in overrides:
                    overrides[pos] = {rng.choice(periods): "T"}
        return daily, overrides
