"""Fail fast where retrying is useless.

Errors that know whether a later attempt can help say so in `retryable`: the Racing API's (401/403, 404, 422,
a paging total that changed, an unreachable RACING_API_BASE_URL: False; 429, 5xx, timeouts, dropped
connections after the client's own retries: True) and the database's (a malformed DARKHORSES_DATABASE_URL or
refused credentials: False; a server that does not answer: True). Inside `fail_fast()` the ones that cannot be
helped become `dagster.Failure(allow_retries=False)`, which an op's RetryPolicy does not re-run; everything
else is raised unchanged and keeps its retries. Their messages already say what to do and hold no secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Failure, MetadataValue


def is_retryable(error: BaseException) -> bool:
    """False only for errors that declare a retry useless (`retryable = False`)."""
    return getattr(error, "retryable", True) is not False


def non_retryable_failure(error: BaseException) -> Failure:
    """The error as a Dagster Failure that the op's RetryPolicy will not retry, with the same message."""
    return Failure(
        description=f"{error} (not retried within the run: an immediate retry would fail the same way)",
        metadata={"error": MetadataValue.text(type(error).__name__), "retryable": MetadataValue.bool(False)},
        allow_retries=False,
    )


@contextmanager
def fail_fast() -> Iterator[None]:
    """Raise errors that say `retryable = False` as `Failure(allow_retries=False)`; leave the others alone."""
    try:
        yield
    except Exception as error:
        if is_retryable(error):
            raise
        raise non_retryable_failure(error) from error
