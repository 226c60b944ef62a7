"""dlt's working folder for a warehouse, and its pipelines into that warehouse.

One folder per warehouse FILE, beside it: ``<folder>/.<file name>.dlt``. dlt keeps its state,
schemas and load packages there, so nothing of one warehouse's loads reaches another. Packages
are deleted once the landed rows are counted (``discard_packages``): their job files are copies
of rows (parquet files with student names), which must not stay outside the warehouse. Whatever
a load that died left there is deleted by the next load of the same warehouse
(``clear_packages``), never replayed: its files land again from the drop. A load's scratch folder
(``<folder>/.<file name>.scratch``) is beside the warehouse too, and emptied the same way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import dlt
import duckdb
from dlt.common.runtime.collector import NULL_COLLECTOR, NullCollector

from loaders.fault_points import FAULT_ENV, fault_point

PACKAGE_STATES = ("new", "normalized", "loaded")  # dlt's folders of load packages under load/


def pipelines_dir_for(database: Path) -> Path:
    """dlt's working folder for one warehouse file: ``<folder>/.<file name>.dlt``. Private to the
    file, so a package left by a crashed load can never reach another warehouse."""
    return database.parent / f".{database.name}.dlt"


def scratch_dir_for(database: Path) -> Path:
    """A load's scratch folder for one warehouse file: ``<folder>/.<file name>.scratch``. It holds
    rewritten copies of drop files and dlt's SQL models: beside the warehouse whose rows they copy,
    never in a shared temp folder where a killed load would leave them."""
    return database.parent / f".{database.name}.scratch"


@contextlib.contextmanager
def load_scratch(database: Path) -> Iterator[Path]:
    """The load's empty scratch folder (enter it under the writer lock): whatever a load that died
    left there is removed first, and everything when this load ends."""
    scratch = scratch_dir_for(database)
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(mode=0o700)
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


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
    _delete_packages(pipeline)  # a load that died may have left rows there
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
    _delete_packages(pipeline)


def clear_packages(pipelines_dir: Path) -> None:
    """Delete the load packages of every pipeline of a warehouse: what a load that died left
    (half-written, pending, completed). Called by a load holding the writer lock, before its
    own packages exist; the rows of such packages are purged from the warehouse by the audit
    (``AuditLog.mark_interrupted``) and land again from the files."""
    if pipelines_dir.is_dir():
        for root in pipelines_dir.iterdir():
            if root.is_dir():
                _clear_package_folders(root)


def _delete_packages(pipeline: dlt.Pipeline) -> None:
    """Delete every load package in the pipeline's folder: completed and aborted ones, and the
    half-written ones of a process that died while extracting or normalizing. Only ever called
    with no run of this pipeline under way (the writer lock is held)."""
    _clear_package_folders(Path(pipeline.working_dir))


def _clear_package_folders(root: Path) -> None:
    for folder in (root / "normalize", root / "normalize" / "extracted", *(root / "load" / s for s in PACKAGE_STATES)):
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if entry.name in ("extracted", *PACKAGE_STATES) or entry.name.startswith("."):
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:  # a process killed while dlt moved a package can leave an empty file in its place
                entry.unlink(missing_ok=True)


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
