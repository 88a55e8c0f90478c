"""The portal's app factory: ``create_app(config=None)`` builds the Flask app.

Nothing happens at import time. The factory binds the database (and brings it to the
current schema), wires htmx-flask, CSRF protection, flask-babel and the security headers,
and registers one blueprint per area of ``portal/routes``.
"""

from __future__ import annotations

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

    from portal import cli
    from portal.web import errors, i18n, security, views
    from portal.routes import account, auth, dashboard, demo, deposits, policy, site, webhooks

    i18n.init_app(app)
    security.init_app(app)
    views.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    for module in (auth, dashboard, deposits, webhooks, account, demo, policy, site):
        app.register_blueprint(module.bp)
    from portal.routes import prices, rentals

    for module in (rentals, prices):  # issue 6: numbers, refunds of failed SMS, prices
        app.register_blueprint(module.bp)
    csrf.exempt(webhooks.bp)
    from portal.routes import staff as staff_routes, staff_disputes, staff_held, tickets as ticket_routes

    for module in (ticket_routes, staff_routes, staff_disputes, staff_held):
        app.register_blueprint(module.bp)
    return app
