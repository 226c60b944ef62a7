"""``generate_district``: a sample district's OneRoster 1.1 + OneRoster+ package, folder or zip.

Same arguments, same bytes: every draw derives from ``seed`` (see ``rng``), iteration is in a
fixed order and nothing reads the clock. Attendance is written a few days at a time, so memory
stays flat however many students there are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rollcall.sample.model import District, build_district, check_arguments
from rollcall.sample.oneroster import WRITTEN_FILES, headers, tables
from rollcall.sample.schools import DISTRICT_SOURCED_ID
from rollcall.sample.writers import header_line, open_sink, write_columns

Progress = Callable[[str, int], None]  # (file name, rows written)


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
    progress: Progress | None = None,
) -> GenerationSummary:
    """Write a sample district's OneRoster 1.1 + OneRoster+ CSV package.

    ``out_dir`` is a folder (created if needed; files with the same names are overwritten) or,
    with ``as_zip=True``, the path of the zip file to write (files at the zip root).
    ``days`` is the number of instructional days, counted from the first day of school, that
    have attendance rows (the rest of the year is "in the future"). ``progress`` is called with
    the file name and its row count after each file.
    """
    check_arguments(students, schools, days, seed, school_year)
    if not isinstance(as_zip, bool):
        raise ValueError(f"as_zip must be True or False, got {as_zip!r}")
    district = build_district(students=students, schools=schools, days=days, seed=seed, school_year=school_year)
    path = Path(out_dir)
    counts = write_package(district, path, as_zip, progress)
    return GenerationSummary(
        path=path,
        row_counts=counts,
        district_sourced_id=DISTRICT_SOURCED_ID,
        first_day=district.calendar.first_day,
        last_attendance_day=district.last_attendance_day,
        last_day=district.calendar.last_day,
        school_year=school_year,
        instructional_days=len(district.calendar.days),
        seed=seed,
    )


def write_package(district: District, path: Path, as_zip: bool, progress: Progress | None = None) -> dict[str, int]:
    """Write every file of the package; return the data rows per file stem."""
    header = headers()
    counts: dict[str, int] = {}
    with open_sink(path, as_zip) as open_file:
        for stem in WRITTEN_FILES:
            with open_file(f"{stem}.csv") as handle:
                handle.write(header_line(header[stem]))
                counts[stem] = sum(write_columns(handle, header[stem], cols, n) for cols, n in tables(district, stem))
            if progress is not None:
                progress(f"{stem}.csv", counts[stem])
    return counts
