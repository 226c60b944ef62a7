"""Small text helpers shared by every layout: name folding, unique user names, grade labels."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

_FOLD = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ß": "ss", "Ø": "O", "ø": "o"})


def fold(text: str) -> str:
    """Accents folded, lower case, ASCII letters and digits only (user names and the identity rules)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()


def unique_names(bases: Iterable[str], used: set[str]) -> list[str]:
    """``base``, or ``base2``, ``base3``… when taken; every name returned is added to ``used``."""
    out = []
    for base in bases:
        base = base or "user"
        name, k = base, 1
        while name in used:
            k += 1
            name = f"{base}{k}"
        used.add(name)
        out.append(name)
    return out


def grade_label(grade: str) -> str:
    """``KG`` -> ``K``, ``07`` -> ``7``."""
    return "K" if grade == "KG" else str(int(grade))


def grade_number(grade: str) -> int:
    return 0 if grade == "KG" else int(grade)
