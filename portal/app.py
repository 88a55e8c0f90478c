"""The portal's app factory: ``create_app(config=None)`` builds the Flask app.

Nothing happens at import time. The factory binds the database (and brings it to the
current schema), wires htmx-flask, CSRF protection, flask-babel and the security headers,
builds the job queue and the payment gateways, and registers one blueprint per area of
``portal/routes``.
"""

from __future__ import annotations

import importlib

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import config as settings
from portal.store import db, migrate

csrf = CSRFProtect()


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(settings.INSTANCE))
    app.config.update(settings.load(config))
    if app.config["TRUST_PROXY"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUST_PROXY"],
                                x_proto=app.config["TRUST_PROXY"], x_host=app.config["TRUST_PROXY"])

    database = db.bind(app.config["DATABASE_URL"], app.config["DATABASE_LOCK_TIMEOUT_SECONDS"])
    with db.connection():
        migrate.upgrade(database)
    database.close_all()  # no pooled connection may survive into forked workers (--preload)

    Htmx(app)
    csrf.init_app(app)

    from portal import cli, jobs
    from portal.api import limits
    from portal.consent import texts
    from portal.money import gateways
    from portal.routes import BLUEPRINTS, api, webhooks
    from portal.web import cookies, errors, i18n, reasons, records, security, views

    cookies.init_app(app)
    i18n.init_app(app)
    reasons.init_app(app)
    records.init_app(app)
    texts.init_app(app)
    security.init_app(app)
    views.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    jobs.init_app(app)
    limits.init_app(app)
    gateways.init_app(app)
    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(f"portal.routes.{name}").bp)
    csrf.exempt(webhooks.bp)
    csrf.exempt(api.bp)
    return app
