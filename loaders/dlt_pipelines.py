"""dlt's working folder for a warehouse, and its pipelines into that warehouse.

One folder per warehouse FILE, beside it: ``<folder>/.<file name>.dlt``. dlt keeps its state,
schemas and load packages there; a package a crashed load left pending is aborted by the next
load of the same warehouse and never reaches another one. Completed packages are deleted once
the landed rows are counted (``discard_completed_packages``): their job files are copies of
rows (parquet files with student names), which must not stay outside the warehouse.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dlt
import duckdb


def pipelines_dir_for(database: Path) -> Path:
    """dlt's working folder for one warehouse file: ``<folder>/.<file name>.dlt``. Private to the
    file, so a package left by a crashed load can never reach another warehouse."""
    return database.parent / f".{database.name}.dlt"


def new_pipeline(con: duckdb.DuckDBPyConnection, name: str, pipelines_dir: Path, dataset: str) -> dlt.Pipeline:
    """A dlt pipeline into the open warehouse. Packages a crashed earlier load left pending are
    aborted, not replayed: that load is recorded as failed and its files land again in full."""
    pipeline = dlt.pipeline(
        pipeline_name=name,
        pipelines_dir=str(pipelines_dir),
        destination=dlt.destinations.duckdb(con),
        dataset_name=dataset,
    )
    if pipeline.has_pending_data:
        pipeline.abort_packages()
    return pipeline


def discard_completed_packages(pipeline: dlt.Pipeline) -> None:
    """Delete the pipeline's completed load packages: their job files are copies of landed rows."""
    for package_id in pipeline.list_completed_load_packages():
        shutil.rmtree(pipeline.get_load_package_info(package_id).package_path, ignore_errors=True)
