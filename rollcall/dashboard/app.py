"""The attendance dashboard (Streamlit): ``rollcall dashboard`` runs it on a published file.

Pages: district overview, school drill-down, early warning (restricted audience only), data
health (restricted only); the public audience gets the published, suppressed aggregates. Every
figure comes from rollcall.dashboard.data, i.e. from the marts as published.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from rollcall.dashboard import data

TIER_LABELS = {
    "students_satisfactory": "satisfactory",
    "students_at_risk": "at risk",
    "students_moderate": "moderate",
    "students_severe": "severe",
}


def percent(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.1%}"


def count(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:,.0f}"


def days(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:,.1f}"


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", required=True)
    parser.add_argument("--audience", default="restricted")
    return parser.parse_args(sys.argv[1:])


@st.cache_resource
def _connection(path: str):
    return data.connect(Path(path))


def _pick_district_and_term(con) -> tuple[str, pd.Series] | None:
    districts = data.districts(con)
    district = st.sidebar.selectbox("District", districts, index=_default_index(districts, "demo-unified"))
    terms = data.terms(con, district) if data.has_table(con, "attendance", "fct_attendance_metrics") else None
    if terms is None:
        terms = con.execute(
            "select academic_session_id, session_title, start_date, end_date, is_current"
            " from core.dim_academic_sessions where district_id = ? and session_type = 'term'"
            " order by is_current desc, start_date desc",
            [district],
        ).df()
    if terms.empty:
        st.info(f"{district} has no term with attendance yet.")
        return None
    title = st.sidebar.selectbox("Term", list(terms["session_title"]))
    return district, terms[terms["session_title"] == title].iloc[0]


def _default_index(values: list[str], preferred: str) -> int:
    return values.index(preferred) if preferred in values else 0


def _trend_chart(frame: pd.DataFrame, title: str) -> None:
    if frame.empty:
        return
    chart = (
        alt.Chart(frame, title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("week_start:T", title="week starting", axis=alt.Axis(format="%b %d")),
            y=alt.Y("absence_rate:Q", title="absence rate", axis=alt.Axis(format="%")),
            tooltip=[alt.Tooltip("week_start:T", title="week"), alt.Tooltip("absence_rate:Q", format=".1%")],
        )
    )
    st.altair_chart(chart, use_container_width=True)


def _rule_set_table(frame: pd.DataFrame) -> None:
    shown = pd.DataFrame(
        {
            "rule set": frame["rule_set_id"],
            "chronically absent": frame["chronically_absent_students"].map(count),
            "meeting the minimum days": frame["eligible_students"].map(count),
            "chronic rate": frame["chronic_absence_rate"].map(percent),
        }
    )
    st.table(shown.set_index("rule set"))  # a plain HTML table: a few rows, readable as text


def _tier_chart(frame: pd.DataFrame, rule_set: str) -> None:
    row = frame[frame["rule_set_id"] == rule_set]
    if row.empty:
        return
    tiers = pd.DataFrame({"tier": list(TIER_LABELS.values()), "students": [row.iloc[0][m] for m in TIER_LABELS]})
    chart = (
        alt.Chart(tiers, title=f"Students per risk tier ({rule_set})")
        .mark_bar()
        .encode(
            x=alt.X("tier:N", sort=list(TIER_LABELS.values()), axis=alt.Axis(labelAngle=0)),
            y="students:Q",
            tooltip=["tier", "students"],
        )
    )
    st.altair_chart(chart, use_container_width=True)


def overview_page() -> None:
    con = _connection(OPTIONS.file)
    picked = _pick_district_and_term(con)
    if picked is None:
        return
    district, term = picked
    st.title(f"{district}: {term['session_title']}")
    figures = data.metrics(con, "district_session", district, academic_session_id=term["academic_session_id"])
    columns = st.columns(4)
    columns[0].metric("Absence rate", percent(figures.get("absence_rate")))
    columns[1].metric("Students", count(figures.get("enrolled_students")))
    columns[2].metric("Membership days", days(figures.get("membership_days")))
    columns[3].metric("Absent days", days(figures.get("absent_days")))
    st.subheader("Chronic absenteeism under each rule set")
    rule_sets = data.rule_sets(con, "district_rule_set", district, term["academic_session_id"])
    _rule_set_table(rule_sets)
    if not rule_sets.empty:
        _tier_chart(rule_sets, st.selectbox("Risk tiers under", list(rule_sets["rule_set_id"])))
    _trend_chart(data.weekly(con, district, term["start_date"], term["end_date"]), "Absence rate by week")


def school_page() -> None:
    con = _connection(OPTIONS.file)
    picked = _pick_district_and_term(con)
    if picked is None:
        return
    district, term = picked
    schools = data.schools(con, district)
    name = st.sidebar.selectbox("School", list(schools["school_name"]))
    school = schools[schools["school_name"] == name].iloc[0]["school_id"]
    st.title(f"{name}: {term['session_title']}")
    session = term["academic_session_id"]
    figures = data.metrics(con, "school_session", district, school_id=school, academic_session_id=session)
    columns = st.columns(3)
    columns[0].metric("Absence rate", percent(figures.get("absence_rate")))
    columns[1].metric("Students", count(figures.get("enrolled_students")))
    columns[2].metric("Membership days", days(figures.get("membership_days")))
    rule_sets = data.rule_sets(con, "school_rule_set", district, session, school)
    if not rule_sets.empty:
        st.subheader("Chronic absenteeism at the school")
        _rule_set_table(rule_sets)
    _trend_chart(data.weekly(con, district, term["start_date"], term["end_date"], school), "Absence rate by week")
    st.subheader("Grades and subgroups (published, small cells suppressed)")
    _subgroup_table(data.subgroups(con, district, session, school, "federal_school"))


def _subgroup_table(frame: pd.DataFrame) -> None:
    def shown(value: object, formatter) -> str:
        return "suppressed" if value is None or pd.isna(value) else formatter(value)

    st.dataframe(
        pd.DataFrame(
            {
                "group": frame["reporting_group_type"],
                "value": frame["reporting_group_value"],
                "students": [shown(v, count) for v in frame["student_count"]],
                "absence rate": [shown(v, percent) for v in frame["absence_rate"]],
                "chronic rate": [shown(v, percent) for v in frame["chronic_absence_rate"]],
            }
        ),
        hide_index=True,
        use_container_width=True,
    )


def early_warning_page() -> None:
    con = _connection(OPTIONS.file)
    districts = data.districts(con)
    district = st.sidebar.selectbox("District", districts, index=_default_index(districts, "demo-unified"))
    st.title(f"Early warning: {district}")
    frame = data.early_warning(con, district)
    projected = int(frame["is_projected_chronically_absent"].sum()) if not frame.empty else 0
    columns = st.columns(2)
    columns[0].metric("Projected chronically absent", count(projected))
    columns[1].metric("On a streak of 2+ absent days", count((frame["consecutive_absent_days"] >= 2).sum()))
    st.caption(
        "Students to call: projected chronic this school year or absent two school days in a row, as of their last day."
    )
    st.dataframe(
        frame.drop(columns=["student_id"]).rename(
            columns={
                "ytd_absence_rate": "year-to-date rate",
                "ytd_risk_tier": "tier",
                "consecutive_absent_days": "consecutive absences",
                "absent_days_until_chronic": "absences to threshold",
                "is_projected_chronically_absent": "projected chronic",
            }
        ),
        hide_index=True,
        use_container_width=True,
        column_config={
            "as_of": st.column_config.DateColumn("as of"),
            "year-to-date rate": st.column_config.NumberColumn(format="percent"),
        },
    )


def health_page() -> None:
    con = _connection(OPTIONS.file)
    districts = data.districts(con)
    district = st.sidebar.selectbox("District", districts, index=_default_index(districts, "demo-unified"))
    st.title(f"Data health: {district}")
    frames = data.health(con, district)
    loads = frames["source_loads"]
    columns = st.columns(3)
    columns[0].metric("Quarantined rows", count(frames["quarantined_rows"]["quarantined_rows"].sum()))
    columns[1].metric("Refused files", count(len(frames["refused_files"])))
    columns[2].metric("Sources loaded", count(len(loads)))
    for title, name in (
        ("Last load per source", "source_loads"),
        ("Quarantined rows", "quarantined_rows"),
        ("Refused files", "refused_files"),
        ("Identity match rates (records matched to a person)", "identity_match_rates"),
    ):
        st.subheader(title)
        st.dataframe(frames[name], hide_index=True, use_container_width=True)


def published_page() -> None:
    con = _connection(OPTIONS.file)
    picked = _pick_district_and_term(con)
    if picked is None:
        return
    district, term = picked
    st.title(f"Published rates: {district}, {term['session_title']}")
    st.caption(
        "Cells with fewer students than the publication minimum are suppressed: their numbers are not published."
    )
    cells = data.published_cells(con, district, term["academic_session_id"])
    st.metric("Suppressed cells", count(cells["is_suppressed"].sum()))
    st.dataframe(cells, hide_index=True, use_container_width=True)


def main() -> None:
    st.set_page_config(page_title="rollcall attendance", layout="wide")
    if OPTIONS.audience == "public":
        pages = [st.Page(published_page, title="Published rates", url_path="published", default=True)]
    else:
        pages = [
            st.Page(overview_page, title="District overview", url_path="overview", default=True),
            st.Page(school_page, title="School", url_path="school"),
            st.Page(early_warning_page, title="Early warning", url_path="early-warning"),
            st.Page(health_page, title="Data health", url_path="health"),
        ]
    st.navigation(pages).run()


OPTIONS = _options()
main()
