{#-
    Attendance rules shared by the attendance models. Every threshold is a dbt var
    (dbt_project.yml) so a district can state its own rule.
-#}

{#-
    Exact absences. A day's absent share is kept as a whole number of absent units, 1/27,720,000,000
    of a day: every absentValue (4 decimals) times every instructional value (2 decimals), and
    every share of up to 12 periods (the fraction roll-up rule), is a whole number of units, so
    sums and every comparison with a threshold are exact. A day of more than 12 periods rounds to
    the nearest unit (less than 2e-11 of a day).
-#}
{% macro absent_units_per_day() -%}
    27720000000
{%- endmacro %}

{#- Units of an absent share given as a decimal with up to 4 places (an absentValue). -#}
{% macro absent_units(share) -%}
    (cast(round({{ share }} * 10000) as bigint) * 2772000)
{%- endmacro %}

{#- Units of a day's share times its instructional value (up to 2 decimals). -#}
{% macro weighted_absent_units(units, instructional_value) -%}
    ({{ integer_divide('cast(' ~ units ~ ' as bigint)', 100) }} * cast(round({{ instructional_value }} * 100) as bigint))
{%- endmacro %}

{#- Absent days for display (a decimal rounded to 6 places) from absent units. -#}
{% macro absent_days_from_units(units) -%}
    cast(round(cast({{ units }} as {{ type_double() }}) / {{ absent_units_per_day() }}, 6) as decimal(18, 6))
{%- endmacro %}

{#-
    True when `units` absent are at least `share` (up to 4 decimals: a var or a column) of
    `membership_days` (up to 2 decimals) — exact, in 64-bit integers: units/U >= bp/10^4 * mh/100
    is units >= bp * mh * U/10^6, and U/10^6 = 27,720.
-#}
{% macro absent_units_reach(units, share, membership_days) -%}
    {%- if share is number -%}
        {%- set basis_points = (share * 10000) | round | int -%}
    {%- else -%}
        {%- set basis_points = 'cast(round(' ~ share ~ ' * 10000) as bigint)' -%}
    {%- endif -%}
    {{ units }} >= {{ basis_points }} * cast(round({{ membership_days }} * 100) as bigint) * 27720
{%- endmacro %}

{#-
    The days a minimum-days rule counts (chronic_minimum_days_basis): `membership` sums the
    membership value (a half day 0.5); `enrolled_days` counts every membership day as 1.
-#}
{% macro minimum_days_basis(membership_days, membership_day_count) -%}
    {%- set basis = var('chronic_minimum_days_basis') -%}
    {%- if basis == 'membership' -%}
        {{ membership_days }}
    {%- elif basis == 'enrolled_days' -%}
        {{ membership_day_count }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("chronic_minimum_days_basis must be membership or enrolled_days, got " ~ basis) }}
    {%- endif -%}
{%- endmacro %}

{#-
    Chronic absenteeism: absent on at least `threshold` (default the chronic_absence_threshold
    var; inclusive: exactly 10% is chronic) of membership days, with at least `min_days` (default
    chronic_absence_min_days) days by the basis above. Compared in exact absent units.
-#}
{% macro is_chronically_absent(absent_units, membership_days, days_for_minimum, threshold=none, min_days=none) -%}
    (
        {{ days_for_minimum }} >= {{ min_days if min_days is not none else var('chronic_absence_min_days') }}
        and {{ absent_units_reach(absent_units, threshold if threshold is not none else var('chronic_absence_threshold'), membership_days) }}
    )
{%- endmacro %}

{#- Absence rate = absent days / membership days (a double); null when there are no membership days. -#}
{% macro absence_rate(absent_units, membership_days) -%}
    case
        when {{ membership_days }} > 0
            then cast({{ absent_units }} as {{ type_double() }})
                / (cast({{ membership_days }} as {{ type_double() }}) * {{ absent_units_per_day() }})
    end
{%- endmacro %}

{#- A share of two counts (a double); null when the denominator is 0. -#}
{% macro count_share(numerator, denominator) -%}
    case
        when {{ denominator }} > 0
            then cast({{ numerator }} as {{ type_double() }}) / cast({{ denominator }} as {{ type_double() }})
    end
{%- endmacro %}

{#-
    A day's absent share in units, from its period records (`period_rollup_rule`):
      half_or_more -> the whole day when the periods' absent values add up to at least half
                      the periods, else nothing;
      fraction     -> the periods' absent values / the number of periods.
    `value_sum_units` is the sum of the periods' absentValues as absent_units().
-#}
{% macro period_rollup_units(value_sum_units, period_count) -%}
    {%- set rule = var('period_rollup_rule') -%}
    {%- if rule == 'half_or_more' -%}
        case
            when {{ value_sum_units }} * 2 >= {{ period_count }} * {{ absent_units_per_day() }}
                then cast({{ absent_units_per_day() }} as bigint)
            else cast(0 as bigint)
        end
    {%- elif rule == 'fraction' -%}
        cast(round(cast({{ value_sum_units }} as {{ type_double() }}) / {{ period_count }}) as bigint)
    {%- else -%}
        {{ exceptions.raise_compiler_error("period_rollup_rule must be half_or_more or fraction, got " ~ rule) }}
    {%- endif -%}
{%- endmacro %}

{#-
    A code's absent value under the tardy rule (`tardy_absent_value`): as_coded keeps the code's
    absentValue (tardy codes are normally 0); zero never counts a tardy code as absence.
-#}
{% macro coded_absent_value(absent_value, category) -%}
    {%- set rule = var('tardy_absent_value') -%}
    {%- if rule == 'as_coded' -%}
        {{ absent_value }}
    {%- elif rule == 'zero' -%}
        case when {{ category }} = 'tardy' then 0 else {{ absent_value }} end
    {%- else -%}
        {{ exceptions.raise_compiler_error("tardy_absent_value must be as_coded or zero, got " ~ rule) }}
    {%- endif -%}
{%- endmacro %}

{#-
    Attendance risk tier of the absent share (bounds from the attendance_tier_bounds var, lower
    bounds inclusive): satisfactory, at_risk, moderate, severe. Exact, in absent units.
-#}
{% macro attendance_risk_tier(absent_units, membership_days) -%}
    {%- set bounds = var('attendance_tier_bounds') -%}
    case
        when {{ membership_days }} is null or {{ membership_days }} <= 0 then null
        when {{ absent_units_reach(absent_units, bounds[2], membership_days) }} then 'severe'
        when {{ absent_units_reach(absent_units, bounds[1], membership_days) }} then 'moderate'
        when {{ absent_units_reach(absent_units, bounds[0], membership_days) }} then 'at_risk'
        else 'satisfactory'
    end
{%- endmacro %}

{#- A published number: null (suppressed) when the cell has fewer than publication_min_cell_size students. -#}
{% macro publishable(expression, student_count='student_count') -%}
    case when {{ student_count }} >= {{ var('publication_min_cell_size') }} then {{ expression }} end
{%- endmacro %}

{#-
    Precedence of attendance categories when period records roll up into a day: the day takes
    the first category, in this order, among the periods that made it absent.
-#}
{% macro category_precedence(category) -%}
    case {{ category }}
        when 'suspension' then 1
        when 'unexcused' then 2
        when 'excused' then 3
        when 'earlyDeparture' then 4
        when 'tardy' then 5
        else 6
    end
{%- endmacro %}

{% macro category_of_precedence(rank) -%}
    case {{ rank }}
        when 1 then 'suspension'
        when 2 then 'unexcused'
        when 3 then 'excused'
        when 4 then 'earlyDeparture'
        when 5 then 'tardy'
        else 'present'
    end
{%- endmacro %}

{#-
    The attendance records of `records` (a CTE of int_attendance_records_unioned rows) that a newer
    record for the same slot — district, student, school, date, daily or class period — supersedes
    (latest load wins, then the later row). Found without sorting every record: only slots whose
    hash occurs more than once are ranked, by their full key.
-#}
{% macro superseded_attendance_records(records) -%}
    {%- set slot = ['district_id', 'user_id', 'school_id', 'attendance_date', 'is_daily_record', 'class_id', 'period'] -%}
    select
        district_id,
        attendance_record_id,
        source_system
    from (
        select
            district_id,
            attendance_record_id,
            source_system,
            row_number() over (
                partition by {{ slot | join(', ') }}
                order by loaded_at desc, source_row_number desc
            ) as version_rank
        from {{ records }}
        where {{ row_hash(slot) }} in (
            select {{ row_hash(slot) }} from {{ records }}
            group by {{ row_hash(slot) }}
            having count(*) > 1
        )
    ) as repeated_slots
    where version_rank > 1
{%- endmacro %}
