"""The customer API: ``/stubs/handler_api.php``, the SMS-Activate handler protocol (GET, or POST
with the parameters in the query string or the form), answered by ``portal.api.actions``;
errors are the protocol's bare words with HTTP 200. Not a browser's page: no CSRF token, no
session; the key is the caller."""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, request

from portal.api import actions, keys, limits, protocol
from portal.api.protocol import ProtocolError
from portal.store.fields import utcnow
from portal.web import views

bp = Blueprint("api", __name__)


def _text(body: str, json: bool = False) -> Response:
    return Response(body, 200, mimetype="application/json" if json else "text/plain")


@bp.route("/stubs/handler_api.php", methods=["GET", "POST"])
def handler():
    params = protocol.parameters(request.args, request.form)
    try:
        if not params.get("api_key"):
            raise ProtocolError("NO_KEY")
        key = keys.find(params["api_key"])
        if key is None:
            raise ProtocolError("BAD_KEY")
        if not limits.allow(key.id, time.time(), int(current_app.config["API_RATE_PER_SECOND"])):
            raise ProtocolError("TOO_MANY_REQUESTS")
        now = utcnow()
        keys.touch(key, now)
        caller = actions.Caller(key, key.user, views.client_ip(), views.user_agent())
        body, is_json = actions.answer(caller, params, now)
    except ProtocolError as refused:
        return _text(refused.answer)
    return _text(body, is_json)
