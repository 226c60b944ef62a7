{#-
    Cross-source student identity resolution (and the staging of the mapped exports it reads).
    DuckDB-only SQL stays in the adapter-dispatched macros below.
-#}

{#-
    The rows of a mapped raw table (raw_<source>.<table>), or no rows with the table's
    documented columns when nothing has been landed for that format yet: a warehouse that only
    receives OneRoster packages still builds. Column types come from the source YAML
    (`data_type`, default text).
-#}
{% macro mapped_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute or load_relation(relation) is not none -%}
        select * from {{ relation }}
    {%- else -%}
        {%- set node = graph.sources['source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name] -%}
        select
            {%- for column in node.columns.values() %}
            cast(null as {{ column.data_type or dbt.type_string() }}) as {{ column.name }}{{ "," if not loop.last }}
            {%- endfor %}
        where 1 = 0
    {%- endif -%}
{%- endmacro %}

{#-
    Settings with district overrides: one row per district of `districts` and value of `key`,
    taken from the district's own row when it has one, else from the default row
    (district_id '*'). The resolved district is `setting_district_id`; `is_district_setting`
    tells which row won.
-#}
{% macro district_settings(settings, districts, key) -%}
    select *
    from (
        select
            {{ districts }}.district_id as setting_district_id,
            {{ settings }}.*,
            {{ settings }}.district_id <> '*' as is_district_setting,
            row_number() over (
                partition by {{ districts }}.district_id, {{ settings }}.{{ key }}
                order by case when {{ settings }}.district_id = '*' then 1 else 0 end
            ) as setting_rank
        from {{ districts }}
        inner join {{ settings }}
            on {{ settings }}.district_id in ({{ districts }}.district_id, '*')
    ) as ranked_settings
    where setting_rank = 1
{%- endmacro %}

{#-
    Candidates of an exact match rule: every anchor record (CTE `anchors`) of the district whose
    `keys` all equal those of a non-anchor record (CTE `non_anchors`); a null key matches nothing.
-#}
{% macro exact_rule_candidates(rule_name, keys) -%}
    select
        non_anchors.district_id,
        non_anchors.source_system,
        non_anchors.source_record_id,
        '{{ rule_name }}' as rule_name,
        anchors.source_system as anchor_source_system,
        anchors.source_record_id as anchor_record_id,
        cast(null as decimal(9, 4)) as name_similarity
    from non_anchors
    inner join anchors
        on
            non_anchors.district_id = anchors.district_id
            {%- for key in keys %}
            and non_anchors.{{ key }} = anchors.{{ key }}
            {%- endfor %}
{%- endmacro %}

{#- An email address for matching: an address (clean_email), lower case, without any spaces. -#}
{% macro normalize_email(column) -%}
    replace({{ clean_email(column) }}, ' ', '')
{%- endmacro %}

{#- A name part for matching: lower case, accents removed, letters only ("O'Brien-Smith" -> obriensmith). -#}
{% macro normalize_name(column) -%}
    {{ return(adapter.dispatch('normalize_name', 'rollcall')(column)) }}
{%- endmacro %}

{% macro duckdb__normalize_name(column) -%}
    nullif(regexp_replace(lower(strip_accents(trim({{ column }}))), '[^a-z]', '', 'g'), '')
{%- endmacro %}

{% macro spark__normalize_name(column) -%}
    nullif(regexp_replace(lower(translate(trim({{ column }}), '{{ accented_letters() }}', '{{ unaccented_letters() }}')), '[^a-z]', ''), '')
{%- endmacro %}

{#- Similarity of two normalized names, 0 (nothing alike) to 1 (equal): Jaro-Winkler. -#}
{% macro name_similarity(left_name, right_name) -%}
    {{ return(adapter.dispatch('name_similarity', 'rollcall')(left_name, right_name)) }}
{%- endmacro %}

{% macro duckdb__name_similarity(left_name, right_name) -%}
    jaro_winkler_similarity({{ left_name }}, {{ right_name }})
{%- endmacro %}

{% macro spark__name_similarity(left_name, right_name) -%}
    {{ spark_jaro_winkler(left_name, right_name) }}
{%- endmacro %}

{#- Letters with accents and the same letters without (Latin-1 and Latin Extended-A), for Spark's translate(). -#}
{% macro accented_letters() -%}
    ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÝýÿĀāĂăĄąĆćČčĎďĒēĘęĚěĞğĪīİıŁłŃńŇňŌōŐőŘřŚśŞşŠšŢţŤťŪūŮůŰűŹźŻżŽž
{%- endmacro %}

{% macro unaccented_letters() -%}
    AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOOooooooUUUUuuuuYyyAaAaAaCcCcDdEeEeEeGgIiIiLlNnNnOoOoRrSsSsSsTtTtUuUuUuZzZzZz
{%- endmacro %}

{#-
    Jaro-Winkler similarity in Spark SQL (DuckDB's jaro_winkler_similarity, spelled out): characters
    match when equal and at most max(len) / 2 - 1 apart, each used once, left to right; half the
    matched characters out of order are transpositions (integer halving, as DuckDB); a common prefix
    of up to 4 characters adds 0.1 per character of the remaining distance when the Jaro similarity
    is above 0.7. Null when either name is null. docs/scale-out.md compares the two on the demo data.
-#}
{% macro spark_jaro_winkler(left_name, right_name) -%}
    {%- set a, b = '(' ~ left_name ~ ')', '(' ~ right_name ~ ')' -%}
    {%- set window = 'greatest(greatest(length(' ~ a ~ '), length(' ~ b ~ ')) div 2 - 1, 0)' -%}
    {%- set prefix_length = 'least(4, length(' ~ a ~ '), length(' ~ b ~ '))' -%}
    aggregate(
        sequence(1, greatest(length({{ a }}), 1)),
        named_struct('used', array_repeat(false, length({{ b }})), 'matched', cast(array() as array<int>)),
        (state, i) -> aggregate(
            array(coalesce(try_element_at(filter(
                sequence(1, greatest(length({{ b }}), 1)),
                k -> i <= length({{ a }}) and k <= length({{ b }}) and abs(k - i) <= {{ window }}
                    and substr({{ b }}, k, 1) = substr({{ a }}, i, 1) and not try_element_at(state.used, k)
            ), 1), 0)),
            state,
            (inner, j) -> case
                when j = 0 then inner
                else named_struct(
                    'used', transform(inner.used, (used, position) -> used or position + 1 = j),
                    'matched', concat(inner.matched, array(i))
                )
            end
        ),
        state -> case
            when {{ a }} is null or {{ b }} is null then null
            when size(state.matched) = 0 then cast(0 as double)
            else aggregate(
                array(named_struct(
                    'm', cast(size(state.matched) as double),
                    'jaro', (
                        size(state.matched) / length({{ a }})
                        + size(state.matched) / length({{ b }})
                        + (size(state.matched) - size(filter(
                            arrays_zip(
                                transform(state.matched, i -> substr({{ a }}, i, 1)),
                                transform(filter(sequence(1, length({{ b }})), k -> try_element_at(state.used, k)), k -> substr({{ b }}, k, 1))
                            ),
                            pair -> pair['0'] <> pair['1']
                        )) div 2) / size(state.matched)
                    ) / 3,
                    'prefix', case
                        when array_position(transform(sequence(1, {{ prefix_length }}), k -> substr({{ a }}, k, 1) = substr({{ b }}, k, 1)), false) = 0
                            then {{ prefix_length }}
                        else array_position(transform(sequence(1, {{ prefix_length }}), k -> substr({{ a }}, k, 1) = substr({{ b }}, k, 1)), false) - 1
                    end
                )),
                cast(0 as double),
                (score, parts) -> case
                    when parts.jaro > 0.7 then parts.jaro + parts.prefix * 0.1 * (1 - parts.jaro)
                    else parts.jaro
                end
            )
        end
    )
{%- endmacro %}
