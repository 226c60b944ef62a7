"""Phone numbers and the many ways people type them (templates in ``data/phone_styles.csv``).

The OneRoster package uses Washington area codes with random exchanges; the SIS and
multi-source layouts use the fictional ``555-0100``…``555-0199`` range (valid for phone parsers).
"""

from __future__ import annotations

import random

import numpy as np

from rollcall.sample.rng import pick
from rollcall.sample.vocab import phone_areas, phone_styles


def format_phone(digits: str, template: str) -> str:
    """Ten digits in a template with ``{a}`` (area), ``{e}`` (exchange) and ``{l}`` (line)."""
    return template.format(a=digits[:3], e=digits[3:6], l=digits[6:])


def oneroster_phones(rng: np.random.Generator, n: int) -> list[str]:
    areas = phone_areas("oneroster")
    templates, weights = phone_styles("oneroster")
    area = rng.integers(0, len(areas), n).tolist()
    exchange = rng.integers(200, 990, n).tolist()
    line = rng.integers(0, 10000, n).tolist()
    style = pick(rng, weights, n).tolist()
    return [
        format_phone(f"{areas[a]}{e}{x:04d}", templates[s])
        for a, e, x, s in zip(area, exchange, line, style, strict=True)
    ]


class FictionalPhones:
    """555-01xx numbers and their typed forms, drawn from one ``random.Random``."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.templates, weights = phone_styles("sis")
        self.weights = weights.tolist()

    def number(self) -> str:
        """Ten digits."""
        return f"{self.rng.choice(phone_areas('sis'))}555{self.rng.randint(100, 199):04d}"

    def format(self, digits: str, template: str | None = None) -> str:
        if not digits:
            return ""
        return format_phone(digits, template or self.rng.choices(self.templates, self.weights)[0])


def fictional(phone: str) -> str:
    """The same formatting with the exchange and line moved into the fictional 555-01xx range."""
    digits = [ch for ch in phone if ch.isdigit()]
    if len(digits) < 10:
        return phone
    target = iter([*digits[-10:-7], "5", "5", "5", "0", "1", *digits[-2:]])
    skip = len(digits) - 10  # a leading country code stays as it is
    out = []
    for ch in phone:
        if ch.isdigit() and skip:
            skip -= 1
            out.append(ch)
        elif ch.isdigit():
            out.append(next(target))
        else:
            out.append(ch)
    return "".join(out)
