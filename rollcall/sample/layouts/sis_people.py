"""The people files of the ``sis`` layout: staff, students, guardians (three arrangements) and
contact opt-outs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rollcall.sample.dates import us_date
from rollcall.sample.layouts.common import DropFile, Planted
from rollcall.sample.phones import FictionalPhones
from rollcall.sample.text import fold, grade_label
from rollcall.sample.vocab import ELEMENTARY, GRADES, weighted

if TYPE_CHECKING:
    from rollcall.sample.layouts.sis import SisExport

PHONE = "Phone Number w/ Area Code"
ALT_PHONE = "Alternative Phone Number w/ Area Code"
LANGUAGE = "Home / Correspondence Language Code"
STAFF_HEADER = (
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
STUDENT_FIELDS = (  # after the id and the two name columns
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
GUARDIAN_GROUP = ("ID Number", "First Name", "Last Name", "Category", PHONE, ALT_PHONE, "Email Address")
GUARDIAN_GROUP += ("Alternative Email Address",)
GUARDIAN_CONTACT = (PHONE, LANGUAGE, ALT_PHONE, "Email Address", "Alternative Email Address")
GUARDIAN_LINK_HEADER = ("Student ID Number", "Associated Guardian ID Number", "Guardian Category")
OPT_OUT_HEADER = ("Contact", "Channel", "Action", "Date", "Person ID", "Reason")
INVALID_PHONES = ("555-0143", "(206) 555-014", "(555) 123-4567", "n/a")  # no area code, 9 digits, bad area, text
INVALID_STAFF_PHONE = "000-000-0000"
EARLY_GRADES = tuple(GRADES[g] for g in sorted(ELEMENTARY)[:3])  # K-02: half have no email


@dataclass
class Contact:
    """A guardian as the SIS stores them."""

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

    def values(self) -> list[str]:
        """Values of GUARDIAN_CONTACT."""
        return [self.phone, self.language, self.alt_phone, self.email, self.alt_email]


def guardian_contacts(x: SisExport) -> list[Contact]:
    """Per guardian (index order): category, fictional phones, a second email for some."""
    rng, phones = x.rng("guardians"), FictionalPhones(x.rng("guardian-phones"))
    categories = weighted("guardian_categories.csv", "sex", "category")
    out = []
    for g in x.guardians:
        if g.parent:
            category = "Mother" if g.female else "Father"
        else:
            category = rng.choices(*categories["female" if g.female else "male"])[0]
        mobile = phones.number()
        home = phones.number() if rng.random() < 0.45 else ""
        alt_email = f"{fold(g.given)}{rng.randint(1, 99)}@example.net" if rng.random() < 0.12 else ""
        gid = str(8_000_000 + g.index + 1)
        phone, alt_phone = phones.format(mobile), phones.format(home)
        language = x.language[g.household]
        out.append(Contact(gid, g.given, g.family, category, phone, alt_phone, g.email, alt_email, language, mobile))
    return out


def staff_file(x: SisExport) -> DropFile:
    rng, phones = x.rng("staff"), FictionalPhones(x.rng("staff-phones"))
    rows = []
    for t in x.teachers:
        alt = phones.format(phones.number()) if rng.random() < 0.4 else ""
        phone, school = phones.format(phones.number()), x.school_code[t.school.sid]
        rows.append([x.staff_id[t.sid], t.family, t.given, phone, school, "", "TCH", alt, t.email])
    for admin, title in zip(x.admins, ("SUPT", "DIR"), strict=False):
        phone = phones.format(phones.number())
        rows.append([x.staff_id[admin.sid], admin.family, admin.given, phone, "000", "", title, "", admin.email])
    bad = rng.choice(rows)
    bad[3] = INVALID_STAFF_PHONE
    x.planted.append(
        Planted("staff.csv", bad, PHONE, "invalid_phone", "flag_value", f"{bad[3]!r} is not a valid phone number")
    )
    return DropFile("staff.csv", "sis_staff", STAFF_HEADER, rows, "sis")


def student_files(x: SisExport) -> list[DropFile]:
    """students.csv, and guardians.csv / student_guardians.csv as the guardian layout says."""
    one_file = x.guardian_layout == "one-file"
    width = max((len(s.guardians) for s in x.students), default=0) if one_file else 0
    names = ("Student First Name", "Student Last Name") if one_file else ("First Name", "Last Name")
    header = ("Student ID Number", *names, *STUDENT_FIELDS)
    header += tuple(f"Guardian {n} {member}" for n in range(1, width + 1) for member in GUARDIAN_GROUP)
    rows = _student_rows(x, header, width)
    _plant_invalid_phones(x, header, rows)
    files = [DropFile("students.csv", "sis_students", header, rows, "sis")]
    links = [(s, x.contacts[g]) for s in x.students for g in s.guardians]
    if x.guardian_layout == "two-file":
        header2 = ("Associated Student ID Number", "Guardian ID Number", "Guardian Category", "First Name")
        header2 += ("Last Name", *GUARDIAN_CONTACT, "Grade Level")
        rows2 = [[s.number, c.gid, c.category, c.given, c.family, *c.values(), grade_label(s.grade)] for s, c in links]
        files.append(DropFile("guardians.csv", "sis_guardians", header2, rows2, "sis"))
    elif x.guardian_layout == "three-file":
        header3 = ("Guardian ID Number", "First Name", "Last Name", *GUARDIAN_CONTACT)
        rows3 = [[c.gid, c.given, c.family, *c.values()] for c in x.contacts]
        files.append(DropFile("guardians.csv", "sis_guardians", header3, rows3, "sis"))
        link_rows = [[s.number, c.gid, c.category] for s, c in links]
        files.append(DropFile("student_guardians.csv", "sis_guardian_links", GUARDIAN_LINK_HEADER, link_rows, "sis"))
    return files


def _student_rows(x: SisExport, header: tuple[str, ...], width: int) -> list[list[str]]:
    rng, phones = x.rng("students"), FictionalPhones(x.rng("student-phones"))
    rows = []
    for s in x.students:
        contacts = [x.contacts[g] for g in s.guardians]
        first = contacts[0] if contacts else None
        household = first.phone if first else ""
        alternative = contacts[1].phone if len(contacts) > 1 else (first.alt_phone if first else "")
        email = "" if s.grade in EARLY_GRADES and rng.random() < 0.5 else s.email
        phone = phones.format(first.mobile_digits) if first and rng.random() < 0.3 else household
        row = [s.number, s.given, s.family, phone, x.school_code[s.school.sid], x.language[s.household], alternative]
        row += [email, first.email if first else "", grade_label(s.grade), "F" if s.female else "M", us_date(s.birth)]
        for c in contacts[:width]:
            row += [c.gid, c.given, c.family, c.category, c.phone, c.alt_phone, c.email, c.alt_email]
        rows.append(row + [""] * (len(header) - len(row)))
    return rows


def _plant_invalid_phones(x: SisExport, header: tuple[str, ...], rows: list[list[str]]) -> None:
    rng = x.rng("invalid-phones")
    count = min(len(rows), max(3, len(rows) // 150))
    for k, row in enumerate(rng.sample(rows, count)):
        column = rng.choice((PHONE, ALT_PHONE))
        row[header.index(column)] = INVALID_PHONES[k % len(INVALID_PHONES)]
        detail = f"{row[header.index(column)]!r} is not a valid phone number"
        x.planted.append(Planted("students.csv", row, column, "invalid_phone", "flag_value", detail))


def opt_outs_file(x: SisExport) -> DropFile:
    """Guardians who opted out of a channel (one opts in again later), as a messaging system writes them."""
    rng = x.rng("opt-outs")
    days = [d for d in x.d.calendar.days if d <= x.export_day]
    count = min(len(x.contacts), max(2, len(x.contacts) // 30))
    rows, seen = [], set()
    for c in rng.sample(x.contacts, count):
        channel = rng.choice(("voice", "sms", "email"))
        if channel == "email" and not c.email:
            channel = "sms"
        if channel == "email":
            contact, reason = (c.email.upper() if rng.random() < 0.3 else c.email), "Unsubscribe link"
        else:
            template = rng.choice(("+1{a}{e}{l}", "{a}{e}{l}", "{a}-{e}-{l}"))
            contact = FictionalPhones(rng).format(c.mobile_digits, template)
            reason = "Replied STOP" if channel == "sms" else "Requested by phone"
        day = rng.choice(days)
        if (contact, channel, day) not in seen:
            seen.add((contact, channel, day))
            rows.append([contact, channel, "opt-out", day, c.gid, reason])
    first = rows[0]
    later = [d for d in days if d > first[3]]
    if later:
        rows.append([first[0], first[1], "opt-in", rng.choice(later), first[4], "Replied START"])
    rows.sort(key=lambda r: (r[3], r[4], r[1]))
    return DropFile(
        "contact_opt_outs.csv",
        "contact_opt_outs",
        OPT_OUT_HEADER,
        [[*r[:3], us_date(r[3]), *r[4:]] for r in rows],
        "plain",
    )
