"""Project rules checked over dbt's manifest (the reviewer rules of dbt-project-evaluator) and
the generated staging YAML."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rollcall import codegen
from rollcall.settings import PROJECT_ROOT
from tests.python.support import dbt_env, dbt_target_path

LAYER_PREFIXES = {"staging": ("stg_",), "intermediate": ("int_",), "marts": ("dim_", "fct_")}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    target = tmp_path_factory.mktemp("dbt-target")
    # the tests' usual warehouse path and their partial parse, when an earlier test left one:
    # dbt re-reads only the files changed since (the manifest is the same as a full parse's)
    env = dbt_env(target / "warehouse.duckdb", ())
    partial_parse = dbt_target_path() / "partial_parse.msgpack"  # a plain dbt run's
    if partial_parse.is_file():
        shutil.copy(partial_parse, target / partial_parse.name)
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run(
        [str(dbt), "parse", "--project-dir", ".", "--profiles-dir", ".", "--target-path", str(target)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    return json.loads((target / "manifest.json").read_text())


def _models(manifest: dict) -> list[dict]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


def test_generated_staging_yaml_is_up_to_date():
    for path, text in codegen.outputs().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run `make codegen`"


@pytest.mark.dbt
def test_every_model_and_column_is_documented(manifest):
    for model in _models(manifest):
        assert model["description"].strip(), f"{model['name']} has no description"
        assert model["columns"], f"{model['name']} documents no columns"
        for name, column in model["columns"].items():
            assert column["description"].strip(), f"{model['name']}.{name} has no description"


@pytest.mark.dbt
def test_every_model_has_a_primary_key_test(manifest):
    tests_by_model: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or "test_metadata" not in node:
            continue
        for parent in node["depends_on"]["nodes"]:
            kind = node["test_metadata"]["name"]
            column = node.get("column_name")
            tests_by_model.setdefault(parent, set()).add(f"{kind}:{column}" if column else kind)
    for model in _models(manifest):
        tests = tests_by_model.get(model["unique_id"], set())
        unique_columns = {t.split(":", 1)[1] for t in tests if t.startswith("unique:")}
        not_null_columns = {t.split(":", 1)[1] for t in tests if t.startswith("not_null:")}
        has_key = bool({"unique_combination_of_columns", "primary_key"} & tests) or unique_columns & not_null_columns
        assert has_key, f"{model['name']} has no primary-key test"


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
    raw_users = next(s for s in manifest["sources"].values() if s["name"] == "users")
    for column in ("given_name", "family_name", "email", "sms", "phone", "username"):
        assert raw_users["columns"][column]["meta"].get("pii") == "direct", column
    assert "password" not in raw_users["columns"]
    students = next(m for m in _models(manifest) if m["name"] == "dim_students")
    for column in ("given_name", "family_name", "email", "birth_date", "student_identifier"):
        assert students["columns"][column]["meta"].get("pii") == "direct", column


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

    pattern = re.compile(r"\{\{\s*(\w+)\('\"?(\w+)\"?'")
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
