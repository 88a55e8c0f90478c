"""HTTP GET with a per-request timeout and bounded retries, for text-answering upstreams.

A failure is transient when the connection fails, the answer times out or is cut, the
status is 5xx or 429, or the body is one of ``transient_answers`` (ERROR_SQL for the
SMS-Activate protocol). Transient failures are retried with exponential backoff, up to
``retries`` more attempts, then raise ``ProviderUnavailable``.

A request that is not idempotent (renting a number) is retried only when it certainly
never reached the server (connection refused, connect timeout). Once it may have been
received, a lost or failed answer is ambiguous: a retry could rent a second number, so
the failure is raised at once.

Error details never contain the URL: its query string holds the API key.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Callable, Mapping

from .base import ProviderUnavailable

USER_AGENT = "1001sms-portal"
MAX_BODY = 64 * 1024


class Transport:
    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        retries: int,
        backoff: float,
        transient_answers: frozenset[str] = frozenset(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if timeout <= 0 or retries < 0 or backoff < 0:
            raise ValueError("timeout must be positive, retries and backoff not negative")
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.transient_answers = transient_answers
        self.sleep = sleep

    def get(self, params: Mapping[str, str], *, idempotent: bool, max_body: int = MAX_BODY) -> str:
        """The stripped body (at most ``max_body`` bytes) of the first non-transient answer,
        of any HTTP status."""
        label = params.get("action", "request")
        attempts = 1 + self.retries
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                self.sleep(self.backoff * 2 ** (attempt - 2))
            try:
                status, text = self._fetch(params, max_body)
            except urllib.error.URLError as error:  # raised before any answer: not sent
                problem = f"cannot connect ({error.reason})"
                continue
            except (OSError, http.client.HTTPException) as error:
                problem = f"no answer ({type(error).__name__}: {error})"
            else:
                if not (status >= 500 or status == 429 or text in self.transient_answers):
                    return text
                problem = f"HTTP {status} {text[:80]!r}"
            if not idempotent:
                break
        raise ProviderUnavailable(f"{label}: {problem} after {attempt} of {attempts} attempts")

    def _fetch(self, params: Mapping[str, str], max_body: int) -> tuple[int, str]:
        request = urllib.request.Request(
            f"{self.url}?{urllib.parse.urlencode(params)}",
            headers={"User-Agent": USER_AGENT, "Accept": "text/plain"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, _decode(response.read(max_body))
        except urllib.error.HTTPError as error:  # 4xx/5xx: the body still says why
            with error:
                return error.code, _decode(error.read(max_body))


def _decode(body: bytes) -> str:
    return body.decode("utf-8", errors="replace").strip()
