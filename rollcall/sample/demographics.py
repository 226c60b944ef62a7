"""Race, ethnicity and birthplace of each student, weighted by the family's culture."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rollcall.sample.rng import below, pick, pick_by_row, stream
from rollcall.sample.vocab import HOME_STATE, read_rows, weighted

RACES = ("aian", "asian", "black", "nhpi", "white")  # "two" in data/races.csv: two or more races


@dataclass
class Demographics:
    race: np.ndarray  # [student, race] bool, in RACES order
    two_or_more: np.ndarray
    hispanic: np.ndarray
    country: list[str]
    state: list[str]
    city: list[str]
    residence: list[str]  # publicSchoolResidenceStatus


def build_demographics(seed: int, culture: np.ndarray, cultures: tuple[str, ...]) -> Demographics:
    """``culture``: culture index per student."""
    rng = stream(seed, "demographics")
    race, two = _races(rng, culture, cultures)
    hispanic = rng.random(len(culture)) < np.where(culture == cultures.index("hispanic"), 0.95, 0.04)
    country, state, city = _birthplaces(rng, culture, cultures)
    statuses = read_rows("residence_statuses.csv")
    residence = pick(rng, [float(r["weight"]) for r in statuses], len(culture))
    return Demographics(race, two, hispanic, country, state, city, [statuses[i]["code"] for i in residence.tolist()])


def _races(rng: np.random.Generator, culture: np.ndarray, cultures: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """One race by the culture's weights; "two or more": two different races flagged."""
    table = weighted("races.csv", "culture", "race")
    keys = (*RACES, "two")
    weights = np.array([[_weight(table[c], k) for k in keys] for c in cultures])
    single = weights.copy()
    single[:, -1] = 0.0
    first = pick_by_row(rng, weights, culture)
    two = first == len(RACES)
    primary = np.where(two, pick_by_row(rng, single, culture), first)
    second = (primary + 1 + below(rng, np.full(len(culture), len(RACES) - 1))) % len(RACES)
    flags = np.zeros((len(culture), len(RACES)), dtype=bool)
    flags[np.arange(len(culture)), primary] = True
    flags[np.flatnonzero(two), second[two]] = True
    return flags, two


def _weight(entry: tuple[list[str], list[float]], key: str) -> float:
    keys, weights = entry
    return weights[keys.index(key)] if key in keys else 0.0


def _birthplaces(
    rng: np.random.Generator, culture: np.ndarray, cultures: tuple[str, ...]
) -> tuple[list[str], list[str], list[str]]:
    """88 % born in the US (80 % of them in the home state), the rest in a country of the culture."""
    n = len(culture)
    us, home = rng.random(n) < 0.88, rng.random(n) < 0.8
    places = read_rows("us_birthplaces.csv")
    home_city = np.array([p["city"] for p in places if p["state"] == HOME_STATE], dtype=object)
    other = np.array([(p["state"], p["city"]) for p in places if p["state"] != HOME_STATE], dtype=object)
    home_pick = below(rng, np.full(n, len(home_city)))
    other_pick = below(rng, np.full(n, len(other)))
    rows = sorted(read_rows("birth_countries.csv"), key=lambda r: cultures.index(r["culture"]))
    abroad = np.array([(r["country"], r["city"]) for r in rows], dtype=object)
    count = np.bincount([cultures.index(r["culture"]) for r in rows], minlength=len(cultures))
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    abroad_pick = start[culture] + below(rng, count[culture])
    country = np.where(us, "US", abroad[abroad_pick, 0])
    state = np.where(us, np.where(home, HOME_STATE, other[other_pick, 0]), "")
    city = np.where(us, np.where(home, home_city[home_pick], other[other_pick, 1]), abroad[abroad_pick, 1])
    return country.tolist(), state.tolist(), city.tolist()
