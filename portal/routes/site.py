"""The published policy site on the portal's own origin: any GET that no portal route
matches is a file of ``SITE_DIR`` (directories answer with their ``index.html``). A
signed-in customer at ``/`` goes to the dashboard.

Caching: a fingerprinted asset (``assets/site.<hash>.css``: its name changes with its
content) is kept for a year; pages for five minutes; ``/`` is asked again every time, since
it answers differently once the visitor has signed in."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, abort, current_app, g, redirect, send_from_directory, url_for
from werkzeug.security import safe_join

bp = Blueprint("site", __name__)

FINGERPRINTED = re.compile(r"assets/.+\.[0-9a-f]{16}\.[a-z0-9]+")
YEAR = 365 * 24 * 3600
PAGE_SECONDS = 300


def max_age(path: str) -> int:
    """How long a browser may keep the site's file ``path`` without asking again."""
    if FINGERPRINTED.fullmatch(path):
        return YEAR
    return PAGE_SECONDS if path != "index.html" else 0


@bp.get("/", defaults={"path": ""})
@bp.get("/<path:path>")
def serve(path: str):
    if not path and g.get("user") is not None:
        return redirect(url_for("dashboard.index"))
    root = current_app.config["SITE_DIR"]
    target = safe_join(root, path)
    if target is None:
        abort(404)
    if Path(target).is_dir():
        path = f"{path.rstrip('/')}/index.html".lstrip("/")
    response = send_from_directory(root, path, max_age=max_age(path))
    if max_age(path) == YEAR:
        response.cache_control.immutable = True
    elif not max_age(path):
        response.cache_control.no_cache = True
    return response
