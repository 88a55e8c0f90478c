"""Absolute links, for what leaves the browser: e-mails, receipts, API answers, processors'
return URLs. ``PUBLIC_URL`` followed by a path the portal or the site serves; a link that is
already absolute, or empty, stays as it is."""

from __future__ import annotations

from flask import current_app


def absolute(path: str | None) -> str:
    if not path or not path.startswith("/"):
        return path or ""
    return current_app.config["PUBLIC_URL"].rstrip("/") + path
