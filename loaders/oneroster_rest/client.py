"""Fetching OneRoster collections with dlt's ``RESTClient``.

* Paging is ``limit``/``offset`` (``OneRosterPaginator``): the next offset is the number of
  records received so far, and a page shorter than ``limit`` is the last one. Neither
  ``X-Total-Count`` nor ``Link`` headers are needed (many servers send neither).
* Each page's records are found under the entity's envelope key (``envelope_records``); a page
  without it is an error, never an empty page that would end the collection early.
* Retries (HTTP 429, 5xx, dropped connections) are done by dlt's retrying session with the
  source's ``retry`` settings; what still fails becomes a one-line ``RestPullError`` naming the
  endpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dlt.sources.helpers.requests.retry import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import Request, Response
from requests.exceptions import ConnectionError, HTTPError, JSONDecodeError, RequestException, Timeout

from loaders.oneroster_rest.auth import build_auth
from loaders.oneroster_rest.config import RestSourceConfig
from loaders.oneroster_rest.errors import RestAuthError, RestPullError
from loaders.oneroster_rest.records import EnvelopeError, envelope_records
from loaders.oneroster_rest.state import parse_instant

log = logging.getLogger("rollcall.rest")


class OneRosterPaginator(BasePaginator):
    """``limit``/``offset`` paging that stops on a short page (no total-count header needed)."""

    def __init__(self, entity: str, limit: int) -> None:
        super().__init__()
        self.entity = entity
        self.limit = limit
        self.offset = 0
        self.pages = 0

    def init_request(self, request: Request) -> None:
        self.offset, self.pages, self._has_next_page = 0, 0, True
        self.update_request(request)

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        records = envelope_records(data[0] if data else None, self.entity)
        self.pages += 1
        self.offset += len(records)
        # a short page is the last one; so is a page longer than asked for (the server ignores `limit`)
        self._has_next_page = len(records) == self.limit

    def update_request(self, request: Request) -> None:
        request.params = {**(request.params or {}), "limit": self.limit, "offset": self.offset}


@dataclass
class EndpointPull:
    """What one endpoint returned."""

    path: str
    returned: int = 0  # records in the responses
    records: int = 0  # records written to the package
    duplicates: int = 0  # records already received from an earlier endpoint of the entity
    requests: int = 0
    total_announced: int | None = None  # the X-Total-Count header of the first page, if sent


@dataclass
class EntityPull:
    """What one entity's endpoints returned, and the greatest ``dateLastModified`` among them."""

    entity: str
    mode: str  # bulk | delta
    since: str | None = None  # the cursor the delta filter used
    endpoints: list[EndpointPull] = field(default_factory=list)
    max_modified: str | None = None
    _max_modified_at: datetime | None = None
    removed_in_bulk: int = 0  # tobedeleted records a full listing returned (left out of the bulk file)

    @property
    def records(self) -> int:
        return sum(e.records for e in self.endpoints)

    def observe_modified(self, value: Any) -> None:
        """Keep the greatest dateLastModified, as the server wrote it (for the next filter)."""
        moment = parse_instant(value)
        if moment is None:
            return
        if self._max_modified_at is None or moment > self._max_modified_at:
            self._max_modified_at, self.max_modified = moment, value


def _http_error_message(exc: HTTPError, url: str, attempts: int) -> RestPullError:
    status = exc.response.status_code if exc.response is not None else 0
    where = f"GET {url}"
    if status in (401, 403):
        return RestAuthError(
            f"{where}: HTTP {status} — the server refused the credentials (check auth.client_id, the secret, "
            "and that the client may read this endpoint)"
        )
    if status == 404:
        return RestPullError(f"{where}: HTTP 404 — no such endpoint; check base_url and version_path")
    if status == 429 or status >= 500:
        return RestPullError(f"{where}: HTTP {status} after {attempts} attempts; try again later")
    return RestPullError(f"{where}: HTTP {status}")


class OneRosterClient:
    """RESTClient for one source, with its auth, paging and retry settings."""

    def __init__(self, config: RestSourceConfig) -> None:
        self.config = config
        retrying = Client(
            request_timeout=config.timeout,
            raise_for_status=False,
            request_max_attempts=config.retry.max_attempts,
            request_backoff_factor=config.retry.backoff_factor,
            request_max_retry_delay=config.retry.max_delay,
            respect_retry_after_header=True,
        )
        self.session = retrying.session
        self.session.headers["Accept"] = "application/json"
        self.rest = RESTClient(
            base_url=config.api_root, auth=build_auth(config.auth, self.session), session=self.session
        )

    def endpoint_url(self, path: str) -> str:
        return f"{self.config.api_root}/{path}"

    def pages(self, entity: str, path: str, params: dict[str, str], pulled: EndpointPull) -> Iterator[list[dict]]:
        """Yield each page's records of ``entity`` from ``path``. Raises ``RestPullError``."""
        url = self.endpoint_url(path)
        paginator = OneRosterPaginator(entity, self.config.page_size)
        try:
            for page in self.rest.paginate(path, params=dict(params), paginator=paginator, data_selector="$"):
                pulled.requests += 1
                if pulled.requests == 1:
                    pulled.total_announced = _total_count(page.response)
                yield envelope_records(page[0] if page else None, entity)
        except EnvelopeError as exc:
            raise RestPullError(f"GET {url} (offset {paginator.offset}): {exc}") from None
        except JSONDecodeError:
            raise RestPullError(f"GET {url} (offset {paginator.offset}): the response is not JSON") from None
        except HTTPError as exc:
            raise _http_error_message(exc, url, self.config.retry.max_attempts) from None
        except RestPullError:
            raise
        except (ConnectionError, Timeout) as exc:
            raise RestPullError(
                f"GET {url}: cannot reach the server ({type(exc).__name__}) after "
                f"{self.config.retry.max_attempts} attempts; check base_url"
            ) from None
        except RequestException as exc:
            raise RestPullError(f"GET {url}: request failed ({type(exc).__name__})") from None


def _total_count(response: Response) -> int | None:
    value = response.headers.get("X-Total-Count")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
