"""``rollcall dashboard``: a local Streamlit app on 127.0.0.1 reading the published warehouse read-only."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from rollcall.publish import AUDIENCES, published_paths
from rollcall.settings import database_path

APP = Path(__file__).with_name("app.py")
DEFAULT_PORT = 8501


def streamlit_command(published: Path, port: int, audience: str) -> list[str]:
    """The command serving the dashboard of ``published`` on 127.0.0.1:``port``."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
        "--client.toolbarMode=viewer",
        "--",
        f"--file={published}",
        f"--audience={audience}",
    ]


EPILOG = "\b\nExit codes:\n  0  stopped\n  2  no published file (run `rollcall publish` first)"


@click.command("dashboard", epilog=EPILOG, short_help="serve the attendance dashboard on http://127.0.0.1 (Streamlit)")
@click.option(
    "--audience",
    type=click.Choice(AUDIENCES),
    default="restricted",
    show_default=True,
    help="restricted: school staff (student level); public: the published aggregates only",
)
@click.option(
    "--file", "file_", metavar="FILE", help="published file (default <warehouse>/published/<audience>.duckdb)"
)
@click.option(
    "--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True, help="port on 127.0.0.1"
)
def dashboard_command(audience: str, file_: str | None, port: int) -> int:
    """Serve the dashboard of a published file on 127.0.0.1, read-only: district overview, school
    drill-down, early warning and data health (restricted), or the published rates (public)."""
    published = Path(file_) if file_ else published_paths(database_path())[audience]
    if not published.is_file():
        click.echo(f"rollcall dashboard: no published file at {published}: run `rollcall publish` first", err=True)
        return 2
    click.echo(f"dashboard of {published} on http://127.0.0.1:{port} (Ctrl-C stops it)")
    sys.stdout.flush()
    command = streamlit_command(published, port, audience)
    os.execv(command[0], command)  # this process becomes the server: a signal to it stops the server
    return 0  # not reached
