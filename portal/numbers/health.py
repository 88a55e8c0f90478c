"""What the polling job knows of each SMS upstream's health.

When a poll fails, the upstream is marked failing and asked again only after a backoff
(2 s doubling to at most a minute); meanwhile pages that would call it (renting, the
refund's cancel) answer at once that the provider is unavailable instead of waiting for
its timeouts. The first poll that succeeds clears the mark.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from portal.store.fields import utcnow
from portal.store.models import UpstreamHealth

FIRST_BACKOFF = timedelta(seconds=2)
LONGEST_BACKOFF = timedelta(minutes=1)


def backoff(failures: int) -> timedelta:
    """How long to leave the upstream alone after ``failures`` failed polls in a row."""
    if failures < 1:
        raise ValueError("backoff is for an upstream that failed")
    return min(FIRST_BACKOFF * 2 ** (failures - 1), LONGEST_BACKOFF)


def failing(provider: str, now: datetime | None = None) -> bool:
    """Whether ``provider`` is known to be failing and not due for another try yet."""
    now = now or utcnow()
    row = UpstreamHealth.get_or_none(UpstreamHealth.provider == provider)
    return row is not None and row.retry_at is not None and row.retry_at > now


def failed(provider: str, error: str, now: datetime) -> timedelta:
    """Record a failed poll; how long until the next try."""
    row, _ = UpstreamHealth.get_or_create(provider=provider)
    failures = row.failures + 1
    wait = backoff(failures)
    UpstreamHealth.update(failures=failures, failing_since=row.failing_since or now,
                          retry_at=now + wait, error=error[:255]).where(
        UpstreamHealth.provider == provider).execute()
    return wait


def recovered(provider: str) -> None:
    UpstreamHealth.update(failures=0, failing_since=None, retry_at=None, error="").where(
        UpstreamHealth.provider == provider, UpstreamHealth.failures > 0).execute()


def all_upstreams() -> list[UpstreamHealth]:
    return list(UpstreamHealth.select().order_by(UpstreamHealth.provider))
