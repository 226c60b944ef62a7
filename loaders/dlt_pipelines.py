"""dlt's working folder for a warehouse, and its pipelines into that warehouse.

One folder per warehouse FILE, beside it: ``<folder>/.<file name>.dlt``. dlt keeps its state,
schemas and load packages there; a package a crashed load left pending is aborted by the next
load of the same warehouse and never reaches another one. Packages are deleted once the
landed rows are counted (``discard_packages``): their job files are copies of rows (parquet
files with student names), which must not stay outside the warehouse.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import dlt
import duckdb
from dlt.common.runtime.collector import NULL_COLLECTOR, NullCollector

from loaders.fault_points import FAULT_ENV, fault_point


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
        progress=_FaultCollector() if os.environ.get(FAULT_ENV) else NULL_COLLECTOR,
    )
    if _has_packages_to_abort(pipeline):
        pipeline.abort_packages()
    _delete_completed_packages(pipeline)  # a crashed load may have left its rows there
    return pipeline


def _has_packages_to_abort(pipeline: dlt.Pipeline) -> bool:
    # not has_pending_data: a package whose abort was interrupted no longer counts as pending,
    # but the next run would finish that abort and delete the run's own new package with it
    return bool(pipeline.list_normalized_load_packages() or pipeline.list_extracted_load_packages())


def discard_packages(pipeline: dlt.Pipeline) -> None:
    """Delete the pipeline's load packages once a load is over: their job files are copies of
    rows. A package a failed run left pending is aborted (the files it held are recorded as
    failed and land again in full next time); if even that fails, the next load aborts it."""
    if _has_packages_to_abort(pipeline):
        with contextlib.suppress(Exception):  # the load already failed; new_pipeline aborts it later
            pipeline.abort_packages()
    _delete_completed_packages(pipeline)


def _delete_completed_packages(pipeline: dlt.Pipeline) -> None:
    for package_id in pipeline.list_completed_load_packages():
        shutil.rmtree(pipeline.get_load_package_info(package_id).package_path, ignore_errors=True)


class _FaultCollector(NullCollector):
    """dlt's progress hooks as crash points (``loaders.fault_points``): the end of extract and of
    normalize, and each load job done."""

    def _stop(self) -> None:
        step = (getattr(self, "step", "") or "").split(" ", 1)[0].lower()
        if step in ("extract", "normalize"):
            fault_point(f"dlt_{step}_done")

    def update(self, name: str, inc: int = 1, *args, label: str | None = None, **kwargs) -> None:
        if name == "Jobs" and inc == 1 and not label:
            fault_point("dlt_job_done")
