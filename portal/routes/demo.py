"""The demo processor's pages, offered only when no real processor keys are configured:
a checkout page for card deposits and an invoice page for crypto deposits. Their buttons
send signed events to the real webhook endpoints (see ``portal.money.demo_processor``)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g

from portal.money import demo_processor
from portal.web import views
from portal.store.models import Deposit

bp = Blueprint("demo", __name__, url_prefix="/demo")


def _deposit(processor: str, processor_ref: str, methods) -> Deposit:
    if current_app.config[processor] != "demo":
        abort(404)
    return views.owned_or_404(Deposit.select().where(
        Deposit.user == g.user.id, Deposit.processor_ref == processor_ref,
        Deposit.method.in_(methods),
    ))


def _page(template: str, deposit: Deposit, status: int = 200, **context):
    changed = "balance-changed" if deposit.state == "succeeded" else None
    return views.render(f"pages/{template}.html", "fragments/demo_result.html", status,
                      trigger=changed, deposit=deposit,
                      **context)


@bp.get("/checkout/<session_id>")
@views.login_required
def checkout(session_id: str):
    return _page("demo_checkout", _deposit("CARD_PROCESSOR", session_id, ("card",)))


@bp.post("/checkout/<session_id>/<action>")
@views.login_required
def checkout_action(session_id: str, action: str):
    deposit = _deposit("CARD_PROCESSOR", session_id, ("card",))
    if action not in ("pay", "cancel"):
        abort(404)
    if deposit.state in ("created", "checkout"):
        (demo_processor.pay_card if action == "pay" else demo_processor.cancel_card)(deposit)
    return _page("demo_checkout", Deposit.get_by_id(deposit.id))


@bp.get("/invoice/<invoice_id>")
@views.login_required
def invoice(invoice_id: str):
    deposit = _deposit("CRYPTO_PROCESSOR", invoice_id, ("BTC", "ETH", "USDT"))
    return _page("demo_invoice", deposit, quote=demo_processor.quote(deposit))


@bp.post("/invoice/<invoice_id>/<action>")
@views.login_required
def invoice_action(invoice_id: str, action: str):
    deposit = _deposit("CRYPTO_PROCESSOR", invoice_id, ("BTC", "ETH", "USDT"))
    if action not in ("pay", "expire"):
        abort(404)
    if deposit.state in ("created", "checkout"):
        demo_processor.pay_invoice(deposit, "finished" if action == "pay" else "expired")
    deposit = Deposit.get_by_id(deposit.id)
    return _page("demo_invoice", deposit, quote=demo_processor.quote(deposit))
