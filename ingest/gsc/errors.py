"""Errors a user can act on: every message names the property (and, for 403, the account).

They are plain exceptions so the CLI prints them as one line and Dagster turns them into a
`Failure` without a traceback; none of them ever carries a credential.
"""

from __future__ import annotations


class GscError(Exception):
    """Base class of Search Console failures a user can fix or retry."""


class GscConfigError(GscError):
    """Settings or credentials that cannot be used (missing, unreadable, or not allowed)."""


class GscPermissionError(GscError):
    """Search Console answered 401/403: the account may not read this property."""


class GscRequestError(GscError):
    """A request failed for good: a non-retryable status, or retries exhausted."""

    def __init__(self, message: str, *, status: int | None = None, exhausted: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.exhausted = exhausted
        """True when the failure was transient but outlasted the retries (try again later)."""
