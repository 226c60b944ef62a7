"""The dashboard's figures, read from a published file: the metrics of fct_attendance_metrics
(defined once in the semantic layer), the published aggregates, the early-warning mart and the
load health. Plain functions over a read-only DuckDB connection, so tests can compare them with
the marts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

RULE_SET_METRICS = ("chronically_absent_students", "eligible_students", "chronic_absence_rate")
TIER_METRICS = ("students_satisfactory", "students_at_risk", "students_moderate", "students_severe")


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def audience(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select audience from published.about").fetchone()[0]


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    sql = "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?"
    return con.execute(sql, [schema, table]).fetchone()[0] > 0


def districts(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute("select district_id from core.dim_districts order by 1").fetchall()]


def terms(con: duckdb.DuckDBPyConnection, district: str) -> pd.DataFrame:
    """The district's terms with metrics, the current one first."""
    return con.execute(
        """
        select academic_session_id, session_title, start_date, end_date, is_current
        from core.dim_academic_sessions as sessions
        where district_id = ? and session_type = 'term'
          and exists (
              select 1 from attendance.fct_attendance_metrics as metrics
              where metrics.district_id = sessions.district_id
                and metrics.academic_session_id = sessions.academic_session_id
          )
        order by is_current desc, start_date desc
        """,
        [district],
    ).df()


def metrics(con: duckdb.DuckDBPyConnection, grain: str, district: str, **where: str | None) -> dict[str, float | None]:
    """``{metric_name: value}`` of one grain row set (e.g. school_session for one school and term)."""
    sql = "select metric_name, metric_value from attendance.fct_attendance_metrics"
    sql += " where metric_grain = ? and district_id = ?"
    params: list[object] = [grain, district]
    for column, value in where.items():
        sql += f" and {column} is not distinct from ?"
        params.append(value)
    return dict(con.execute(sql, params).fetchall())


def rule_sets(
    con: duckdb.DuckDBPyConnection, grain: str, district: str, term: str, school: str | None = None
) -> pd.DataFrame:
    """Per rule set: chronically absent, eligible, chronic rate and the students per risk tier."""
    where = "metric_grain = ? and district_id = ? and academic_session_id = ?"
    params: list[object] = [grain, district, term]
    if grain == "school_rule_set":
        where += " and school_id = ?"
        params.append(school)
    frame = con.execute(
        f"select rule_set_id, metric_name, metric_value from attendance.fct_attendance_metrics where {where}", params
    ).df()
    return frame.pivot(index="rule_set_id", columns="metric_name", values="metric_value").reset_index()


def weekly(
    con: duckdb.DuckDBPyConnection, district: str, start: object, end: object, school: str | None = None
) -> pd.DataFrame:
    """Weekly absence rate of the term's weeks (district, or one school)."""
    grain = "school_week" if school else "district_week"
    return con.execute(
        """
        select week_start, metric_value as absence_rate
        from attendance.fct_attendance_metrics
        where metric_grain = ? and district_id = ? and school_id is not distinct from ?
          and metric_name = 'daily_absence_rate' and week_start >= date_trunc('week', ?::date) and week_start < ?
        order by week_start
        """,
        [grain, district, school, start, end],
    ).df()


def schools(con: duckdb.DuckDBPyConnection, district: str) -> pd.DataFrame:
    sql = "select school_id, school_name from core.dim_schools where district_id = ? order by school_name"
    return con.execute(sql, [district]).df()


def subgroups(con: duckdb.DuckDBPyConnection, district: str, term: str, school: str, rule_set: str) -> pd.DataFrame:
    """Grades, sexes and races/ethnicities of a school from the published (suppressed) aggregates."""
    return con.execute(
        """
        select reporting_group_type, reporting_group_value, is_suppressed, student_count,
               chronically_absent_count, absence_rate, chronic_absence_rate
        from attendance.fct_published_absence_rates
        where district_id = ? and academic_session_id = ? and school_id = ? and rule_set_id = ?
        order by reporting_group_type, reporting_group_value
        """,
        [district, term, school, rule_set],
    ).df()


def published_cells(con: duckdb.DuckDBPyConnection, district: str, term: str) -> pd.DataFrame:
    """The published aggregates of a term, all reporting groups (the public audience's page)."""
    return con.execute(
        """
        select rates.rule_set_id, coalesce(schools.school_name, 'District') as scope, rates.reporting_group_type,
               rates.reporting_group_value, rates.is_suppressed, rates.student_count,
               rates.chronically_absent_count, rates.absence_rate, rates.chronic_absence_rate
        from attendance.fct_published_absence_rates as rates
        left join core.dim_schools as schools
            on schools.district_id = rates.district_id and schools.school_id = rates.school_id
        where rates.district_id = ? and rates.academic_session_id = ?
        order by 1, 2, 3, 4
        """,
        [district, term],
    ).df()


def early_warning(con: duckdb.DuckDBPyConnection, district: str) -> pd.DataFrame:
    """Each student's latest day of the latest school year: the ones projected chronically absent
    or on a streak of whole-day absences, the closest to the threshold first."""
    return con.execute(
        """
        with latest as (
            select *
            from attendance.fct_student_early_warning
            where district_id = ?
            qualify row_number() over (partition by student_id order by attendance_date desc) = 1
        )
        select
            latest.student_id,
            students.family_name || ', ' || coalesce(students.preferred_given_name, students.given_name) as student,
            students.grade_level as grade,
            schools.school_name as school,
            latest.attendance_date as as_of,
            latest.ytd_absence_rate,
            latest.ytd_risk_tier,
            latest.consecutive_absent_days,
            latest.absent_days_until_chronic,
            latest.is_projected_chronically_absent
        from latest
        left join core.dim_students as students
            on students.district_id = latest.district_id and students.student_id = latest.student_id
        left join core.dim_schools as schools
            on schools.district_id = latest.district_id and schools.school_id = latest.school_id
        where latest.school_year = (select max(school_year) from latest)
          and (latest.is_projected_chronically_absent or latest.consecutive_absent_days >= 2)
        order by latest.is_projected_chronically_absent desc, latest.absent_days_until_chronic,
                 latest.consecutive_absent_days desc, student
        """,
        [district],
    ).df()


def health(con: duckdb.DuckDBPyConnection, district: str) -> dict[str, pd.DataFrame]:
    """Last load per source, quarantined rows, refused files and identity match rates."""
    frames = {
        name: con.execute(
            f"select * exclude (district_id) from health.{name} where district_id = ? order by all", [district]
        ).df()
        for name in ("source_loads", "quarantined_rows", "refused_files")
    }
    frames["identity_match_rates"] = con.execute(
        """
        select source_system, any_value(source_records) as records, any_value(source_matched_records) as matched,
               any_value(source_match_rate) as match_rate, any_value(min_match_rate) as min_match_rate
        from quality.fct_identity_match_rates
        where district_id = ? and not is_anchor_source
        group by source_system order by source_system
        """,
        [district],
    ).df()
    return frames
