"""HTTP side of the Clever pull: dlt's ``RESTClient`` with bearer auth and a paginator that follows
``links[rel=next]``. Every record is unwrapped from Clever's ``{"data": {...}, "uri": ...}``
envelope and stripped of credentials before anything else sees it.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urljoin, urlsplit

from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import BaseNextUrlPaginator
from requests import HTTPError, RequestException, Response
from requests.exceptions import JSONDecodeError

from loaders.clever.settings import CleverPullError, CleverSource, Endpoint, endpoint_for

logger = logging.getLogger(__name__)

# Keys never kept from a payload, at any depth (Clever sends login names and demo passwords in
# ``credentials``); matched case-insensitively, ``credentials`` exactly, the others as parts.
SECRET_KEY_PARTS = ("password", "secret", "token")


def scrub(value: Any) -> Any:
    """A copy of a decoded JSON value without credentials, passwords, secrets or tokens."""
    if isinstance(value, dict):
        return {key: scrub(item) for key, item in value.items() if not _is_secret_key(str(key))}
    if isinstance(value, list):
        return [scrub(item) for item in value]
    return value


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return lowered == "credentials" or any(part in lowered for part in SECRET_KEY_PARTS)


def _endpoint_name(url: str) -> str:
    """Scheme, host and path of a URL (no query string): how errors name an endpoint."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class CleverLinksPaginator(BaseNextUrlPaginator):
    """Follows the ``links`` entry whose ``rel`` is ``next`` (a URI relative to the API host, carrying
    ``starting_after``) until a page has no such link or no records."""

    def __init__(self) -> None:
        super().__init__()
        self._followed: set[str] = set()

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        """Read the next link of the page just fetched; refuse a link that would loop."""
        body = response.json()
        links = body.get("links") if isinstance(body, dict) else None
        next_uri = next(
            (
                link.get("uri")
                for link in links or []
                if isinstance(link, dict) and link.get("rel") == "next" and link.get("uri")
            ),
            None,
        )
        if not data or not next_uri:
            self._next_reference = None
            return
        self._followed.add(response.url)
        target = urljoin(response.url, next_uri)
        if target in self._followed:
            raise CleverPullError(f"GET {_endpoint_name(target)}: the API sent a next link back to a page already read")
        self._next_reference = target


class CleverClient:
    """Reads Clever list endpoints page by page with dlt's ``RESTClient``."""

    def __init__(self, source: CleverSource, token: str) -> None:
        self.source = source
        self._rest = RESTClient(
            base_url=source.api_url,
            headers={"Accept": "application/json"},
            auth=BearerTokenAuth(token=token),
            data_selector="data",
        )

    def endpoint(self, collection: str) -> Endpoint:
        """The list endpoint of ``collection`` for the configured API version."""
        return endpoint_for(collection, self.source.api_version)

    def records(self, collection: str) -> list[dict[str, Any]]:
        """Every record of a collection (all pages), unwrapped and without credentials.

        Raises ``CleverPullError`` with a one-line message naming the endpoint when the request is
        refused (401/403), fails, or the answer is not Clever's list shape.
        """
        endpoint = self.endpoint(collection)
        url = f"{self.source.api_url}/{endpoint.path}"
        records: list[dict[str, Any]] = []
        try:
            pages = self._rest.paginate(
                endpoint.path,
                params={"limit": self.source.page_size, **endpoint.params},
                paginator=CleverLinksPaginator(),
            )
            for page in pages:
                for item in page:
                    record = item.get("data") if isinstance(item, dict) else None
                    if not isinstance(record, dict):
                        raise CleverPullError(f"GET {url}: a list item is not a {{'data': {{...}}}} record")
                    records.append(scrub(record))
        except (JSONDecodeError, ValueError):
            raise CleverPullError(f"GET {url}: the answer is not JSON") from None
        except HTTPError as exc:
            raise CleverPullError(self._describe(exc.response, url)) from None
        except RequestException as exc:
            raise CleverPullError(f"GET {url}: cannot reach Clever ({type(exc).__name__})") from None
        logger.info("GET %s%s: %d records", url, f" {endpoint.params}" if endpoint.params else "", len(records))
        return records

    def _describe(self, response: Response | None, url: str) -> str:
        """One line for an HTTP error status, naming the endpoint (never the token)."""
        if response is None:
            return f"GET {url}: request failed"
        where = _endpoint_name(response.url or url)
        status = f"{response.status_code} {response.reason or ''}".strip()
        if response.status_code in (401, 403):
            return f"GET {where} answered {status}: Clever refused the token in ${self.source.token_env}"
        if response.status_code == 404:
            return f"GET {where} answered {status}: check base_url and api_version ({self.source.api_version})"
        return f"GET {where} answered {status}"
