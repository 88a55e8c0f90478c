"""The browser's session: Flask's signed session cookie, except on the machine endpoints (the
customer API, the processors' and providers' webhooks). No browser calls those, and their
caller is named by a key or a signature, never by a cookie: a cookie sent along is neither
read nor set (and not reading one is a cost the API's hottest action need not pay: getStatus
in ``bench/api_bench.py``). They get an empty session that is never saved, so an error page
they render (which asks for a CSRF token) still renders."""

from __future__ import annotations

from flask import request
from flask.sessions import SecureCookieSessionInterface

MACHINE_PATHS = ("/stubs/", "/webhooks/")


def _machine(path: str) -> bool:
    return path.startswith(MACHINE_PATHS)


def machine_request() -> bool:
    """Whether this request is to a machine endpoint (the API, a webhook)."""
    return _machine(request.path)


class BrowserSessionInterface(SecureCookieSessionInterface):
    _signing: tuple | None = None

    def get_signing_serializer(self, app):
        # Made once per set of keys: Flask makes one per request, and itsdangerous serializes
        # a test value to make one (a tenth of the balance fragment, ``bench/portal_bench.py``).
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if self._signing is None or self._signing[0] != keys:
            self._signing = (keys, super().get_signing_serializer(app))
        return self._signing[1]

    def open_session(self, app, request):
        if _machine(request.path):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if not machine_request():
            super().save_session(app, session, response)


def init_app(app) -> None:
    app.session_interface = BrowserSessionInterface()
