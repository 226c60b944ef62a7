"""Ways to land one attendance.csv through dlt, timed against DuckDB's own read_csv.

Each variant lands the file's rows (all text) with the eight lineage columns into a fresh
``raw_oneroster.attendance`` table through dlt, in a child process (its peak RSS is its own);
runs alternate with the baseline (``create table ... as select * from read_csv(...)``). Only the
landing is timed: no audit, no quarantine bookkeeping. The numbers are in docs/benchmarks.md.

    .venv/bin/python benchmarks/landing_variants.py path/to/attendance.csv REPEATS [VARIANT ...]

Variants (default: all but the slow jsonl and insert_values ones):

  arrow_whole          whole file as one arrow table, dlt writes parquet, duckdb destination
                       inserts it (rollcall up to this change)
  arrow_whole+fmax     the same, DATA_WRITER__FILE_MAX_ITEMS=500000 (parallel load jobs)
  arrow_whole+w1       the same, LOAD__WORKERS=1
  arrow_jsonl          arrow table, loader_file_format="jsonl"
  arrow_insert_values  arrow table, loader_file_format="insert_values"
  arrow_stream         DuckDB record batches of 500,000 rows streamed to dlt
  custom_arrow         @dlt.destination(loader_file_format="parquet", batch_size=100000): arrow
                       batches inserted with DuckDB
  custom_file          @dlt.destination(batch_size=0): the parquet file, INSERT ... read_parquet
  import_parquet       DuckDB COPY (select ... from read_csv) TO parquet, imported with
                       dlt.mark.with_file_import, inserted by the duckdb destination
  model                a SQL model imported with dlt.mark.with_file_import: the duckdb
                       destination runs INSERT ... SELECT from read_csv (DuckDB on 1 thread)
  model+t2             the same, DuckDB's default threads
  model+np             the same, default threads and preserve_insertion_order = false
  model2               two SQL models (first and second half by ordinal), loaded in parallel
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

NAMES = [
    "sourced_id",
    "status",
    "date_last_modified",
    "user_sourced_id",
    "school_sourced_id",
    "class_sourced_id",
    "period",
    "date",
    "absence_code",
]
CONSTANTS = {
    "_district_id": "demo-unified",
    "_source_file": "attendance.csv",
    "_file_sha256": "ab" * 32,
    "_file_mode": "bulk",
    "_change_kind": "file_row",
    "_load_id": "20250101T000000000000Z-abcdef",
}
DEFAULT_VARIANTS = [
    "arrow_whole",
    "arrow_whole+fmax",
    "arrow_whole+w1",
    "arrow_stream",
    "custom_arrow",
    "custom_file",
    "import_parquet",
    "model",
    "model+t2",
    "model+np",
    "model2",
]
RESULT_MARK = "\nvariant-result: "


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _columns() -> dict:
    columns = {n: {"data_type": "text", "nullable": True} for n in [*NAMES, "_extras", *CONSTANTS]}
    columns["_row_number"] = {"data_type": "bigint", "nullable": True}
    columns["_loaded_at"] = {"data_type": "timestamp", "timezone": True, "nullable": True}
    return columns


def land(csv: str, variant: str, work: Path) -> str:
    """Land ``csv`` with ``variant`` into a new warehouse in ``work``; returns the result line."""
    os.environ.update(
        {
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "DATA_WRITER__COMPRESSION": "none",
            "DATA_WRITER__ROW_GROUP_SIZE": "122880",
            "NORMALIZE__MODEL_NORMALIZER__ADD_DLT_LOAD_ID": "false",
        }
    )
    if "+w1" in variant:
        os.environ["LOAD__WORKERS"] = "1"
    if "+fmax" in variant:
        os.environ["DATA_WRITER__FILE_MAX_ITEMS"] = "500000"
    import dlt
    import duckdb
    import numpy as np
    import pyarrow as pa

    database = work / "variant.duckdb"
    database.unlink(missing_ok=True)
    shutil.rmtree(work / "pipelines", ignore_errors=True)
    shutil.rmtree(work / "files", ignore_errors=True)
    (work / "files").mkdir(parents=True)
    started, cpu = time.perf_counter(), _cpu_seconds()
    con = duckdb.connect(str(database))
    con.execute("create schema raw_oneroster")
    con.execute(
        "create table raw_oneroster.attendance ("
        + ", ".join(f"{n} varchar" for n in [*NAMES, "_extras", *CONSTANTS])
        + ", _row_number bigint, _loaded_at timestamp with time zone)"
    )
    types = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(NAMES))) + "}"
    reader = (
        f"read_csv('{csv}', header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"',"
        f" columns = {types}, encoding = 'utf-8', store_rejects = true, null_padding = false)"
    )
    select = ", ".join(f"c{i}::varchar as {n}" for i, n in enumerate(NAMES)) + ", null::varchar as _extras"
    lineage_sql = ", ".join(f"'{value}' as {name}" for name, value in CONSTANTS.items())
    loaded_at = "'2025-01-01 00:00:00+00'::timestamptz as _loaded_at"
    pipeline = dlt.pipeline(
        pipeline_name="variant",
        pipelines_dir=str(work / "pipelines"),
        destination=dlt.destinations.duckdb(con),
        dataset_name="raw_oneroster",
    )

    def with_lineage(table: pa.Table, first_row: int) -> pa.Table:
        zeros = pa.array(np.zeros(table.num_rows, dtype=np.int8))
        for name, value in CONSTANTS.items():
            table = table.append_column(name, pa.DictionaryArray.from_arrays(zeros, pa.array([value])))
        rows = np.arange(first_row, first_row + table.num_rows, dtype=np.int64)
        table = table.append_column("_row_number", pa.array(rows))
        stamp = np.full(table.num_rows, np.datetime64("2025-01-01T00:00:00", "us"))
        return table.append_column("_loaded_at", pa.array(stamp).cast(pa.timestamp("us", tz="UTC")))

    base = variant.split("+")[0]
    if base in ("arrow_whole", "arrow_jsonl", "arrow_insert_values", "custom_arrow", "custom_file"):
        whole = with_lineage(con.execute(f"select {select} from {reader}").to_arrow_table(), 2)
        pieces = [whole.slice(offset, 500_000) for offset in range(0, whole.num_rows, 500_000)]
        file_format = {"arrow_jsonl": "jsonl", "arrow_insert_values": "insert_values"}.get(base)
        if base.startswith("custom"):

            @dlt.destination(
                batch_size=0 if base == "custom_file" else 100_000,
                loader_file_format="parquet",
                name="rollcall_duckdb",
                naming_convention="direct",
            )
            def to_duckdb(items, table) -> None:
                cursor = con.cursor()
                target = f"raw_oneroster.{table['name']}"
                if isinstance(items, str):
                    cursor.execute(f"insert into {target} by name select * from read_parquet('{items}')")
                else:
                    for batch in items if isinstance(items, list) else [items]:  # noqa: B007 - read by DuckDB
                        cursor.execute(f"insert into {target} by name select * from batch")
                cursor.close()

            pipeline = dlt.pipeline(
                pipeline_name="variant_custom", pipelines_dir=str(work / "pipelines"), destination=to_duckdb
            )
        resource_ = dlt.resource(iter(pieces), name="attendance", write_disposition="append")
        info = pipeline.run(resource_, loader_file_format=file_format)
    elif base == "arrow_stream":

        def batches():
            first_row = 2
            for batch in con.cursor().execute(f"select {select} from {reader}").to_arrow_reader(500_000):
                table = with_lineage(pa.Table.from_batches([batch]), first_row)
                first_row += table.num_rows
                yield table

        info = pipeline.run(dlt.resource(batches(), name="attendance", write_disposition="append"))
    elif base == "import_parquet":
        parquet = work / "files" / "attendance.parquet"
        con.execute(
            f"copy (select {select}, {lineage_sql}, (row_number() over () + 1)::bigint as _row_number, {loaded_at}"
            f" from {reader}) to '{parquet}' (format parquet, compression uncompressed, row_group_size 122880)"
        )
        hints = dlt.mark.make_hints(columns=_columns(), table_name="attendance")
        item = dlt.mark.with_file_import(str(parquet), "parquet", 0, hints=hints)
        info = pipeline.run(dlt.resource([item], name="attendance", write_disposition="append", columns=_columns()))
    elif base.startswith("model"):
        parts = int(base[len("model") :] or 1)
        con.execute(f"set threads = {2 if ('+t2' in variant or '+np' in variant) else 1}")
        if "+np" in variant:
            con.execute("set preserve_insertion_order = false")
        total = con.execute(f"select count(*) from {reader}").fetchone()[0] if parts > 1 else 0
        outer = ", ".join([*NAMES, "_extras", *CONSTANTS])
        items = []
        for part in range(parts):
            where = ""
            if parts > 1:
                low, high = total * part // parts, total * (part + 1) // parts
                where = f" where _ordinal > {low} and _ordinal <= {high}"
            query = (
                f"select {outer}, (_ordinal + 1)::bigint as _row_number, {loaded_at} from"
                f" (select {select}, {lineage_sql}, row_number() over () as _ordinal from {reader}){where}"
            )
            model = work / "files" / f"attendance.{part}.model"
            model.write_text("dialect: duckdb\n" + query + "\n")
            items.append(dlt.mark.with_file_import(str(model), "model", 0))
        info = pipeline.run(dlt.resource(items, name="attendance", write_disposition="append", columns=_columns()))
    else:
        raise SystemExit(f"unknown variant {variant}")
    info.raise_on_failed_jobs()
    rows, last = con.execute("select count(*), max(_row_number) from raw_oneroster.attendance").fetchone()
    con.close()
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    database.unlink()
    return f"{seconds:.3f} {cpu:.3f} {rows} {last}"


def baseline(csv: str, work: Path) -> str:
    import duckdb

    database = work / "baseline.duckdb"
    database.unlink(missing_ok=True)
    started, cpu = time.perf_counter(), _cpu_seconds()
    with duckdb.connect(str(database)) as con:
        con.execute(f"create table attendance as select * from read_csv('{csv}')")
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    database.unlink()
    return f"{seconds:.3f} {cpu:.3f}"


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        csv, variant, work = sys.argv[2], sys.argv[3], Path(sys.argv[4])
        print(RESULT_MARK + (baseline(csv, work) if variant == "baseline" else land(csv, variant, work)))
        return 0
    csv, repeats = str(Path(sys.argv[1]).resolve()), int(sys.argv[2])
    variants = ["baseline", *(sys.argv[3:] or DEFAULT_VARIANTS)]
    work = Path(os.environ.get("TMPDIR", "/tmp")) / "rollcall-landing-variants"
    work.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[tuple[float, float, float]]] = {v: [] for v in variants}
    for _ in range(repeats):
        for variant in variants:
            child = subprocess.Popen(
                [sys.executable, __file__, "--child", csv, variant, str(work)], stdout=subprocess.PIPE, text=True
            )
            _, status, usage = os.wait4(child.pid, 0)
            output = child.stdout.read()
            child.stdout.close()
            if os.waitstatus_to_exitcode(status) != 0 or RESULT_MARK not in output:
                print(f"{variant}: failed")
                continue
            seconds, cpu = output[output.rindex(RESULT_MARK) + len(RESULT_MARK) :].split()[:2]
            runs[variant].append((float(seconds), float(cpu), usage.ru_maxrss / 1024))
            print(
                f"{variant}: {float(seconds):.2f} s, {float(cpu):.2f} s CPU, {usage.ru_maxrss / 1024:.0f} MB",
                flush=True,
            )
    base = statistics.median(run[0] for run in runs["baseline"])
    print(f"\n{'variant':22s} {'median s':>9s} {'ratio':>6s} {'CPU s':>7s} {'peak RSS MB':>12s}")
    for variant, measured in runs.items():
        if measured:
            seconds = statistics.median(run[0] for run in measured)
            cpu = statistics.median(run[1] for run in measured)
            rss = max(run[2] for run in measured)
            print(f"{variant:22s} {seconds:9.2f} {seconds / base:6.2f} {cpu:7.2f} {rss:12.0f}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
