{#-
    Attendance rules shared by the attendance models. Every threshold is a dbt var
    (dbt_project.yml) so a district can state its own rule.
-#}

{#-
    Chronic absenteeism: absent on at least `chronic_absence_threshold` of membership days
    (inclusive: exactly 10% is chronic) and at least `chronic_absence_min_days` membership days.
    Compared as decimals, not floats, so exactly 10% never rounds below the line.
-#}
{#- `days_for_minimum` (default: membership_days) is checked against the minimum, so a
    projection can use the year's projected membership while the rate uses days so far. -#}
{% macro is_chronically_absent(absent_days, membership_days, days_for_minimum=none) -%}
    (
        {{ days_for_minimum or membership_days }} >= {{ var('chronic_absence_min_days') }}
        and {{ absent_days }} >= cast({{ var('chronic_absence_threshold') }} as decimal(9, 4)) * {{ membership_days }}
    )
{%- endmacro %}

{#- Absence rate = absent days / membership days; null when there are no membership days. -#}
{% macro absence_rate(absent_days, membership_days) -%}
    case
        when {{ membership_days }} > 0
            then cast({{ absent_days }} as {{ dbt.type_float() }}) / cast({{ membership_days }} as {{ dbt.type_float() }})
    end
{%- endmacro %}

{#-
    A day's absent value from its period records when no daily record exists
    (`period_rollup_rule`): half_or_more -> 1 when at least half the periods were absent,
    else 0; fraction -> the absent share of the periods.
-#}
{% macro period_rollup_absent_value(absent_share) -%}
    {%- set rule = var('period_rollup_rule') -%}
    {%- if rule == 'half_or_more' -%}
        case when {{ absent_share }} >= 0.5 then cast(1 as decimal(5, 4)) else cast(0 as decimal(5, 4)) end
    {%- elif rule == 'fraction' -%}
        cast({{ absent_share }} as decimal(5, 4))
    {%- else -%}
        {{ exceptions.raise_compiler_error("period_rollup_rule must be half_or_more or fraction, got " ~ rule) }}
    {%- endif -%}
{%- endmacro %}

{#-
    Attendance risk tier of an absence rate (bounds from the attendance_tier_bounds var, lower
    bounds inclusive): satisfactory, at_risk, moderate, severe.
-#}
{% macro attendance_risk_tier(absent_days, membership_days) -%}
    {%- set bounds = var('attendance_tier_bounds') -%}
    case
        when {{ membership_days }} is null or {{ membership_days }} <= 0 then null
        when {{ absent_days }} >= cast({{ bounds[2] }} as decimal(9, 4)) * {{ membership_days }} then 'severe'
        when {{ absent_days }} >= cast({{ bounds[1] }} as decimal(9, 4)) * {{ membership_days }} then 'moderate'
        when {{ absent_days }} >= cast({{ bounds[0] }} as decimal(9, 4)) * {{ membership_days }} then 'at_risk'
        else 'satisfactory'
    end
{%- endmacro %}

{#- A published number: null (suppressed) when the cell has fewer than publication_min_cell_size students. -#}
{% macro publishable(expression, student_count='student_count') -%}
    case when {{ student_count }} >= {{ var('publication_min_cell_size') }} then {{ expression }} end
{%- endmacro %}
