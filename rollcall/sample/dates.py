"""Date helpers: calendar arithmetic and the date spellings of the layouts."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """n-th (1-based) given weekday (Mon=0) of a month; n=-1 for the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    following = date(year + (month == 12), month % 12 + 1, 1)
    last = following - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def weekdays(start: date, end: date) -> list[date]:
    """Monday-Friday dates from ``start`` to ``end``, both included."""
    return [
        start + timedelta(days=i) for i in range((end - start).days + 1) if (start + timedelta(days=i)).weekday() < 5
    ]


def us_date(day: date) -> str:
    """``mm/dd/yyyy``."""
    return f"{day.month:02d}/{day.day:02d}/{day.year:04d}"


def short_date(day: date) -> str:
    """PowerSchool's ``m/d/yy``."""
    return f"{day.month}/{day.day}/{day.year % 100:02d}"


def to_numpy(days) -> np.ndarray:
    """Python dates -> ``datetime64[D]``."""
    return np.array([np.datetime64(d, "D") for d in days], dtype="datetime64[D]")


def iso(days: np.ndarray) -> list[str]:
    """``datetime64[D]`` -> ISO strings."""
    return np.datetime_as_string(days, unit="D").tolist()
