"""Security headers on every response: CSP without inline or eval scripts, no framing,
nosniff, a strict referrer policy, HSTS when the request came over HTTPS, and no caching
of a signed-in customer's pages. The machine endpoints (API, webhooks) answer programs, not
browsers: they get only nosniff (the rest cost getStatus 3% of its req/s, ``bench/api_bench.py``)."""

from __future__ import annotations

from flask import g, request

from portal.web.cookies import machine_request

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000; includeSubDomains"


def add_headers(response):
    if machine_request():  # plain text and JSON for programs: no page to frame or script
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
    # No view sets these itself; one extend costs a third of a setdefault per header.
    response.headers.extend(HEADERS)
    if g.get("user") is not None and request.endpoint not in ("static", "site.serve"):
        response.headers["Cache-Control"] = "private, no-store"  # a customer's own data
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = HSTS
    return response


def init_app(app) -> None:
    app.after_request(add_headers)
