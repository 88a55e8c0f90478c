"""Fixtures for the provider tests: a fake upstream per test and a client with short timeouts."""

from __future__ import annotations

import pytest

from portal.numbers.sms import SmsActivateClient
from tests.sms.fake_upstream import upstream  # noqa: F401 (a fixture)

TIMEOUT = 0.2  # seconds; slow fake answers wait longer than this
BACKOFF = 0.01


@pytest.fixture
def sleeps() -> list[float]:
    """The backoff delays the client asked for, in order (nothing really sleeps)."""
    return []


@pytest.fixture
def client(upstream, sleeps) -> SmsActivateClient:
    return SmsActivateClient(
        upstream.url, upstream.api_key, timeout=TIMEOUT, retries=2, backoff=BACKOFF,
        sleep=sleeps.append,
    )
