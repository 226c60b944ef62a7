"""Positive attendance, vectorised: a daily mark per student and membership day, and a mark per
period for grades 09-12.

A student's marks on a date are a pure function of ``(seed, student, date)`` (counter-based
draws, see ``rng.uniform``) and of the roster, which never depends on the number of days
generated: generating more days only appends rows. Per student: an absence propensity (~80 %
miss 0.5-6 % of days, ~3 % about 10 %, ~17 % are chronically absent), a tardy rate and a share
of unexcused absences. Per day: absences come in streaks of one to three days (a streak that
starts on a date covers the following instructional days), with rare early departures,
suspensions and in-school suspensions. Period marks follow the day (every period carries a
full-day absence; a tardy is late for first period; an early departure misses the last periods),
plus occasional single-period cuts (``UX``) and class tardies on present days.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from rollcall.sample.calendar import INSTRUCTIONAL_DAYS
from rollcall.sample.rng import hashed, uniform
from rollcall.sample.rosters import PERIODS

CODES = ("P", "T", "ED", "EX", "UX", "OSS", "ISS")
P, T, ED, EX, UX, OSS, ISS = range(len(CODES))
FULL_DAY = (EX, UX, OSS, ISS)
STREAK_MEAN = 0.7 * 1 + 0.195 * 2 + 0.105 * 3  # streaks of 1 (70 %), 2 (19.5 %) or 3 (10.5 %) days
EARLY_DEPARTURE = 0.006  # per day
CLASS_TARDY = 0.015  # per present day, grades 09-12
ROWS_PER_CHUNK = 500_000
_BITS = 21


@dataclass
class Traits:
    """Per-student habits (one element per student)."""

    rate: np.ndarray  # absence propensity
    tardy: np.ndarray  # daily tardy probability
    unexcused: np.ndarray  # share of absence streaks that are unexcused
    cut: np.ndarray  # daily probability of cutting one class (09-12)
    oss: np.ndarray  # [student, (first day index, days)]; days 0 = never suspended
    iss: np.ndarray  # [student, 2] day indexes of in-school suspensions, -1 = none


@dataclass
class Chunk:
    """Attendance rows, in file order: per date, per student a daily row, then its period rows."""

    first_row: int  # 0-based row number of the first row (sourcedIds count from 1)
    student: np.ndarray
    school: np.ndarray
    klass: np.ndarray  # -1 for daily rows
    period: np.ndarray  # 0 for daily rows
    day: np.ndarray  # index into calendar.days
    code: np.ndarray  # index into CODES

    def __len__(self) -> int:
        return len(self.student)


@dataclass
class Membership:
    """What attendance needs of the roster."""

    seg_student: np.ndarray
    seg_school: np.ndarray
    seg_begin: np.ndarray
    seg_end: np.ndarray
    seg_periods: np.ndarray  # [segment, period - 1] -> class index
    high: np.ndarray  # per student: grades 09-12 (period attendance)
    closed_school: int  # school with a site PD day …
    closed_day: int  # … on this day index
    ordinals: np.ndarray  # per day index: the date's proleptic ordinal


def _split(h: np.ndarray, k: int) -> list[np.ndarray]:
    """``k`` floats in [0, 1) from the 64 bits of each hash (21 bits each)."""
    mask = np.uint64((1 << _BITS) - 1)
    return [((h >> np.uint64(_BITS * i)) & mask).astype(np.float32) / (1 << _BITS) for i in range(k)]


def student_traits(seed: int, n: int) -> Traits:
    ids = np.arange(n)
    group, level, x = (uniform(seed, f"attendance:{name}", ids) for name in ("group", "level", "x"))
    rate = np.where(
        group < 0.80, 0.005 + 0.055 * level, np.where(group < 0.83, 0.095 + 0.01 * level, 0.105 + 0.25 * level**2)
    )
    tardy = np.where(x < 0.04, 0.15, 0.08 * uniform(seed, "attendance:tardy", ids))
    draws = np.stack([uniform(seed, f"attendance:ux{i}", ids) for i in range(4)])
    # Beta(2, 2) (median of three uniforms) or, for frequent absentees, Beta(3, 2) (third of four)
    unexcused = np.where(rate < 0.1, np.median(draws[:3], axis=0), np.sort(draws, axis=0)[2])
    cut = 0.003 + np.where(rate >= 0.1, 0.03, 0.01) * uniform(seed, "attendance:cut", ids)
    return Traits(rate, tardy, unexcused, cut, _suspensions(seed, ids), _in_school(seed, ids))


def _suspensions(seed: int, ids: np.ndarray) -> np.ndarray:
    """1.5 % of students: one to three days out of school, somewhere in the year."""
    chosen, start, length = (uniform(seed, f"attendance:oss-{name}", ids) for name in ("who", "start", "days"))
    days = np.where(chosen < 0.015, 1 + (length * 3).astype(np.int64), 0)
    return np.stack([(start * INSTRUCTIONAL_DAYS).astype(np.int64), days], axis=1)


def _in_school(seed: int, ids: np.ndarray) -> np.ndarray:
    """2 % of students: one or two days of in-school suspension."""
    chosen, first, second, two = (uniform(seed, f"attendance:iss-{name}", ids) for name in ("who", "a", "b", "two"))
    days = (np.stack([first, second], axis=1) * INSTRUCTIONAL_DAYS).astype(np.int64)
    days[chosen >= 0.02] = -1
    days[two >= 0.5, 1] = -1
    return days


def daily_codes(seed: int, traits: Traits, ordinals: np.ndarray, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """Daily code of every student on day indexes ``a..b-1`` ([student, day]) and the uniform
    that places an early departure."""
    n = len(traits.rate)
    lookback = min(a, 2)
    students = np.arange(n)[:, None]
    start, length, kind = _split(hashed(seed, "attendance:day", students, ordinals[a - lookback : b][None, :]), 3)
    begins = start < (traits.rate / STREAK_MEAN)[:, None]
    span = 1 + (length >= 0.7) + (length >= 0.895)
    code = np.where(kind < traits.unexcused[:, None], UX, EX).astype(np.int8)
    absent = np.zeros((n, b - a), dtype=np.int8)
    for k in (2, 1, 0):  # the earliest streak covering a day gives its code
        lo = max(0, k - lookback)
        src = slice(lo + lookback - k, b - a + lookback - k)
        hit = begins[:, src] & (span[:, src] > k) & (absent[:, lo:] == 0)
        absent[:, lo:] = np.where(hit, code[:, src], absent[:, lo:])
    departs, tardy, leave = _split(hashed(seed, "attendance:more", students, ordinals[a:b][None, :]), 3)
    day = np.arange(a, b)[None, :]
    out = np.where(tardy < traits.tardy[:, None], T, P).astype(np.int8)
    out[(day == traits.iss[:, :1]) | (day == traits.iss[:, 1:])] = ISS
    out = np.where(absent > 0, absent, out)
    out[departs < EARLY_DEPARTURE] = ED
    first, days = traits.oss[:, :1], traits.oss[:, 1:]
    out[(day >= first) & (day < first + days)] = OSS
    return out, leave


def period_codes(
    seed: int,
    traits: Traits,
    student: np.ndarray,
    day: np.ndarray,
    ordinals: np.ndarray,
    daily: np.ndarray,
    leave: np.ndarray,
) -> np.ndarray:
    """[row, period - 1] codes for student-days of grades 09-12 (``daily``: the day's code,
    ``leave``: the uniform that places an early departure)."""
    out = np.full((len(student), PERIODS), P, dtype=np.int8)
    full = np.isin(daily, FULL_DAY)
    out[full] = daily[full, None]
    out[daily == T, 0] = T
    departs = np.flatnonzero(daily == ED)
    first_missed = 2 + (leave[departs] * (PERIODS - 2)).astype(np.int64)
    out[departs] = np.where(np.arange(PERIODS)[None, :] >= first_missed[:, None], EX, out[departs])
    cut, which, late = _split(hashed(seed, "attendance:period", student, ordinals[day]), 3)
    present = daily == P
    slot = np.minimum((which * PERIODS).astype(np.int64), PERIODS - 1)
    cuts = np.flatnonzero(present & (cut < traits.cut[student]))
    out[cuts, slot[cuts]] = UX
    tardies = np.flatnonzero(present & (cut >= traits.cut[student]) & (late < CLASS_TARDY))
    out[tardies, slot[tardies]] = T
    return out


def chunks(seed: int, traits: Traits, m: Membership, days: int) -> Iterator[Chunk]:
    """Rows for day indexes ``0..days-1``, a few days at a time."""
    per_day = len(m.seg_student) * (1 + PERIODS * float(m.high.mean()))
    step = max(1, int(ROWS_PER_CHUNK // max(per_day, 1.0)))
    first_row = 0
    for a in range(0, days, step):
        chunk = _chunk(seed, traits, m, a, min(days, a + step), first_row)
        first_row += len(chunk)
        yield chunk


def _chunk(seed: int, traits: Traits, m: Membership, a: int, b: int, first_row: int) -> Chunk:
    daily, leave = daily_codes(seed, traits, m.ordinals, a, b)
    day = np.arange(a, b)[None, :]
    active = (m.seg_begin[:, None] <= day) & (day < m.seg_end[:, None])
    active &= ~((m.seg_school[:, None] == m.closed_school) & (day == m.closed_day))
    column, segment = np.nonzero(active.T)  # date-major, then segment (= student) order
    student = m.seg_student[segment]
    high = m.high[student]
    codes = daily[student, column]
    hs = np.flatnonzero(high)
    periods = period_codes(
        seed, traits, student[hs], column[hs] + a, m.ordinals, codes[hs], leave[student[hs], column[hs]]
    )
    reps = 1 + PERIODS * high.astype(np.int64)
    pair = np.repeat(np.arange(len(student)), reps)
    k = np.arange(len(pair)) - np.repeat(np.cumsum(reps) - reps, reps)  # 0 daily, 1..6 period
    slot = np.maximum(k - 1, 0)
    row_of_high = np.cumsum(high) - 1
    code = np.where(k == 0, codes[pair], periods[row_of_high[pair], slot] if len(hs) else P)
    klass = np.where(k == 0, -1, m.seg_periods[segment[pair], slot])
    return Chunk(first_row, student[pair], m.seg_school[segment[pair]], klass, k, column[pair] + a, code)
