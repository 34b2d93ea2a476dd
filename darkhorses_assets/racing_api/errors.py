"""Exceptions raised by the Racing API client.

Messages name the path, the query parameters and what to do next; they never contain credentials.
Each class says whether a later retry can help (`retryable`): the assets turn those that cannot into a
`dagster.Failure(allow_retries=False)` (see `darkhorses_assets.fail_fast`), so a run fails at once instead of
being re-run by its RetryPolicy.
"""

from __future__ import annotations


class RacingApiError(Exception):
    """Base class for every error the Racing API client raises."""

    retryable: bool = True
    status: int | None = None
    """The HTTP status of the answer that raised it, when there was one."""


class RacingApiAuthError(RacingApiError):
    """401/403: the credentials were rejected or the plan does not cover the endpoint. Never retried."""

    retryable = False


class RacingApiRequestError(RacingApiError):
    """422 or another non-retryable 4xx: the request itself is wrong. Never retried."""

    retryable = False


class RacingApiNotFound(RacingApiError):
    """404: the id (horse, race, ...) is unknown to the API."""

    retryable = False


class RacingApiUnavailable(RacingApiError):
    """Transient failures (429, 5xx, timeouts, dropped connections) outlasted the retry budget."""

    retryable = True


class RacingApiUnreachable(RacingApiUnavailable):
    """No connection could be made at all (refused, host name unknown, malformed URL) on any attempt.

    Not worth a run retry: the client already tried for its whole budget, and the fix is usually
    RACING_API_BASE_URL or starting the server it points at.
    """

    retryable = False


class RacingApiIncomplete(RacingApiError):
    """Paging returned fewer rows than the API's own ``total``, or the total changed while paging.

    Not retried within the run: re-run the partition later rather than store a partial day.
    """

    retryable = False


MISSING_CREDENTIALS = (
    "No Racing API credentials are set: set RACING_API_USERNAME and RACING_API_PASSWORD (theracingapi.com, My "
    "Account) before starting Dagster, or run `make dev` (or `darkhorses dev`) to use the simulated API."
)


class RacingApiCredentialsMissing(RacingApiError):
    """RACING_API_USERNAME / RACING_API_PASSWORD are unset: raised before any request, never retried."""

    retryable = False
