"""A local OneRoster 1.1 REST server for tests, serving a generated district.

``OneRosterServer`` runs ``http.server`` in a thread on 127.0.0.1 (a free port) and serves the
collection endpoints (``/orgs``, ``/schools``, ``/academicSessions``, ``/terms``,
``/gradingPeriods``, ``/courses``, ``/classes``, ``/users``, ``/students``, ``/teachers``,
``/enrollments``, ``/demographics``) with ``limit``/``offset`` paging and a
``filter=<field><op>'<value>'`` predicate, behind either an OAuth 2 client-credentials token
endpoint or OAuth 1.0a signatures verified with oauthlib (nonces may not be replayed).

Every body it sends is validated against the official OneRoster 1.1 OpenAPI document
(``openapi_original.json``): a body that does not conform is recorded in ``violations`` and
replaced by a 500 status report, so the double cannot drift from the standard unnoticed. The
document is a third-party fixture (``../shared``): where it is absent the server runs without
validation, and the tests that prove the validation are skipped.

Faults are injected per request with ``inject``: ``429``, ``500``, ``short_page`` (half a
page while more records exist), ``missing_envelope`` (records under an unknown key),
``singular_envelope`` (``{"user": [...]}``), ``expire_token`` (every issued token stops
working) and ``nonconforming`` (a record with a status outside the enumeration).

The JSON records are built from a CSV package (``records_from_package``) with this module's own
mapping tables, independent of the loader's, so a mapping bug on either side shows up.
"""

from __future__ import annotations

import base64
import csv
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.python.support import SHARED_FIXTURES

OPENAPI_PATH = SHARED_FIXTURES / "StrongMind__oneroster-client-ruby" / "openapi_original.json"
API_PREFIX = "/ims/oneroster"
TOKEN_PATH = "/oauth/token"
INITIAL_MODIFIED = "2025-08-01T12:00:00.000Z"

# collection endpoint -> (entity, response key, record filter)
COLLECTIONS: dict[str, tuple[str, str, tuple[str, str] | None]] = {
    "orgs": ("orgs", "orgs", None),
    "schools": ("orgs", "orgs", ("type", "school")),
    "academicSessions": ("academicSessions", "academicSessions", None),
    "terms": ("academicSessions", "academicSessions", ("type", "term")),
    "gradingPeriods": ("academicSessions", "academicSessions", ("type", "gradingPeriod")),
    "courses": ("courses", "courses", None),
    "classes": ("classes", "classes", None),
    "users": ("users", "users", None),
    "students": ("users", "users", ("role", "student")),
    "teachers": ("users", "users", ("role", "teacher")),
    "enrollments": ("enrollments", "enrollments", None),
    "demographics": ("demographics", "demographics", None),
}
ENTITIES = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics")

# CSV column -> (JSON key, GUIDRef type, list?) per entity
REFERENCES: dict[str, dict[str, tuple[str, str, bool]]] = {
    "orgs": {"parentSourcedId": ("parent", "org", False)},
    "academicSessions": {"parentSourcedId": ("parent", "academicSession", False)},
    "courses": {"schoolYearSourcedId": ("schoolYear", "academicSession", False), "orgSourcedId": ("org", "org", False)},
    "classes": {
        "courseSourcedId": ("course", "course", False),
        "schoolSourcedId": ("school", "org", False),
        "termSourcedIds": ("terms", "academicSession", True),
    },
    "users": {"orgSourcedIds": ("orgs", "org", True), "agentSourcedIds": ("agents", "user", True)},
    "enrollments": {
        "classSourcedId": ("class", "class", False),
        "schoolSourcedId": ("school", "org", False),
        "userSourcedId": ("user", "user", False),
    },
}
LIST_COLUMNS = {
    "courses": {"grades", "subjects", "subjectCodes"},
    "classes": {"grades", "subjects", "subjectCodes"},  # periods is a plain string in the 1.1 OpenAPI
    "users": {"grades"},
}
BOOLEAN_COLUMNS = {
    "users": {"enabledUser"},
    "enrollments": {"primary"},
    "demographics": {
        "americanIndianOrAlaskaNative",
        "asian",
        "blackOrAfricanAmerican",
        "nativeHawaiianOrOtherPacificIslander",
        "white",
        "demographicRaceTwoOrMoreRaces",
        "hispanicOrLatinoEthnicity",
    },
}
HREF_COLLECTION = {
    "org": "orgs",
    "academicSession": "academicSessions",
    "course": "courses",
    "class": "classes",
    "user": "users",
}
USER_ID = re.compile(r"\{([^:{}]*):([^{}]*)\}")
FILTER = re.compile(r"^\s*(\w+)\s*(>=|<=|!=|>|<|=)\s*'([^']*)'\s*$")


def iso(moment: datetime) -> str:
    """``2025-08-01T12:00:00.000Z``: the form OneRoster servers usually write."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def records_from_package(folder: Path, api_root: str, modified: str = INITIAL_MODIFIED) -> dict[str, list[dict]]:
    """The roster files of a OneRoster CSV package as OneRoster REST JSON records."""
    data: dict[str, list[dict]] = {}
    for entity in ENTITIES:
        with (folder / f"{entity}.csv").open(newline="", encoding="utf-8") as handle:
            data[entity] = [_record(entity, row, api_root, modified) for row in csv.DictReader(handle)]
    return data


def _guid_ref(sourced_id: str, ref_type: str, api_root: str) -> dict[str, str]:
    return {"href": f"{api_root}/{HREF_COLLECTION[ref_type]}/{sourced_id}", "sourcedId": sourced_id, "type": ref_type}


def _record(entity: str, row: dict[str, str], api_root: str, modified: str) -> dict[str, Any]:
    record: dict[str, Any] = {"sourcedId": row["sourcedId"], "status": "active", "dateLastModified": modified}
    references = REFERENCES.get(entity, {})
    for column, value in row.items():
        if column in ("sourcedId", "status", "dateLastModified") or value == "":
            continue
        if column in references:
            key, ref_type, is_list = references[column]
            refs = [_guid_ref(v.strip(), ref_type, api_root) for v in value.split(",") if v.strip()]
            record[key] = refs if is_list else refs[0]
        elif column in LIST_COLUMNS.get(entity, ()):
            record[column] = [v.strip() for v in value.split(",") if v.strip()]
        elif column in BOOLEAN_COLUMNS.get(entity, ()):
            record[column] = value.strip().lower() == "true"
        elif entity == "users" and column == "userIds":
            record[column] = [{"type": kind, "identifier": ident} for kind, ident in USER_ID.findall(value)]
        else:
            record[column] = value
    return record


def default_validator() -> OpenApiValidator | None:
    """The validator over ``OPENAPI_PATH``, or None where that document is absent."""
    return OpenApiValidator() if OPENAPI_PATH.is_file() else None


class OpenApiValidator:
    """Validates response bodies against the OneRoster 1.1 OpenAPI document (``$ref``s resolved)."""

    def __init__(self, path: Path = OPENAPI_PATH) -> None:
        self.spec = json.loads(path.read_text(encoding="utf-8"))
        self.registry = Registry().with_resource(
            "urn:oneroster", Resource.from_contents(self.spec, default_specification=DRAFT4)
        )
        self._validators: dict[str, OAS30Validator] = {}

    def schema_name(self, collection: str, status: int) -> str:
        """The component schema of ``GET /<collection>``'s response with ``status``."""
        responses = self.spec["paths"][f"/{collection}"]["get"]["responses"]
        response = responses.get(str(status), responses["default"])
        return response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]

    def errors(self, schema_name: str, body: Any) -> list[str]:
        """Validation errors of ``body`` against ``#/components/schemas/<schema_name>``."""
        validator = self._validators.get(schema_name)
        if validator is None:
            validator = OAS30Validator(
                {"$ref": f"urn:oneroster#/components/schemas/{schema_name}"},
                registry=self.registry,
                format_checker=OAS30Validator.FORMAT_CHECKER,
            )
            self._validators[schema_name] = validator
        return [f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message}" for e in validator.iter_errors(body)]


@dataclass
class Fault:
    """One injected fault: ``kind`` on the next ``times`` matching requests."""

    kind: str
    collection: str | None = None  # None: any collection
    min_offset: int = 0  # only requests with at least this offset
    times: int = 1


@dataclass
class ServedRequest:
    """One API request the server answered."""

    collection: str
    params: dict[str, str]
    status: int
    returned: int = 0  # records in the body
    auth: str = ""  # "bearer", "oauth1:<method>", or "" (refused / none)
    faults: list[str] = field(default_factory=list)


def _status_info(description: str, minor: str = "invaliddata") -> dict[str, Any]:
    return {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_messageRefIdentifier": secrets.token_hex(4),
        "imsx_description": description,
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [{"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": minor}]
        },
    }


class _OAuth1Validator(RequestValidator):
    """oauthlib's server-side checks for one client key; nonces are single use."""

    def __init__(self, server: OneRosterServer) -> None:
        super().__init__()
        self.server = server
        self.nonces: set[str] = set()

    @property
    def enforce_ssl(self) -> bool:
        return False

    @property
    def allowed_signature_methods(self) -> tuple[str, ...]:
        return (self.server.oauth1_method,)

    @property
    def client_key_length(self) -> tuple[int, int]:
        return 8, 64

    @property
    def nonce_length(self) -> tuple[int, int]:
        return 8, 64

    @property
    def dummy_client(self) -> str:
        return "dummyClientKey0000"

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return client_key == self.server.client_id

    def get_client_secret(self, client_key: str, request: Any) -> str:
        return self.server.client_secret if client_key == self.server.client_id else "dummy-secret"

    def validate_timestamp_and_nonce(self, client_key: str, timestamp: str, nonce: str, request: Any, **tokens: Any):
        with self.server.lock:
            if nonce in self.nonces:
                self.server.replayed_nonces += 1
                return False
            self.nonces.add(nonce)
        return abs(time.time() - int(timestamp)) <= self.timestamp_lifetime


class OneRosterServer:
    """The OneRoster REST double; use as a context manager (``with OneRosterServer(...) as s``)."""

    def __init__(
        self,
        data: dict[str, list[dict]],
        *,
        auth: str = "oauth2",
        client_id: str = "rollcallTestClient01",
        client_secret: str = "test-client-secret-value",
        oauth1_method: str = "HMAC-SHA256",
        version_path: str = "v1p1",
        send_total_count: bool = False,
        validator: OpenApiValidator | None = None,
    ) -> None:
        """``validator`` checks every body sent (default: ``default_validator()``, which is None, and
        the bodies go out unchecked, where the OpenAPI document is absent)."""
        self.data = data
        self.auth = auth
        self.client_id = client_id
        self.client_secret = client_secret
        self.oauth1_method = oauth1_method
        self.version_path = version_path
        self.send_total_count = send_total_count
        self.validator = validator or default_validator()
        self.lock = threading.Lock()
        self.requests: list[ServedRequest] = []
        self.violations: list[str] = []
        self.faults: list[Fault] = []
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.replayed_nonces = 0
        self._clock = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)
        self._oauth1 = SignatureOnlyEndpoint(_OAuth1Validator(self))
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="oneroster-double", daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> OneRosterServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def origin(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}{API_PREFIX}"

    @property
    def api_root(self) -> str:
        return f"{self.base_url}/{self.version_path}"

    @property
    def token_url(self) -> str:
        return f"{self.origin}{TOKEN_PATH}"

    # -- test controls -----------------------------------------------------------------------
    def inject(self, kind: str, collection: str | None = None, *, min_offset: int = 0, times: int = 1) -> None:
        """Queue a fault for the next ``times`` requests to ``collection`` at ``offset >= min_offset``."""
        with self.lock:
            self.faults.append(Fault(kind, collection, min_offset, times))

    def tick(self) -> str:
        """The next modification time (one second later each call)."""
        with self.lock:
            self._clock += timedelta(seconds=1)
            return iso(self._clock)

    def touch(self, entity: str, sourced_ids: list[str], **changes: Any) -> None:
        """Apply ``changes`` to records and mark them modified now."""
        for record in self.data[entity]:
            if record["sourcedId"] in sourced_ids:
                record.update(changes)
                record["dateLastModified"] = self.tick()

    def remove(self, entity: str, sourced_ids: list[str]) -> None:
        """Hard-delete records (they just stop being listed)."""
        self.data[entity] = [r for r in self.data[entity] if r["sourcedId"] not in sourced_ids]

    def served(self, collection: str) -> list[ServedRequest]:
        """The answered requests to ``collection``, in order."""
        return [r for r in self.requests if r.collection == collection]

    def take_fault(self, collection: str, offset: int, kinds: tuple[str, ...]) -> str | None:
        with self.lock:
            for fault in self.faults:
                if (
                    fault.kind in kinds
                    and fault.times > 0
                    and fault.collection in (None, collection)
                    and offset >= fault.min_offset
                ):
                    fault.times -= 1
                    return fault.kind
        return None

    # -- request handling --------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                server._token(self)

            def do_GET(self) -> None:
                server._collection(self)

        return Handler

    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None):
        payload = json.dumps(body).encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _respond(
        self,
        handler: BaseHTTPRequestHandler,
        served: ServedRequest,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Record and send ``body`` if it conforms to the OpenAPI response of the collection; else a
        500. The request is recorded before the answer goes out, so the log keeps the client's order."""
        if self.validator is not None and served.collection in COLLECTIONS:
            errors = self.validator.errors(self.validator.schema_name(served.collection, status), body)
            if errors:
                with self.lock:
                    self.violations.append(f"GET /{served.collection} ({status}): {errors[0]}")
                status, body, headers = 500, _status_info("the server produced a non-conforming body"), None
        served.status = status
        with self.lock:
            self.requests.append(served)
        self._send(handler, status, body, headers)

    def _token(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(handler.rfile.read(length).decode("utf-8")).items()}
        if urlsplit(handler.path).path != TOKEN_PATH or self.auth != "oauth2":
            self._send(handler, 404, {"error": "not_found"})
            return
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = handler.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(basic[6:]).decode("utf-8").partition(":")
            client_id, client_secret = unquote(client_id), unquote(client_secret)
        with self.lock:
            self.token_requests += 1
        if form.get("grant_type") != "client_credentials":
            self._send(handler, 400, {"error": "unsupported_grant_type"})
            return
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            self._send(handler, 401, {"error": "invalid_client"})
            return
        token = secrets.token_hex(16)
        with self.lock:
            self.tokens.add(token)
        self._send(handler, 200, {"access_token": token, "token_type": "bearer", "expires_in": 3600})

    def _authorised(self, handler: BaseHTTPRequestHandler) -> str | None:
        """The auth scheme the request passed, or None."""
        header = handler.headers.get("Authorization", "")
        if self.auth == "none":
            return "none"
        if self.auth == "oauth2":
            token = header[7:] if header.startswith("Bearer ") else None
            with self.lock:
                return "bearer" if token in self.tokens else None
        uri = f"http://{handler.headers['Host']}{handler.path}"
        valid, _ = self._oauth1.validate_request(uri, "GET", None, dict(handler.headers))
        return f"oauth1:{self.oauth1_method}" if valid else None

    def _collection(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        prefix = f"{API_PREFIX}/{self.version_path}/"
        collection = url.path[len(prefix) :].strip("/") if url.path.startswith(prefix) else ""
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        served = ServedRequest(collection, params, 0)
        if collection not in COLLECTIONS:
            self._respond(handler, served, 404, _status_info(f"unknown endpoint {url.path}", "unknownobject"))
            return
        try:
            offset = int(params.get("offset", 0))
            limit = int(params.get("limit", 100))
            if offset < 0 or limit < 1:
                raise ValueError
        except ValueError:
            self._respond(handler, served, 400, _status_info("bad limit or offset"))
            return

        if self.take_fault(collection, offset, ("expire_token",)):
            served.faults.append("expire_token")
            with self.lock:
                self.tokens.clear()
        served.auth = self._authorised(handler) or ""
        if not served.auth:
            self._respond(
                handler,
                served,
                401,
                _status_info("the request is not authorised", "unauthorisedrequest"),
                {"WWW-Authenticate": "Bearer" if self.auth == "oauth2" else "OAuth"},
            )
            return
        status_fault = self.take_fault(collection, offset, ("429", "500"))
        if status_fault:
            served.faults.append(status_fault)
            headers = {"Retry-After": "1"} if status_fault == "429" else None
            self._respond(handler, served, int(status_fault), _status_info(f"injected {status_fault}"), headers)
            return

        entity, key, only = COLLECTIONS[collection]
        records = [r for r in self.data[entity] if only is None or r.get(only[0]) == only[1]]
        if "filter" in params:
            try:
                records = [r for r in records if _matches(r, params["filter"])]
            except ValueError as exc:
                self._respond(handler, served, 400, _status_info(str(exc), "invalid_selection_field"))
                return
        page = records[offset : offset + limit]
        data_fault = self.take_fault(
            collection, offset, ("short_page", "missing_envelope", "singular_envelope", "nonconforming")
        )
        body: dict[str, Any] = {key: page}
        if data_fault == "short_page":
            body = {key: page[: len(page) // 2]}
        elif data_fault == "missing_envelope":
            body = {"data": page}
        elif data_fault == "singular_envelope":
            body = {key[:-1]: page}
        elif data_fault == "nonconforming":
            body = {key: [{**page[0], "status": "deleted"}, *page[1:]]}
        if data_fault:
            served.faults.append(data_fault)
        headers = {"X-Total-Count": str(len(records))} if self.send_total_count else None
        served.returned = len(next(iter(body.values())))
        self._respond(handler, served, 200, body, headers)


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _matches(record: dict[str, Any], expression: str) -> bool:
    """One OneRoster filter predicate, e.g. ``dateLastModified>'2025-08-01T12:00:00.000Z'``."""
    match = FILTER.match(expression)
    if not match:
        raise ValueError(f"unsupported filter {expression!r}")
    name, op, wanted = match.groups()
    value = record.get(name)
    if value is None:
        return False
    if name == "dateLastModified":
        left, right = _instant(str(value)), _instant(wanted)
    else:
        left, right = str(value), wanted
    return {
        ">": left > right,
        ">=": left >= right,
        "<": left < right,
        "<=": left <= right,
        "=": left == right,
        "!=": left != right,
    }[op]
