"""The sample district in other layouts, each with its known truth: ``sis`` (SIS exports with
planted bad rows) and ``multi-source`` (four systems with the identity truth)."""

from rollcall.sample.layouts.common import SourcesSummary
from rollcall.sample.layouts.identity import CASCADE_RULES
from rollcall.sample.layouts.multi_source import POWERSCHOOL_HEADER_STYLES, generate_multi_source_district
from rollcall.sample.layouts.sis import ATTENDANCE_STYLES, GUARDIAN_LAYOUTS, generate_sis_district

LAYOUTS = ("oneroster", "sis", "multi-source")

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
