"""The ``sis`` layout's school calendar: OneRoster+ ``orgs.csv``, ``academicSessions.csv`` and
``calendar.csv``.

SIS exports carry no school year, terms or school days (the SchoolMessenger layouts have no
calendar file), so a district that sends only SIS exports puts these OneRoster+ files beside them:
the ``oneroster`` layout's files of the same district model, written as OneRoster CSV (not in the
export's quoting), with each school's SIS code as its ``sourcedId`` (``orgs.csv`` names the schools
the calendar's ``schoolSourcedId`` refers to; no district org: the exports carry no district id).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rollcall.sample import oneroster
from rollcall.sample.layouts.common import DropFile

if TYPE_CHECKING:
    from rollcall.sample.layouts.sis import SisExport

FILES = ("orgs", "academicSessions", "calendar")


def calendar_files(x: SisExport) -> list[DropFile]:
    headers = oneroster.headers()
    codes = {school.sid: x.school_code[school.sid] for school in x.d.schools}
    out = []
    for stem in FILES:
        columns, count = next(oneroster.tables(x.d, stem))
        if stem == "orgs":  # the schools only, each under its SIS code
            schools = [i for i, kind in enumerate(columns["type"]) if kind == "school"]
            names, count = [columns["name"][i] for i in schools], len(schools)
            ids = [codes[columns["sourcedId"][i]] for i in schools]
            columns = {"sourcedId": ids, "name": names, "type": ["school"] * count, "identifier": ids}
        if stem == "calendar":
            columns = {**columns, "schoolSourcedId": [codes[sid] for sid in columns["schoolSourcedId"]]}
        blank = [""] * count
        values = [columns.get(name, blank) for name in headers[stem]]
        rows = [list(row) for row in zip(*values, strict=True)]
        out.append(DropFile(f"{stem}.csv", "oneroster", headers[stem], rows, "plain"))
    return out
