"""The ``sis`` layout: a district that cannot send OneRoster, as SchoolMessenger-style SIS exports.

Sections, enrollments, teachers, students, staff, attendance and guardians (in one of three
arrangements) read through ``config/formats/schoolmessenger.yml``, plus contact opt-outs
(``config/formats/messaging.yml``). All SIS files have the export's own conventions: header row as
is, every value double-quoted, CRLF line ends, dates ``mm/dd/yyyy``. A few bad rows are planted (a
misaligned section row, a misaligned enrollment row, one teacher id on two different people, a
few invalid phone numbers) and listed in ``truth/planted_rows.csv``. The exports carry no school
calendar, so the district's schools, school year, terms and school days come beside them as
OneRoster+ ``orgs.csv``, ``academicSessions.csv`` and ``calendar.csv`` (``calendar=False`` leaves
them out). Demo size (a few
thousand students at most): plain Python over the district model's records.
"""

from __future__ import annotations

import random
from pathlib import Path

from rollcall.sample.layouts import common, records, sis_attendance, sis_calendar, sis_people
from rollcall.sample.layouts.common import DropFile, Planted, SourcesSummary, write_drop, write_planted
from rollcall.sample.layouts.names import random_name
from rollcall.sample.model import District, build_district, check_arguments
from rollcall.sample.rng import py_random
from rollcall.sample.staff import STAFF_EMAIL_DOMAIN
from rollcall.sample.text import fold
from rollcall.sample.vocab import levels, read_rows

GUARDIAN_LAYOUTS = ("two-file", "one-file", "three-file")
ATTENDANCE_STYLES = ("records", "one-field", "period-fields")
DISTRICT_OFFICE_CODE = "000"
SECTION_HEADER = ("Staff ID", "School ID#", "Section#", "Period", "Course Name", "Instructor")
ENROLLMENT_HEADER = ("Student ID", "School ID#", "Section#", "Period", "Course Name", "Instructor")
TEACHER_HEADER = ("ID#", "FirstName", "LastName", "UserName", "Email", "Description")


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
    calendar: bool = True,
    truth_dir: str | Path | None = None,
) -> SourcesSummary:
    """Write a SIS-export district (SchoolMessenger layouts) into ``out_dir`` and its truth next to it.

    ``guardian_layout``: ``two-file`` (students.csv + guardians.csv with the associated student),
    ``one-file`` (students.csv with repeated ``Guardian N …`` columns) or ``three-file``
    (students.csv + guardians.csv without student + student_guardians.csv).
    ``attendance_style``: periods missed as ``records`` (one record per period),
    ``one-field`` (``"1,3"``) or ``period-fields`` (``Period 1`` … ``Period 6`` columns).
    ``opt_outs`` adds contact_opt_outs.csv; ``calendar`` adds the OneRoster+ orgs.csv,
    academicSessions.csv and calendar.csv (the schools' names, school year, terms and school days the
    exports lack). ``truth_dir`` defaults to ``<out_dir>/../truth``.
    """
    check_arguments(students, schools, days, seed, school_year)
    _check_options(guardian_layout, attendance_style, opt_outs, calendar)
    root = Path(out_dir)
    truth = common.truth_dir(root, truth_dir)
    district = build_district(students=students, schools=schools, days=days, seed=seed, school_year=school_year)
    files, planted = SisExport(district, guardian_layout, attendance_style, opt_outs, calendar).build()
    return SourcesSummary(
        layout="sis",
        path=root,
        truth_path=truth,
        row_counts=write_drop(root, files),
        truth_counts=write_planted(truth, files, planted),
        seed=seed,
        details={
            "guardian_layout": guardian_layout,
            "attendance_style": attendance_style,
            "calendar": "yes" if calendar else "no",
        },
    )


def _check_options(guardian_layout: str, attendance_style: str, opt_outs: bool, calendar: bool) -> None:
    if guardian_layout not in GUARDIAN_LAYOUTS:
        raise ValueError(f"guardian_layout must be one of {', '.join(GUARDIAN_LAYOUTS)}, got {guardian_layout!r}")
    if attendance_style not in ATTENDANCE_STYLES:
        raise ValueError(f"attendance_style must be one of {', '.join(ATTENDANCE_STYLES)}, got {attendance_style!r}")
    for name, value in (("opt_outs", opt_outs), ("calendar", calendar)):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be True or False, got {value!r}")


class SisExport:
    """Turns the district model into the SchoolMessenger-layout files."""

    def __init__(self, district: District, guardian_layout: str, attendance_style: str, opt_outs: bool, calendar: bool):
        self.d = district
        self.guardian_layout, self.attendance_style, self.opt_outs = guardian_layout, attendance_style, opt_outs
        self.calendar = calendar
        self.students = records.students(district)
        self.guardians = records.guardians(district)
        self.teachers, self.admins = records.staff(district)
        self.sections = records.sections(district)
        self.export_day = district.last_attendance_day
        self.planted: list[Planted] = []

    def rng(self, purpose: str) -> random.Random:
        return py_random(self.d.seed, f"sis:{purpose}")

    def build(self) -> tuple[list[DropFile], list[Planted]]:
        self._codes()
        self.contacts = sis_people.guardian_contacts(self)
        files = [self._sections(), self._enrollments(), self._teachers(), sis_people.staff_file(self)]
        files += sis_people.student_files(self)
        files.append(sis_attendance.attendance_file(self))
        if self.opt_outs:
            files.append(sis_people.opt_outs_file(self))
        if self.calendar:
            files += sis_calendar.calendar_files(self)
        return files, self.planted

    def _codes(self) -> None:
        """School codes, staff ids, instructor names and each family's home language."""
        rng = self.rng("codes")
        schools = self.d.schools
        pool = range(101, 1000) if len(schools) <= 899 else range(1001, 10000)
        self.school_code = {s.sid: f"{c:03d}" for s, c in zip(schools, rng.sample(pool, len(schools)), strict=True)}
        people = [*self.teachers, *self.admins]
        self.staff_id = {p.sid: str(10000 + i) for i, p in enumerate(people, start=1)}
        self.instructor = {}
        for t in self.teachers:
            title = ("Mrs." if rng.random() < 0.3 else "Ms.") if t.female else "Mr."
            self.instructor[t.index] = f"{title} {t.family}"
        self.language = self._languages(self.rng("language"))

    def _languages(self, rng: random.Random) -> list[str]:
        """Home language code per family (blank = English)."""
        shares: dict[str, list[tuple[str, float]]] = {}
        for row in read_rows("home_languages.csv"):
            shares.setdefault(row["culture"], []).append((row["code"], float(row["share"])))
        out = []
        for culture in self.d.families.culture.tolist():
            options = shares.get(self.d.pools.cultures[culture], [])
            out.append(next((code for code, share in options if rng.random() < share), ""))
        return out

    def section_values(self, section: records.Section) -> tuple[str, str, str]:
        return section.period, section.course_title, self.instructor[section.teacher]

    def _sections(self) -> DropFile:
        rng = self.rng("sections")
        rows = []
        for s in self.sections:
            period, course, instructor = self.section_values(s)
            rows.append([self.staff_id[self.teachers[s.teacher].sid], self.school_code[s.school.sid], s.code, period])
            rows[-1] += [course, instructor]
        self.extra_section = self._extra_section(rng)
        base, code = self.extra_section
        period, course, instructor = self.section_values(base)
        school, staff = self.school_code[base.school.sid], self.staff_id[self.teachers[base.teacher].sid]
        shifted = [school, code, staff, period, course, instructor]
        rows.insert(rng.randrange(len(rows) // 2, len(rows) + 1), shifted)
        detail = (
            f"values shifted one column: School ID# holds section {code}, Staff ID holds school {school}, "
            f"Section# holds staff {staff}; the section has no other row"
        )
        self.planted.append(Planted("sections.csv", shifted, "", "misaligned_row", "quarantine", detail))
        return DropFile("sections.csv", "sis_sections", SECTION_HEADER, rows, "sis")

    def _extra_section(self, rng: random.Random) -> tuple[records.Section, str]:
        """One more section (like the layout guide's last sample row), written with its values shifted."""
        candidates = [s for s in self.sections if s.scheduled] or self.sections
        base = rng.choice(candidates)
        taken = {s.code for s in self.sections if s.school is base.school}
        prefix, k = base.code.rsplit("-", 1)[0], 9
        while f"{prefix}-{k}" in taken:
            k += 1
        return base, f"{prefix}-{k}"

    def active_enrollments(self) -> list[tuple[int, int]]:
        """(student, section) of the enrollments current on the export day, by student then section."""
        r, seg = self.d.roster, self.d.segments
        today = self.d.days - 1
        active = (seg.begin[r.segment] <= today) & (today < seg.end[r.segment])
        pairs = zip(seg.student[r.segment][active].tolist(), r.klass[active].tolist(), strict=True)
        return sorted(pairs)

    def _enrollments(self) -> DropFile:
        rng = self.rng("enrollments")
        rows = []
        current = self.active_enrollments()
        for student, k in current:
            s = self.sections[k]
            rows.append(
                [self.students[student].number, self.school_code[s.school.sid], s.code, *self.section_values(s)]
            )
        base, code = self.extra_section
        members = sorted({st for st, k in current if k == base.index}) or sorted({st for st, _ in current})
        student = self.students[rng.choice(members or [0])]
        school = self.school_code[base.school.sid]
        shifted = [school, code, student.number, *self.section_values(base)]
        rows.insert(rng.randrange(len(rows) + 1), shifted)
        detail = (
            f"values shifted one column: School ID# holds section {code}, Student ID holds school {school}, "
            f"Section# holds student {student.number}"
        )
        self.planted.append(Planted("enrollments.csv", shifted, "", "misaligned_row", "quarantine", detail))
        return DropFile("enrollments.csv", "sis_enrollments", ENROLLMENT_HEADER, rows, "sis")

    def _teachers(self) -> DropFile:
        rng = self.rng("teachers")
        catalog = levels()
        rows = [
            [self.staff_id[t.sid], t.given, t.family, t.username, t.email, catalog[t.school.level].teacher_description]
            for t in self.teachers
        ]
        position = rng.randrange(len(rows))
        original = rows[position]
        impostor = self._impostor(rng, original, {r[3] for r in rows})
        rows.insert(rng.randrange(position + 1, len(rows) + 1), impostor)
        for row, other in ((original, impostor), (impostor, original)):
            detail = f"Teacher ID {row[0]} is also {other[1]} {other[2]} ({other[3]}): two different people"
            self.planted.append(Planted("teachers.csv", row, "ID#", "duplicate_key", "quarantine", detail))
        return DropFile("teachers.csv", "sis_teachers", TEACHER_HEADER, rows, "sis")

    def _impostor(self, rng: random.Random, original: list[str], usernames: set[str]) -> list[str]:
        """A second, different person under an existing teacher id."""
        while True:
            given, family, _ = random_name(rng)
            username = f"{fold(given)[:1]}{fold(family)}"
            if (given, family) != (original[1], original[2]) and username not in usernames:
                return [original[0], given, family, username, f"{username}@{STAFF_EMAIL_DOMAIN}", original[5]]
