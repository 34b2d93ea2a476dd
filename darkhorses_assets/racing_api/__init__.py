"""Client for The Racing API: a paced, retrying Dagster resource and its errors."""

from .client import ApiPage, RacingApiResource
from .errors import (
    RacingApiAuthError,
    RacingApiError,
    RacingApiIncomplete,
    RacingApiNotFound,
    RacingApiRequestError,
    RacingApiUnavailable,
)
from .limiter import TokenBucket, shared_bucket

__all__ = [
    "ApiPage",
    "RacingApiAuthError",
    "RacingApiError",
    "RacingApiIncomplete",
    "RacingApiNotFound",
    "RacingApiRequestError",
    "RacingApiResource",
    "RacingApiUnavailable",
    "TokenBucket",
    "shared_bucket",
]
