"""The published policy site on the portal's own origin: any GET that no portal route
matches is a file of ``SITE_DIR`` (directories answer with their ``index.html``)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory
from werkzeug.security import safe_join

bp = Blueprint("site", __name__)


@bp.get("/", defaults={"path": ""})
@bp.get("/<path:path>")
def serve(path: str):
    root = current_app.config["SITE_DIR"]
    target = safe_join(root, path)
    if target is None:
        abort(404)
    if Path(target).is_dir():
        path = f"{path.rstrip('/')}/index.html".lstrip("/")
    return send_from_directory(root, path, max_age=300)
