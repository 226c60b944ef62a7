"""A local stand-in for the Clever API: serves recorded (or given) responses on 127.0.0.1 from a
thread, answering 401 unless the request carries the expected bearer token.

Requests match on path and query: repeated slashes collapse (the recordings hold
``https://api.clever.com//v1.1/...``), query parameters compare in any order, and ``limit``
equal to the page size the recordings were made with is the same request as no ``limit``.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import yaml

RECORDED_PAGE_SIZE = 100  # Clever's default page size, used by the recordings (no limit sent)

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CassetteLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """YAML loader for VCR cassettes, which tag some header values with Ruby's bare ``!``."""


_CassetteLoader.add_constructor("tag:yaml.org,2002:yaml", lambda loader, node: loader.construct_scalar(node))
_CassetteLoader.add_constructor("!", lambda loader, node: loader.construct_scalar(node))


def request_key(target: str, ignore_limit: int | None = None) -> str:
    """Normalised ``path?query`` of a request target or URL."""
    parts = urlsplit(target)
    path = re.sub(r"/{2,}", "/", parts.path) or "/"
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    if ignore_limit is not None:
        query = [(k, v) for k, v in query if not (k == "limit" and v == str(ignore_limit))]
    return path + (f"?{urlencode(query)}" if query else "")


class _QuietServer(ThreadingHTTPServer):
    """Threaded HTTP server that takes a client hanging up (a finished process) as normal."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@dataclass
class Recording:
    """One response to replay and the Authorization header it requires."""

    body: bytes
    authorization: str
    status: int = 200


@dataclass
class ReplayServer:
    """Serve ``routes`` (request key -> recording) until the ``with`` block ends."""

    routes: dict[str, Recording]
    ignore_limit: int | None = None
    seen: list[tuple[str, int]] = field(default_factory=list)  # (request target as sent, status answered)

    @classmethod
    def from_bodies(cls, bodies: dict[str, Any], token: str, ignore_limit: int | None = None) -> ReplayServer:
        """Routes from decoded JSON bodies keyed by ``path?query``."""
        routes = {
            request_key(target): Recording(json.dumps(body).encode("utf-8"), f"Bearer {token}")
            for target, body in bodies.items()
        }
        return cls(routes, ignore_limit)

    @classmethod
    def from_cassettes(cls, folder: Path, derived_bodies: Path | None = None) -> ReplayServer:
        """Routes from every VCR cassette (``*.yml``) under ``folder``; responses also found in
        ``derived_bodies`` (JSON files with ``_request_uri`` and ``body``) must decode to the same JSON."""
        routes: dict[str, Recording] = {}
        for path in sorted(folder.rglob("*.yml")):
            cassette = yaml.load(path.read_text(encoding="utf-8"), Loader=_CassetteLoader)
            for interaction in cassette["http_interactions"]:
                request, response = interaction["request"], interaction["response"]
                if request["method"].lower() != "get":
                    continue
                authorization = (request.get("headers") or {}).get("Authorization", [""])[0]
                routes[request_key(request["uri"])] = Recording(
                    response["body"]["string"].encode("utf-8"), authorization, int(response["status"]["code"])
                )
        if derived_bodies is not None:
            for path in sorted(derived_bodies.glob("*.json")):
                derived = json.loads(path.read_text(encoding="utf-8"))
                key = request_key(derived["_request_uri"])
                if key not in routes:
                    raise ValueError(f"{path.name}: no recorded request {key}")
                if json.loads(routes[key].body) != derived["body"]:
                    raise ValueError(f"{path.name}: body differs from the recording of {key}")
        return cls(routes, RECORDED_PAGE_SIZE)

    def __enter__(self) -> ReplayServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                key = request_key(self.path, server.ignore_limit)
                recording = server.routes.get(key)
                expected = recording.authorization if recording else next(iter(server.routes.values())).authorization
                if self.headers.get("Authorization") != expected:
                    status, body = 401, {"message": "Unauthorized"}
                elif recording is None:
                    status, body = 404, {"message": f"no recording for {key}"}
                else:
                    status, body = recording.status, None
                payload = recording.body if body is None and recording else json.dumps(body).encode("utf-8")
                server.seen.append((self.path, status))
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"
