"""Request authorisation for OneRoster REST: OAuth 2 client credentials and OAuth 1.0a signatures.

Both are ``requests`` auth objects that RESTClient attaches to every request:

* ``OneRosterOAuth2`` is dlt's ``OAuth2ClientCredentials`` plus one thing: when the API answers
  401 to a token the client still believes valid (the server expired it early), a new token is
  fetched once and the request is sent again.
* ``OneRosterOAuth1`` is ``requests_oauthlib.OAuth1`` (HMAC-SHA256 or HMAC-SHA1 over the URL and
  its query). A request that dlt's session retries after a 429/5xx is signed again first, so the
  retry carries a fresh nonce and timestamp instead of replaying the rejected ones.

Neither ever logs or stores the secret or the token.
"""

from __future__ import annotations

from base64 import b64encode
from typing import Any
from urllib.parse import quote

from dlt.common.configuration.specs.base_configuration import configspec
from dlt.sources.helpers.requests.retry import DEFAULT_RETRY_STATUS
from dlt.sources.helpers.rest_client.auth import OAuth2ClientCredentials
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_AUTH_HEADER
from requests import PreparedRequest, Response, Session
from requests.auth import AuthBase
from requests.exceptions import HTTPError, RequestException
from requests_oauthlib import OAuth1

from loaders.oneroster_rest.config import AuthSettings
from loaders.oneroster_rest.errors import RestAuthError, RestPullError


@configspec
class OneRosterOAuth2(OAuth2ClientCredentials):
    """OAuth 2 client credentials (dlt) with one token refresh on an unexpected 401."""

    client_auth: str = "basic"  # client credentials in a Basic header ("basic") or in the form body ("body")

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        try:
            super().__call__(request)
        except HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            refused = status in (400, 401, 403)
            error = RestAuthError if refused else RestPullError
            raise error(
                f"token endpoint {self.access_token_url} answered HTTP {status} to the client-credentials request; "
                + ("check auth.client_id and the secret" if refused else "try again later")
            ) from None
        except RequestException as exc:
            raise RestPullError(f"cannot reach token endpoint {self.access_token_url}: {type(exc).__name__}") from None
        except ValueError:
            raise RestAuthError(f"token endpoint {self.access_token_url} did not answer with a JSON token") from None
        if not self.access_token or self.access_token == "None":
            raise RestAuthError(f"token endpoint {self.access_token_url} answered without an access_token")
        request.register_hook("response", self._refresh_once_on_401)
        return request

    def _refresh_once_on_401(self, response: Response, **kwargs: Any) -> Response:
        """On a 401, fetch a new token and send the request once more (no further refresh)."""
        if response.status_code != 401:
            return response
        self.access_token = None
        prepared = response.request.copy()
        self(prepared)  # obtains a new token
        # later retries of the original request (429/5xx) must carry the new token too
        response.request.headers["Authorization"] = prepared.headers["Authorization"]
        response.content  # noqa: B018 - drain the 401 so the connection can be reused
        response.close()
        retried = response.connection.send(prepared, **kwargs)
        retried.history.append(response)
        retried.request = prepared
        return retried

    def build_access_token_request(self) -> dict[str, Any]:
        """Client credentials in a Basic header (the IMS security framework's way) or the form body."""
        request = super().build_access_token_request()
        if self.client_auth == "basic":
            data = request["data"]
            pair = f"{quote(str(data.pop('client_id')), safe='')}:{quote(str(data.pop('client_secret')), safe='')}"
            request["headers"]["Authorization"] = "Basic " + b64encode(pair.encode()).decode()
        return request


class OneRosterOAuth1(OAuth1):
    """OAuth 1.0a signed requests (header signature) that are signed again before every retry."""

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        self._sign(request)
        request.register_hook("response", self._sign_again_for_retry)
        return request

    def _sign(self, request: PreparedRequest) -> None:
        request.headers.pop("Authorization", None)
        super().__call__(request)

    def _sign_again_for_retry(self, response: Response, **kwargs: Any) -> Response:
        """A 429/5xx is retried with the same prepared request: give it a fresh nonce and timestamp."""
        if response.status_code in DEFAULT_RETRY_STATUS:
            self._sign(response.request)
        return response


def build_auth(settings: AuthSettings, session: Session) -> AuthBase | None:
    """The requests auth object for ``settings``; token requests go through ``session`` (retries)."""
    if settings.type == "oauth2":
        return OneRosterOAuth2(
            access_token_url=settings.token_url,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            access_token_request_data={"scope": settings.scope} if settings.scope else None,
            client_auth=settings.client_auth,
            session=session,
        )
    if settings.type == "oauth1":
        method = SIGNATURE_HMAC_SHA256 if settings.signature_method == "HMAC-SHA256" else SIGNATURE_HMAC_SHA1
        return OneRosterOAuth1(
            settings.client_id,
            client_secret=settings.client_secret,
            signature_method=method,
            signature_type=SIGNATURE_TYPE_AUTH_HEADER,
        )
    return None
