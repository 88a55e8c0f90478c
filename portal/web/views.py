"""Request plumbing shared by the blueprints: a database connection per request, the
signed-in user in ``g.user``, ``login_required``, the ``<id:...>`` of a row in a URL, and
rendering a page or, for htmx, the fragment it asked for."""

from __future__ import annotations

import functools

from flask import abort, current_app, g, redirect, render_template, request, session, url_for
from htmx_flask import make_response
from werkzeug.routing import BaseConverter, ValidationError

from portal.store import db
from portal.money import ledger
from portal.accounts import sessions
from portal.store.models import User


MAX_ID = 2**63 - 1  # the largest BIGINT of PostgreSQL and INTEGER of SQLite


class IdConverter(BaseConverter):
    """``<id:name>``: a row id in a URL, 1 to ``MAX_ID`` in ASCII digits without leading
    zeros. Any other run of digits (``\\d``: in any script) is no row: 404.

    Werkzeug's ``int`` took any size (beyond 64 bits SQLite raised OverflowError: 500) and
    any script's digits (``/tickets/١`` was ticket 1).
    """

    regex = r"\d+"

    def to_python(self, value: str) -> int:
        # the length first: int() refuses strings of more than 4,300 digits (ValueError)
        if value.isascii() and value[0] != "0" and len(value) <= len(str(MAX_ID)) \
                and int(value) <= MAX_ID:
            return int(value)
        raise ValidationError()

    def to_url(self, value) -> str:
        return str(int(value))


def _open_db():
    g.db_opened = db.database.is_closed()
    if g.db_opened:
        db.database.connect()


def _close_db(_exc):
    if g.pop("db_opened", False) and not db.database.is_closed():
        db.database.close()


def session_id() -> str | None:
    """The id of the signed-in session of this request."""
    return session.get("sid")


def _load_user():
    g.user = None
    signed_in = session_id()
    if signed_in is None:
        return
    user = sessions.user_of(signed_in, current_app.config["SESSION_MAX_SECONDS"])
    if user is None:  # signed out (on this device, by a password change elsewhere, or by age)
        session.clear()
        return
    g.user = user


def sign_in(user: User) -> None:
    """A new session (a new id: one fixed before signing in is worth nothing after)."""
    previous = session_id()
    session.clear()
    if previous:
        sessions.end(previous)
    session["sid"] = sessions.start(user.id)
    session.permanent = False
    g.user = user


def sign_out() -> None:
    """End this session on the server too: the cookie, wherever it was copied, opens nothing."""
    signed_in = session_id()
    if signed_in:
        sessions.end(signed_in)
    session.clear()
    g.user = None


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            if request.htmx:
                return make_response("", 401, redirect=url_for("auth.login"))
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def render(page: str, fragment: str, /, status: int = 200, trigger=None, retarget=None, **context):
    """The full ``page`` for a normal request, only ``fragment`` for an htmx one (swapped
    into the element ``retarget`` names, when given, instead of the request's target).

    The page template includes the very same fragment, so both always agree. A history
    restore (the back button after ``hx-push-url``) gets the whole page. A whole page gets
    the signed-in user's balance for its header (``header_balance``) unless given.
    """
    wants_fragment = request.htmx and not request.htmx.history_restore_request
    template = fragment if wants_fragment else page
    if not wants_fragment and g.get("user") is not None and "header_balance" not in context:
        context["header_balance"] = ledger.balance(g.user.id)  # the layout shows it
    retarget = retarget if wants_fragment else None
    response = make_response(render_template(template, **context), status, trigger=trigger,
                             retarget=retarget, reswap="innerHTML" if retarget else None)
    response.vary.add("HX-Request")  # one URL, two representations
    return response


def owned_or_404(query):
    """The one row of a query already scoped to the current user, else 404."""
    row = query.first()
    if row is None:
        abort(404)
    return row


def client_ip() -> str:
    return (request.remote_addr or "")[:45]


def user_agent() -> str:
    return (request.user_agent.string or "")[:512]


def init_app(app) -> None:
    """Before the blueprints: their rules read the ``id`` converter when registered."""
    app.url_map.converters["id"] = IdConverter
    app.before_request(_open_db)
    app.before_request(_load_user)
    app.teardown_request(_close_db)
