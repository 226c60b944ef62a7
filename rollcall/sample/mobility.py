"""Who is enrolled where and when: ~3 % mid-year transfers (between two schools of the same level),
~3 % withdrawals and ~3 % late entries, in disjoint groups.

A student's stays are *segments* ``[begin, end)`` counted in district instructional days
(``calendar.days``). Event dates never depend on how many days of attendance are generated: late
entries happen in the first six weeks, as do a third of the transfers and withdrawals (the fall
shuffle); the other moves are spread over the rest of the year, more of them in the fall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rollcall.sample.calendar import Calendar
from rollcall.sample.rng import stream
from rollcall.sample.schools import School, peers

EVENT_SHARE = 0.03  # of students, for each of transfers, withdrawals and late entries
EARLY_DAYS = 30  # the first six weeks
EARLY_SKEW = 1.5  # later moves: day = rest of the year * u ** EARLY_SKEW, more of them in the fall
REGULAR, TRANSFER, EXIT, LATE = 0, 1, 2, 3


@dataclass
class Segments:
    student: np.ndarray  # ascending (then by begin)
    school: np.ndarray
    begin: np.ndarray  # index into calendar.days
    end: np.ndarray  # exclusive index; len(calendar.days) is the end of the year

    def __len__(self) -> int:
        return len(self.student)


def build_segments(
    seed: int, first_school: np.ndarray, schools: tuple[School, ...], calendar: Calendar
) -> tuple[Segments, np.ndarray]:
    """The segments, and each student's kind (REGULAR, TRANSFER, EXIT, LATE)."""
    rng = stream(seed, "events")
    n, year = len(first_school), len(calendar.days)
    kind, early = _event_kinds(rng, first_school, schools)
    when = _event_days(rng, early, calendar)
    begin = np.where(kind == LATE, when, 0)
    end = np.where((kind == TRANSFER) | (kind == EXIT), when, year)
    movers = np.flatnonzero(kind == TRANSFER)
    options = peers(schools)
    choice = rng.random(len(movers))
    destination = [
        options[first_school[s]][int(u * len(options[first_school[s]]))] for s, u in zip(movers, choice, strict=True)
    ]
    student = np.concatenate([np.arange(n), movers])
    order = np.lexsort((np.concatenate([begin, when[movers]]), student))
    segments = Segments(
        student=student[order],
        school=np.concatenate([first_school, np.array(destination, dtype=np.int64)])[order],
        begin=np.concatenate([begin, when[movers]])[order],
        end=np.concatenate([end, np.full(len(movers), year)])[order],
    )
    return segments, kind


def _event_kinds(
    rng: np.random.Generator, first_school: np.ndarray, schools: tuple[School, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Each student's kind, and whether the event falls in the first six weeks."""
    n = len(first_school)
    target = max(1, round(EVENT_SHARE * n))
    order = rng.permutation(n)
    has_peer = np.array([bool(p) for p in peers(schools)])[first_school[order]]
    transfers = order[has_peer][:target]
    rest = order[~np.isin(order, transfers)]
    exits, late = rest[:target], rest[target : 2 * target]
    kind = np.full(n, REGULAR, dtype=np.int8)
    kind[transfers], kind[exits], kind[late] = TRANSFER, EXIT, LATE
    early = np.zeros(n, dtype=bool)
    early[late] = True
    early[transfers[: -(-len(transfers) // 3)]] = True
    early[exits[: -(-len(exits) // 3)]] = True
    return kind, early


def _event_days(rng: np.random.Generator, early: np.ndarray, calendar: Calendar) -> np.ndarray:
    """A day index per student (used by those with an event)."""
    events = np.array(calendar.event_days)
    soon, rest = events[events < EARLY_DAYS], events[events >= EARLY_DAYS]
    draws = rng.random(len(early))
    later = rest[(len(rest) * draws**EARLY_SKEW).astype(np.int64)]
    return np.where(early, soon[(len(soon) * draws).astype(np.int64)], later)
