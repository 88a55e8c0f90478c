"""Gunicorn's access log without secrets: an API key in a query string (``api_key=...``, the
protocol's way to send it) is logged as ``api_key=[redacted]``. ``make run`` and the README's
commands start gunicorn with ``--logger-class portal.web.access_log.RedactingLogger``."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

# The name as clients send it: trimmed by the portal, so spaces (raw or encoded) may surround it.
_SECRET = re.compile(r"(?i)((?:^|[?&;\s])(?:\s|%20|\+)*api_key(?:\s|%20|\+)*=)[^&;\s\"]*")


def redact(text: str) -> str:
    """``text`` with the value of every ``api_key`` parameter replaced."""
    return _SECRET.sub(r"\1[redacted]", text)


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "q", "U"):
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        return atoms
