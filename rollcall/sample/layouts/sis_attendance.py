"""The ``sis`` layout's attendance.csv: absences only, from the district's positive attendance.

A student-day with period marks becomes one absence per code among the periods missed (with the
periods); otherwise a daily code other than ``P`` is a whole-day absence (no periods).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from rollcall.sample.attendance import CODES, P
from rollcall.sample.dates import us_date
from rollcall.sample.layouts.common import DropFile
from rollcall.sample.rosters import PERIODS

if TYPE_CHECKING:
    from rollcall.sample.layouts.sis import SisExport

HEAD = ("Student ID Number", "Absence Reason Code", "Absence Date")
SCHOOL = "School ID Number"
Absence = tuple[str, str, date, str, list[str]]  # student number, school code, date, code, periods missed


def absences(x: SisExport) -> list[Absence]:
    """Every absence, date-major then by student."""
    out: list[Absence] = []
    days = x.d.calendar.days
    for chunk in x.d.attendance():
        day_start = chunk.period == 0
        group = np.cumsum(day_start) - 1  # one group per student-day
        missed = chunk.code != P
        by_period = np.zeros(int(day_start.sum()), dtype=bool)
        by_period[group[missed & ~day_start]] = True
        keep = np.flatnonzero(missed & (day_start != by_period[group]))
        current: tuple[int, int] | None = None
        for i in keep.tolist():
            student, code, period = int(chunk.student[i]), CODES[chunk.code[i]], int(chunk.period[i])
            number, school = x.students[student].number, x.school_code[x.d.schools[chunk.school[i]].sid]
            if period == 0:
                out.append((number, school, days[chunk.day[i]], code, []))
                continue
            if current != (int(group[i]), id(chunk)):
                current, codes = (int(group[i]), id(chunk)), {}
            if code not in codes:
                codes[code] = (number, school, days[chunk.day[i]], code, [])
                out.append(codes[code])
            codes[code][4].append(str(period))
    return out


def attendance_file(x: SisExport) -> DropFile:
    style = x.attendance_style
    rows = []
    for student, school, day, code, periods in absences(x):
        when = us_date(day)
        if style == "records":
            rows += [[student, code, when, period, school] for period in periods or [""]]
        elif style == "one-field":
            rows.append([student, code, when, ",".join(periods), school])
        else:
            flags = ["Y" if str(p) in periods else "" for p in range(1, PERIODS + 1)]
            rows.append([student, code, when, *flags, school])
    if style == "period-fields":
        header = (*HEAD, *(f"Period {p}" for p in range(1, PERIODS + 1)), SCHOOL)
    else:
        header = (*HEAD, "Periods Missed", SCHOOL)
    return DropFile("attendance.csv", "sis_attendance", header, rows, "sis")
