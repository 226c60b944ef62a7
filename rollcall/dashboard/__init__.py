"""``rollcall dashboard``: a local Streamlit app on 127.0.0.1 reading the published warehouse read-only."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

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


def add_command(commands: argparse._SubParsersAction) -> None:
    """Register ``rollcall dashboard`` on the CLI's sub-commands."""
    parser = commands.add_parser("dashboard", help="serve the attendance dashboard on http://127.0.0.1 (Streamlit)")
    parser.add_argument("--audience", choices=AUDIENCES, default="restricted", help="which published file to show")
    parser.add_argument("--file", help="published file (default: <warehouse folder>/published/<audience>.duckdb)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    published = Path(args.file) if args.file else published_paths(database_path())[args.audience]
    if not published.is_file():
        print(f"rollcall dashboard: no published file at {published}: run `rollcall publish` first", file=sys.stderr)
        return 2
    print(f"dashboard of {published} on http://127.0.0.1:{args.port} (Ctrl-C stops it)", flush=True)
    command = streamlit_command(published, args.port, args.audience)
    os.execv(command[0], command)  # this process becomes the server: a signal to it stops the server
    return 0  # not reached
