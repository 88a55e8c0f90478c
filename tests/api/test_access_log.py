"""The access log never holds an API key (``portal.web.access_log``)."""

from __future__ import annotations

import pytest

from portal.web.access_log import redact

CASES = [
    ("GET /stubs/handler_api.php?api_key=abc123&action=getBalance HTTP/1.1",
     "GET /stubs/handler_api.php?api_key=[redacted]&action=getBalance HTTP/1.1"),
    ("action=getStatus&api_key=abc&id=1", "action=getStatus&api_key=[redacted]&id=1"),
    ("API_KEY=abc", "API_KEY=[redacted]"),
    ("action=x&api_key%20=abc", "action=x&api_key%20=[redacted]"),
    ("action=x&+api_key+=abc;y=1", "action=x&+api_key+=[redacted];y=1"),
    ("action=getBalance&my_api_key_hint=1", "action=getBalance&my_api_key_hint=1"),
    ("", ""),
]


@pytest.mark.parametrize("line, logged", CASES)
def test_redact(line, logged):
    assert redact(line) == logged
