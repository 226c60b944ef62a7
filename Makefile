# rollcall — `make demo` and `make test` work on a fresh machine with only python3.11 and make.
PYTHON ?= python3.11
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
# the locked environment, its packages compiled to bytecode once (see PYTHONDONTWRITEBYTECODE below)
UV_SYNC := $(UV) sync --frozen --quiet --compile-bytecode --python $(PYTHON)
BIN := .venv/bin
# pytest-xdist workers for `make test`: three on two cores, so that a worker waiting on a child
# process (a server, a browser, a load killed on purpose) leaves its core to another
PYTEST_WORKERS ?= 3

export ROLLCALL_DUCKDB_PATH ?= warehouse/rollcall.duckdb
export UV_PYTHON_DOWNLOADS := never
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
# `dbt` in this folder finds profiles.yml here: no --profiles-dir needed
export RUNTIME__DLTHUB_TELEMETRY := false
# Python keeps the bytecode of what it imports (an environment setting PYTHONDONTWRITEBYTECODE would
# make every process that imports rollcall's own modules compile them again); the installed packages
# are compiled once by `uv sync --compile-bytecode`, so that a command run outside make (cron, a
# container that sets PYTHONDONTWRITEBYTECODE) does not compile dbt and dlt on every start
export PYTHONDONTWRITEBYTECODE :=

.PHONY: setup demo test test-spark lint ruff sql-lint build docs summary publish dashboard codegen bench bench-scale clean

## setup: create .venv from uv.lock (installs uv into .tools first)
setup: .venv/.synced

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV_SYNC)
	@touch $@

## demo: `rollcall demo`: generate the sample districts, load them, dbt build, docs, summary, publish
##   (docs/bi.md)
##   demo-unified: OneRoster + PowerSchool + ClassLink + Star (one district, four systems)
##   demo-sis: SIS exports with its calendar as OneRoster+ files beside them (its planted bad rows
##   are quarantined: that load is partial)
demo: setup
	@$(BIN)/rollcall demo

## test: ruff, then the whole pytest suite (incl. dbt builds) on $(PYTEST_WORKERS) workers; SQL style is `make lint`
test: setup ruff
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

## test-spark: the spark extra (dbt-spark, pyspark; Java 17 on the machine), then the Spark tests: both
##   targets built from the same landed demo districts, every mart compared (docs/scale-out.md)
test-spark: setup
	$(UV_SYNC) --extra spark
	$(BIN)/pytest -m needs_spark tests/python/test_spark.py

## lint: the static checks: ruff (Python) and sqlfluff (every model and singular test, dbt templater)
lint: ruff sql-lint

ruff: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

sql-lint: setup
	@mkdir -p warehouse
	ROLLCALL_DUCKDB_PATH=warehouse/lint.duckdb DBT_TARGET_PATH=target/sql-lint \
		$(BIN)/sqlfluff lint models tests/dbt --disable-progress-bar --processes 2

build: setup
	$(BIN)/rollcall build

summary: setup
	$(BIN)/rollcall summary

## publish: write warehouse/published/{restricted,public}.duckdb; dashboard: serve them (docs/bi.md)
publish: setup
	$(BIN)/rollcall publish

dashboard: setup
	$(BIN)/rollcall dashboard

codegen: setup
	$(BIN)/python -m rollcall.codegen

## bench: load-speed benchmark (≥ 1M attendance rows) against DuckDB's own read_csv
bench: setup
	$(BIN)/python benchmarks/bench_load.py

## bench-scale: a district of STUDENTS (default 100,000) x 180 days — load, dbt run, dbt build and an
##   hourly increment against a hand-written DuckDB query and read_csv (docs/benchmarks.md)
STUDENTS ?= 100000
bench-scale: setup
	$(BIN)/python benchmarks/bench_scale.py --students $(STUDENTS)

clean:
	rm -rf warehouse target logs .pytest_cache
