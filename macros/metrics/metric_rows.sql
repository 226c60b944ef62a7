{#-
    Rows of fct_attendance_metrics: the named metrics, as defined once in the dbt semantic layer
    (models/marts/metrics/_metrics__semantic.yml), aggregated over their semantic model by the
    given dimensions (a subset of METRIC_DIMENSIONS; the others are null), weekly when week_of
    names the time dimension to truncate. A simple metric is its measure's aggregate; a ratio
    metric divides its numerator's measure by its denominator's (null when that is 0).
-#}
{% macro metric_dimension_columns() -%}
    {{ return({'district_id': 'varchar', 'school_id': 'varchar', 'academic_session_id': 'varchar',
        'rule_set_id': 'varchar', 'week_start': 'date'}) }}
{%- endmacro %}

{% macro metric_rows(grain, metrics, dimensions, week_of=none) -%}
    {%- if not execute -%}
        {{ return('select null') }}
    {%- endif -%}
    {%- set definitions = semantic_definitions() -%}
    {%- set parts = {} -%}
    {%- set measures = [] -%}
    {%- for name in metrics -%}
        {%- set metric = definitions.metrics.get(name) -%}
        {%- if metric is none -%}
            {{ exceptions.raise_compiler_error('metric_rows: no metric named ' ~ name) }}
        {%- endif -%}
        {%- if metric.type == 'ratio' -%}
            {%- set numerator = definitions.metrics[metric.type_params.numerator.name].type_params.measure.name -%}
            {%- set denominator = definitions.metrics[metric.type_params.denominator.name].type_params.measure.name -%}
            {%- do parts.update({name: [numerator, denominator]}) -%}
            {%- do measures.extend([numerator, denominator]) -%}
        {%- else -%}
            {%- do parts.update({name: [metric.type_params.measure.name]}) -%}
            {%- do measures.append(metric.type_params.measure.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set models = [] -%}
    {%- for measure in measures -%}
        {%- set model = definitions.measures[measure][0] -%}
        {%- if model.name not in models -%}{%- do models.append(model.name) -%}{%- endif -%}
    {%- endfor -%}
    {%- if models | length != 1 -%}
        {{ exceptions.raise_compiler_error('metric_rows: metrics of one semantic model per call, got ' ~ models) }}
    {%- endif -%}
    {%- set relation = definitions.measures[measures[0]][0].node_relation.relation_name -%}
    {%- set group_by = dimensions + (['week_start'] if week_of else []) -%}
    with aggregated as (
        select
            {%- for column in dimensions %}
                {{ column }},
            {%- endfor %}
            {%- if week_of %}
                cast(date_trunc('week', {{ week_of }}) as date) as week_start,
            {%- endif %}
            {%- for measure in measures | unique %}
                {%- set definition = definitions.measures[measure][1] %}
                {{ measure_aggregate(definition) }} as {{ measure }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ relation }}
        {%- if group_by %}
            group by {{ group_by | join(', ') }}
        {%- endif %}
    )
    {%- for name in metrics %}
        select
            '{{ grain }}' as metric_grain,
            {%- for column, data_type in metric_dimension_columns().items() %}
                {{ column if column in group_by else 'cast(null as ' ~ contract_data_type(data_type) ~ ')' }} as {{ column }},
            {%- endfor %}
            '{{ name }}' as metric_name,
            {%- if parts[name] | length == 2 %}
                cast({{ parts[name][0] }} as double) / nullif(cast({{ parts[name][1] }} as double), 0) as metric_value
            {%- else %}
                cast({{ parts[name][0] }} as double) as metric_value
            {%- endif %}
        from aggregated
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}

{% macro measure_aggregate(measure) -%}
    {%- set expression = measure.expr or measure.name -%}
    {%- if measure.agg == 'count_distinct' -%}
        count(distinct {{ expression }})
    {%- elif measure.agg in ('sum', 'min', 'max', 'avg', 'count') -%}
        {{ measure.agg }}({{ expression }})
    {%- else -%}
        {{ exceptions.raise_compiler_error('metric_rows: unsupported aggregation ' ~ measure.agg ~ ' of ' ~ measure.name) }}
    {%- endif -%}
{%- endmacro %}

{#- The project's metrics and measures by name (measures with their semantic model). -#}
{% macro semantic_definitions() -%}
    {%- set metrics = {} -%}
    {%- set measures = {} -%}
    {%- for metric in graph.metrics.values() -%}
        {%- do metrics.update({metric.name: metric}) -%}
    {%- endfor -%}
    {%- for model in graph.semantic_models.values() -%}
        {%- for measure in model.measures -%}
            {%- do measures.update({measure.name: [model, measure]}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return({'metrics': metrics, 'measures': measures}) }}
{%- endmacro %}
