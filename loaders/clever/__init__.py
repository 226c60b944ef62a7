"""Clever API pull (v1.1 and v3.x): districts, schools, terms, courses, sections with their
rosters, students, teachers and contacts, landed as OneRoster 1.1 through ``load_package``."""

from loaders.clever.pipeline import SOURCE, pull, read_source_file
from loaders.clever.settings import CleverConfigError, CleverPullError, CleverSource

__all__ = ["SOURCE", "CleverConfigError", "CleverPullError", "CleverSource", "pull", "read_source_file"]
