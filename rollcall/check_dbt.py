"""The dbt half of ``rollcall check``, in its own process: ``python -m rollcall.check_dbt TARGET CACHE [SELECTION]``.

It starts while the files are still loading. First it reads the project with ``dbt parse`` —
a partial parse from the copy that the previous check left in CACHE, so only files that changed
since are parsed again (dbt compares every file, the vars, the profile and its own version
itself) — and leaves the new parse state in CACHE for the next check. Then it waits for the tables
the load filled (one JSON line on stdin; end of input means "nothing to check"), picks
the models and data tests those files need (``select_nodes``) and runs ``dbt build`` on exactly
those, with the manifest it already holds.

SELECTION is the user's own ``--select`` / ``--exclude`` (``rollcall check -s ...``).

It runs with its working folder beside the temporary DuckDB file and names that file by a
relative path, so the profile (which dbt hashes into the parse state) is the same on every run.
What the report reads goes to TARGET: dbt's run_results.json and the project's nodes as in
manifest.json. Progress goes to stdout as
``@check {json}`` lines; dbt's own warnings and errors go there as plain lines.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# What a check may build and test: the seeds, every staging model and the intermediate roster
# bridges (list fields such as orgSourcedIds, termSourcedIds). Marts never run in a check.
SCOPE_PATHS = ("models/staging/", "models/intermediate/roster/")
PARSE_STATE = "partial_parse.msgpack"
RESULTS_FILE = "run_results.json"
NODES_FILE = "check_nodes.json"  # the "nodes" of dbt's manifest.json, without its macros and docs
MESSAGE_PREFIX = "@check "
# dbt events that say the saved parse could not be used and the project was parsed whole.
_FULL_PARSE_EVENTS = ("UnableToPartialParse", "ParsedFileLoadFailed")


@dataclass
class Selection:
    """What one check builds and tests (dbt unique ids)."""

    models: list[str] = field(default_factory=list)
    seeds: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    # tests whose parents are all built but whose rows are not the drop's: dbt's "cautious"
    # indirect selection would add them, so the build excludes them by name
    skipped_tests: list[str] = field(default_factory=list)

    @property
    def nodes(self) -> list[str]:
        return self.seeds + self.models + self.tests


def select_nodes(
    nodes: dict[str, dict[str, Any]], sources: dict[str, dict[str, Any]], filled_tables: Iterable[tuple[str, str]]
) -> Selection:
    """The models, seeds and tests a check needs, given the tables the load filled.

    ``nodes`` maps dbt unique ids to ``resource_type``, ``path`` (original_file_path),
    ``depends_on`` (unique ids) and, for generic tests, ``attached_node``; ``sources`` maps
    source ids to ``schema`` and ``identifier``; ``filled_tables`` are the (schema, table) pairs
    of the temporary warehouse that hold rows (tables that no source reads are ignored).

    A model is *about the drop* when it is in scope and reads a filled table, directly or
    through other models in scope (a roster bridge of users.csv). The tests that run are the
    tests in scope (every parent a seed or an in-scope model) attached to a model about the
    drop or, for singular tests, reading one. Everything they need is built too: the models a
    reference test looks in (orgs for users.orgSourcedIds — built empty when orgs.csv is missing
    or refused, so the dangling references are still counted) and every in-scope model or seed
    those read in turn. Tests attached to such helper models do not run: whatever their tables
    hold does not come from the drop (the loader creates every raw table, empty), so they could
    not fail because of it.
    """
    in_scope = {
        uid
        for uid, node in nodes.items()
        if node["resource_type"] == "seed"
        or (node["resource_type"] == "model" and str(node["path"]).startswith(SCOPE_PATHS))
    }
    filled = {(schema.lower(), table.lower()) for schema, table in filled_tables}
    read = {uid for uid, s in sources.items() if (s["schema"].lower(), s["identifier"].lower()) in filled}

    about_drop: set[str] = set()
    grew = True
    while grew:  # models reading a filled table, then the bridges built on them
        grew = False
        for uid in in_scope - about_drop:
            node = nodes[uid]
            if node["resource_type"] == "model" and any(p in read or p in about_drop for p in node["depends_on"]):
                about_drop.add(uid)
                grew = True

    tests = set()
    for uid, node in nodes.items():
        if node["resource_type"] != "test" or not node["depends_on"] or not set(node["depends_on"]) <= in_scope:
            continue
        attached = node.get("attached_node")
        if attached in about_drop or (not attached and about_drop & set(node["depends_on"])):
            tests.add(uid)

    build: set[str] = set()
    pending = [*about_drop, *(p for uid in tests for p in nodes[uid]["depends_on"])]
    while pending:  # those models, what the tests read, and everything in scope they read in turn
        uid = pending.pop()
        if uid in in_scope and uid not in build:
            build.add(uid)
            pending += nodes[uid]["depends_on"]

    cautious = {
        uid
        for uid, node in nodes.items()
        if node["resource_type"] == "test" and node["depends_on"] and set(node["depends_on"]) <= build
    }
    return Selection(
        models=sorted(u for u in build if nodes[u]["resource_type"] == "model"),
        seeds=sorted(u for u in build if nodes[u]["resource_type"] == "seed"),
        tests=sorted(tests),
        skipped_tests=sorted(cautious - tests),
    )


def build_arguments(selection: Selection, fqn: dict[str, list[str]], narrow: list[str] | None = None) -> list[str]:
    """``dbt build`` selection arguments for ``selection`` (``fqn``: unique id -> dbt fqn).

    The models and seeds are selected by name and their tests come with them ("cautious": a
    test whose parents are all built), less the tests that ``select_nodes`` left out. That is
    the same set of nodes as naming every test, with far fewer selectors for dbt to match
    against every node of the project (it does so three times per build). ``narrow`` is the
    user's own ``--select`` / ``--exclude``: only nodes that both select, less what it excludes.
    """
    own, dropped = _user_selection(narrow or [])
    ours = [_fqn(fqn[uid]) for uid in selection.seeds + selection.models]
    arguments = ["--select", *([f"{s},{u}" for s in ours for u in own] if own else ours)]
    arguments += ["--indirect-selection", "cautious", "--exclude-resource-type", "unit_test"]
    if selection.skipped_tests:
        arguments += ["--exclude", *(_fqn(fqn[uid]) for uid in selection.skipped_tests)]
    return arguments + (["--exclude", *dropped] if dropped else [])


def _user_selection(arguments: list[str]) -> tuple[list[str], list[str]]:
    """The selectors after ``--select`` and after ``--exclude`` in ``arguments``."""
    chosen: dict[str, list[str]] = {"--select": [], "--exclude": []}
    current = None
    for argument in arguments:
        if argument.startswith("-"):
            current = chosen.get(argument)
        elif current is not None:
            current.append(argument)
    return chosen["--select"], chosen["--exclude"]


def _fqn(parts: list[str]) -> str:
    return "fqn:" + ".".join(parts)


# --- the helper process ------------------------------------------------------------------------


class _Messages:
    """``@check {json}`` lines on stdout, safe to write from dbt's worker threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def send(self, event: str, **data: Any) -> None:
        with self.lock:
            sys.stdout.write(MESSAGE_PREFIX + json.dumps({"event": event, **data}) + "\n")
            sys.stdout.flush()


def restore_parse_state(cache: Path, target: Path) -> tuple[int, int] | None:
    """Copy the cached parse state into ``target``; its (size, mtime) to tell later whether dbt
    wrote a new one, or None when there is no usable cache."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(cache / PARSE_STATE, target / PARSE_STATE)
    except OSError:
        return None
    stat = (target / PARSE_STATE).stat()
    return stat.st_size, stat.st_mtime_ns


def publish_parse_state(target: Path, cache: Path, restored: tuple[int, int] | None) -> bool:
    """Leave dbt's new parse state in ``cache`` for the next check (False when there was nothing new
    or the cache cannot be written). The file is replaced in one step, so a check that starts
    meanwhile copies either the old or the new state, never half of one; when two checks publish,
    the last one wins and either state is valid (dbt re-checks every file against it)."""
    state = target / PARSE_STATE
    try:
        stat = state.stat()
    except OSError:
        return False
    if restored == (stat.st_size, stat.st_mtime_ns):
        return False  # dbt found nothing changed and kept the state it was given
    partial = cache / f".{PARSE_STATE}.{os.getpid()}.tmp"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(state, partial)
        os.replace(partial, cache / PARSE_STATE)
    except OSError:  # a read-only project, a full disk: the next check parses again
        with contextlib.suppress(OSError):
            partial.unlink()
        return False
    return True


def _graph(manifest: Any) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The parts of a dbt Manifest that ``select_nodes`` reads, as plain dicts."""
    nodes = {
        uid: {
            "resource_type": str(node.resource_type),
            "path": node.original_file_path,
            "depends_on": list(getattr(node.depends_on, "nodes", [])),
            "attached_node": getattr(node, "attached_node", None),
        }
        for uid, node in manifest.nodes.items()
    }
    sources = {uid: {"schema": s.schema, "identifier": s.identifier} for uid, s in manifest.sources.items()}
    return nodes, sources


def main(argv: list[str]) -> int:
    target, cache, narrow = Path(argv[0]), Path(argv[1]), argv[2:]
    messages = _Messages()
    from dbt.cli.main import dbtRunner  # the slow import happens here, while the files load

    from rollcall.settings import PROJECT_ROOT

    common = [
        "--project-dir",
        str(PROJECT_ROOT),
        "--profiles-dir",
        str(PROJECT_ROOT),
        "--target-path",
        str(target),
        "--log-path",
        str(target.parent / "logs"),
        "--no-use-colors",
        "--log-level",
        "warn",  # progress comes as messages; dbt prints only what went wrong
        "--log-level-file",
        "none",  # the debug log of hundreds of nodes costs seconds and nobody reads it
    ]

    parse: dict[str, Any] = {"mode": "partial", "reason": None}  # partial: dbt parsed only what changed

    def on_parse_event(msg: Any) -> None:
        name = msg.info.name
        if name in _FULL_PARSE_EVENTS:
            parse["mode"] = "full"
            if parse["reason"] is None:  # "profile has changed", "of a version mismatch", ...
                reason = getattr(msg.data, "reason", None) or "the saved parse could not be read"
                parse["reason"] = reason.removesuffix(". Starting full parse.")
        elif name == "PartialParsingSkipParsing" and parse["mode"] != "full":
            parse["mode"] = "reused"

    started = time.perf_counter()
    restored = restore_parse_state(cache, target)
    if restored is None:
        parse["reason"] = "no earlier check saved its parse"
    # no manifest.json: dbt would write its 3 MB twice per check; NODES_FILE has what the report needs
    parsed = dbtRunner(callbacks=[on_parse_event]).invoke(["parse", "--no-write-json", *common])
    if not parsed.success or parsed.result is None:
        messages.send("failed", error=_first_line(parsed.exception, "dbt could not parse the project"))
        return 2
    publish_parse_state(target, cache, restored)
    messages.send("parsed", mode=parse["mode"], reason=parse["reason"], seconds=time.perf_counter() - started)

    line = sys.stdin.readline()
    if not line.strip():
        return 0  # nothing was loaded: no build
    filled_tables = [tuple(pair) for pair in json.loads(line)["filled_tables"]]
    manifest = parsed.result
    selection = select_nodes(*_graph(manifest), filled_tables)
    names = {uid: manifest.nodes[uid].name for uid in selection.nodes}
    messages.send(
        "selected",
        models=[names[uid] for uid in selection.models],
        seeds=[names[uid] for uid in selection.seeds],
        tests=len(selection.tests),
    )
    if not selection.models:
        return 0  # no file of the drop is read by a model in scope: nothing to build or test
    chosen = set(selection.nodes)
    finished: set[str] = set()

    def on_build_event(msg: Any) -> None:
        if msg.info.name == "NodeFinished":
            uid = msg.data.node_info.unique_id
            if uid in chosen and uid not in finished:
                finished.add(uid)
                messages.send("progress", done=len(finished), total=len(chosen))

    started = time.perf_counter()
    fqn = {uid: manifest.nodes[uid].fqn for uid in selection.nodes + selection.skipped_tests}
    built = dbtRunner(manifest=manifest, callbacks=[on_build_event]).invoke(
        ["build", "--no-write-json", *build_arguments(selection, fqn, narrow), *common]
    )
    if built.exception is not None:  # dbt itself failed, not a model or a test
        messages.send("failed", error=_first_line(built.exception, "dbt build failed"))
    elif built.result is not None:
        built.result.write(str(target / RESULTS_FILE))  # dbt's own run_results.json
        nodes = {uid: node.to_dict() for uid, node in manifest.nodes.items()}
        (target / NODES_FILE).write_text(json.dumps({"nodes": nodes}), encoding="utf-8")
    messages.send("built", seconds=time.perf_counter() - started)
    return 0 if built.success else 1


def _first_line(exception: BaseException | None, default: str) -> str:
    """What dbt said went wrong, for the report: the first line of its error (names a project
    file or node; a line that could quote a row of the drop comes later, if at all)."""
    lines = [line.strip() for line in str(exception or "").splitlines() if line.strip()]
    return lines[0] if lines else default


if __name__ == "__main__":
    code = main(sys.argv[1:])
    # Freeze what is left (the manifest, dbt's modules) so that exiting does not walk through
    # millions of objects: a second saved at the end of every check.
    gc.freeze()
    sys.exit(code)
