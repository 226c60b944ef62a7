"""The district gate: no file lands unless the district it belongs to is established.

Evidence per file, strongest first:

1. **District ids in the file** (an NCES id, state id or account id: OneRoster ``orgs.csv``
   district rows, Star ``DistrictIdentifier``/``DistrictStateID``, ...). Every id must belong to
   the target district in the registry (``seeds/districts.csv``: ``nces_id``, ``state_id``,
   ``account_ids``); an id of another district, or of none, refuses the file.
2. **District names in the file** (Star ``DistrictName``, ClassLink ``TenantName``, OneRoster
   district org names) when it has no id: compared with every district's official name and
   aliases without generic words such as "public schools" or "district" (``normalize_name``).
   A name *fits* a district when it is equal, or - for names of at least ``FUZZY_MIN_LENGTH``
   characters - one typo away (Damerau-Levenshtein distance 1) with the same digits and a
   Jaro-Winkler score of at least ``NAME_MATCH_THRESHOLD``. Exactly one district may fit, and it
   must be the target ("Demos Public Schools" is not "Demo Unified").
3. **No evidence**: the file inherits the district from the rest of the drop (seed: "bundle"
   the files so the district id attaches to all of them). When no file of the drop carries
   any, the drop's school ids must overlap the district's known schools (``judge_by_schools``;
   the first load of a district has none to compare with, and says so). When the drop's
   evidence disagrees, files without evidence cannot inherit and are refused too.

A file whose district evidence cannot be read (encoding, quoting) is refused with the reason.

Every decision is written to ``audit.district_checks``; refused files are in
``audit.rejected_files`` with file name, district id, time and reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from loaders.audit import AUDIT_SCHEMA, utc_now
from loaders.registry import District

NAME_MATCH_THRESHOLD = 0.97
FUZZY_MIN_LENGTH = 6  # shorter names must be equal once normalized
# OneRoster orgType of a district, and the spellings exports use for it
DISTRICT_ORG_TYPES = frozenset({"district", "lea", "local", "localeducationagency", "schooldistrict"})
GENERIC_WORDS = frozenset(
    {"the", "of", "school", "schools", "district", "public", "unified", "independent"}
    | {"consolidated", "isd", "usd", "sd", "pd", "ps"}
)

DDL = f"""
create table if not exists {AUDIT_SCHEMA}.district_checks (
    load_id varchar not null,
    district_id varchar not null,     -- the district the operator loaded for
    file_name varchar not null,
    evidence_kind varchar not null,   -- id | name | bundle | schools | operator | unreadable
    evidence_value varchar,
    matched_district_id varchar,      -- registry district the evidence points at (null: none)
    score double,                     -- name similarity (1.0 for ids)
    decision varchar not null,        -- accepted | refused
    reason varchar not null,
    checked_at timestamptz not null
);
"""


@dataclass
class Evidence:
    """District ids and names found in one file."""

    ids: set[str] = field(default_factory=set)
    soft_ids: set[str] = field(default_factory=set)  # counted only when they match a registered id
    names: set[str] = field(default_factory=set)
    schools: set[str] = field(default_factory=set)  # school ids (checked when no file has district evidence)
    error: str | None = None  # why the file's district evidence could not be read


@dataclass
class GateDecision:
    accepted: bool
    reason: str
    rows: list[tuple[str, str | None, str | None, float | None]] = field(default_factory=list)
    # (evidence kind, value, matched district, score)


def normalize_name(name: str) -> str:
    words = re.sub(r"[^a-z0-9]+", " ", name.lower()).split()
    kept = [w for w in words if w not in GENERIC_WORDS]
    return " ".join(kept or words)


def _normalize_id(value: str) -> str:
    text = value.strip()
    return text.lstrip("0") or text


def district_ids(district: District) -> set[str]:
    ids = {district.nces_id, district.state_id, *district.account_ids}
    return {_normalize_id(i) for i in ids if i}


def _id_owners(value: str, registry: dict[str, District]) -> list[str]:
    normalized = _normalize_id(value)
    return sorted(d.district_id for d in registry.values() if normalized in district_ids(d))


def is_district_org_type(value: str) -> bool:
    return re.sub(r"[^a-z]", "", value.lower()) in DISTRICT_ORG_TYPES


def _digits(text: str) -> list[str]:
    return re.findall(r"\d+", text)


def name_scores(con: duckdb.DuckDBPyConnection, name: str, registry: dict[str, District]) -> dict[str, float]:
    """Best Jaro-Winkler score of ``name`` against each district that it fits (see module doc);
    districts it does not fit score 0 minus their similarity (so the closest is still known)."""
    candidates = [
        (d.district_id, normalize_name(n)) for d in registry.values() for n in (d.official_name, *d.aliases) if n
    ]
    if not candidates:
        return {}
    target = normalize_name(name)
    rows = con.execute(
        "select district_id, alias, jaro_winkler_similarity(?, alias), damerau_levenshtein(?, alias)"
        " from (select unnest(?) as district_id, unnest(?) as alias)",
        [target, target, [c[0] for c in candidates], [c[1] for c in candidates]],
    ).fetchall()
    scores: dict[str, float] = {}
    for district_id, alias, similarity, edits in rows:
        fits = edits == 0 or (
            edits == 1
            and min(len(target), len(alias)) >= FUZZY_MIN_LENGTH
            and similarity >= NAME_MATCH_THRESHOLD
            and _digits(target) == _digits(alias)
        )
        score = float(similarity) if fits else float(similarity) - 1.0
        scores[district_id] = max(scores.get(district_id, -1.0), score)
    return scores


def judge_file(
    con: duckdb.DuckDBPyConnection, evidence: Evidence, target: District, registry: dict[str, District]
) -> GateDecision | None:
    """Decision from the file's own evidence; None when it carries none."""
    rows: list[tuple[str, str | None, str | None, float | None]] = []
    if evidence.error:
        return GateDecision(
            False, f"district evidence unreadable: {evidence.error}", [("unreadable", None, None, None)]
        )
    ids = set(evidence.ids) | {s for s in evidence.soft_ids if _id_owners(s, registry)}
    if ids:
        for value in sorted(ids):
            owners = _id_owners(value, registry)
            rows.append(("id", value, ",".join(owners) or None, 1.0 if owners else None))
            if target.district_id not in owners:
                whose = f"belongs to {', '.join(owners)}" if owners else "is not registered for any district"
                return GateDecision(False, f"district id {value!r} in the file {whose}, not {target.district_id}", rows)
        return GateDecision(True, f"district id(s) {', '.join(sorted(ids))} match {target.district_id}", rows)
    if evidence.names:
        for name in sorted(evidence.names):
            ranked = sorted(name_scores(con, name, registry).items(), key=lambda item: -item[1])
            fitting = [d for d, score in ranked if score >= 0]
            best_id, best = ranked[0] if ranked else (None, -1.0)
            rows.append(("name", name, best_id if fitting else None, best if fitting else best + 1.0))
            if not fitting:
                closest = f"closest {best_id}, similarity {best + 1.0:.2f}" if best_id else "no district registered"
                return GateDecision(False, f"district name {name!r} matches no registered district ({closest})", rows)
            if len(fitting) > 1:
                return GateDecision(False, f"district name {name!r} is ambiguous: it fits {', '.join(fitting)}", rows)
            if best_id != target.district_id:
                return GateDecision(
                    False, f"district name {name!r} is {best_id} (score {best:.2f}), not {target.district_id}", rows
                )
        return GateDecision(True, f"district name(s) match {target.district_id}", rows)
    return None


def judge_drop(
    con: duckdb.DuckDBPyConnection,
    evidence_by_file: dict[str, Evidence],
    target: District,
    registry: dict[str, District],
) -> dict[str, GateDecision]:
    """A decision for every file of one drop (bundle inheritance included)."""
    decisions: dict[str, GateDecision] = {}
    silent: list[str] = []
    for file_name, evidence in evidence_by_file.items():
        decision = judge_file(con, evidence, target, registry)
        if decision is None:
            silent.append(file_name)
        else:
            decisions[file_name] = decision
    contradicting = sorted(name for name, d in decisions.items() if not d.accepted)
    agreeing = sorted(name for name, d in decisions.items() if d.accepted)
    for file_name in silent:
        if contradicting:
            decisions[file_name] = GateDecision(
                False,
                f"no district in the file, and the drop's evidence disagrees ({contradicting[0]}: "
                f"{decisions[contradicting[0]].reason})",
                [("bundle", None, None, None)],
            )
        elif agreeing:
            decisions[file_name] = GateDecision(
                True,
                f"no district in the file; inherited from the drop ({agreeing[0]})",
                [("bundle", None, None, None)],
            )
        else:
            decisions[file_name] = GateDecision(
                True,
                "no district in any file of the drop; the operator's --district applies",
                [("operator", None, None, None)],
            )
    return decisions


def judge_by_schools(
    decisions: dict[str, GateDecision], drop_schools: set[str], known: set[str], target: District
) -> list[str]:
    """Re-decide a drop in which no file carries district evidence, by its school ids: at least
    one must be a known school of the target. Changes ``decisions`` in place; returns the notes
    to show (a first load of a district has no known schools, and says so)."""
    if not decisions or not drop_schools or any(kind != "operator" for d in decisions.values() for kind, *_ in d.rows):
        return []  # evidence decided, or nothing to compare: the operator's --district applies
    overlap = drop_schools & known
    if not known:
        reason, accepted = (
            f"no district id in the drop and no known school of {target.district_id} yet (its first load): "
            f"the operator's --district applies to the drop's {len(drop_schools)} school id(s)",
            True,
        )
    elif overlap:
        reason = (
            f"{len(overlap)} of the drop's {len(drop_schools)} school id(s) are known schools of {target.district_id}"
        )
        accepted = True
    else:
        reason = (
            f"no district id in the drop, and none of its {len(drop_schools)} school id(s) is one of the "
            f"{len(known)} known schools of {target.district_id}: loaded under the wrong --district?"
        )
        accepted = False
    share = len(overlap) / len(drop_schools) if drop_schools else None
    row = ("schools", f"{len(overlap)}/{len(drop_schools)}", target.district_id if accepted else None, share)
    for file_name in decisions:
        decisions[file_name] = GateDecision(accepted, reason, [row])
    return [reason] if accepted and not known else []


def record_decisions(
    con: duckdb.DuckDBPyConnection, load_id: str, district_id: str, decisions: dict[str, GateDecision]
) -> None:
    con.execute(DDL)
    now = utc_now()
    rows = [
        [
            load_id,
            district_id,
            file_name,
            kind,
            value,
            matched,
            score,
            "accepted" if d.accepted else "refused",
            d.reason,
            now,
        ]
        for file_name, d in decisions.items()
        for kind, value, matched, score in (d.rows or [("none", None, None, None)])
    ]
    if rows:
        con.executemany(f"insert into {AUDIT_SCHEMA}.district_checks values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def distinct_values(
    con: duckdb.DuckDBPyConnection, path: Path, positions: list[int], width: int, limit: int = 500
) -> list[set[str]]:
    """Distinct non-empty values of the given columns (0-based) of a CSV file, tolerant of bad rows;
    raises ``duckdb.Error`` when the file cannot be read at all."""
    if not positions:
        return []
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    path_sql = "'" + str(path).replace("'", "''") + "'"
    results = []
    for position in positions:
        rows = con.execute(
            f"""select distinct trim(c{position}) from read_csv({path_sql}, header = true, auto_detect = false,
                delim = ',', quote = '"', escape = '"', columns = {columns}, ignore_errors = true,
                null_padding = true)
                where nullif(trim(c{position}), '') is not null limit {limit}"""
        ).fetchall()
        results.append({row[0] for row in rows})
    return results
