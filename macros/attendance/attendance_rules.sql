{#-
    Attendance rules shared by the attendance models. Every threshold is a dbt var
    (dbt_project.yml) so a district can state its own rule.
-#}

{#-
    Chronic absenteeism: absent on at least `chronic_absence_threshold` of membership days
    (inclusive: exactly 10% is chronic) and at least `chronic_absence_min_days` membership days.
    Compared as decimals, not floats, so exactly 10% never rounds below the line.
-#}
{% macro is_chronically_absent(absent_days, membership_days) -%}
    (
        {{ membership_days }} >= {{ var('chronic_absence_min_days') }}
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
