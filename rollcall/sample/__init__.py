"""Deterministic sample districts, from a handful of students to 100,000 and more.

``generate_district`` writes the OneRoster 1.1 + OneRoster+ package (``package``);
``generate_sis_district`` and ``generate_multi_source_district`` write the same invented district
as SIS exports or as four sources with known truth (``layouts``). See ``docs/sample-districts.md``.
"""

from rollcall.sample.calendar import INSTRUCTIONAL_DAYS
from rollcall.sample.layouts import (
    ATTENDANCE_STYLES,
    CASCADE_RULES,
    GUARDIAN_LAYOUTS,
    LAYOUTS,
    POWERSCHOOL_HEADER_STYLES,
    SourcesSummary,
    generate_multi_source_district,
    generate_sis_district,
)
from rollcall.sample.oneroster import ABSENT_FILES, WRITTEN_FILES
from rollcall.sample.package import GenerationSummary, generate_district

__all__ = [
    "ABSENT_FILES",
    "ATTENDANCE_STYLES",
    "CASCADE_RULES",
    "GUARDIAN_LAYOUTS",
    "INSTRUCTIONAL_DAYS",
    "LAYOUTS",
    "POWERSCHOOL_HEADER_STYLES",
    "WRITTEN_FILES",
    "GenerationSummary",
    "SourcesSummary",
    "generate_district",
    "generate_multi_source_district",
    "generate_sis_district",
]
