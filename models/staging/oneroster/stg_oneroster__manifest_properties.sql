with source as (
    select * from {{ source('raw_oneroster', 'manifest') }}
),

latest as (
    {#- manifests have no sourcedId: the newest manifest's value wins per property -#}
    select *
    from (
        select
            *,
            row_number() over (
                partition by _district_id, lower(trim(property_name))
                order by _loaded_at desc, _row_number desc
            ) as _version_rank
        from source
        where {{ clean_text('property_name') }} is not null
    ) as ranked
    where _version_rank = 1
),

renamed as (
    select
        _district_id as district_id,
        lower({{ clean_text('property_name') }}) as property_name,
        {{ clean_text('value') }} as property_value,
        {{ lineage_columns() }}
    from latest
)

select * from renamed
