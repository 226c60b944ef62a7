"""Pull sources and their configuration: any source plugs into ``rollcall sync`` through one
interface, and every config parser (REST, Clever, SFTP, sync) raises one error class."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from loaders.clever import CleverConfigError, CleverPullError, CleverSource, read_source_file
from loaders.oneroster_rest.config import RestSourceConfig
from loaders.sftp import PASSWORD_REFUSAL, SftpError, parse_source
from loaders.source_config import ConfigError
from loaders.sources import PullRequest, PullSource
from loaders.spine import LoadReport
from rollcall import sync

DISTRICT = "demo-unified"


class RecordingSource(PullSource):
    """A pull source that lands nothing and remembers what it was asked for."""

    kind = "recording"

    def __init__(self) -> None:
        self.requests: list[PullRequest] = []

    def settings(self, entry):
        return dict(entry)

    def run(self, entry, request: PullRequest) -> LoadReport:
        self.requests.append(request)
        if entry.get("broken"):
            raise CleverConfigError("page_size must be a number, not 'x'", key="page_size")
        return LoadReport("load-1", request.district_id, "succeeded")


def test_sync_runs_any_pull_source_through_one_interface(monkeypatch, tmp_path: Path) -> None:
    source = RecordingSource()
    module = types.ModuleType("rollcall_recording_source")
    module.SOURCE = source
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(sync.SOURCE_MODULES, "folder", module.__name__)
    database = tmp_path / "w.duckdb"
    config = sync.SourceConfig("nightly", "folder", {"users": "daily", "orgs": "once"}, {"kind": "folder"})

    run = sync.run_source(config, DISTRICT, database, ["users"], False, True)
    assert (run.status, run.report.load_id) == ("succeeded", "load-1")
    assert source.requests == [PullRequest(DISTRICT, database, ["users"], True)]

    broken = sync.SourceConfig("nightly", "folder", {"users": "daily"}, {"kind": "folder", "broken": True})
    run = sync.run_source(broken, DISTRICT, database, ["users"], True, False)
    assert (run.status, run.error) == ("failed", "page_size must be a number, not 'x'")
    assert source.requests[-1].entities is None  # every entity the kind offers was due


@pytest.mark.parametrize(
    ("parse", "entry", "key"),
    [
        (RestSourceConfig.from_source, {"base_url": "ftp://sis.example/ims", "auth": {"type": "none"}}, "base_url"),
        (
            RestSourceConfig.from_source,
            {"base_url": "https://sis.example/ims", "auth": {"type": "none"}, "retry": {"max_attempts": 0}},
            "retry.max_attempts",
        ),
        (
            RestSourceConfig.from_source,
            {"base_url": "https://sis.example/ims", "auth": {"type": "oauth2", "client_secret": "hunter2"}},
            "auth.client_secret",
        ),
        (CleverSource.from_entry, {"page_size": 0}, "page_size"),
        (CleverSource.from_entry, {"token_env": "not a name"}, "token_env"),
        (parse_source, {"url": "sftp://rollcall:hunter2@sftp.example/outbox"}, "url"),
        (parse_source, {"url": "sftp://rollcall@sftp.example/outbox"}, "identity_file"),
        (parse_source, {"url": "sftp://rollcall@sftp.example/outbox", "password": "hunter2"}, "password"),
    ],
)
def test_source_config_errors_are_one_class_naming_the_key(parse, entry: dict, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(entry)
    error = caught.value
    assert error.key == key
    assert str(error) == error.reason and "\n" not in str(error) and "hunter2" not in str(error)
    assert key.split(".")[-1] in str(error) or str(error) == PASSWORD_REFUSAL


def test_config_errors_keep_their_families_and_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(SftpError):  # `rollcall load sftp://...` still catches it as an SFTP error
        parse_source({"url": "sftp://rollcall@sftp.example/"})
    with pytest.raises(CleverPullError):
        CleverSource.from_entry({"kind": "oneroster"})

    broken = tmp_path / "clever.yml"
    broken.write_text("kind: clever\n  base_url: [\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_source_file(broken)
    assert caught.value.where == str(broken) and str(caught.value).startswith(f"{broken}: not valid YAML (line ")

    config = tmp_path / f"{DISTRICT}.yml"
    config.write_text(
        f"district_id: {DISTRICT}\nsources:\n  - name: nightly\n    kind: folder\n    cadence: {{users: weekly}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        sync.load_config(config)
    error = caught.value
    assert isinstance(error, sync.SyncConfigError)
    assert (error.where, error.key) == (f"{config.name}: source 'nightly', users", "sources[0].cadence.users")
    assert str(error) == f"{config.name}: source 'nightly', users: cadence 'weekly' is not one of " + ", ".join(
        sync.CADENCES
    )
