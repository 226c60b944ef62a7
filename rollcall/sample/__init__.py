"""Deterministic sample districts, from a handful of students to 100,000 and more."""
