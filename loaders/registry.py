"""The district registry: districts rollcall knows, read from ``seeds/districts.csv``."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from rollcall.settings import REGISTRY_PATH


class UnknownDistrictError(Exception):
    """The operator named a district that is not in the registry."""


@dataclass(frozen=True)
class District:
    district_id: str
    nces_id: str | None
    state_id: str | None
    official_name: str
    aliases: tuple[str, ...]
    time_zone: str
    account_ids: tuple[str, ...] = ()  # other systems' ids for the district (e.g. a vendor account id)


def load_registry(path: Path = REGISTRY_PATH) -> dict[str, District]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {
            row["district_id"]: District(
                district_id=row["district_id"],
                nces_id=row["nces_id"] or None,
                state_id=row["state_id"] or None,
                official_name=row["official_name"],
                aliases=tuple(a for a in row["aliases"].split("|") if a),
                time_zone=row["time_zone"],
                account_ids=tuple(a.strip() for a in (row.get("account_ids") or "").split("|") if a.strip()),
            )
            for row in csv.DictReader(handle)
        }


def get_district(district_id: str, path: Path = REGISTRY_PATH) -> District:
    registry = load_registry(path)
    if district_id not in registry:
        known = ", ".join(sorted(registry)) or "none"
        raise UnknownDistrictError(
            f"district {district_id!r} is not in the registry ({path.name}); known: {known}. "
            "Add a row to seeds/districts.csv first."
        )
    return registry[district_id]
