"""Browser-test helpers: the system Chromium driven by Playwright, the dashboard served by
Streamlit and the dbt docs site served by a plain HTTP server, each on a free port on 127.0.0.1."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from rollcall.dashboard import streamlit_command
from rollcall.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "target" / "test-artifacts" / "browser"
READY_TIMEOUT_S = 90


def chromium_path() -> str | None:
    return os.environ.get("ROLLCALL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_unavailable_reason() -> str | None:
    """Why no headless Chromium can be driven here, or None."""
    if chromium_path() is None:
        return "Chromium is not installed: apt-get install chromium (or set ROLLCALL_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed: make setup"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before answering {url}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {READY_TIMEOUT_S} s")


@contextlib.contextmanager
def dashboard(published: Path, audience: str, log: Path) -> Iterator[str]:
    """The dashboard of ``published`` served on a free port; yields its base URL."""
    port = free_port()
    with log.open("w") as output:
        process = subprocess.Popen(
            streamlit_command(published, port, audience), cwd=PROJECT_ROOT, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_up(f"http://127.0.0.1:{port}/_stcore/health", process)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def static_site(folder: Path) -> Iterator[str]:
    """``folder`` served over HTTP on a free port (the dbt docs site fetches its JSON files)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def browser() -> Iterator[object]:
    """A headless Chromium page (the system package, driven by Playwright)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            yield chromium.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            chromium.close()
