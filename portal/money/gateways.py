"""The app's two payment gateways, chosen once when the app is built: Stripe and the crypto
processor when their keys are configured, otherwise the embedded demo processor. The rest
of the portal asks ``card()`` and ``crypto()`` and never which one answers.

The demo gateways write their signed events to the outbox, in the transaction of whatever
caused them; a job posts each to the portal's own webhook endpoint through the whole WSGI
stack, after the request, as an outside processor would (``portal.jobs.senders``).
"""

from __future__ import annotations

import hashlib

from flask import Flask, current_app

from portal import jobs
from portal.jobs import outbox
from portal.payments.demo import DemoCardGateway, DemoCryptoGateway
from portal.payments.gateways import CardGateway, CryptoGateway, NowPaymentsGateway, StripeGateway


def _via_outbox(path: str, body: bytes, headers: dict) -> None:
    """A demo event, to be posted to the portal's own webhook ``path`` by a job."""
    digest = hashlib.sha256(path.encode() + b"\0" + body).hexdigest()[:40]
    outbox.add(key=f"demo:{digest}", channel="loopback", target=path, kind=path.rsplit("/", 1)[-1],
               body=body.decode(), headers=headers)
    jobs.deliver_soon()


def init_app(app: Flask) -> None:
    config = app.config
    if config["STRIPE_SECRET_KEY"]:
        card_gateway = StripeGateway(config["STRIPE_SECRET_KEY"], config["STRIPE_API_BASE"])
    else:
        card_gateway = DemoCardGateway(config["STRIPE_WEBHOOK_SECRET"], _via_outbox)
    if config["CRYPTO_API_KEY"]:
        extra = {"api_base": config["CRYPTO_API_BASE"]} if config["CRYPTO_API_BASE"] else {}
        crypto_gateway = NowPaymentsGateway(config["CRYPTO_API_KEY"], **extra)
    else:
        crypto_gateway = DemoCryptoGateway(config["CRYPTO_IPN_SECRET"], _via_outbox)
    app.extensions["card_gateway"] = card_gateway
    app.extensions["crypto_gateway"] = crypto_gateway


def card() -> CardGateway:
    return current_app.extensions["card_gateway"]


def crypto() -> CryptoGateway:
    return current_app.extensions["crypto_gateway"]


def demo_card() -> DemoCardGateway | None:
    """The demo card gateway when it is the one in use (its pages exist only then)."""
    gateway = card()
    return gateway if isinstance(gateway, DemoCardGateway) else None


def demo_crypto() -> DemoCryptoGateway | None:
    gateway = crypto()
    return gateway if isinstance(gateway, DemoCryptoGateway) else None
