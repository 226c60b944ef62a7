"""Errors of a OneRoster REST pull. Each message is one line that names the endpoint or setting."""

from __future__ import annotations


class RestPullError(Exception):
    """The pull could not finish (HTTP error, unreachable server, a response that is not OneRoster).
    Nothing was written to the warehouse and no cursor moved."""


class RestAuthError(RestPullError):
    """The server or its token endpoint refused the credentials (HTTP 401/403)."""
