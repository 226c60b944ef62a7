{#-
    OneRoster conformance tests, generated onto the staging models from the field table
    (rollcall.codegen). Failing rows are stored in the test_failures schema.
-#}

{#-
    Every non-null reference (a *SourcedId column) must name a record of the referenced file
    in the same district. Fix: send the referenced record, or correct the id.
-#}
{% test references_resolve(model, column_name, to, field) %}
    select
        referencing.district_id,
        referencing.{{ column_name }}
    from (select * from {{ model }}) as referencing
    left join {{ to }} as referenced
        on
            referencing.district_id = referenced.district_id
            and referencing.{{ column_name }} = referenced.{{ field }}
    where
        referencing.{{ column_name }} is not null
        and referenced.{{ field }} is null
{% endtest %}

{#-
    Bulk files leave status and dateLastModified blank; delta files fill both (OneRoster 1.1
    CSV binding). Fix: export the file in the mode its manifest states.
-#}
{% test status_matches_file_mode(model) %}
    select
        district_id,
        source_file,
        source_row_number,
        file_mode,
        record_status,
        last_modified_at
    from {{ model }}
    where
        (file_mode = 'bulk' and (record_status is not null or last_modified_at is not null))
        or (file_mode = 'delta' and (record_status is null or last_modified_at is null))
{% endtest %}
