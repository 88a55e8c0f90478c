"""The app's two payment gateways, chosen once when the app is built: Stripe and the crypto
processor when their keys are configured, otherwise the embedded demo processor. The rest
of the portal asks ``card()`` and ``crypto()`` and never which one answers.

The demo gateways deliver their signed events to the portal's own webhook endpoints through
the whole WSGI stack, in an app context of their own, as an outside processor would.
"""

from __future__ import annotations

from flask import Flask, current_app

from portal.payments.demo import Deliver, DemoCardGateway, DemoCryptoGateway
from portal.payments.gateways import CardGateway, CryptoGateway, NowPaymentsGateway, StripeGateway


def _loopback(app: Flask) -> Deliver:
    def deliver(path: str, body: bytes, headers: dict) -> int:
        with app.app_context():  # shares no ``g`` with the request that caused the event
            answer = app.test_client().post(path, data=body,
                                            headers={"Content-Type": "application/json", **headers})
        return answer.status_code

    return deliver


def init_app(app: Flask) -> None:
    config = app.config
    if config["STRIPE_SECRET_KEY"]:
        card_gateway = StripeGateway(config["STRIPE_SECRET_KEY"], config["STRIPE_API_BASE"])
    else:
        card_gateway = DemoCardGateway(config["STRIPE_WEBHOOK_SECRET"], _loopback(app))
    if config["CRYPTO_API_KEY"]:
        extra = {"api_base": config["CRYPTO_API_BASE"]} if config["CRYPTO_API_BASE"] else {}
        crypto_gateway = NowPaymentsGateway(config["CRYPTO_API_KEY"], **extra)
    else:
        crypto_gateway = DemoCryptoGateway(config["CRYPTO_IPN_SECRET"], _loopback(app))
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
