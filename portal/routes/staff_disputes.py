"""Card disputes in the staff console (``/staff/disputes``, staff only): the list by
evidence deadline, one dispute with the evidence the portal assembled, submitted with one
click; with the demo processor, staff can also open a demo dispute and have it decided.
The processor's answer to each comes by webhook after the request (the demo's is sent by a
job), so the page asks again every second until it has come (``awaiting``)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, request

from portal.money import dispute_evidence, disputes, gateways, ledger, processors
from portal.web import views
from portal.store.fields import utcnow
from portal.store.models import Deposit, Dispute, User
from portal.payments.errors import ProcessorError
from portal.routes.staff import staff_required
from portal.states import DEPOSIT_CREDITED

bp = Blueprint("staff_disputes", __name__, url_prefix="/staff/disputes")


def _demo() -> bool:
    return gateways.demo_card() is not None


# What the panel shows after an action, and the dispute states that mean its event has come.
ARRIVED = {"submitted": ("under_review", "won", "lost"), "won": ("won",), "lost": ("lost",)}


def _list(status: int = 200, errors: dict | None = None, opened: str | None = None):
    listed = list(disputes.recent())
    opened = opened or request.args.get("awaiting", "")[:40] or None
    arrived = any(dispute.deposit.reference == opened for dispute in listed)
    return views.render("pages/staff_disputes.html", "fragments/staff_dispute_list.html", status,
                      disputes=listed, now=utcnow(), demo=_demo(), errors=errors or {},
                      opened=opened, awaiting=opened if opened and not arrived else None)


@bp.get("/")
@staff_required
def index():
    return _list()


def _dispute(dispute_id: int) -> Dispute:
    return views.owned_or_404(Dispute.select().where(Dispute.id == dispute_id))


def _page(dispute: Dispute, status: int = 200, errors: dict | None = None, result: str | None = None):
    dispute = Dispute.get_by_id(dispute.id)
    result = result or (request.args.get("awaiting") if request.args.get("awaiting") in ARRIVED else None)
    awaiting = result if result in ARRIVED and dispute.state not in ARRIVED[result] else None
    evidence = disputes.submitted_evidence(dispute) or dispute_evidence.assemble(
        dispute, public_url=current_app.config["PUBLIC_URL"], site_dir=current_app.config["SITE_DIR"])
    return views.render("pages/staff_dispute.html", "fragments/staff_dispute_panel.html", status,
                      dispute=dispute, deposit=Deposit.get_by_id(dispute.deposit_id),
                      customer=User.get_by_id(dispute.user_id), evidence=evidence,
                      balance=ledger.balance(dispute.user_id), owed=ledger.owed(dispute.user_id),
                      is_open=disputes.is_open(dispute), demo=_demo(), now=utcnow(),
                      errors=errors or {}, result=result, awaiting=awaiting)


@bp.get("/<id:dispute_id>")
@staff_required
def show(dispute_id: int):
    return _page(_dispute(dispute_id))


@bp.post("/<id:dispute_id>/evidence")
@staff_required
def submit(dispute_id: int):
    dispute = _dispute(dispute_id)
    if not disputes.is_open(dispute) or dispute.evidence_submitted_at:
        return _page(dispute, 409, {"evidence": "dispute.not_open"})
    evidence = dispute_evidence.assemble(dispute, public_url=current_app.config["PUBLIC_URL"],
                                         site_dir=current_app.config["SITE_DIR"])
    try:
        processors.submit_dispute_evidence(dispute, evidence)
    except ProcessorError:
        current_app.logger.exception("evidence of %s not submitted", dispute.processor_id)
        return _page(dispute, 502, {"evidence": "dispute.not_submitted"})
    disputes.record_evidence(dispute.id, g.user, evidence)
    return _page(dispute, result="submitted")


@bp.post("/demo")
@staff_required
def demo_open():
    """Demo processor only: the customer's bank disputes a credited card deposit."""
    if not _demo():
        abort(404)
    reference = request.form.get("deposit", "").strip()
    deposit = Deposit.get_or_none(Deposit.reference == reference, Deposit.method == "card",
                                  Deposit.state.in_(DEPOSIT_CREDITED))
    if deposit is None or disputes.for_deposit(deposit.id):
        return _list(422, {"deposit": "dispute.deposit_invalid"})
    gateways.demo_card().open_dispute(payment_intent=deposit.payment_intent,
                                      amount_cents=deposit.credited_cents, currency=deposit.currency)
    return _list(opened=reference)


@bp.post("/<id:dispute_id>/demo/<outcome>")
@staff_required
def demo_decide(dispute_id: int, outcome: str):
    """Demo processor only: the bank decides the dispute."""
    dispute = _dispute(dispute_id)
    if not _demo() or outcome not in ("won", "lost"):
        abort(404)
    if not disputes.is_open(dispute):
        return _page(dispute, 409, {"evidence": "dispute.not_open"})
    deposit = Deposit.get_by_id(dispute.deposit_id)
    gateways.demo_card().decide_dispute(dispute_id=dispute.processor_id, payment_intent=deposit.payment_intent,
                                        amount_cents=dispute.amount_cents, currency=dispute.currency,
                                        won=outcome == "won")
    return _page(dispute, result=outcome)
