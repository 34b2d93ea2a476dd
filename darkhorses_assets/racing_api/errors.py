"""Exceptions raised by the Racing API client.

Messages name the path, the query parameters and what to do next; they never contain credentials.
"""

from __future__ import annotations


class RacingApiError(Exception):
    """Base class for every error the Racing API client raises."""


class RacingApiAuthError(RacingApiError):
    """401/403: the credentials were rejected or the plan does not cover the endpoint. Never retried."""


class RacingApiRequestError(RacingApiError):
    """422 or another non-retryable 4xx: the request itself is wrong. Never retried."""


class RacingApiNotFound(RacingApiError):
    """404: the id (horse, race, ...) is unknown to the API."""


class RacingApiUnavailable(RacingApiError):
    """Transient failures (429, 5xx, timeouts, connection errors) outlasted the retry budget."""


class RacingApiIncomplete(RacingApiError):
    """Paging returned fewer rows than the API's own ``total``: refetch rather than store a partial day."""
