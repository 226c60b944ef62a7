"""Project rules checked over dbt's manifest (the reviewer rules of dbt-project-evaluator) and
the generated source and staging YAML."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from rollcall import codegen
from rollcall.settings import PROJECT_ROOT
from tests.python.support import dbt_env, dbt_in_process, dbt_target_path

LAYER_PREFIXES = {"staging": ("stg_",), "intermediate": ("int_",), "marts": ("dim_", "fct_")}


def _dbt(*args: str, target: Path) -> subprocess.CompletedProcess:
    """A dbt command on the project (in this process), its artifacts and partial parse in ``target``."""
    env = {**dbt_env(target / "warehouse.duckdb", (), artifacts=True), "DBT_TARGET_PATH": str(target)}
    return dbt_in_process(args, env)


@pytest.fixture(scope="module")
def parsed_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dbt target folder holding the parsed project (manifest.json and partial parse)."""
    target = tmp_path_factory.mktemp("dbt-target")
    # the tests' usual warehouse path and their partial parse, when an earlier test left one:
    # dbt re-reads only the files changed since (the manifest is the same as a full parse's)
    partial_parse = dbt_target_path() / "partial_parse.msgpack"  # a plain dbt run's
    if partial_parse.is_file():
        shutil.copy(partial_parse, target / partial_parse.name)
    result = _dbt("parse", target=target)
    assert result.returncode == 0, result.stdout[-3000:]
    return target


@pytest.fixture(scope="module")
def manifest(parsed_target: Path) -> dict:
    return json.loads((parsed_target / "manifest.json").read_text())


def _models(manifest: dict) -> list[dict]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


def test_generated_staging_yaml_is_up_to_date():
    outputs = codegen.outputs()
    assert {path.parent.name for path in outputs} >= {
        "oneroster",
        "sis",
        "messaging",
        "powerschool",
        "classlink",
        "star",
    }
    for path, text in outputs.items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run `make codegen`"


def test_mapped_sources_document_every_landed_column():
    """The generated source YAML of every mapped layout lists exactly the columns the loader
    creates, in order, each described, with the config's PII classes."""
    import duckdb
    import yaml

    from loaders.mapped.formats import load_catalog
    from loaders.mapped.pipeline import ensure_mapped_raw_tables

    catalog = load_catalog()
    con = duckdb.connect()
    ensure_mapped_raw_tables(con, catalog)
    pii = {(f.schema, f.table, c.name): c.pii for f in catalog.formats.values() for c in f.columns}
    documented = set()
    for source in codegen.mapped_sources():
        (raw,) = yaml.safe_load(codegen.mapped_sources_path(source).read_text(encoding="utf-8"))["sources"]
        for table in raw["tables"]:
            landed = con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
                " order by ordinal_position",
                [raw["schema"], table["name"]],
            ).fetchall()
            assert [c["name"] for c in table["columns"]] == [name for (name,) in landed], table["name"]
            for column in table["columns"]:
                assert column["description"].strip(), f"{raw['name']}.{table['name']}.{column['name']}"
                expected = pii.get((raw["schema"], table["name"], column["name"]))
                if expected or column["name"] == "_extras":
                    assert column.get("meta", {}).get("pii") == (expected or "direct"), column["name"]
            documented.add(f"{raw['schema']}.{table['name']}")
    assert documented == set(catalog.raw_tables())
    sis_students = next(
        t
        for t in yaml.safe_load(codegen.mapped_sources_path("sis").read_text())["sources"][0]["tables"]
        if t["name"] == "students"
    )
    by_name = {c["name"]: c for c in sis_students["columns"]}
    assert by_name["guardians_json"]["meta"]["pii"] == "direct"  # guardians' names and phones
    assert by_name["phone_digits"]["meta"]["pii"] == "direct"
    assert "meta" not in by_name["phone_is_valid"]


@pytest.mark.dbt
def test_every_model_and_column_is_documented(manifest):
    for model in _models(manifest):
        assert model["description"].strip(), f"{model['name']} has no description"
        assert model["columns"], f"{model['name']} documents no columns"
        for name, column in model["columns"].items():
            assert column["description"].strip(), f"{model['name']}.{name} has no description"


def _generic_tests_by_model(manifest: dict) -> dict[str, list[dict]]:
    tests: dict[str, list[dict]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and "test_metadata" in node:
            for parent in node["depends_on"]["nodes"]:
                tests.setdefault(parent, []).append(node)
    return tests


@pytest.mark.dbt
def test_every_model_has_a_primary_key_test(manifest):
    tests_by_model: dict[str, set[str]] = {}
    for parent, nodes in _generic_tests_by_model(manifest).items():
        for node in nodes:
            kind = node["test_metadata"]["name"]
            columns = node["test_metadata"]["kwargs"].get("columns") if kind == "not_null_columns" else None
            for column in columns or [node.get("column_name")]:
                kind_name = "not_null" if columns else kind
                tests_by_model.setdefault(parent, set()).add(f"{kind_name}:{column}" if column else kind)
    for model in _models(manifest):
        tests = tests_by_model.get(model["unique_id"], set())
        unique_columns = {t.split(":", 1)[1] for t in tests if t.startswith("unique:")}
        not_null_columns = {t.split(":", 1)[1] for t in tests if t.startswith("not_null:")}
        has_key = bool({"unique_combination_of_columns", "primary_key"} & tests) or unique_columns & not_null_columns
        assert has_key, f"{model['name']} has no primary-key test"


@pytest.mark.dbt
def test_plain_not_null_tests_of_a_model_are_one_test(manifest):
    """Outside staging (where `rollcall check` reports each required field on its own), a
    model's or seed's columns that must not be null are checked in one scan: `not_null_columns`.
    Each data test is a node of every build, so a second plain `not_null` is a second pass."""
    for parent, nodes in _generic_tests_by_model(manifest).items():
        if parent.startswith("model.") and manifest["nodes"][parent]["original_file_path"].startswith("models/staging"):
            continue
        plain = [
            node["column_name"]
            for node in nodes
            if node["test_metadata"]["name"] == "not_null"
            and not node["config"].get("where")
            and node["config"].get("severity", "error").lower() == "error"
        ]
        assert len(plain) < 2, f"{parent}: fold the not_null tests of {plain} into one not_null_columns test"
        kwargs = [node["test_metadata"]["kwargs"] for node in nodes if not node["config"].get("where")]
        keys = [set(kw["combination"]) for kw in kwargs if "combination" in kw]
        required = [set(kw["columns"]) for kw in kwargs if "columns" in kw and "combination" not in kw]
        assert not [key for key in keys if key in required], (
            f"{parent}: a key that is also not_null is a primary_key test"
        )


@pytest.mark.dbt
def test_model_names_and_folders_follow_the_layers(manifest):
    for model in _models(manifest):
        parts = Path(model["original_file_path"]).parts
        layer = parts[1]
        assert layer in LAYER_PREFIXES, model["original_file_path"]
        assert model["name"].startswith(LAYER_PREFIXES[layer]), model["name"]
        if layer == "staging":
            source_folder = parts[2]
            assert model["name"].startswith(f"stg_{source_folder}__"), model["name"]
        else:
            assert len(parts) == 4, f"{model['name']} must sit in a domain folder under {layer}/"


@pytest.mark.dbt
def test_only_staging_reads_sources_and_staging_reads_nothing_else(manifest):
    for model in _models(manifest):
        parents = model["depends_on"]["nodes"]
        layer = Path(model["original_file_path"]).parts[1]
        reads_source = any(p.startswith("source.") for p in parents)
        if layer == "staging":
            assert reads_source and all(p.startswith("source.") for p in parents), model["name"]
            assert len(parents) == 1, f"{model['name']} reads more than one source"
        else:
            assert not reads_source, f"{model['name']} reads a source directly"


@pytest.mark.dbt
def test_every_raw_table_has_exactly_one_staging_model(manifest):
    readers: dict[str, list[str]] = {}
    for model in _models(manifest):
        for parent in model["depends_on"]["nodes"]:
            if parent.startswith("source."):
                readers.setdefault(parent, []).append(model["name"])
    sources = [n for n in manifest["sources"].values()]
    for source in sources:
        assert len(readers.get(source["unique_id"], [])) == 1, source["name"]


@pytest.mark.dbt
def test_person_columns_are_tagged_as_pii(manifest):
    raw_users = manifest["sources"]["source.rollcall.raw_oneroster.users"]
    for column in ("given_name", "family_name", "email", "sms", "phone", "username"):
        assert raw_users["columns"][column]["meta"].get("pii") == "direct", column
    assert "password" not in raw_users["columns"]
    students = next(m for m in _models(manifest) if m["name"] == "dim_students")
    for column in ("given_name", "family_name", "email", "birth_date", "student_identifier"):
        assert students["columns"][column]["meta"].get("pii") == "direct", column


# Columns that identify a person, by name: names, contact points, logins, birth dates, person
# ids, and free text that may carry any of them (extras, raw lines, repeated-group JSON).
PERSON_COLUMN = re.compile(
    r"^_?extras$|raw_line|^guardians?_json$"
    r"|(^|_)(given|family|first|last|middle|preferred_\w+|full|instructor|student|guardian|person)_name$"
    r"|(^|_)(email|alternate_email|phone|alternate_phone|home_phone|sms|contact_point|username|login|login_id)$"
    r"|(^|_)(phone|email)_(digits|normalized|e164)$|birth|(^|_)dob$|(^|_)address"
    r"|^(user|student|teacher|staff|guardian|person|agent)_(id|ids|number|identifier|sourced_id)s?$"
    r"|^user_ids$|^student_identifier$|^user_identifier$"
)


def _identifies_person(name: str) -> bool:
    """Flags (``is_email``, ``phone_is_valid``) say nothing about who a person is."""
    return PERSON_COLUMN.search(name) is not None and not name.startswith("is_") and not name.endswith("_is_valid")


def _untagged_person_columns(nodes) -> list[str]:
    missing = []
    for node in nodes:
        for name, column in node["columns"].items():
            if _identifies_person(name) and not (column.get("meta") or {}).get("pii"):
                missing.append(f"{node['name']}.{name}")
    return missing


@pytest.mark.dbt
def test_every_person_identifying_column_is_pii_tagged(manifest):
    """Every source and model column that identifies a person is tagged, ``_extras`` / ``extras`` too;
    every raw table documents its columns, so none escapes the check."""
    sources = list(manifest["sources"].values())
    assert [s["name"] for s in sources if not s["columns"]] == []
    assert {s["source_name"] for s in sources} >= {"raw_oneroster", "raw_sis", "raw_messaging", "raw_powerschool"}
    checked = [*sources, *_models(manifest)]
    assert sum(_identifies_person(c) for n in checked for c in n["columns"]) > 250
    assert _untagged_person_columns(checked) == []


def test_quarantined_raw_lines_are_tagged_pii_in_the_warehouse(warehouse):
    from loaders.audit import AuditLog

    warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse)) as con:
        AuditLog(con)
        comment = con.execute(
            """select comment from duckdb_columns()
               where schema_name = 'audit' and table_name = 'quarantined_rows' and column_name = 'raw_line'"""
        ).fetchone()[0]
    assert comment.startswith("pii: direct")


# The staging macro that must type each field-table data type.
CAST_FOR_TYPE = {
    "id": {"clean_text"},
    "id_ref": {"clean_text", "split_list"},
    "string": {"clean_text", "split_list"},
    "enum": {"clean_enum", "canonical_enum"},
    "date": {"parse_date"},
    "datetime": {"parse_timestamp"},
    "boolean": {"parse_boolean"},
    "decimal": {"parse_decimal"},
    "year": {"parse_integer"},
}


def test_staging_casts_follow_the_field_table():
    """Every landed field is staged exactly once, typed by the macro its data type calls for
    (lists split), so the field table decides parsing, casting and the generated tests."""
    import re

    from loaders.oneroster.settings import file_specs

    # a column named by a keyword is quoted by the adapter: {{ parse_boolean(adapter.quote('primary')) }}
    pattern = re.compile(r"\{\{\s*(\w+)\((?:adapter\.quote\()?'\"?(\w+)\"?'")
    for file_name, model in codegen.STAGING_MODELS.items():
        spec = file_specs()[file_name.lower()]
        sql = (codegen.STAGING_DIR / f"{model}.sql").read_text(encoding="utf-8")
        renamed = sql.split("renamed as (", 1)[1]
        casts: dict[str, set[str]] = {}
        for line in renamed.splitlines():
            match = pattern.search(line)
            if match and " as " in line and "is_daily_record" not in line:
                casts.setdefault(match.group(2), set()).add(match.group(1))
        for field in spec.landed_fields:
            if field.name in ("status", "dateLastModified"):
                continue  # staged by the shared oneroster_record_columns macro
            assert field.column in casts, f"{model} does not stage {file_name}.{field.name}"
            expected = {"split_list"} if field.is_list else CAST_FOR_TYPE[field.data_type] - {"split_list"}
            assert casts[field.column] <= expected, (
                f"{model}: {field.name} ({field.data_type}) cast with {casts[field.column]}"
            )


@pytest.mark.dbt
def test_dispatched_macros_have_duckdb_versions(manifest):
    """DuckDB-only SQL is named duckdb__ (what dbt-duckdb dispatches to), never default__."""
    macros = {m["name"]: m for m in manifest["macros"].values() if m["package_name"] == "rollcall"}
    assert not [name for name in macros if name.startswith("default__")]
    dispatched = {
        name
        for macro in macros.values()
        for name in re.findall(r"adapter\.dispatch\('(\w+)', 'rollcall'\)", macro["macro_sql"])
    }
    assert {"type_double", "parse_date", "unnest_list"} <= dispatched
    for name in dispatched:
        assert f"duckdb__{name}" in macros, f"{name} has no duckdb__ implementation"


def _key_registry() -> dict[str, str]:
    text = (PROJECT_ROOT / "macros" / "keys.sql").read_text(encoding="utf-8")
    body = text.split("macro key_registry()", 1)[1].split("endmacro", 1)[0]
    return dict(re.findall(r"'(\w+)': \[([^\]]*)\]", body))


@pytest.mark.dbt
def test_surrogate_keys_come_from_the_key_registry(manifest):
    """Each key's columns are listed once (macros/keys.sql); models call skey(), never gen_skey()."""
    registry = _key_registry()
    assert {"k_student", "k_school", "k_academic_session", "person_key"} <= set(registry)
    used = set()
    for model in _models(manifest):
        assert "gen_skey(" not in model["raw_code"], f"{model['name']} spells a key's columns: use skey()"
        for name in re.findall(r"skey\('(\w+)'", model["raw_code"]):
            assert name in registry, f"{model['name']}: key {name} is not in macros/keys.sql"
            used.add(name)
        for column in model["columns"]:
            if column.startswith("k_") and "skey(" in model["raw_code"] and f"as {column}" in model["raw_code"]:
                assert column in registry, f"{model['name']}.{column} is not in macros/keys.sql"
    assert used == set(registry), f"registered but unused: {sorted(set(registry) - used)}"


@pytest.mark.dbt
def test_student_union_is_an_intermediate_model(manifest):
    students = next(m for m in _models(manifest) if m["name"] == "dim_students")
    assert students["depends_on"]["nodes"] == ["model.rollcall.int_students_unioned"]


SUBJECT_TAGS = {"core", "attendance", "identity", "messaging", "assessment", "quality"}


@pytest.mark.dbt
def test_tags_mark_subject_areas_and_pii(manifest):
    for model in _models(manifest):
        folder = Path(model["original_file_path"]).parts
        has_pii = any(c.get("meta", {}).get("pii") for c in model["columns"].values())
        assert ("pii" in model["tags"]) == has_pii, (
            f"{model['name']}: pii tag {'missing' if has_pii else 'without'} PII"
        )
        if folder[1] == "marts":
            assert folder[2] in model["tags"], f"{model['name']} lacks the {folder[2]} tag"
        if folder[1] != "staging":
            assert SUBJECT_TAGS & set(model["tags"]), f"{model['name']} has no subject-area tag"


@pytest.mark.dbt
def test_dbt_ls_selects_by_tag(parsed_target, manifest):
    """`dbt ls -s tag:core` lists the core models (one dbt call, on the fixture's parse)."""
    result = _dbt(
        "ls", "-s", "tag:core", "--resource-type", "model", "--output", "name", "--quiet", target=parsed_target
    )
    assert result.returncode == 0, result.stdout[-3000:]
    expected = {m["name"] for m in _models(manifest) if "core" in m["tags"]}
    assert set(result.stdout.split()) == expected
    assert {"dim_students", "int_students_unioned", "fct_enrollments"} <= expected


@pytest.mark.dbt
def test_docs_overview_names_every_mart(manifest):
    """The docs site opens on an overview that points an analyst at every mart."""
    overview = manifest["docs"]["doc.rollcall.__overview__"]["block_contents"]
    names = {m["name"] for m in _models(manifest)}
    mentioned = set(re.findall(r"`((?:dim|fct|int|stg)_\w+)`", overview))
    assert mentioned <= names, f"the overview names models that do not exist: {sorted(mentioned - names)}"
    marts = {m["name"] for m in _models(manifest) if Path(m["original_file_path"]).parts[1] == "marts"}
    assert marts <= mentioned, f"the overview leaves out {sorted(marts - mentioned)}"
    for topic in ("## Where to start", "## Rates", "## Chronic absenteeism", "## Quality", "tag:"):
        assert topic in overview


@pytest.mark.dbt
def test_every_mapped_raw_table_is_a_source_of_its_name(manifest):
    """A planned build selects ``source:raw_<source>.<table>`` for a table a load changed
    (rollcall/build_plan.py), so each source table is named as the table it reads."""
    from loaders.mapped.formats import load_catalog

    for qualified in load_catalog().raw_tables():
        assert f"source.rollcall.{qualified}" in manifest["sources"], qualified


def test_codegen_refuses_a_mapped_column_without_description(tmp_path):
    from loaders.mapped.formats import load_catalog

    (tmp_path / "vendor.yml").write_text(
        "source: vendor\ndescription: A vendor.\nformats:\n"
        "  - {name: vendor_people, table: people, description: People., columns: [{name: person_id, headers: [ID]}]}\n",
        encoding="utf-8",
    )
    (fmt,) = load_catalog(folder=tmp_path).formats.values()
    with pytest.raises(ValueError, match=r"config/formats/vendor.yml: format vendor_people: column person_id has no"):
        codegen.mapped_sources_yaml("vendor", [fmt])
