"""The ``multi-source`` layout: one district seen through four systems, with the identity truth.

A OneRoster 1.1 package (``generate_district``, the anchor), a PowerSchool student export,
ClassLink users and Renaissance Star SM / SR / SEL assessment files. The same students appear in
every source with realistic differences, and ``truth/identity_truth.csv`` says which OneRoster
student each source record belongs to and what the default identity cascade concludes for it.
Demo size: plain Python over the package read back from disk.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from rollcall.sample.dates import short_date, us_date
from rollcall.sample.layouts import common
from rollcall.sample.layouts.common import DropFile, SourcesSummary, write_drop
from rollcall.sample.layouts.identity import Anchor, Identity, Person
from rollcall.sample.layouts.names import random_name, typo
from rollcall.sample.layouts.roster_view import plant_same_name_pair, read_roster
from rollcall.sample.layouts.star import star_files
from rollcall.sample.model import check_arguments
from rollcall.sample.package import GenerationSummary, generate_district
from rollcall.sample.people import STUDENT_EMAIL_DOMAIN
from rollcall.sample.rng import py_random
from rollcall.sample.text import fold, grade_number
from rollcall.sample.vocab import read_rows
from rollcall.sample.writers import write_rows

POWERSCHOOL_HEADER_STYLES = ("table", "plain")
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
MIN_MULTI_SOURCE_STUDENTS = 20
CLASSLINK_HEADER = ("SourcedId", "Email", "FirstName", "LastName", "Role", "TenantName")


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
    check_arguments(students, schools, days, seed, school_year, minimum_students=MIN_MULTI_SOURCE_STUDENTS)
    style = _check_options(seed, powerschool_headers, district_id, district_name)
    root = Path(out_dir)
    truth = common.truth_dir(root, truth_dir)
    sizes = {"students": students, "schools": schools, "days": days, "seed": seed, "school_year": school_year}
    package = generate_district(root / "oneroster", **sizes)
    files, truth_rows = MultiSource(root / "oneroster", seed, style, district_id, district_name, package).build()
    counts, truth_counts = _write(root, truth, package, files, truth_rows)
    return SourcesSummary(
        layout="multi-source",
        path=root,
        truth_path=truth,
        row_counts=counts,
        truth_counts=truth_counts,
        seed=seed,
        details={"powerschool_headers": style},
    )


def _write(root: Path, truth: Path, package: GenerationSummary, files: list[DropFile], truth_rows: list[list[str]]):
    """The drop's other sources and the truth folder; (row counts, truth row counts)."""
    counts = {f"oneroster/{stem}.csv": rows for stem, rows in package.row_counts.items()}
    counts.update(write_drop(root, files))
    write_rows(truth / "identity_truth.csv", IDENTITY_TRUTH_FIELDS, truth_rows)
    listing = [[f"oneroster/{stem}.csv", "oneroster", str(rows), "0"] for stem, rows in package.row_counts.items()]
    listing += [[f.name, f.format, str(len(f.rows)), "0"] for f in files]
    write_rows(truth / "files.csv", common.FILES_FIELDS, listing)
    return counts, {"identity_truth.csv": len(truth_rows), "files.csv": len(listing)}


def _check_options(seed: int, powerschool_headers: str | None, district_id: str, district_name: str) -> str:
    style = powerschool_headers or ("table" if seed % 2 == 0 else "plain")
    if style not in POWERSCHOOL_HEADER_STYLES:
        raise ValueError(
            f"powerschool_headers must be one of {', '.join(POWERSCHOOL_HEADER_STYLES)}, got {powerschool_headers!r}"
        )
    for name, value in (("district_id", district_id), ("district_name", district_name)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return style


class MultiSource:
    """PowerSchool, ClassLink and Star views of a generated OneRoster package, and the truth."""

    def __init__(self, folder: Path, seed: int, ps_style: str, district_id: str, district_name: str, package):
        self.folder, self.seed, self.ps_style = folder, seed, ps_style
        self.district_id, self.district_name = district_id, district_name.strip()
        self.package: GenerationSummary = package
        self.records: list[tuple[Identity, str, str]] = []  # identity, true person, planted case

    def rng(self, purpose: str) -> random.Random:
        return py_random(self.seed, f"multi:{purpose}")

    def build(self) -> tuple[list[DropFile], list[list[str]]]:
        self.view = read_roster(self.folder)
        self.persons = self.view.persons
        self.pair = plant_same_name_pair(self.view, self.rng("pair"))
        self.anchor = Anchor(self.persons)
        files = [self._powerschool(), self._classlink(), *star_files(self)]
        return files, self._truth()

    def record(self, ident: Identity, true_person: str, planted: str = "") -> None:
        self.records.append((ident, true_person, planted))

    def stranger_birth(self, rng: random.Random, grade: str) -> date:
        year = self.package.school_year - 1 - (grade_number(grade) + 5)
        return date(year, 9, 1) - timedelta(days=rng.randrange(365))

    def _powerschool(self) -> DropFile:
        rng = self.rng("powerschool")
        column = 1 if self.ps_style == "table" else 0
        header = tuple(row["table" if column else "plain"] for row in read_rows("powerschool_columns.csv"))
        exclude = {p.sid for p in self.pair}
        typo_people = set(rng.sample([p.sid for p in self.persons if p.sid not in exclude], 2))
        rows = [self._powerschool_row(rng, idx, p, p.sid in typo_people) for idx, p in enumerate(self.persons, start=1)]
        rows += self._pre_registered(rng, len(rows))
        rows.sort(key=lambda r: (int(r[2] or 0), fold(r[5]), fold(r[3]), r[1]))
        return DropFile("powerschool/students.csv", "powerschool_students", header, rows, "plain")

    def _powerschool_row(self, rng: random.Random, idx: int, p: Person, slip: bool) -> list[str]:
        no_email = rng.random() < (0.5 if p.grade in ("KG", "01", "02") else 0.04)
        email = "" if no_email else p.email
        family = typo(rng, p.family) if slip else p.family
        phone = self.view.guardian_phone.get(p.guardians[0], "") if p.guardians else ""
        year_end = self.package.last_day + timedelta(days=1)
        exit_date = p.end if (p.end and not p.enabled) else year_end
        planted = "no_email" if no_email else ("name_typo" if slip else "")
        self.record(Identity("powerschool", p.number, email, p.number, "", p.given, family, p.birth), p.sid, planted)
        return [
            str(1000 + idx),
            p.number,
            self.view.school_number.get(p.school, ""),
            p.given,
            p.middle,
            family,
            str(grade_number(p.grade)),
            phone,
            "F" if p.sex == "female" else "M",
            us_date(p.birth),
            "0" if p.enabled else "2",
            short_date(p.begin or self.package.first_day),
            short_date(exit_date),
            email,
        ]

    def _pre_registered(self, rng: random.Random, existing: int) -> list[list[str]]:
        """Next year's students (``Enroll_Status`` -1): in PowerSchool only."""
        numbers, rows = {p.number for p in self.persons}, []
        school = self.view.school_number[sorted(self.view.schools)[0]]
        entry, leave = date(self.package.school_year, 8, 24), date(self.package.school_year + 1, 6, 30)
        for k in range(max(2, len(self.persons) // 150)):
            grade = ("KG", "09")[k % 2]
            while True:
                given, family, sex = random_name(rng)
                birth = self.stranger_birth(rng, grade)
                number = f"{rng.randrange(10_000_000, 99_999_999):09d}"
                ident = Identity("powerschool", number, "", number, "", given, family, birth)
                if number not in numbers and self.anchor.resolve(ident)[0] == "unmatched":
                    break
            numbers.add(number)
            gender, grade_text = "F" if sex == "female" else "M", str(grade_number(grade))
            row = [str(1000 + existing + len(rows) + 1), number, school, given, "", family, grade_text, "", gender]
            rows.append([*row, us_date(birth), "-1", short_date(entry), short_date(leave), ""])
            self.record(ident, "", "pre_registered")
        return rows

    def _classlink(self) -> DropFile:
        rng = self.rng("classlink")
        tenant, extra = f"{self.district_name} PD", 2
        ids = [str(v) for v in rng.sample(range(10_000_000, 100_000_000), len(self.persons) + extra)]
        exclude = {p.sid for p in self.pair}
        pool = [p for p in self.persons if p.sid not in exclude]
        stale = {p.sid for p in rng.sample(pool, min(len(pool), max(2, len(self.persons) // 200)))}
        rows = []
        for p, sourced_id in zip(self.persons, ids, strict=False):
            if p.sid not in stale and p.sid not in exclude and rng.random() < 0.03:
                continue  # no ClassLink account
            email, planted = self._classlink_email(rng, p, p.sid in stale)
            rows.append([sourced_id, email, p.given, p.family, "Student", tenant])
            self.record(Identity("classlink", sourced_id, email, "", "", p.given, p.family), p.sid, planted)
        for k, sourced_id in enumerate(ids[len(self.persons) :], start=1):
            email = f"teststudent{k}@{STUDENT_EMAIL_DOMAIN}"
            rows.append([sourced_id, email, "Test", f"Student{k}", "Student", tenant])
            self.record(Identity("classlink", sourced_id, email, "", "", "Test", f"Student{k}"), "", "test_account")
        rows.sort(key=lambda r: r[0])
        return DropFile("classlink/users.csv", "classlink_users", CLASSLINK_HEADER, rows, "plain")

    @staticmethod
    def _classlink_email(rng: random.Random, p: Person, stale: bool) -> tuple[str, str]:
        """(email, planted case): an old address, other case, spaces around it, or as OneRoster has it."""
        if stale:
            return f"{fold(p.given)}.{fold(p.family)}@{STUDENT_EMAIL_DOMAIN}", "stale_email"
        r = rng.random()
        if r < 0.08:
            local, domain = p.email.split("@", 1)
            return (f"{local[:1].upper()}{local[1:]}@{domain.title()}" if r < 0.05 else p.email.upper()), "email_case"
        if r < 0.12:
            return rng.choice((f" {p.email}", f"{p.email} ", f"  {p.email}  ")), "email_whitespace"
        return p.email, ""

    def _truth(self) -> list[list[str]]:
        rows = [[self.district_id, "oneroster", p.sid, p.sid, "matched", "anchor", ""] for p in self.persons]
        sids = [p.sid for p in self.persons]
        for person in self.pair:
            rows[sids.index(person.sid)][6] = "same_name_birth_date"
        for ident, true_person, planted in self.records:
            status, rule, person = self.anchor.resolve(ident)
            if status == "matched" and person != true_person:
                raise RuntimeError(f"{ident.source} record {ident.record_id} would match the wrong student")
            rows.append([self.district_id, ident.source, ident.record_id, true_person, status, rule, planted])
        order = {name: i for i, name in enumerate(SOURCE_SYSTEMS)}
        rows.sort(key=lambda r: (order[r[1]], r[2]))
        return rows
