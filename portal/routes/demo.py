"""The demo processor's pages, offered only while the demo gateways are in use: a checkout
page for card deposits and an invoice page for crypto deposits. Their buttons make the demo
gateway send signed events to the real webhook endpoints (``portal.payments.demo``), after
the request, as a processor would: until the event has come, the page says it is waiting
for it and asks again every second."""

from __future__ import annotations

from flask import Blueprint, abort, g, request

from portal.money import deposits, gateways
from portal.states import DEPOSIT_PENDING
from portal.store.models import Deposit
from portal.web import views

bp = Blueprint("demo", __name__, url_prefix="/demo")


def _gateway(found):
    if found is None:
        abort(404)
    return found


def _deposit(processor_ref: str, methods) -> Deposit:
    return views.owned_or_404(Deposit.select().where(
        Deposit.user == g.user.id, Deposit.processor_ref == processor_ref, Deposit.method.in_(methods),
    ))


ACTIONS = ("pay", "cancel", "expire")


def _page(template: str, deposit: Deposit, status: int = 200, awaiting: str | None = None, **context):
    """The page (or its result fragment); ``awaiting`` names the action whose event is on its
    way while the deposit is still pending."""
    changed = "balance-changed" if deposit.state == "succeeded" else None
    awaiting = awaiting or request.args.get("awaiting")
    if awaiting not in ACTIONS or deposit.state not in DEPOSIT_PENDING:
        awaiting = None
    return views.render(f"pages/{template}.html", "fragments/demo_result.html", status,
                        trigger=changed, deposit=deposit, awaiting=awaiting, **context)


@bp.get("/checkout/<session_id>")
@views.login_required
def checkout(session_id: str):
    _gateway(gateways.demo_card())
    return _page("demo_checkout", _deposit(session_id, ("card",)))


@bp.post("/checkout/<session_id>/<action>")
@views.login_required
def checkout_action(session_id: str, action: str):
    gateway = _gateway(gateways.demo_card())
    deposit = _deposit(session_id, ("card",))
    if action not in ("pay", "cancel"):
        abort(404)
    if deposit.state in DEPOSIT_PENDING:
        (gateway.pay_checkout if action == "pay" else gateway.cancel_checkout)(
            session_id=session_id, deposit_reference=deposit.reference,
            amount_cents=deposit.amount_cents, currency=deposit.currency)
    return _page("demo_checkout", Deposit.get_by_id(deposit.id), awaiting=action)


@bp.get("/invoice/<invoice_id>")
@views.login_required
def invoice(invoice_id: str):
    gateway = _gateway(gateways.demo_crypto())
    deposit = _deposit(invoice_id, deposits.CRYPTO)
    return _page("demo_invoice", deposit, quote=gateway.quote(deposit.method, deposit.amount_cents))


@bp.post("/invoice/<invoice_id>/<action>")
@views.login_required
def invoice_action(invoice_id: str, action: str):
    gateway = _gateway(gateways.demo_crypto())
    deposit = _deposit(invoice_id, deposits.CRYPTO)
    if action not in ("pay", "expire"):
        abort(404)
    if deposit.state in DEPOSIT_PENDING:
        gateway.pay_invoice(deposit_reference=deposit.reference, coin=deposit.method,
                            amount_cents=deposit.amount_cents,
                            status="finished" if action == "pay" else "expired")
    deposit = Deposit.get_by_id(deposit.id)
    return _page("demo_invoice", deposit, awaiting=action,
                 quote=gateway.quote(deposit.method, deposit.amount_cents))
