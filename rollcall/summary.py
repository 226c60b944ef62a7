"""The short summary ``make demo`` prints: rows per mart, identity match rates per source, any
district whose attendance all fell into exceptions (with the reasons), then the current term by
school — membership days, absence rate and the chronic count under each rule set."""

from __future__ import annotations

from pathlib import Path

import duckdb

MART_SCHEMAS = ("core", "attendance", "messaging", "assessment", "quality")

MATCH_RATES_SQL = """
select
    district_id,
    source_system,
    any_value(source_records) as records,
    any_value(source_matched_records) as matched,
    sum(ambiguous_records) as ambiguous,
    any_value(source_match_rate) as match_rate,
    string_agg(rule_name || ' ' || matched_records, ', ' order by rule_order)
        filter (where matched_records > 0 and rule_name is not null) as by_rule
from quality.fct_identity_match_rates
where not is_anchor_source
group by district_id, source_system
order by district_id, source_system
"""

# The term figures are the semantic layer's metrics (attendance.fct_attendance_metrics), the same
# rows the dashboard reads.
CURRENT_TERMS_SQL = """
with terms as (
    select
        district_id,
        academic_session_id,
        session_title,
        row_number() over (partition by district_id order by is_current desc, start_date desc) as term_rank
    from core.dim_academic_sessions as sessions
    where session_type = 'term'
      and exists (
          select 1 from attendance.fct_attendance_metrics as metrics
          where metrics.metric_grain = 'school_session'
            and metrics.district_id = sessions.district_id
            and metrics.academic_session_id = sessions.academic_session_id
      )
)
select district_id, academic_session_id, session_title from terms where term_rank = 1 order by district_id
"""

SCHOOLS_SQL = """
select
    schools.school_name,
    cast(max(metrics.metric_value) filter (where metrics.metric_name = 'enrolled_students') as bigint),
    max(metrics.metric_value) filter (where metrics.metric_name = 'membership_days'),
    max(metrics.metric_value) filter (where metrics.metric_name = 'absence_rate')
from attendance.fct_attendance_metrics as metrics
inner join core.dim_schools as schools
    on schools.district_id = metrics.district_id and schools.school_id = metrics.school_id
where metrics.metric_grain = 'school_session' and metrics.district_id = ? and metrics.academic_session_id = ?
group by schools.school_name
order by schools.school_name
"""

CHRONIC_SQL = """
select
    coalesce(schools.school_name, 'district (across schools)') as scope_name,
    metrics.rule_set_id,
    cast(max(metrics.metric_value) filter (where metrics.metric_name = 'chronically_absent_students') as bigint),
    cast(max(metrics.metric_value) filter (where metrics.metric_name = 'eligible_students') as bigint)
from attendance.fct_attendance_metrics as metrics
left join core.dim_schools as schools
    on schools.district_id = metrics.district_id and schools.school_id = metrics.school_id
where metrics.metric_grain = 'school_rule_set' and metrics.district_id = ? and metrics.academic_session_id = ?
group by all
order by metrics.rule_set_id
"""


LEFT_OUT_SQL = """
with records as (
    select district_id, count(*) as records
    from intermediate.int_attendance_records_unioned
    where not is_tombstoned
    group by district_id
),
reasons as (
    select district_id, exception_reason, count(*) as exceptions
    from quality.fct_attendance_exceptions
    group by district_id, exception_reason
)
select
    records.district_id,
    records.records,
    string_agg(reasons.exception_reason || ' ' || format('{:,}', reasons.exceptions), ', '
        order by reasons.exceptions desc) as by_reason,
    arg_max(reasons.exception_reason, reasons.exceptions) as main_reason
from records
inner join reasons on records.district_id = reasons.district_id
group by records.district_id, records.records
having sum(reasons.exceptions) >= records.records
order by records.district_id
"""
# what to do about the main reason a district's attendance was left out
REASON_HINTS = {
    "unknown_code": "its absence codes are in neither absenceCodes.csv nor seeds/district_absence_codes.csv",
    "no_enrollment": "its students have no enrollment at the school (membership_from_attendance: true counts them)",
    "outside_membership": "every record falls outside the students' enrollment dates",
    "non_instructional_day": "none falls on an instructional day (a district without academicSessions.csv or "
    "calendar.csv has no school calendar; an SIS-only district sends them beside its exports, docs/sis-formats.md)",
    "future_date": "every record is dated after the as-of date",
    "invalid_date": "no record has a readable date",
}


def print_summary(database: Path) -> int:
    """Print the summary; returns a process exit code."""
    if not database.exists():
        print(f"no warehouse at {database}: run `rollcall load` and `rollcall build` first")
        return 2
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables()"
            " where schema_name in ? order by schema_name, table_name",
            [list(MART_SCHEMAS)],
        ).fetchall()
        if not tables:
            print("no marts yet: run `rollcall build` (dbt build) first")
            return 2
        print("Rows per mart")
        for schema, table in tables:
            count = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            print(f"  {schema + '.' + table:<44} {count:>10,}")
        _print_match_rates(con)
        _print_left_out(con)
        terms = con.execute(CURRENT_TERMS_SQL).fetchall()
        if not terms:
            print("\nNo attendance yet: no term has membership days.")
            return 0
        for district, session_id, title in terms:
            _print_term(con, district, session_id, title)
    return 0


def _print_match_rates(con: duckdb.DuckDBPyConnection) -> None:
    """Per district and source: how many records resolved to a person, and by which rule."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'quality' and table_name = 'fct_identity_match_rates'"
    ).fetchone()[0]
    rows = con.execute(MATCH_RATES_SQL).fetchall() if exists else []
    if not rows:
        return
    print("\nIdentity: records of each source matched to a person (anchor source excluded)")
    print(f"  {'district':<14} {'source':<12} {'records':>8} {'matched':>8} {'rate':>7}  by rule")
    for district, source, records, matched, _ambiguous, rate, by_rule in rows:
        rate_text = f"{rate:.1%}" if rate is not None else "n/a"
        print(f"  {district:<14} {source:<12} {records:>8,} {matched:>8,} {rate_text:>7}  {by_rule or ''}")


def _print_left_out(con: duckdb.DuckDBPyConnection) -> None:
    """Districts whose every attendance record is an exception: no rates, so say why."""
    present = con.execute(
        """select count(*) from duckdb_tables()
               where schema_name = 'quality' and table_name = 'fct_attendance_exceptions'
           union all
           select count(*) from duckdb_views() where schema_name = 'intermediate'
               and view_name = 'int_attendance_records_unioned'"""
    ).fetchall()
    rows = con.execute(LEFT_OUT_SQL).fetchall() if all(n for (n,) in present) else []
    for district, records, by_reason, main_reason in rows:
        hint = REASON_HINTS.get(main_reason, "see quality.fct_attendance_exceptions")
        print(f"\nNo attendance counted for {district}: all {records:,} records are exceptions ({by_reason}): {hint}")


def _print_term(con: duckdb.DuckDBPyConnection, district: str, session_id: str, title: str) -> None:
    chronic: dict[str, dict[str, str]] = {}
    rule_sets: list[str] = []
    for scope_name, rule_set, count, eligible in con.execute(CHRONIC_SQL, [district, session_id]).fetchall():
        chronic.setdefault(scope_name, {})[rule_set] = f"{count:,}/{eligible:,}"
        if rule_set not in rule_sets:
            rule_sets.append(rule_set)
    print(f"\nCurrent term for {district}: {title} (chronic = chronically absent / students meeting the minimum days)")
    header = f"  {'school':<32} {'students':>8} {'membership':>11} {'rate':>6}"
    print(header + "".join(f" {name:>21}" for name in rule_sets))
    for school, students, membership, rate in con.execute(SCHOOLS_SQL, [district, session_id]).fetchall():
        rate_text = f"{rate:.1%}" if rate is not None else "n/a"
        cells = "".join(f" {chronic.get(school, {}).get(name, '—'):>21}" for name in rule_sets)
        print(f"  {school:<32} {students:>8,} {float(membership):>11,.1f} {rate_text:>6}{cells}")
    across = chronic.get("district (across schools)")
    if across:
        cells = "".join(f" {across.get(name, '—'):>21}" for name in rule_sets)
        print(f"  {'district (across schools)':<32} {'':>8} {'':>11} {'':>6}{cells}")
