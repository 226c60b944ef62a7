"""The district's schools: levels by count, names from the pools, a size weight each."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rollcall.sample.rng import stream
from rollcall.sample.vocab import levels

DISTRICT_SOURCED_ID = "district-demo"
DISTRICT_NCES_ID = "9900001"
DISTRICT_NAME = "Rollcall Demo Unified School District"
MAX_SCHOOLS = 999


@dataclass(frozen=True)
class School:
    index: int  # 0-based position in the district's list
    name: str
    level: str  # elementary, middle, high, k8, k12
    grades: tuple[int, ...]  # grade indexes taught
    weight: float  # relative share of the students of its grades

    @property
    def num(self) -> int:
        return self.index + 1

    @property
    def sid(self) -> str:
        return f"school-{self.num:03d}"

    @property
    def identifier(self) -> str:
        return f"{DISTRICT_NCES_ID}{self.num:05d}"


def school_levels(n: int) -> list[str]:
    """1: one K-12 school; 2: K-8 + high; more: about half elementary, the rest middle and high."""
    if n == 1:
        return ["k12"]
    if n == 2:
        return ["k8", "high"]
    elementary = max(1, min(n - 2, math.ceil(n / 2)))
    middle = math.ceil((n - elementary) / 2)
    return ["elementary"] * elementary + ["middle"] * middle + ["high"] * (n - elementary - middle)


def build_schools(seed: int, n: int) -> tuple[School, ...]:
    rng = stream(seed, "schools")
    catalog = levels()
    pools = {
        name: [level.school_names[i] for i in rng.permutation(len(level.school_names))]
        for name, level in catalog.items()
    }
    used: dict[str, int] = {}
    weights = rng.uniform(0.8, 1.25, n)
    schools = []
    for index, level in enumerate(school_levels(n)):
        k = used.get(level, 0)
        used[level] = k + 1
        pool = pools[level]
        name = f"{pool[k % len(pool)]} {catalog[level].suffix}"
        if k >= len(pool):
            name += f" {k // len(pool) + 1}"
        schools.append(School(index, name, level, catalog[level].grades, float(weights[index])))
    return tuple(schools)


def peers(schools: tuple[School, ...]) -> list[list[int]]:
    """For each school, the other schools of the same level (where a transfer can go)."""
    return [[o.index for o in schools if o.index != s.index and o.level == s.level] for s in schools]
