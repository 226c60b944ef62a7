"""Deterministic sample districts, from a handful of students to 100,000 and more.

``generate_district`` writes the OneRoster 1.1 + OneRoster+ package (``package``).
See ``docs/sample-districts.md``.
"""

from rollcall.sample.calendar import INSTRUCTIONAL_DAYS
from rollcall.sample.oneroster import ABSENT_FILES, WRITTEN_FILES
from rollcall.sample.package import GenerationSummary, generate_district

__all__ = [
    "ABSENT_FILES",
    "INSTRUCTIONAL_DAYS",
    "WRITTEN_FILES",
    "GenerationSummary",
    "generate_district",
]
