"""The short summary ``make demo`` prints: rows per mart, then current-term absence by school."""

from __future__ import annotations

from pathlib import Path

import duckdb

MART_SCHEMAS = ("core", "attendance", "quality")

CURRENT_TERM_SQL = """
with terms as (
    select
        district_id,
        academic_session_id,
        session_title,
        start_date,
        end_date,
        row_number() over (
            partition by district_id order by is_current desc, start_date desc
        ) as term_rank
    from core.dim_academic_sessions
    where session_type = 'term'
      and exists (
          select 1 from attendance.fct_school_absence_rates as rates
          where rates.district_id = dim_academic_sessions.district_id
            and rates.academic_session_id = dim_academic_sessions.academic_session_id
      )
)
select
    terms.district_id,
    terms.session_title,
    schools.school_name,
    rates.student_count,
    rates.membership_days,
    rates.absent_days,
    rates.absence_rate,
    rates.chronically_absent_count,
    rates.eligible_student_count
from terms
inner join attendance.fct_school_absence_rates as rates
    on rates.district_id = terms.district_id
   and rates.academic_session_id = terms.academic_session_id
inner join core.dim_schools as schools
    on schools.district_id = rates.district_id
   and schools.school_id = rates.school_id
where terms.term_rank = 1
order by terms.district_id, schools.school_name
"""


def print_summary(database: Path) -> int:
    """Print the summary; returns a process exit code."""
    if not database.exists():
        print(f"no warehouse at {database}: run `rollcall load` and `rollcall build` first")
        return 2
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name, estimated_size from duckdb_tables()"
            " where schema_name in ? order by schema_name, table_name",
            [list(MART_SCHEMAS)],
        ).fetchall()
        if not tables:
            print("no marts yet: run `rollcall build` (dbt build) first")
            return 2
        print("Rows per mart")
        for schema, table, _ in tables:
            count = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            print(f"  {schema + '.' + table:<44} {count:>10,}")
        rows = con.execute(CURRENT_TERM_SQL).fetchall()
        if not rows:
            print("\nNo attendance yet: no term has membership days.")
            return 0
        district, term = None, None
        for row in rows:
            if (row[0], row[1]) != (district, term):
                district, term = row[0], row[1]
                print(f"\nCurrent term for {district}: {term}")
                print(f"  {'school':<34} {'students':>8} {'membership':>11} {'absent':>8} {'rate':>7} {'chronic':>13}")
            _, _, school, students, membership, absent, rate, chronic, eligible = row
            rate_text = f"{rate:.1%}" if rate is not None else "n/a"
            print(
                f"  {school:<34} {students:>8,} {float(membership):>11,.1f} {float(absent):>8,.1f}"
                f" {rate_text:>7} {chronic:>5,} of {eligible:<5,}"
            )
    return 0
