"""The short summary ``make demo`` prints: rows per mart, then the current term by school —
membership days, absence rate and the chronic count under each rule set."""

from __future__ import annotations

from pathlib import Path

import duckdb

MART_SCHEMAS = ("core", "attendance", "quality")

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
          select 1 from attendance.fct_school_absence_rates as rates
          where rates.district_id = sessions.district_id
            and rates.academic_session_id = sessions.academic_session_id
      )
)
select district_id, academic_session_id, session_title from terms where term_rank = 1 order by district_id
"""

SCHOOLS_SQL = """
select
    schools.school_name,
    rates.student_count,
    rates.membership_days,
    rates.absence_rate
from attendance.fct_school_absence_rates as rates
inner join core.dim_schools as schools
    on schools.district_id = rates.district_id and schools.school_id = rates.school_id
where rates.district_id = ? and rates.academic_session_id = ?
order by schools.school_name
"""

CHRONIC_SQL = """
select
    coalesce(schools.school_name, 'district (across schools)') as scope_name,
    chronic.rule_set_id,
    sum(case when chronic.is_chronically_absent then 1 else 0 end) as chronic_count,
    sum(case when chronic.meets_minimum_days then 1 else 0 end) as eligible_count
from attendance.fct_chronic_absenteeism as chronic
left join core.dim_schools as schools
    on schools.district_id = chronic.district_id and schools.school_id = chronic.school_id
where chronic.district_id = ? and chronic.academic_session_id = ?
group by all
order by chronic.rule_set_id
"""


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
        terms = con.execute(CURRENT_TERMS_SQL).fetchall()
        if not terms:
            print("\nNo attendance yet: no term has membership days.")
            return 0
        for district, session_id, title in terms:
            _print_term(con, district, session_id, title)
    return 0


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
