"""The customer portal (Flask + htmx + peewee) and the policy it enforces.

``create_app(config=None)`` builds the Flask app (see ``portal.app``). The package itself
imports nothing else, so the site generator can read ``portal.policy`` without loading a
web framework.
"""


def create_app(config: dict | None = None):
    from portal.app import create_app as build

    return build(config)
