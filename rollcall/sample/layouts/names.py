"""Names and typing slips for the demo layouts, from the shared name pools."""

from __future__ import annotations

import random

from rollcall.sample.vocab import SEXES, name_pools


def random_name(rng: random.Random) -> tuple[str, str, str]:
    """(given, family, sex) of a stranger: a culture by weight, then names from its pools."""
    pools = name_pools()
    culture = rng.choices(range(len(pools.cultures)), pools.culture_weights.tolist())[0]
    sex = rng.choice(SEXES)
    start, count = int(pools.given_start[culture, SEXES.index(sex)]), int(pools.given_count[culture, SEXES.index(sex)])
    given = pools.given[start + rng.randrange(count)]
    family = pools.family[int(pools.family_start[culture]) + rng.randrange(int(pools.family_count[culture]))]
    return given, family, sex


def typo(rng: random.Random, name: str) -> str:
    """One keyboard slip inside a name (never the first letter): swap, drop or change a letter."""
    spots = [i for i in range(1, len(name)) if name[i].isascii() and name[i].isalpha()]
    if not spots:
        return name + "e"
    i = rng.choice(spots)
    kind = rng.choice(("swap", "drop", "vowel"))
    if kind == "swap" and i + 1 < len(name) and name[i + 1].isalpha() and name[i + 1] != name[i]:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if kind == "drop" and len(name) > 4:
        return name[:i] + name[i + 1 :]
    vowels = [v for v in "aeiou" if v != name[i].lower()]
    return name[:i] + rng.choice(vowels) + name[i + 1 :]
