"""Error pages in the portal's layout and the user's language: the page for a normal
request, its fragment for htmx, swapped into the page's problem area (``#problem``) rather
than into whatever the request was to replace.

A database lock that outlasts the lock timeout answers 503 with ``Retry-After``: try again.
Any other exception a view did not expect answers 500 (Flask logs it with its traceback
first; in testing and debugging Flask raises it instead, unless PROPAGATE_EXCEPTIONS is off).
"""

from __future__ import annotations

from flask import current_app
from flask_wtf.csrf import CSRFError

from portal.store import db
from portal.web import views
from portal.site_versions import SiteNotBuilt

RETRY_AFTER_SECONDS = 5


def page(code: int, reason: str):
    """The error page of ``reason`` (a key of ``fragments/problem.html``) with status ``code``."""
    # No balance in the header: the error may be the database's own.
    response = views.render("pages/error.html", "fragments/problem.html", code, code=code,
                            reason=reason, retarget="#problem", header_balance=None)
    response.headers["Cache-Control"] = "no-store"
    return response


def _bad_request(_error):
    return page(400, "bad_request")


def _not_found(_error):
    return page(404, "not_found")


def _too_large(_error):
    return page(413, "too_large")


def _site_not_built(error):
    current_app.logger.error("policy site not published: %s", error)
    return page(503, "site_not_built")


def _unexpected(error):
    """Any exception no other handler took (``error.original_exception``), or abort(500)."""
    if db.is_busy(getattr(error, "original_exception", None) or error):
        response = page(503, "busy")
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return page(500, "server_error")


def init_app(app) -> None:
    app.register_error_handler(CSRFError, _bad_request)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(413, _too_large)
    app.register_error_handler(SiteNotBuilt, _site_not_built)
    app.register_error_handler(500, _unexpected)
